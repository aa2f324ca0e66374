/* pam_apitoken.conf parser (the format of pam_apitoken.conf(5)).
 *
 * The config widens or narrows who may log in with a token, so the parser is
 * deliberately unforgiving: the first thing it does not understand stops the
 * load with "path:line: reason" and the caller fails closed. It stops at the
 * first error rather than collecting them all, so a hostile or binary file
 * cannot flood the log and one mistake cannot cascade into misleading
 * follow-up messages.
 *
 * Decisions where the spec is silent:
 *  - config_load() loads "over the defaults": *cfg must already hold a
 *    configuration (normally from config_defaults()), and each key in the
 *    file replaces (and frees) the value it had. Both callers do exactly
 *    config_defaults() then config_load().
 *  - A [group NAME] section without max_lifetime gets 90 days
 *    (DEFAULT_GROUP_LIFETIME): bounded, like the seed's example, because an
 *    unbounded lifetime should be something an administrator writes down.
 *  - An empty value is an error, except for the three lists (allow_from,
 *    deny_from, deny_services), where it means "no entries": that is how an
 *    administrator turns the default deny_services off on purpose.
 *  - Paths must be absolute, without blanks or control characters.
 *  - Bytes outside UTF-8 are accepted only in comments; keys and values are
 *    checked further by their own rules.
 *  - max_tokens_per_user and max_store_tokens are "0" or a decimal without
 *    leading zeros (which some readers would take for octal), at most
 *    100000 and 100000000.
 *  - Blanks are space, tab, CR (so CRLF files work), VT and FF.
 *
 * No globals and no static buffers: the module may be loaded by threaded
 * hosts that parse the config from several threads at once.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build_config.h"
#include "duration.h"
#include "readfile.h"

#define CONFIG_MAX_FILE ((size_t)1024 * 1024)
#define CONFIG_MAX_LINE 4096
#define DEFAULT_GROUP_LIFETIME (INT64_C(90) * 86400) /* 90d */
#define MAX_TOKENS_LIMIT 100000u
#define MAX_STORE_LIMIT 100000000u
#define PREFIX_MAX 16
#define GROUP_NAME_MAX 32
#define SERVICE_NAME_MAX 64
#define ERR_MAX 256

typedef enum { SET_OK = 0, SET_BAD, SET_NOMEM } set_result;

struct parser {
	apitoken_config *cfg;
	const char *path;
	unsigned line;
	config_log_fn log;
	void *ctx;
	bool in_group;         /* a section header has been seen */
	unsigned global_seen;  /* one bit per entry of key_table */
	bool lifetime_seen;    /* max_lifetime in the current section */
	unsigned stale_line;   /* where stale_action was set, for messages */
};

typedef set_result (*key_setter)(struct parser *ps, const char *value,
				 char *err, size_t errlen);

struct key_def {
	const char *name;
	key_setter set;
	bool in_group; /* a [group] key rather than a global one */
	bool repeats;  /* may appear more than once (each adds an entry) */
};

/* ---- small character helpers (no <ctype.h>: no locale) ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static bool is_list_sep(char c)
{
	return is_blank(c) || c == ',';
}

static bool is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z');
}

static bool is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static char *trim(char *s)
{
	while (is_blank(*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && is_blank(s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned char c = *s;
		int more;
		unsigned lo = 0x80, hi = 0xbf;

		if (c < 0x80) {
			s++;
			continue;
		} else if (c >= 0xc2 && c <= 0xdf) {
			more = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			more = 2;
			if (c == 0xe0)
				lo = 0xa0; /* overlong */
			else if (c == 0xed)
				hi = 0x9f; /* surrogates */
		} else if (c >= 0xf0 && c <= 0xf4) {
			more = 3;
			if (c == 0xf0)
				lo = 0x90; /* overlong */
			else if (c == 0xf4)
				hi = 0x8f; /* above U+10FFFF */
		} else {
			return false;
		}
		s++;
		for (int i = 0; i < more; i++, s++) {
			if (*s < lo || *s > hi)
				return false;
			lo = 0x80;
			hi = 0xbf;
		}
	}
	return true;
}

/* Copy untrusted text into a message: printable ASCII only (no terminal
 * escapes or line breaks in the log), at most 40 characters then "...".
 * outlen must be at least 4. */
static void show(const char *s, char *out, size_t outlen)
{
	const size_t keep = 40;
	size_t o = 0;

	for (size_t i = 0; s[i] && o + 4 < outlen; i++) {
		if (i == keep) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		unsigned char c = (unsigned char)s[i];
		out[o++] = (char)((c >= 0x20 && c < 0x7f) ? c : '?');
	}
	out[o] = '\0';
}

/* ---- reporting ---- */

static void log_file(const struct parser *ps, const char *reason)
{
	if (ps->log)
		ps->log(ps->ctx, "%s: %s", ps->path, reason);
}

/* Report "path:line: message" and return -1 for the caller to pass up. */
__attribute__((format(printf, 2, 3)))
static int fail(const struct parser *ps, const char *fmt, ...)
{
	char msg[ERR_MAX + 128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ps->log)
		ps->log(ps->ctx, "%s:%u: %s", ps->path, ps->line, msg);
	return -1;
}

/* ---- value checkers ---- */

/* [A-Za-z0-9_.-], 1..32 characters, not starting with '-'. */
static bool group_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > GROUP_NAME_MAX || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' &&
		    s[i] != '-')
			return false;
	return true;
}

/* [A-Za-z0-9_.@+-], 1..64 characters (len bytes of s). */
static bool service_name_valid(const char *s, size_t len)
{
	if (len < 1 || len > SERVICE_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && !strchr("_.@+-", s[i]))
			return false;
	return true;
}

/* ---- setters, one per key ---- */

static set_result replace_string(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (!copy)
		return SET_NOMEM;
	free(*slot);
	*slot = copy;
	return SET_OK;
}

static set_result set_path(char **slot, const char *value, char *err,
			   size_t errlen)
{
	if (value[0] != '/') {
		snprintf(err, errlen, "must be an absolute path");
		return SET_BAD;
	}
	if (strlen(value) >= PATH_MAX) {
		snprintf(err, errlen, "path too long");
		return SET_BAD;
	}
	for (const char *p = value; *p; p++) {
		if (is_blank(*p) || is_control((unsigned char)*p)) {
			snprintf(err, errlen,
				 "path must not contain blanks or control "
				 "characters");
			return SET_BAD;
		}
	}
	return replace_string(slot, value);
}

static set_result set_db(struct parser *ps, const char *value, char *err,
			 size_t errlen)
{
	return set_path(&ps->cfg->db_path, value, err, errlen);
}

static set_result set_key(struct parser *ps, const char *value, char *err,
			  size_t errlen)
{
	return set_path(&ps->cfg->key_path, value, err, errlen);
}

static set_result set_prefix(struct parser *ps, const char *value, char *err,
			     size_t errlen)
{
	size_t n = strlen(value);
	bool ok = n >= 1 && n <= PREFIX_MAX;

	/* No '_': it separates the fields of a token. */
	for (size_t i = 0; ok && i < n; i++)
		ok = is_alnum(value[i]);
	if (!ok) {
		snprintf(err, errlen, "must be 1 to %d ASCII letters or digits",
			 PREFIX_MAX);
		return SET_BAD;
	}
	return replace_string(&ps->cfg->prefix, value);
}

static set_result set_addr_list(addr_list *slot, const char *value,
				char *err, size_t errlen)
{
	addr_list parsed = { 0 };

	/* addr_list_parse does not tell a bad word from a failed allocation;
	 * either way the list is not loaded, which is what matters. */
	if (addr_list_parse(value, &parsed, err, errlen) != 0)
		return SET_BAD;
	addr_list_free(slot);
	*slot = parsed;
	return SET_OK;
}

static set_result set_allow_from(struct parser *ps, const char *value,
				 char *err, size_t errlen)
{
	return set_addr_list(&ps->cfg->allow_from, value, err, errlen);
}

static set_result set_deny_from(struct parser *ps, const char *value,
				char *err, size_t errlen)
{
	return set_addr_list(&ps->cfg->deny_from, value, err, errlen);
}

/* The next word of a list separated by blanks and/or commas; false at the
 * end. Runs of separators count as one. */
static bool next_word(const char **p, const char **word, size_t *len)
{
	const char *s = *p;

	while (is_list_sep(*s))
		s++;
	if (*s == '\0') {
		*p = s;
		return false;
	}
	const char *start = s;
	while (*s && !is_list_sep(*s))
		s++;
	*word = start;
	*len = (size_t)(s - start);
	*p = s;
	return true;
}

static void free_string_array(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Split and check a service list. An empty text gives an empty list. */
static set_result parse_service_list(const char *text, char ***out,
				     size_t *nout, char *err, size_t errlen)
{
	const char *p = text, *w;
	size_t len, n = 0;

	/* First pass: check every word, count them. */
	while (next_word(&p, &w, &len)) {
		if (!service_name_valid(w, len)) {
			char word[64], shown[64];
			/* show() shortens it further; this just cuts the
			 * word out of the list. */
			snprintf(word, sizeof(word), "%.*s",
				 (int)(len < sizeof(word) ? len
						: sizeof(word) - 1), w);
			show(word, shown, sizeof(shown));
			snprintf(err, errlen,
				 "bad service name '%s' (1 to %d of "
				 "A-Z a-z 0-9 _ . @ + -)",
				 shown, SERVICE_NAME_MAX);
			return SET_BAD;
		}
		n++;
	}

	char **v = NULL;
	if (n > 0) {
		v = calloc(n, sizeof(*v));
		if (!v)
			return SET_NOMEM;
	}
	p = text;
	for (size_t i = 0; i < n && next_word(&p, &w, &len); i++) {
		v[i] = strndup(w, len);
		if (!v[i]) {
			free_string_array(v, n);
			return SET_NOMEM;
		}
	}
	*out = v;
	*nout = n;
	return SET_OK;
}

static set_result set_deny_services(struct parser *ps, const char *value,
				    char *err, size_t errlen)
{
	char **v;
	size_t n;
	set_result r = parse_service_list(value, &v, &n, err, errlen);

	if (r != SET_OK)
		return r;
	free_string_array(ps->cfg->deny_services, ps->cfg->n_deny_services);
	ps->cfg->deny_services = v;
	ps->cfg->n_deny_services = n;
	return SET_OK;
}

static set_result set_admin_group(struct parser *ps, const char *value,
				  char *err, size_t errlen)
{
	if (!group_name_valid(value)) {
		snprintf(err, errlen,
			 "bad group name (1 to %d of A-Z a-z 0-9 _ . -, "
			 "not starting with -)", GROUP_NAME_MAX);
		return SET_BAD;
	}
	return replace_string(&ps->cfg->admin_group, value);
}

/* "0", or digits without a leading zero, at most limit. */
static set_result parse_count(const char *value, unsigned limit,
			      unsigned *out, char *err, size_t errlen)
{
	unsigned long v = 0;
	size_t n = strlen(value);
	/* 9 digits bound the loop and keep v far from overflow. */
	bool ok = n >= 1 && n <= 9 && (value[0] != '0' || n == 1);

	for (size_t i = 0; ok && i < n; i++) {
		ok = value[i] >= '0' && value[i] <= '9';
		v = v * 10 + (unsigned long)(value[i] - '0');
	}
	if (!ok || v > limit) {
		snprintf(err, errlen, "must be a whole number from 0 to %u",
			 limit);
		return SET_BAD;
	}
	*out = (unsigned)v;
	return SET_OK;
}

static set_result set_max_tokens(struct parser *ps, const char *value,
				 char *err, size_t errlen)
{
	set_result r = parse_count(value, MAX_TOKENS_LIMIT,
				   &ps->cfg->max_tokens_per_user, err, errlen);
	if (r == SET_OK)
		ps->cfg->max_tokens_set = true;
	return r;
}

static set_result set_max_store_tokens(struct parser *ps, const char *value,
				       char *err, size_t errlen)
{
	return parse_count(value, MAX_STORE_LIMIT, &ps->cfg->max_store_tokens,
			   err, errlen);
}

static set_result set_role(struct parser *ps, const char *value, char *err,
			   size_t errlen)
{
	if (strcmp(value, "authority") == 0)
		ps->cfg->role = ROLE_AUTHORITY;
	else if (strcmp(value, "import-only") == 0)
		ps->cfg->role = ROLE_IMPORT_ONLY;
	else {
		snprintf(err, errlen, "must be authority or import-only");
		return SET_BAD;
	}
	ps->cfg->role_set = true;
	return SET_OK;
}

static set_result set_signing_key(struct parser *ps, const char *value,
				  char *err, size_t errlen)
{
	return set_path(&ps->cfg->signing_key, value, err, errlen);
}

static set_result set_trusted_key(struct parser *ps, const char *value,
				  char *err, size_t errlen)
{
	apitoken_config *cfg = ps->cfg;

	if (cfg->n_trusted_keys == CONFIG_TRUSTED_KEYS_MAX) {
		snprintf(err, errlen, "at most %d trusted_key lines",
			 CONFIG_TRUSTED_KEYS_MAX);
		return SET_BAD;
	}
	for (size_t i = 0; i < cfg->n_trusted_keys; i++)
		if (strcmp(cfg->trusted_keys[i], value) == 0) {
			snprintf(err, errlen, "the same key twice");
			return SET_BAD;
		}
	set_result r = set_path(&cfg->trusted_keys[cfg->n_trusted_keys], value,
				err, errlen);
	if (r == SET_OK)
		cfg->n_trusted_keys++;
	return r;
}

static set_result set_max_bundle_age(struct parser *ps, const char *value,
				     char *err, size_t errlen)
{
	if (duration_parse(value, &ps->cfg->max_bundle_age) != 0 ||
	    ps->cfg->max_bundle_age <= 0) {
		snprintf(err, errlen, "must be a duration like 30m, 12h, 7d");
		return SET_BAD;
	}
	return SET_OK;
}

/* notify_before: up to CONFIG_NOTIFY_MAX durations, kept largest first
 * (a token crossing several at once gets one mail, for the nearest). */
static set_result set_notify_before(struct parser *ps, const char *value,
				    char *err, size_t errlen)
{
	apitoken_config *cfg = ps->cfg;
	const char *p = value, *w;
	size_t len, n = 0;
	int64_t v[CONFIG_NOTIFY_MAX] = { 0 };

	while (next_word(&p, &w, &len)) {
		char word[32];
		if (n == CONFIG_NOTIFY_MAX || len >= sizeof(word)) {
			snprintf(err, errlen, "at most %d durations",
				 CONFIG_NOTIFY_MAX);
			return SET_BAD;
		}
		memcpy(word, w, len);
		word[len] = '\0';
		if (duration_parse(word, &v[n]) != 0 || v[n] <= 0) {
			snprintf(err, errlen, "must be durations like 14d 1d");
			return SET_BAD;
		}
		for (size_t i = 0; i < n; i++)
			if (v[i] == v[n]) {
				snprintf(err, errlen, "the same duration twice");
				return SET_BAD;
			}
		n++;
	}
	/* Largest first: insertion sort of at most 8. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j] > v[j - 1]; j--) {
			int64_t tmp = v[j];
			v[j] = v[j - 1];
			v[j - 1] = tmp;
		}
	memcpy(cfg->notify_before, v, n * sizeof(v[0]));
	cfg->n_notify_before = n;
	return SET_OK;
}

static set_result set_notify_map(struct parser *ps, const char *value,
				 char *err, size_t errlen)
{
	return set_path(&ps->cfg->notify_map, value, err, errlen);
}

static set_result set_max_idle(struct parser *ps, const char *value,
			       char *err, size_t errlen)
{
	/* Shorter than a day would retire tokens between two daily runs of
	 * a job that is meant to look back over months. */
	if (duration_parse(value, &ps->cfg->max_idle) != 0 ||
	    ps->cfg->max_idle < 86400) {
		snprintf(err, errlen, "must be a duration of a day or more, "
				      "like 90d or 52w");
		return SET_BAD;
	}
	return SET_OK;
}

/* service_accounts: user names (as NSS spells them: SSSD's user@domain,
 * Samba's machine$ too), never root: an administrator who may mint for
 * root is root. An account that resolves to uid 0 under another name is
 * refused where it is used (tokenadm create, and at login). */
static bool user_name_ok(const char *s, size_t len)
{
	if (len < 1 || len > 256 || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && !strchr("_.@$+-", s[i]))
			return false;
	return true;
}

/* A list of user names into *out (replacing what was there). root is
 * refused where it must never be listed (root_why: the reason). */
static set_result set_user_list(const char *value, const char *root_why,
				char ***out, size_t *n_out, char *err,
				size_t errlen)
{
	const char *p = value, *w;
	size_t len, n = 0;

	while (next_word(&p, &w, &len)) {
		if (!user_name_ok(w, len)) {
			snprintf(err, errlen, "bad user name in the list (1 to "
					      "256 of A-Z a-z 0-9 _ . @ $ + -)");
			return SET_BAD;
		}
		if (root_why && len == 4 && memcmp(w, "root", 4) == 0) {
			snprintf(err, errlen, "%s", root_why);
			return SET_BAD;
		}
		n++;
	}
	char **v = n ? calloc(n, sizeof(*v)) : NULL;
	if (n && !v)
		return SET_NOMEM;
	p = value;
	for (size_t i = 0; i < n && next_word(&p, &w, &len); i++)
		if (!(v[i] = strndup(w, len))) {
			free_string_array(v, n);
			return SET_NOMEM;
		}
	free_string_array(*out, *n_out);
	*out = v;
	*n_out = n;
	return SET_OK;
}

static set_result set_service_accounts(struct parser *ps, const char *value,
				       char *err, size_t errlen)
{
	return set_user_list(value, "root cannot be a service account (only "
				    "root mints tokens for root)",
			     &ps->cfg->service_accounts,
			     &ps->cfg->n_service_accounts, err, errlen);
}

/* web_relay: the accounts whose processes may run tokenadm --login (the
 * web server's). --login checks any account's password: open to every
 * local user it would be a password oracle with a 2-second delay and
 * as many processes as they like. Empty: nobody but root. */
static set_result set_web_relay(struct parser *ps, const char *value,
				char *err, size_t errlen)
{
	return set_user_list(value, NULL, &ps->cfg->web_relay,
			     &ps->cfg->n_web_relay, err, errlen);
}

static set_result set_uid_binding(struct parser *ps, const char *value,
				  char *err, size_t errlen)
{
	if (strcmp(value, "local") == 0)
		ps->cfg->uid_binding = UID_BINDING_LOCAL;
	else if (strcmp(value, "authority") == 0)
		ps->cfg->uid_binding = UID_BINDING_AUTHORITY;
	else if (strcmp(value, "name") == 0)
		ps->cfg->uid_binding = UID_BINDING_NAME;
	else {
		snprintf(err, errlen, "must be local, authority or name");
		return SET_BAD;
	}
	return SET_OK;
}

static set_result set_stale_action(struct parser *ps, const char *value,
				   char *err, size_t errlen)
{
	ps->stale_line = ps->line;
	if (strcmp(value, "warn") == 0)
		ps->cfg->stale_refuse = false;
	else if (strcmp(value, "refuse") == 0)
		ps->cfg->stale_refuse = true;
	else {
		snprintf(err, errlen, "must be warn or refuse");
		return SET_BAD;
	}
	return SET_OK;
}

static set_result set_bundle_format(struct parser *ps, const char *value,
				    char *err, size_t errlen)
{
	if (strcmp(value, "1") == 0)
		ps->cfg->bundle_format = 1;
	else if (strcmp(value, "2") == 0)
		ps->cfg->bundle_format = 2;
	else {
		snprintf(err, errlen, "must be 1 or 2");
		return SET_BAD;
	}
	return SET_OK;
}

/* A duration ("7d": deltas from any generation made in the last week) or
 * a bare number of generations ("500"); 0 keeps nothing. */
static set_result set_delta_window(struct parser *ps, const char *value,
				   char *err, size_t errlen)
{
	size_t n = strlen(value);
	int64_t secs;

	if (n > 0 && strspn(value, "0123456789") == n) {
		if (n > 6 || (value[0] == '0' && n > 1))
			goto bad;
		unsigned long g = strtoul(value, NULL, 10);
		if (g > CONFIG_DELTA_WINDOW_GENS_MAX)
			goto bad;
		ps->cfg->delta_window_gens = g;
		ps->cfg->delta_window_secs = 0;
		return SET_OK;
	}
	if (duration_parse(value, &secs) != 0 || secs <= 0)
		goto bad;
	ps->cfg->delta_window_secs = secs;
	ps->cfg->delta_window_gens = 0;
	return SET_OK;
bad:
	snprintf(err, errlen, "must be a duration like 7d or a number of "
			      "generations from 0 to %d",
		 CONFIG_DELTA_WINDOW_GENS_MAX);
	return SET_BAD;
}

static set_result set_log_success_interval(struct parser *ps,
					    const char *value, char *err,
					    size_t errlen)
{
	int64_t secs;

	/* duration_parse refuses zero; here "0" is the one way to say
	 * "log every success". */
	if (strcmp(value, "0") == 0) {
		ps->cfg->log_success_interval = 0;
		return SET_OK;
	}
	if (duration_parse(value, &secs) != 0) {
		snprintf(err, errlen,
			 "must be 0 or a duration like 30s, 10m, 1h, 1d");
		return SET_BAD;
	}
	ps->cfg->log_success_interval = secs;
	return SET_OK;
}

static set_result set_max_lifetime(struct parser *ps, const char *value,
				   char *err, size_t errlen)
{
	group_policy *g = &ps->cfg->groups[ps->cfg->n_groups - 1];
	int64_t secs;

	if (strcmp(value, "never") == 0) {
		g->max_lifetime = LIFETIME_NEVER;
		return SET_OK;
	}
	if (duration_parse(value, &secs) != 0) {
		snprintf(err, errlen,
			 "must be a duration like 30m, 12h, 90d, 4w, or never");
		return SET_BAD;
	}
	g->max_lifetime = secs;
	return SET_OK;
}

static const struct key_def key_table[] = {
	{ "db", set_db, false, false },
	{ "key", set_key, false, false },
	{ "prefix", set_prefix, false, false },
	{ "allow_from", set_allow_from, false, false },
	{ "deny_from", set_deny_from, false, false },
	{ "deny_services", set_deny_services, false, false },
	{ "admin_group", set_admin_group, false, false },
	{ "max_tokens_per_user", set_max_tokens, false, false },
	{ "max_store_tokens", set_max_store_tokens, false, false },
	{ "role", set_role, false, false },
	{ "signing_key", set_signing_key, false, false },
	{ "trusted_key", set_trusted_key, false, true },
	{ "max_bundle_age", set_max_bundle_age, false, false },
	{ "stale_action", set_stale_action, false, false },
	{ "delta_window", set_delta_window, false, false },
	{ "log_success_interval", set_log_success_interval, false, false },
	{ "service_accounts", set_service_accounts, false, false },
	{ "uid_binding", set_uid_binding, false, false },
	{ "bundle_format", set_bundle_format, false, false },
	{ "web_relay", set_web_relay, false, false },
	{ "notify_before", set_notify_before, false, false },
	{ "notify_map", set_notify_map, false, false },
	{ "max_idle", set_max_idle, false, false },
	{ "max_lifetime", set_max_lifetime, true, false },
};

#define N_KEYS (sizeof(key_table) / sizeof(key_table[0]))

/* Keys whose empty value is meaningful ("no entries"). */
static bool empty_allowed(const struct key_def *def)
{
	return def->set == set_allow_from || def->set == set_deny_from ||
	       def->set == set_deny_services ||
	       def->set == set_service_accounts ||
	       def->set == set_web_relay;
}

/* ---- lines ---- */

static int parse_section(struct parser *ps, char *s)
{
	apitoken_config *cfg = ps->cfg;
	size_t len = strlen(s);
	char shown[64];

	if (len < 2 || s[len - 1] != ']')
		return fail(ps, "malformed section header "
				"(expected [group NAME])");
	s[len - 1] = '\0';
	char *inner = trim(s + 1);

	if (strcmp(inner, "group") == 0)
		return fail(ps, "[group] section needs a name");
	if (strncmp(inner, "group", 5) != 0 || !is_blank(inner[5])) {
		show(inner, shown, sizeof(shown));
		return fail(ps, "unknown section [%s] (only [group NAME])",
			    shown);
	}
	char *name = trim(inner + 5);
	if (!group_name_valid(name)) {
		show(name, shown, sizeof(shown));
		return fail(ps, "bad group name '%s' (1 to %d of "
				"A-Z a-z 0-9 _ . -, not starting with -)",
			    shown, GROUP_NAME_MAX);
	}
	const group_policy *dup = config_find_group(cfg, name);
	if (dup)
		return fail(ps, "duplicate section [group %s] (first at "
				"line %u)", name, dup->line);

	group_policy *grown = realloc(cfg->groups,
				      (cfg->n_groups + 1) * sizeof(*grown));
	if (!grown)
		return fail(ps, "out of memory");
	cfg->groups = grown;

	group_policy *g = &cfg->groups[cfg->n_groups];
	g->name = strdup(name);
	if (!g->name)
		return fail(ps, "out of memory");
	g->max_lifetime = DEFAULT_GROUP_LIFETIME;
	g->line = ps->line;
	cfg->n_groups++;

	ps->in_group = true;
	ps->lifetime_seen = false;
	return 0;
}

static int parse_assignment(struct parser *ps, char *s)
{
	char shown[64];
	char *eq = strchr(s, '=');

	if (!eq)
		return fail(ps, "expected 'key = value'");
	*eq = '\0';
	char *key = trim(s);
	char *value = trim(eq + 1);

	if (*key == '\0')
		return fail(ps, "empty key before '='");

	size_t k;
	for (k = 0; k < N_KEYS; k++)
		if (strcmp(key, key_table[k].name) == 0)
			break;
	if (k == N_KEYS) {
		show(key, shown, sizeof(shown));
		return fail(ps, "unknown key '%s'", shown);
	}
	const struct key_def *def = &key_table[k];

	if (def->in_group && !ps->in_group)
		return fail(ps, "'%s' belongs in a [group NAME] section",
			    key);
	if (!def->in_group && ps->in_group)
		return fail(ps, "'%s' is a global key: put it before the "
				"first [group] section", key);

	/* A second setting would silently win over the first; an
	 * administrator reading only one of them would be misled. */
	bool *seen_flag = NULL;
	if (def->in_group) {
		seen_flag = &ps->lifetime_seen;
		if (*seen_flag)
			return fail(ps, "duplicate key '%s' in this section",
				    key);
	} else if (!def->repeats && (ps->global_seen & (1u << k))) {
		return fail(ps, "duplicate key '%s'", key);
	}

	if (*value == '\0' && !empty_allowed(def))
		return fail(ps, "'%s' needs a value", key);

	char err[ERR_MAX] = "";
	switch (def->set(ps, value, err, sizeof(err))) {
	case SET_OK:
		break;
	case SET_NOMEM:
		return fail(ps, "out of memory");
	case SET_BAD:
	default:
		return fail(ps, "bad value for '%s': %s", key, err);
	}

	if (seen_flag)
		*seen_flag = true;
	else
		ps->global_seen |= 1u << k;
	return 0;
}

static int parse_line(struct parser *ps, char *line)
{
	/* Values never contain '#', so it always starts a comment. */
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';

	if (!utf8_valid(line))
		return fail(ps, "invalid UTF-8 outside a comment");

	char *s = trim(line);
	if (*s == '\0')
		return 0;
	if (*s == '[')
		return parse_section(ps, s);
	return parse_assignment(ps, s);
}

/* Split buf (len bytes, with room for one more) into lines and parse them. */
static int parse_buffer(struct parser *ps, char *buf, size_t len)
{
	size_t pos = 0;

	while (pos < len) {
		char *start = buf + pos;
		char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;

		ps->line++;
		if (n > CONFIG_MAX_LINE)
			return fail(ps, "line longer than %d bytes",
				    CONFIG_MAX_LINE);
		/* A NUL would hide the rest of the line from every string
		 * function below, so the text read is not the text shown. */
		if (memchr(start, '\0', n))
			return fail(ps, "NUL byte in line");
		start[n] = '\0';
		pos += n + 1;

		if (parse_line(ps, start) != 0)
			return -1;
	}
	return 0;
}

/* ---- the file ---- */

/* ---- public interface ---- */

int config_defaults(apitoken_config *cfg)
{
	char err[ERR_MAX];
	set_result r;

	memset(cfg, 0, sizeof(*cfg));
	cfg->db_path = strdup(APITOKEN_DEFAULT_DB);
	cfg->key_path = strdup(APITOKEN_DEFAULT_KEY);
	cfg->prefix = strdup("ptk");
	cfg->signing_key = strdup(APITOKEN_DEFAULT_SIGNING_KEY);
	if (!cfg->db_path || !cfg->key_path || !cfg->prefix ||
	    !cfg->signing_key)
		goto fail;
	r = parse_service_list(CONFIG_DEFAULT_DENY_SERVICES,
			       &cfg->deny_services, &cfg->n_deny_services,
			       err, sizeof(err));
	if (r != SET_OK)
		goto fail;
	/* Bounded by default: one member minting in a loop must not fill the
	 * disk or slow every login's walk of the store. */
	cfg->max_tokens_per_user = CONFIG_DEFAULT_MEMBER_TOKENS;
	cfg->max_tokens_set = false;
	cfg->max_store_tokens = CONFIG_DEFAULT_STORE_TOKENS;
	cfg->log_success_interval = CONFIG_DEFAULT_LOG_SUCCESS_INTERVAL;
	cfg->delta_window_secs = CONFIG_DEFAULT_DELTA_WINDOW;
	cfg->admin_group = NULL;
	/* The web server's account (Debian's Apache runs as www-data). */
	cfg->web_relay = calloc(1, sizeof(*cfg->web_relay));
	if (!cfg->web_relay || !(cfg->web_relay[0] = strdup("www-data")))
		goto fail;
	cfg->n_web_relay = 1;
	/* Format 1 until every host reads format 2 (pam_apitoken.conf(5)). */
	cfg->bundle_format = 1;
	cfg->uid_binding = UID_BINDING_LOCAL;
	return 0;

fail:
	config_free(cfg);
	return -1;
}

int config_load(const char *path, bool missing_ok, apitoken_config *cfg,
		config_log_fn log, void *ctx)
{
	struct parser ps = {
		.cfg = cfg, .path = path ? path : "(null)",
		.log = log, .ctx = ctx,
	};
	char err[ERR_MAX];

	if (!cfg)
		return -1;
	if (!path) {
		log_file(&ps, "no config file named");
		goto fail;
	}
	free(cfg->path);
	cfg->path = strdup(path);
	if (!cfg->path) {
		log_file(&ps, "out of memory");
		goto fail;
	}

	/* read_file leaves a NUL after the text, so the last line can be
	 * terminated in place. */
	file_data text;
	if (read_file(AT_FDCWD, path, CONFIG_MAX_FILE, READ_TRUSTED, &text,
		      err, sizeof(err)) != 0) {
		/* Only a file that is plainly absent falls back to the
		 * defaults; any other failure (a symlink, bad mode, EACCES)
		 * may hide a policy the administrator meant to apply. */
		if (errno == ENOENT && missing_ok)
			return 0;
		if (errno == EFBIG)
			snprintf(err, sizeof(err),
				 "file is larger than %zu bytes (1 MiB)",
				 CONFIG_MAX_FILE);
		log_file(&ps, err);
		goto fail;
	}

	int rc = parse_buffer(&ps, text.data, text.len);
	file_data_free(&text);
	if (rc != 0)
		goto fail;
	/* Asked to fail closed, and given nothing to fail on: without
	 * max_bundle_age no host is ever stale, so refuse would silently
	 * never refuse. Said, not ignored. */
	if (cfg->stale_refuse && cfg->max_bundle_age == 0) {
		ps.line = ps.stale_line;
		fail(&ps, "stale_action = refuse needs max_bundle_age (without "
			  "it no host is ever stale)");
		goto fail;
	}
	return 0;

fail:
	config_free(cfg);
	return -1;
}

void config_free(apitoken_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->path);
	free(cfg->db_path);
	free(cfg->key_path);
	free(cfg->signing_key);
	for (size_t i = 0; i < cfg->n_trusted_keys; i++)
		free(cfg->trusted_keys[i]);
	free(cfg->prefix);
	addr_list_free(&cfg->allow_from);
	addr_list_free(&cfg->deny_from);
	free_string_array(cfg->deny_services, cfg->n_deny_services);
	free(cfg->notify_map);
	free(cfg->admin_group);
	free_string_array(cfg->service_accounts, cfg->n_service_accounts);
	free_string_array(cfg->web_relay, cfg->n_web_relay);
	if (cfg->groups) {
		for (size_t i = 0; i < cfg->n_groups; i++)
			free(cfg->groups[i].name);
		free(cfg->groups);
	}
	/* Zeroed, so a second call (or a later config_load) is harmless. */
	memset(cfg, 0, sizeof(*cfg));
}

bool config_service_denied(const apitoken_config *cfg, const char *service)
{
	/* A caller that cannot name the service must not slip past the
	 * "never on these services" rule: answer "denied". */
	if (!cfg || !service)
		return true;
	for (size_t i = 0; i < cfg->n_deny_services; i++)
		if (cfg->deny_services[i] &&
		    strcmp(cfg->deny_services[i], service) == 0)
			return true;
	return false;
}

bool config_web_relay(const apitoken_config *cfg, const char *user)
{
	for (size_t i = 0; i < cfg->n_web_relay; i++)
		if (strcmp(cfg->web_relay[i], user) == 0)
			return true;
	return false;
}

bool config_service_account(const apitoken_config *cfg, const char *user)
{
	if (!cfg || !user)
		return false;
	for (size_t i = 0; i < cfg->n_service_accounts; i++)
		if (strcmp(cfg->service_accounts[i], user) == 0)
			return true;
	return false;
}

unsigned config_token_limit(const apitoken_config *cfg, bool admin)
{
	if (admin && !cfg->max_tokens_set)
		return 0;
	return cfg->max_tokens_per_user;
}

const group_policy *config_find_group(const apitoken_config *cfg,
				      const char *name)
{
	if (!cfg || !name)
		return NULL;
	for (size_t i = 0; i < cfg->n_groups; i++)
		if (cfg->groups[i].name &&
		    strcmp(cfg->groups[i].name, name) == 0)
			return &cfg->groups[i];
	return NULL;
}
