/* config_load (pam_apitoken.conf(5)) on hostile files.
 *
 * Input: the whole config file. It is written to a private 0600 file in a
 * 0700 temporary directory (config_load insists on a regular file owned by
 * us or root, not writable by group/others) and loaded over the defaults.
 *
 * Checks:
 *  - every message the parser logs is one printable line naming the file
 *    (a hostile config must not inject log lines or terminal escapes), and
 *    a refusal logs at least one message;
 *  - a refused load leaves *cfg zeroed (as config.h promises);
 *  - an accepted config is well formed: valid prefix, absolute paths,
 *    sane service and group names, limits respected;
 *  - round trip: the accepted config written back in canonical form loads
 *    to the same configuration. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "config.h"
#include "fuzz_common.h"
#include "token.h"

typedef struct log_check {
	const char *path;
	unsigned messages;
} log_check;

static void check_log(void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void check_log(void *ctx, const char *fmt, ...)
{
	log_check *lc = ctx;
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	lc->messages++;
	FUZZ_CHECK(n >= 0 && (size_t)n < sizeof(msg),
		   "log message of %d bytes", n);
	FUZZ_CHECK(fuzz_printable(msg), "unprintable log message: %s", msg);
	FUZZ_CHECK(strncmp(msg, lc->path, strlen(lc->path)) == 0,
		   "message does not name the file: %s", msg);
	if (fuzz_verbose())
		fprintf(stderr, "config: %s\n", msg);
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

static void check_path(const char *p)
{
	FUZZ_CHECK(p && p[0] == '/', "path not absolute");
	for (; *p; p++)
		FUZZ_CHECK((unsigned char)*p > 0x20 && *p != 0x7f && *p != '#',
			   "blank, control or '#' in a path");
}

static void check_cfg(const apitoken_config *cfg)
{
	check_path(cfg->db_path);
	check_path(cfg->key_path);
	FUZZ_CHECK(token_prefix_valid(cfg->prefix), "prefix");
	FUZZ_CHECK(cfg->max_tokens_per_user <= 100000, "max_tokens_per_user");
	FUZZ_CHECK(cfg->log_success_interval >= 0, "log_success_interval");
	for (size_t i = 0; i < cfg->n_deny_services; i++) {
		const char *s = cfg->deny_services[i];
		FUZZ_CHECK(s && *s && strlen(s) <= 64, "service name");
		for (; *s; s++)
			FUZZ_CHECK(strchr("_.@+-", *s) ||
					   (*s >= '0' && *s <= '9') ||
					   (*s >= 'a' && *s <= 'z') ||
					   (*s >= 'A' && *s <= 'Z'),
				   "service character");
	}
	if (cfg->admin_group)
		FUZZ_CHECK(*cfg->admin_group && strlen(cfg->admin_group) <= 32 &&
				   cfg->admin_group[0] != '-', "admin_group");
	for (size_t i = 0; i < cfg->n_groups; i++) {
		const group_policy *g = &cfg->groups[i];
		FUZZ_CHECK(g->name && *g->name && strlen(g->name) <= 32 &&
				   g->name[0] != '-', "group name");
		FUZZ_CHECK(g->max_lifetime == LIFETIME_NEVER ||
				   g->max_lifetime > 0, "max_lifetime");
		FUZZ_CHECK(config_find_group(cfg, g->name) == g,
			   "duplicate group %s", g->name);
	}
}

/* Write cfg back as a config file. Returns a malloc'd text. */
static char *serialize(const apitoken_config *cfg)
{
	size_t cap = 64 * 1024 + (cfg->allow_from.n + cfg->deny_from.n) * 64 +
		     cfg->n_deny_services * 72 + cfg->n_groups * 96;
	char *out = malloc(cap);
	size_t used = 0;

	if (!out)
		FUZZ_FAIL("out of memory");
#define EMIT(...)                                                            \
	do {                                                                 \
		int w_ = snprintf(out + used, cap - used, __VA_ARGS__);      \
		FUZZ_CHECK(w_ >= 0 && (size_t)w_ < cap - used, "serialize"); \
		used += (size_t)w_;                                          \
	} while (0)
	EMIT("db = %s\nkey = %s\nprefix = %s\n", cfg->db_path, cfg->key_path,
	     cfg->prefix);
	size_t lcap = cfg->allow_from.n * 64 + cfg->deny_from.n * 64 + 2;
	char *list = malloc(lcap);
	if (!list)
		FUZZ_FAIL("out of memory");
	FUZZ_CHECK(addr_list_format(&cfg->allow_from, list, lcap) == 0, "fmt");
	EMIT("allow_from = %s\n", list);
	FUZZ_CHECK(addr_list_format(&cfg->deny_from, list, lcap) == 0, "fmt");
	EMIT("deny_from = %s\n", list);
	free(list);
	EMIT("deny_services =");
	for (size_t i = 0; i < cfg->n_deny_services; i++)
		EMIT(" %s", cfg->deny_services[i]);
	EMIT("\n");
	if (cfg->admin_group)
		EMIT("admin_group = %s\n", cfg->admin_group);
	EMIT("max_tokens_per_user = %u\n", cfg->max_tokens_per_user);
	if (cfg->log_success_interval == 0)
		EMIT("log_success_interval = 0\n");
	else
		EMIT("log_success_interval = %llds\n",
		     (long long)cfg->log_success_interval);
	for (size_t i = 0; i < cfg->n_groups; i++) {
		EMIT("[group %s]\n", cfg->groups[i].name);
		if (cfg->groups[i].max_lifetime == LIFETIME_NEVER)
			EMIT("max_lifetime = never\n");
		else
			EMIT("max_lifetime = %llds\n",
			     (long long)cfg->groups[i].max_lifetime);
	}
#undef EMIT
	return out;
}

static bool same_list(const addr_list *a, const addr_list *b)
{
	size_t cap = (a->n > b->n ? a->n : b->n) * 64 + 1;
	char *x = malloc(cap), *y = malloc(cap);
	if (!x || !y)
		FUZZ_FAIL("out of memory");
	bool same = addr_list_format(a, x, cap) == 0 &&
		    addr_list_format(b, y, cap) == 0 && strcmp(x, y) == 0;
	free(x);
	free(y);
	return same;
}

/* The canonical form may be longer than the input (10.0.0.1 becomes
 * 10.0.0.1/32): a line over the 4 KiB limit cannot be written back. */
static bool lines_fit(const char *text)
{
	while (*text) {
		size_t n = strcspn(text, "\n");
		if (n > 4096)
			return false;
		text += n;
		if (*text)
			text++;
	}
	return true;
}

static void check_same(const apitoken_config *a, const apitoken_config *b)
{
	FUZZ_CHECK(strcmp(a->db_path, b->db_path) == 0, "db");
	FUZZ_CHECK(strcmp(a->key_path, b->key_path) == 0, "key");
	FUZZ_CHECK(strcmp(a->prefix, b->prefix) == 0, "prefix");
	FUZZ_CHECK(same_list(&a->allow_from, &b->allow_from), "allow_from");
	FUZZ_CHECK(same_list(&a->deny_from, &b->deny_from), "deny_from");
	FUZZ_CHECK(a->n_deny_services == b->n_deny_services, "n services");
	for (size_t i = 0; i < a->n_deny_services; i++)
		FUZZ_CHECK(strcmp(a->deny_services[i], b->deny_services[i]) == 0,
			   "service %zu", i);
	FUZZ_CHECK((!a->admin_group && !b->admin_group) ||
			   (a->admin_group && b->admin_group &&
			    strcmp(a->admin_group, b->admin_group) == 0),
		   "admin_group");
	FUZZ_CHECK(a->max_tokens_per_user == b->max_tokens_per_user, "max");
	FUZZ_CHECK(a->log_success_interval == b->log_success_interval,
		   "log_success_interval");
	FUZZ_CHECK(a->n_groups == b->n_groups, "n groups");
	for (size_t i = 0; i < a->n_groups; i++)
		FUZZ_CHECK(strcmp(a->groups[i].name, b->groups[i].name) == 0 &&
				   a->groups[i].max_lifetime ==
					   b->groups[i].max_lifetime,
			   "group %zu", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_tmp_path("fuzz.conf");
	apitoken_config cfg;
	log_check lc = { path, 0 };

	fuzz_write_file(path, data, size);
	FUZZ_CHECK(config_defaults(&cfg) == 0, "config_defaults");
	if (config_load(path, false, &cfg, check_log, &lc) != 0) {
		FUZZ_CHECK(lc.messages >= 1, "refused without a message");
		FUZZ_CHECK(all_zero(&cfg, sizeof(cfg)), "refused cfg not zeroed");
		config_free(&cfg); /* harmless on a zeroed config */
		return 0;
	}
	FUZZ_CHECK(lc.messages == 0, "accepted with %u messages", lc.messages);
	if (fuzz_verbose())
		fprintf(stderr, "config: accepted\n");
	FUZZ_CHECK(cfg.path && strcmp(cfg.path, path) == 0, "cfg.path");
	check_cfg(&cfg);

	/* Round trip through the canonical text. */
	char *text = serialize(&cfg);
	if (!lines_fit(text)) {
		free(text);
		config_free(&cfg);
		return 0;
	}
	const char *path2 = fuzz_tmp_path("fuzz2.conf");
	apitoken_config again;
	log_check lc2 = { path2, 0 };
	fuzz_write_file(path2, text, strlen(text));
	FUZZ_CHECK(config_defaults(&again) == 0, "config_defaults");
	FUZZ_CHECK(config_load(path2, false, &again, check_log, &lc2) == 0,
		   "canonical form refused:\n%s", text);
	check_same(&cfg, &again);
	config_free(&again);
	free(text);
	config_free(&cfg);
	return 0;
}
