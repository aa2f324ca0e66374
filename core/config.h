/* pam_apitoken.conf: one parser shared by the module and tokenadm.
 *
 * Errors are reported through a caller-supplied logger (pam_syslog in the
 * module, stderr in tokenadm) and always name the file and line. */
#ifndef APITOKEN_CONFIG_H
#define APITOKEN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

/* Services whose PAM stack leads to root or to the account's own
 * credentials (see pam_apitoken.conf(5), deny_services): a leaked API
 * token must not open them. */
#define CONFIG_DEFAULT_DENY_SERVICES \
	"sudo su su-l sudo-i polkit-1 passwd chfn chsh doas systemd-run0 " \
	"apitoken-web"

/* With max_tokens_per_user unset, how many live tokens a member who is not
 * an administrator may hold; and, with max_store_tokens unset, how many
 * records a member's create may bring the store to. */
#define CONFIG_DEFAULT_MEMBER_TOKENS 20u
#define CONFIG_DEFAULT_STORE_TOKENS 100000u

/* max_lifetime value meaning "tokens may last forever". */
#define LIFETIME_NEVER INT64_C(-1)

/* log_success_interval when the file does not set it: one line an hour per
 * token still shows who uses what, without a line per HTTP request. */
#define CONFIG_DEFAULT_LOG_SUCCESS_INTERVAL INT64_C(3600)

typedef struct group_policy {
	char *name;
	int64_t max_lifetime; /* seconds, or LIFETIME_NEVER */
	unsigned line;        /* where the section starts, for messages */
} group_policy;

/* role: the authority mints; an import-only host installs its bundles. */
typedef enum { ROLE_AUTHORITY = 0, ROLE_IMPORT_ONLY } apitoken_role;

/* How many trusted_key lines a config may hold (a key and its successor
 * during a rollover, with room to spare). */
#define CONFIG_TRUSTED_KEYS_MAX 8

typedef struct apitoken_config {
	char *path;       /* the file this came from (for messages) */
	char *db_path;    /* "db" */
	char *key_path;   /* "key" */
	char *prefix;     /* "prefix": 1..16 ASCII letters/digits */
	addr_list allow_from;
	addr_list deny_from;
	char **deny_services;   /* NULL-free array of n_deny_services names */
	size_t n_deny_services;
	char *admin_group;      /* NULL when unset */
	unsigned max_tokens_per_user; /* 0 = unlimited */
	bool max_tokens_set;    /* written in the file (else the default) */
	unsigned max_store_tokens;    /* 0 = unlimited */
	/* "log_success_interval": a token's successful logins are logged at
	 * most once per this many seconds (0: every one); refusals always.
	 * Web servers run PAM on every HTTP request. */
	int64_t log_success_interval;
	group_policy *groups;
	size_t n_groups;
	/* Fleet (see pam_apitoken-bundle(5)). */
	apitoken_role role;
	bool role_set;          /* role written in the file */
	char *signing_key;      /* "signing_key"; its public half at .pub */
	char *trusted_keys[CONFIG_TRUSTED_KEYS_MAX]; /* "trusted_key", repeated */
	size_t n_trusted_keys;
	int64_t max_bundle_age; /* seconds; 0 = no limit */
} apitoken_config;

/* printf-like; ctx is what the caller passed to config_load. */
typedef void (*config_log_fn)(void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Fill *cfg with the built-in defaults (paths from the build options,
 * prefix "ptk", the default deny_services, no host rules, no groups).
 * Returns 0 or -1 on allocation failure. */
int config_defaults(apitoken_config *cfg);

/* Load path over the defaults.
 *
 * If the file does not exist and missing_ok is true, the defaults are kept
 * and 0 is returned (the module's default path may legitimately be absent).
 * The file is opened with O_NOFOLLOW and must be a regular file owned by
 * root or the effective uid, not writable by group or others: a config an
 * attacker can edit would let them widen host rules.
 *
 * Unknown keys, malformed values, duplicate keys or sections, text outside
 * "key = value", lines over 4 KiB and NUL bytes are errors naming
 * "path:line". Returns 0, or -1 after logging; on -1 *cfg is freed. */
int config_load(const char *path, bool missing_ok, apitoken_config *cfg,
		config_log_fn log, void *ctx);

void config_free(apitoken_config *cfg);

/* Is service one of deny_services? */
bool config_service_denied(const apitoken_config *cfg, const char *service);

/* The most live tokens one account may hold when the caller creating it is
 * (admin true) or is not an administrator; 0 = no limit. Unset, members
 * get CONFIG_DEFAULT_MEMBER_TOKENS and administrators no limit; a value an
 * administrator wrote caps every account, whoever mints. */
unsigned config_token_limit(const apitoken_config *cfg, bool admin);

/* The policy section named name, or NULL. */
const group_policy *config_find_group(const apitoken_config *cfg,
				      const char *name);

#endif
