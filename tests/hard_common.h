/* Shared helpers of the hard_* tests (load, crash, hostile files, hostile
 * input): running tokenadm as a real process, a private site (config, key,
 * store), authenticating through the real libpam with pam_start_confdir,
 * and capturing what the module logs.
 *
 * Log capture: libpam's pam_syslog ends in syslog(3) (__syslog_chk under
 * _FORTIFY_SOURCE). The hard_* executables are linked with export_dynamic
 * and define those functions themselves, so the module's log lines come
 * here instead of /dev/log (which a CI container usually lacks). Every
 * captured line is checked on the spot for a token ("ptk_" is the token
 * prefix; ids alone are logged, never "ptk_<id>_<secret>") and for control
 * characters (a forged second log line). */
#ifndef HARD_COMMON_H
#define HARD_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <security/pam_appl.h>

#include "harness.h"

/* Compiled with AddressSanitizer? Then iteration counts shrink. */
#if defined(__SANITIZE_ADDRESS__)
#define HC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HC_ASAN 1
#endif
#endif
#ifndef HC_ASAN
#define HC_ASAN 0
#endif

#define HC_TOKEN_MAX 128
#define HC_ID_LEN 12

extern const char *hc_tokenadm_path; /* $TOKENADM */
extern const char *hc_module_path;   /* $PAM_APITOKEN_SO */

/* Read the environment, make stdout line-buffered. Exits 77 (skip) if the
 * environment is missing. */
void hc_init(const char *name);

__attribute__((format(printf, 1, 2), noreturn)) void hc_die(const char *fmt, ...);

/* Make socket(AF_NETLINK, ...) fail with EPROTONOSUPPORT in this process
 * and its children (seccomp), as on a kernel without audit. libpam then
 * skips its audit record, which would otherwise resolve a hostname
 * PAM_RHOST through DNS (slow, network-dependent) and turn every result
 * into PAM_SYSTEM_ERR for a PAM_RHOST over libaudit's ~8.9 KiB limit.
 * The module never uses netlink. Returns true if installed. */
bool hc_disable_audit(void);

double hc_now(void); /* monotonic seconds */
uint64_t hc_rand(void); /* xorshift, seeded by hc_init; not thread-safe */
void hc_seed(uint64_t seed);

/* A fresh directory under $TMPDIR or /tmp (mode 0755); removed by
 * hc_rmrf. */
char *hc_tmpdir(const char *tag);
void hc_rmrf(const char *path);

/* th_write_file (tests/harness.h), dying on failure; reading is
 * th_read_file. */
void hc_write_file(const char *path, const void *data, size_t len, mode_t mode);
void hc_copy_file(const char *from, const char *to, mode_t mode);

/* Run argv (argv[0] a path) with stdin from in (NULL: /dev/null), stdout
 * and stderr captured (NUL-terminated, truncated to size-1), killed after
 * timeout_ms. Returns the wait status, or -1 if it could not start. */
int hc_run(char *const argv[], const char *in, char *out, size_t outsz,
	   char *err, size_t errsz, int timeout_ms);

/* A private site: config, key and store in dir. */
typedef struct hc_site {
	char dir[512];
	char conf[600];
	char db[600];
	char key[600];
	char confdir[600]; /* PAM service folder */
} hc_site;

/* Write dir/pam_apitoken.conf (db, key, then extra lines), run tokenadm
 * init, write the PAM service files "alone" (module only, required) and
 * "probe" (module [success=done ignore=ignore default=die], then
 * pam_permit) in dir/pam.d. */
void hc_site_init(hc_site *s, const char *dir, const char *extra_conf);
void hc_site_services(hc_site *s, const char *confpath);

/* tokenadm --config s->conf ARGS... (NULL-terminated). Returns the wait
 * status; out/err as for hc_run. */
int hc_tokenadm(const hc_site *s, char *out, size_t outsz, char *err,
		size_t errsz, ...) __attribute__((sentinel));

/* tokenadm create --name NAME --expires never [more args]: the token text
 * into tok (HC_TOKEN_MAX) and its id into id (13). Dies on failure. */
void hc_create(const hc_site *s, char *tok, char *id, const char *name, ...)
	__attribute__((sentinel));

/* The id part of a token text (ptk_<id>_...). */
void hc_token_id(const char *tok, char *id);

/* tok (prefix_id_secret+check) with one secret character changed and the
 * check digits made right again: token-shaped, same id, wrong secret.
 * out has HC_TOKEN_MAX bytes. CRC-32 computed here, not by the product. */
void hc_wrong_secret(const char *tok, char *out);
/* The same with one id character changed: token-shaped, an id no store
 * holds (but for a 1 in 62^12 chance). */
void hc_unknown_id(const char *tok, char *out);

typedef struct hc_auth_req {
	const char *confdir;
	const char *service;   /* "alone" by default */
	const char *user;
	const char *pw;        /* bytes, pwlen of them (may hold NULs) */
	size_t pwlen;          /* 0: strlen(pw) */
	const char *rhost;     /* NULL: not set */
	int mode;              /* enum th_conv_mode (tests/harness.h) */
	int flags;             /* pam_authenticate flags */
	bool acct;             /* also pam_acct_mgmt after a success */
} hc_auth_req;

typedef struct hc_auth_res {
	int start_rc;          /* pam_start_confdir */
	int rc;                /* pam_authenticate */
	int acct_rc;           /* pam_acct_mgmt, or -1 if not called */
	int n_prompts;         /* PAM_PROMPT_ECHO_OFF messages */
	int n_other;           /* any other message (info, error, echo on;
				* th_conversation answers echo on too) */
} hc_auth_res;

/* One login through th_conversation. */
void hc_auth(const hc_auth_req *req, hc_auth_res *res);
/* Common case: password NUL-terminated, "alone" service. */
int hc_auth_simple(const char *confdir, const char *user, const char *pw,
		   const char *rhost);

/* ---- log capture ---- */
/* Keep captured text (else only count and check). */
void hc_log_keep(bool keep);
void hc_log_clear(void);
/* The text captured since the last clear (lines joined by '\n'). */
const char *hc_log_text(void);
unsigned long hc_log_lines(void);
/* Lines that held "ptk_" (a token) or a control character. */
unsigned long hc_log_violations(void);
const char *hc_log_first_violation(void);

#endif
