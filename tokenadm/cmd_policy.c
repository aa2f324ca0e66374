/* tokenadm policy: the effective policy, for everyone or one user. Loading
 * the config already validated it (errors name file and line, exit 2). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "groups.h"
#include "json_out.h"
#include "policy_json.h"
#include "tokenadm.h"

static void print_lifetime(int64_t l)
{
	if (l == LIFETIME_NEVER)
		fputs("never (tokens may last forever)", stdout);
	else if (l % 86400 == 0)
		printf("%lldd", (long long)(l / 86400));
	else
		printf("%llds", (long long)l);
}

static void print_global(const tool *t)
{
	char rules[4096];
	const apitoken_config *c = &t->cfg;

	printf("config:              %s\n", c->path ? c->path : "(built-in defaults)");
	printf("store:               %s\n", c->db_path);
	printf("site key:            %s\n", c->key_path);
	printf("prefix:              %s\n", c->prefix);
	addr_list_format(&c->allow_from, rules, sizeof(rules));
	printf("allow_from:          %s\n", rules[0] ? rules : "(any)");
	addr_list_format(&c->deny_from, rules, sizeof(rules));
	printf("deny_from:           %s\n", rules[0] ? rules : "(none)");
	fputs("deny_services:       ", stdout);
	for (size_t i = 0; i < c->n_deny_services; i++)
		printf("%s%s", i ? " " : "", c->deny_services[i]);
	puts(c->n_deny_services ? "" : "(none)");
	printf("admin_group:         %s\n", c->admin_group ? c->admin_group : "(none: root only)");
	if (!c->max_tokens_set)
		printf("max_tokens_per_user: %u for members, unlimited for "
		       "administrators (default)\n", c->max_tokens_per_user);
	else if (c->max_tokens_per_user)
		printf("max_tokens_per_user: %u\n", c->max_tokens_per_user);
	else
		puts("max_tokens_per_user: unlimited");
	if (c->max_store_tokens)
		printf("max_store_tokens:    %u (members' creates stop there)\n",
		       c->max_store_tokens);
	else
		puts("max_store_tokens:    unlimited");
	fputs("log_success_interval: ", stdout);
	if (c->log_success_interval == 0)
		puts("0 (every successful login is logged)");
	else if (c->log_success_interval % 3600 == 0)
		printf("%lldh\n", (long long)(c->log_success_interval / 3600));
	else
		printf("%llds\n", (long long)c->log_success_interval);
	if (!c->n_groups)
		puts("groups:              (none: only administrators create tokens)");
	for (size_t i = 0; i < c->n_groups; i++) {
		printf("group %-14s max_lifetime ", c->groups[i].name);
		print_lifetime(c->groups[i].max_lifetime);
		putchar('\n');
	}
}

typedef struct policy_opts {
	const char *user; /* NULL: the global policy */
	bool json;        /* --json: the caller's (or --user's) policy */
	bool store_open;  /* transact opened the store (--json) */
} policy_opts;

static int policy_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	policy_opts *o = opts;
	int c;

	(void)now;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'j')
			o->json = true;
		else if (c == 'u')
			o->user = optarg;
		else
			return EXIT_USAGE;
	}
	if (optind != argc) {
		warnx_("usage: policy [--user USER] [--json]");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* The config was loaded by transact's common part; --json also counts
 * the tokens held, so it opens the store (best effort: a host without
 * one still answers, with tokens_held null). */
static int policy_transact(tool *t, void *opts)
{
	policy_opts *o = opts;

	if (o->json)
		o->store_open = tool_open_store(t) == 0;
	return EXIT_OK;
}

static int policy_report(tool *t, void *opts, int rc)
{
	policy_opts *o = opts;
	const char *user = o->user;

	if (rc != EXIT_OK)
		return rc;
	if (o->json) {
		if (user && !t->admin && strcmp(user, t->user) != 0) {
			json_fail_field("user");
			warnx_("only administrators see other users' policy");
			return EXIT_DENIED;
		}
		return policy_json(t, user ? user : t->user, o->store_open);
	}
	if (!user) {
		print_global(t);
		return EXIT_OK;
	}
	if (!t->admin && strcmp(user, t->user) != 0) {
		warnx_("only administrators see other users' policy");
		return EXIT_DENIED;
	}
	int64_t lifetime = 0;
	int member = user_allowed_lifetime(&t->cfg, user, &lifetime);
	struct passwd pw;
	char *pwbuf = NULL;
	int root = lookup_user(user, 0, &pw, &pwbuf) == 1 && pw.pw_uid == 0;
	free(pwbuf);
	int admin = root ||
		    (t->cfg.admin_group &&
		     user_in_group(user, t->cfg.admin_group) == 1);
	if (member < 0) {
		warnx_("cannot look up the groups of %s", user);
		return EXIT_REFUSED;
	}
	printf("user:                %s\n", user);
	printf("administrator:       %s\n", admin ? "yes (manages every token)" : "no");
	unsigned limit = config_token_limit(&t->cfg, admin);
	if (limit)
		printf("token limit:         %u live tokens\n", limit);
	else
		puts("token limit:         none");
	fputs("may create tokens:   ", stdout);
	if (member) {
		fputs("yes, lifetime up to ", stdout);
		print_lifetime(lifetime);
		putchar('\n');
	} else {
		puts(admin ? "yes (administrator)" : "no (in no [group] of the config)");
	}
	fputs("groups:             ", stdout);
	for (size_t i = 0; i < t->cfg.n_groups; i++)
		if (user_in_group(user, t->cfg.groups[i].name) == 1)
			printf(" %s", t->cfg.groups[i].name);
	putchar('\n');
	return EXIT_OK;
}

const command cmd_policy = {
	.name = "policy",
	.opts_size = sizeof(policy_opts),
	.parse = policy_parse,
	.transact = policy_transact,
	.report = policy_report,
};
