/* Helpers shared by the memory tests (mem_pam, mem_secrets) and the timing
 * benchmark (timing_refusals): a private store made with the real tokenadm,
 * PAM service files for pam_start_confdir, logins through the real libpam.
 *
 * Environment: PAM_APITOKEN_SO (the module), TOKENADM (the tool). Without
 * them the programs exit 77 (skipped). */
#ifndef APITOKEN_MEM_COMMON_H
#define APITOKEN_MEM_COMMON_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <security/pam_appl.h>

#define MT_SKIP 77
#define MT_SERVICE "apitoken-mem"    /* auth + account: the module alone */
#define MT_SERVICE_PW "apitoken-pw"  /* module, then pam_permit on IGNORE */

typedef struct mt_env {
	char dir[256];     /* private directory, mode 0711 */
	char conf[320];    /* config naming the store and key in dir */
	char confdir[320]; /* PAM service files */
	char module[PATH_MAX]; /* absolute path of pam_apitoken.so */
	char tokenadm[PATH_MAX];
	char user[64];       /* who runs the test: the login user */
	char other_user[64]; /* another existing account ("nobody") */
} mt_env;

/* Set up dir, config, store, key and service files. group_readable: key and
 * store readable by group nogroup (for probes running as nobody). Returns 0,
 * MT_SKIP when the environment lacks what is needed, or 1 on error. */
int mt_init(mt_env *e, bool group_readable);

/* Remove everything mt_init made. */
void mt_cleanup(mt_env *e);

/* Run argv (argv[0] is a path) with stdin from in (NULL: /dev/null) and
 * stdout captured raw (no stdio buffering) into out (NUL-terminated, at most
 * outlen - 1 bytes). as_uid != (uid_t)-1: drop to that uid/gid first (root
 * only). Returns the exit status, or -1. */
int mt_run(char *const argv[], const char *in, char *out, size_t outlen,
	   uid_t as_uid, gid_t as_gid);

/* tokenadm --config <conf> create --name NAME --user USER: the new token in
 * out (newline removed). Returns 0 or -1. */
int mt_create_token(const mt_env *e, const char *user, const char *name,
		    char *out, size_t outlen);

/* One login: pam_start_confdir(service, user) with conv (for a password,
 * th_conversation of tests/harness.h), PAM_RHOST = rhost (NULL: unset),
 * pam_authenticate, then pam_acct_mgmt if that succeeded, pam_end.
 * *acct_rc (if not NULL) gets pam_acct_mgmt's result or -1. Returns pam_authenticate's result (or the pam_start error). */
int mt_login(const mt_env *e, const char *service, const char *user,
	     const struct pam_conv *conv, const char *rhost, int *acct_rc);

#endif
