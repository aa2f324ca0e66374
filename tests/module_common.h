/* What the module tests (test_module.c and the module_*.c sections it
 * runs) share: who runs them, sites and profiles, tokenadm as a process,
 * sessions on a real libpam handle and the module's own return code. How
 * that code is read through libpam ("alone" and "probe" stacks) is told at
 * the top of test_module.c. Checks, the conversation and file helpers are
 * the harness's (tests/harness.h). */
#ifndef PTK_TEST_MODULE_COMMON_H
#define PTK_TEST_MODULE_COMMON_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <security/pam_appl.h>

#include "harness.h"

/* ---- the run ---- */

/* Set once by module_setup(), before any test, and only read after: every
 * check names the user, its group or the module, and threading them
 * through each call would be noise. */
extern const char *MOD;      /* absolute path of pam_apitoken.so */
extern const char *TOKENADM; /* absolute path of tokenadm */
extern const char *FAKETIME; /* faketime program, NULL if absent */
extern char ME[256];         /* the euid's user name: tokens are for it */
extern char OTHER[256];      /* another existing user */
extern char MYGROUP[256];    /* the euid's primary group: admin_group */
extern bool IS_ROOT;

/* The environment (PAM_APITOKEN_SO, TOKENADM, FAKETIME), the watchdog, who
 * we are, and a fresh folder that everything this run makes goes under. */
void module_setup(void);
/* Section 13 (the conversation seen over every pam_authenticate of the
 * run), then the folder removed (kept if a check failed or
 * TEST_MODULE_KEEP is set) and the summary line. The exit status. */
int module_finish(time_t started);

/* "FATAL: ..." and a summary that counts it as a failure; exit 1. */
__attribute__((format(printf, 1, 2), noreturn))
void die(const char *fmt, ...);

/* snprintf into an array that must not be cut short. */
#define PATHF(buf, ...) \
	do { \
		int n_ = snprintf((buf), sizeof(buf), __VA_ARGS__); \
		if (n_ < 0 || (size_t)n_ >= sizeof(buf)) \
			die("text too long at line %d", __LINE__); \
	} while (0)

/* A check that got is want, named by the message and want's name. */
__attribute__((format(printf, 3, 4)))
bool expect_code(int got, int want, const char *fmt, ...);

/* th_write_file of text, dying on failure. */
void must_write(const char *path, mode_t mode, const char *text);

/* ---- tokenadm ---- */

/* Run TOKENADM --config conf ARGS... (under faketime -f ft when ft is
 * set), stdout into out. Returns the exit status, or -1 if it died. */
int tokenadm(const char *conf, const char *ft, char *out, size_t outlen,
	     const char *const *args);
/* The same as user (its groups, gid and uid), no faketime; the run must
 * be root's. */
int tokenadm_as(const char *user, const char *conf, char *out, size_t outlen,
		const char *const *args);
/* What the last tokenadm run wrote on stderr, if anything. */
void show_errlog(void);

#define TA(conf, ft, out, outlen, ...) \
	tokenadm((conf), (ft), (out), (outlen), (const char *const[]){ __VA_ARGS__, NULL })

/* A token as tokenadm printed it, and its id. */
typedef struct token {
	char text[128];
	char id[16];
} token;

bool parse_token(const char *line, const char *prefix, token *t);

/* tokenadm create --name NAME ARGS... ; dies if it does not work: every
 * check after it depends on it. */
void mint_v(token *t, const char *conf, const char *prefix, const char *ft,
	    const char *const *args);

#define MINT(t, conf, ...) \
	mint_v((t), (conf), "ptk", NULL, (const char *const[]){ "create", __VA_ARGS__, NULL })
#define MINT_FT(t, conf, ft, ...) \
	mint_v((t), (conf), "ptk", (ft), (const char *const[]){ "create", __VA_ARGS__, NULL })

/* tokenadm ARGS..., dying if it fails. */
void admin(const char *conf, const char *ft, const char *what,
	   const char *const *args);

#define ADMIN(conf, ...) \
	admin((conf), NULL, #__VA_ARGS__, (const char *const[]){ __VA_ARGS__, NULL })

/* tokenadm rotate: the new token. */
void rotate(token *t, const char *conf, const char *ft, const char *id,
	    const char *grace);

/* ---- token-shaped text ---- */

/* n random base62 characters and a NUL. */
void random_b62(char *out, size_t n);
/* prefix_id_secret with valid check digits (tokenadm(8), TOKEN FORMAT). */
void craft(char *out, size_t outlen, const char *prefix, const char *id,
	   const char *secret);

/* ---- sessions on a real libpam handle ---- */

typedef struct sess {
	pam_handle_t *h;
	struct pam_conv conv;
	th_conv cs;
	const char *label;
} sess;

void sess_open(sess *s, const char *confdir, const char *service,
	       const char *user, const char *pw, const char *rhost);
/* pam_authenticate; pam_apitoken(8) (and mod_authnz_pam) allow no info or error
 * message during it, and at most the one password prompt: checked on every
 * call, and counted for section 13. */
int sess_auth(sess *s, int flags);
int sess_acct(sess *s, int flags);
void sess_close(sess *s, int status);

/* ---- sites (a store and key) and profiles (a config and service files) */

typedef struct site {
	char dir[PATH_MAX];
	char db[PATH_MAX];
	char key[PATH_MAX];
	char lastused[PATH_MAX];
} site;

typedef struct profile {
	char conf[PATH_MAX];
	char alone[PATH_MAX];  /* the module alone, "required" */
	char probe[PATH_MAX];  /* module then pam_permit: sees PAM_IGNORE */
	char stacks[PATH_MAX]; /* custom stacks */
	char args[PATH_MAX];   /* the module's arguments */
} profile;

/* A new folder for a site, numbered in the order they are made. */
void site_new(site *s, const char *name);
/* Hand the site's folder and all in it to user (root's: the run's folder
 * made passable for them), or back to root with user NULL. */
void site_give(const site *s, const char *user);
/* The config text every profile of a site starts with. */
void base_conf(const site *s, char *buf, size_t len, const char *extra);
void write_service(const char *dir, const char *name, const char *text);
/* A profile whose module arguments are args (which name the config). */
void profile_args(profile *p, const site *s, const char *name,
		  const char *args);
/* A profile with its own config file (text written with mode 0644). */
void profile_conf(profile *p, const site *s, const char *name,
		  const char *conf_text, const char *extra_args);
/* The usual profile: base config plus extra lines. */
void profile_std(profile *p, const site *s, const char *name,
		 const char *extra_conf, const char *extra_args);
/* tokenadm init. With check_lastused, also check that it made the
 * last-used folder (<db>.lastused), and make it if not so that the rest
 * still runs. */
void site_init(site *s, const profile *p, bool check_lastused);

/* ---- asking the module ---- */

int stack_auth(const char *confdir, const char *service, const char *user,
	       const char *pw, const char *rhost, int flags);
/* The module's own pam_sm_authenticate result (see test_module.c). */
int auth_code(const profile *p, const char *service, const char *user,
	      const char *pw, const char *rhost);
/* auth then acct on one handle, both codes the module's own. */
void auth_acct(const profile *p, const char *service, const char *user,
	       const char *pw, const char *rhost, int *auth_rc, int *acct_rc);

#define EXPECT_AUTH(p, service, user, pw, rhost, want, ...) \
	expect_code(auth_code((p), (service), (user), (pw), (rhost)), (want), __VA_ARGS__)

/* ---- the sections, in the order test_module.c runs them ---- */

/* module_tokens.c */
void test_not_token(const site *s, const profile *p); /* 1 */
void test_valid(const profile *p);                    /* 2, 12 */
void test_refusals(const profile *p);                 /* 3 */
/* module_rules.c */
void test_groups(const site *s);                      /* 3 (group) */
void test_rotation(const profile *p);                 /* 4 */
void test_hosts(const site *s, const profile *p);     /* 5 */
void test_services(const site *s, const profile *p);  /* 6 */
/* module_faults.c */
void test_faults(void);                               /* 7 */
void test_tamper(void);                               /* 7 */
void test_bad_config(const site *s, const profile *good); /* 8 */
/* module_acct.c */
void test_acct(const profile *p);                     /* 9 */
void test_options(const site *s, const profile *p);   /* 10 */
void test_warn(const site *s, const profile *p);      /* 11 */
/* module_runtime.c */
void test_lastused(const site *s, const profile *p);  /* 14 */
void test_concurrency(const profile *p);              /* 15 */

#endif
