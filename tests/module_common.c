/* What the module tests share; see module_common.h. */
#include "module_common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WATCHDOG_SECONDS 110

/* Set by module_setup() and only read after (see module_common.h). */
const char *MOD;
const char *TOKENADM;
const char *FAKETIME;
char ME[256];
char OTHER[256];
char MYGROUP[256];
bool IS_ROOT;

/* Everything this run creates is under it (set by module_setup). */
static char TOPDIR[PATH_MAX];

/* ------------------------------------------------------------------ */
/* Reporting (the counts are the harness's)                            */

void die(const char *fmt, ...)
{
	va_list ap;

	printf("FATAL: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	printf("summary: %d passed, %d failed, %d skipped (aborted)\n",
	       th_count.pass, th_count.fail + 1, th_count.skip);
	fflush(stdout);
	exit(1);
}

bool expect_code(int got, int want, const char *fmt, ...)
{
	char name[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (got == want)
		return th_check(true, "%s -> %s", name, th_pam_name(want));
	return th_check(false, "%s: got %s, want %s", name, th_pam_name(got),
			th_pam_name(want));
}

void must_write(const char *path, mode_t mode, const char *text)
{
	if (th_write_file(path, text, strlen(text), mode) != 0)
		die("cannot write %s: %s", path, strerror(errno));
}

/* ------------------------------------------------------------------ */
/* Running tokenadm                                                    */

/* stderr of the last tokenadm run (a file under TOPDIR). */
static char errlog[PATH_MAX];

/* tokenadm as root or, with user set, as that user (root only): its
 * groups, then its gid and uid, dropped in the child before the exec. */
static int run_tokenadm(const char *user, const char *conf, const char *ft,
			char *out, size_t outlen, const char *const *args)
{
	const char *argv[40];
	int n = 0, p[2];
	uid_t uid = 0;
	gid_t gid = 0;

	if (user) {
		struct passwd *pw = getpwnam(user);
		if (!pw || !IS_ROOT)
			die("cannot run tokenadm as %s", user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}

	if (ft) {
		argv[n++] = FAKETIME;
		argv[n++] = "-f";
		argv[n++] = ft;
	}
	argv[n++] = TOKENADM;
	argv[n++] = "--config";
	argv[n++] = conf;
	for (int i = 0; args[i]; i++) {
		if (n >= 38)
			die("too many arguments");
		argv[n++] = args[i];
	}
	argv[n] = NULL;

	if (pipe2(p, O_CLOEXEC) != 0)
		die("pipe: %s", strerror(errno));
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		int err = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (devnull < 0 || err < 0 || dup2(devnull, 0) < 0 ||
		    dup2(p[1], 1) < 0 || dup2(err, 2) < 0)
			_exit(126);
		if (ft) {
			/* libfaketime is LD_PRELOADed: an ASan tokenadm must
			 * not insist on being first in the link order. */
			const char *old = getenv("ASAN_OPTIONS");
			char opts[1024];
			snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0",
				 old ? old : "", old && *old ? ":" : "");
			setenv("ASAN_OPTIONS", opts, 1);
		}
		if (user && (initgroups(user, gid) != 0 || setgid(gid) != 0 ||
			     setuid(uid) != 0))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	th_drain(p[0], out, outlen);
	close(p[0]);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -1;
}

int tokenadm(const char *conf, const char *ft, char *out, size_t outlen,
	     const char *const *args)
{
	return run_tokenadm(NULL, conf, ft, out, outlen, args);
}

int tokenadm_as(const char *user, const char *conf, char *out, size_t outlen,
		const char *const *args)
{
	return run_tokenadm(user, conf, NULL, out, outlen, args);
}

void show_errlog(void)
{
	char buf[2048];

	if (th_read_text(errlog, buf, sizeof(buf)) > 0)
		printf("  tokenadm said: %s", buf);
}

bool parse_token(const char *line, const char *prefix, token *t)
{
	size_t pl = strlen(prefix), n = strcspn(line, "\n");

	memset(t, 0, sizeof(*t));
	/* prefix _ id(12) _ secret(32) check(6), alone on one line */
	if (n != pl + 1 + 12 + 1 + 32 + 6 || line[n] != '\n' ||
	    line[n + 1] != '\0' || strncmp(line, prefix, pl) != 0 ||
	    line[pl] != '_' || line[pl + 13] != '_')
		return false;
	memcpy(t->text, line, n);
	memcpy(t->id, line + pl + 1, 12);
	return true;
}

void mint_v(token *t, const char *conf, const char *prefix, const char *ft,
	    const char *const *args)
{
	char out[512];
	int rc = tokenadm(conf, ft, out, sizeof(out), args);

	if (rc != 0 || !parse_token(out, prefix, t)) {
		show_errlog();
		die("tokenadm create (%s ...) exit %d, stdout '%s'", args[1], rc,
		    out);
	}
}

void admin(const char *conf, const char *ft, const char *what,
	   const char *const *args)
{
	char out[512];
	int rc = tokenadm(conf, ft, out, sizeof(out), args);

	if (rc != 0) {
		show_errlog();
		die("tokenadm %s exit %d", what, rc);
	}
}

void rotate(token *t, const char *conf, const char *ft, const char *id,
	    const char *grace)
{
	char out[512];
	/* grace NULL: a plain rotate, the old secret ends at once. */
	int rc = tokenadm(conf, ft, out, sizeof(out),
			  grace ? (const char *const[]){ "rotate", id, "--grace",
							 grace, NULL } :
				  (const char *const[]){ "rotate", id, NULL });

	if (rc != 0 || !parse_token(out, "ptk", t)) {
		show_errlog();
		die("tokenadm rotate exit %d", rc);
	}
}

/* ------------------------------------------------------------------ */
/* Making token-shaped text                                            */

void random_b62(char *out, size_t n)
{
	static const char b62[] = TH_B62;
	unsigned char b[64];

	if (n > sizeof(b) || getrandom(b, n, 0) != (ssize_t)n)
		die("getrandom");
	for (size_t i = 0; i < n; i++)
		out[i] = b62[b[i] % 62];
	out[n] = '\0';
}

void craft(char *out, size_t outlen, const char *prefix, const char *id,
	   const char *secret)
{
	th_token_text(out, outlen, prefix, id, secret);
}

/* ------------------------------------------------------------------ */
/* Sessions on a real libpam handle                                    */

/* Section 13 over the whole run, checked by module_finish. Only the main
 * thread counts (the threads of section 15 use handles of their own). */
static int n_auth_calls;        /* pam_authenticate calls made */
static int n_auth_msg_failures; /* ... that produced a message */
static int n_auth_prompt_failures;

void sess_open(sess *s, const char *confdir, const char *service,
	       const char *user, const char *pw, const char *rhost)
{
	memset(s, 0, sizeof(*s));
	s->cs.password = pw;
	s->conv.conv = th_conversation;
	s->conv.appdata_ptr = &s->cs;
	s->label = service;
	int rc = pam_start_confdir(service, user, &s->conv, confdir, &s->h);
	if (rc != PAM_SUCCESS || !s->h)
		die("pam_start_confdir(%s, %s): %s", service, confdir,
		    th_pam_name(rc));
	if (rhost && pam_set_item(s->h, PAM_RHOST, rhost) != PAM_SUCCESS)
		die("pam_set_item(PAM_RHOST)");
}

int sess_auth(sess *s, int flags)
{
	int before = s->cs.messages, prompts = s->cs.prompts;
	int rc = pam_authenticate(s->h, flags);

	n_auth_calls++;
	if (s->cs.messages != before && s->cs.mode == TH_CONV_ANSWER) {
		n_auth_msg_failures++;
		th_check(false, "no conversation message during "
				"pam_authenticate (service %s): got \"%s\"",
			 s->label, s->cs.last_msg);
	}
	if (s->cs.prompts - prompts > 1) {
		n_auth_prompt_failures++;
		th_check(false, "at most one prompt per pam_authenticate "
				"(service %s): got %d",
			 s->label, s->cs.prompts - prompts);
	}
	return rc;
}

int sess_acct(sess *s, int flags)
{
	return pam_acct_mgmt(s->h, flags);
}

void sess_close(sess *s, int status)
{
	pam_end(s->h, status);
	s->h = NULL;
}

/* ------------------------------------------------------------------ */
/* Sites (a store and key) and profiles (a config and service files)   */

/* Every service name a profile has a file for. */
static const char *const SERVICES[] = {
	"test", "web", "other", "sudo", "su", "su-l", "sudo-i", "polkit-1",
	"passwd", "chfn", "chsh", "doas", "systemd-run0", "apitoken-web", NULL,
};

static int site_seq; /* the number of the last site made */

void site_new(site *s, const char *name)
{
	PATHF(s->dir, "%s/%02d-%s", TOPDIR, ++site_seq, name);
	if (mkdir(s->dir, 0700) != 0)
		die("mkdir %s: %s", s->dir, strerror(errno));
	PATHF(s->db, "%s/store/tokens.db", s->dir);
	PATHF(s->key, "%s/site.key", s->dir);
	PATHF(s->lastused, "%s.lastused", s->db);
}

/* lchown everything under path (path included). */
static void chown_tree(const char *path, uid_t uid, gid_t gid)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		die("lstat %s: %s", path, strerror(errno));
	if (lchown(path, uid, gid) != 0)
		die("chown %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return;
	DIR *d = opendir(path);
	if (!d)
		die("opendir %s: %s", path, strerror(errno));
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char sub[PATH_MAX];
		th_path(sub, sizeof(sub), path, e->d_name);
		chown_tree(sub, uid, gid);
	}
	closedir(d);
}

void site_give(const site *s, const char *user)
{
	uid_t uid = 0;
	gid_t gid = 0;

	if (user) {
		struct passwd *pw = getpwnam(user);
		if (!pw)
			die("no user %s", user);
		uid = pw->pw_uid;
		gid = pw->pw_gid;
		/* The run's folder (mkdtemp's 0700) lets others through to
		 * this site, never list it; the other sites stay 0700. */
		if (chmod(TOPDIR, 0711) != 0)
			die("chmod %s: %s", TOPDIR, strerror(errno));
	}
	chown_tree(s->dir, uid, gid);
}

void base_conf(const site *s, char *buf, size_t len, const char *extra)
{
	int n = snprintf(buf, len,
			 "# written by test_module\n"
			 "db = %s\n"
			 "key = %s\n"
			 "admin_group = %s\n"
			 "%s\n",
			 s->db, s->key, MYGROUP, extra ? extra : "");
	if (n < 0 || (size_t)n >= len)
		abort(); /* a test bug: the buffer is too small */
}

void write_service(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];

	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		abort();
	must_write(path, 0644, text);
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
}

void profile_args(profile *p, const site *s, const char *name,
		  const char *args)
{
	char text[4 * PATH_MAX];

	snprintf(p->args, sizeof(p->args), "%s", args);
	PATHF(p->alone, "%s/%s.alone", s->dir, name);
	PATHF(p->probe, "%s/%s.probe", s->dir, name);
	PATHF(p->stacks, "%s/%s.stacks", s->dir, name);
	make_dir(p->alone);
	make_dir(p->probe);
	make_dir(p->stacks);
	for (int i = 0; SERVICES[i]; i++) {
		snprintf(text, sizeof(text),
			 "auth required %s %s\n"
			 "account required %s %s\n",
			 MOD, args, MOD, args);
		write_service(p->alone, SERVICES[i], text);
		snprintf(text, sizeof(text),
			 "auth [success=done ignore=ignore default=die] %s %s\n"
			 "auth required pam_permit.so\n"
			 "account [success=done ignore=ignore default=die] %s %s\n"
			 "account required pam_permit.so\n",
			 MOD, args, MOD, args);
		write_service(p->probe, SERVICES[i], text);
	}
	/* The two documented stacks (pam_apitoken(8), EXAMPLES), pam_permit
	 * and pam_deny standing in for the password module. */
	snprintf(text, sizeof(text),
		 "auth sufficient %s %s\nauth required pam_permit.so\n"
		 "account required pam_permit.so\n", MOD, args);
	write_service(p->stacks, "tp-permit", text);
	snprintf(text, sizeof(text),
		 "auth sufficient %s %s\nauth required pam_deny.so\n"
		 "account required pam_permit.so\n", MOD, args);
	write_service(p->stacks, "tp-deny", text);
	snprintf(text, sizeof(text), "auth required %s %s\n"
		 "account required %s %s\n", MOD, args, MOD, args);
	write_service(p->stacks, "tonly", text);
}

void profile_conf(profile *p, const site *s, const char *name,
		  const char *conf_text, const char *extra_args)
{
	char args[2 * PATH_MAX];

	PATHF(p->conf, "%s/%s.conf", s->dir, name);
	must_write(p->conf, 0644, conf_text);
	int n = snprintf(args, sizeof(args), "conf=%s%s%s", p->conf,
			 extra_args ? " " : "", extra_args ? extra_args : "");
	if (n < 0 || (size_t)n >= sizeof(args))
		abort();
	profile_args(p, s, name, args);
}

void profile_std(profile *p, const site *s, const char *name,
		 const char *extra_conf, const char *extra_args)
{
	char text[8192];

	base_conf(s, text, sizeof(text), extra_conf);
	profile_conf(p, s, name, text, extra_args);
}

void site_init(site *s, const profile *p, bool check_lastused)
{
	ADMIN(p->conf, "init");
	struct stat st;
	if (stat(s->db, &st) != 0 || stat(s->key, &st) != 0)
		die("tokenadm init made no store or key in %s", s->dir);
	if (!check_lastused)
		return;
	bool made = lstat(s->lastused, &st) == 0 && S_ISDIR(st.st_mode);
	th_check(made && (st.st_mode & 002) == 0,
		 "init: creates the last-used folder %s (not world-writable)",
		 s->lastused);
	if (!made && mkdir(s->lastused, 0700) != 0)
		die("mkdir %s: %s", s->lastused, strerror(errno));
}

/* ------------------------------------------------------------------ */
/* Asking the module                                                   */

int stack_auth(const char *confdir, const char *service, const char *user,
	       const char *pw, const char *rhost, int flags)
{
	sess s;

	sess_open(&s, confdir, service, user, pw, rhost);
	int rc = sess_auth(&s, flags);
	sess_close(&s, rc);
	return rc;
}

int auth_code(const profile *p, const char *service, const char *user,
	      const char *pw, const char *rhost)
{
	int rc = stack_auth(p->alone, service, user, pw, rhost, 0);

	if (rc != PAM_PERM_DENIED)
		return rc;
	rc = stack_auth(p->probe, service, user, pw, rhost, 0);
	return rc == PAM_SUCCESS ? PAM_IGNORE : PAM_PERM_DENIED;
}

void auth_acct(const profile *p, const char *service, const char *user,
	       const char *pw, const char *rhost, int *auth_rc, int *acct_rc)
{
	sess s;

	sess_open(&s, p->alone, service, user, pw, rhost);
	*auth_rc = sess_auth(&s, 0);
	*acct_rc = sess_acct(&s, 0);
	sess_close(&s, *acct_rc);
	if (*auth_rc != PAM_PERM_DENIED && *acct_rc != PAM_PERM_DENIED)
		return;
	sess_open(&s, p->probe, service, user, pw, rhost);
	int a = sess_auth(&s, 0);
	int b = sess_acct(&s, 0);
	sess_close(&s, b);
	if (*auth_rc == PAM_PERM_DENIED)
		*auth_rc = a == PAM_SUCCESS ? PAM_IGNORE : PAM_PERM_DENIED;
	if (*acct_rc == PAM_PERM_DENIED)
		*acct_rc = b == PAM_SUCCESS ? PAM_IGNORE : PAM_PERM_DENIED;
}

/* ------------------------------------------------------------------ */
/* The run                                                             */

static void identify(void)
{
	struct passwd *pw = getpwuid(geteuid());
	if (!pw)
		die("no passwd entry for euid %u", (unsigned)geteuid());
	snprintf(ME, sizeof(ME), "%s", pw->pw_name);
	struct group *gr = getgrgid(pw->pw_gid);
	if (!gr)
		die("no group entry for gid %u", (unsigned)pw->pw_gid);
	snprintf(MYGROUP, sizeof(MYGROUP), "%s", gr->gr_name);
	IS_ROOT = geteuid() == 0;
	static const char *const others[] = { "daemon", "nobody", "bin", "sys" };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		if (strcmp(others[i], ME) != 0 && getpwnam(others[i])) {
			snprintf(OTHER, sizeof(OTHER), "%s", others[i]);
			break;
		}
	}
	if (!OTHER[0])
		die("no second user (daemon, nobody, bin, sys) found");
}

static const char *need_env(const char *name)
{
	const char *v = getenv(name);
	if (!v || v[0] != '/')
		die("%s must be set to an absolute path", name);
	if (access(v, R_OK) != 0)
		die("%s=%s: %s", name, v, strerror(errno));
	return v;
}

void module_setup(void)
{
	/* What FAKETIME points to: the variable itself is unset below. */
	static char ftbuf[PATH_MAX];

	signal(SIGALRM, SIG_DFL);
	alarm(WATCHDOG_SECONDS);
	setvbuf(stdout, NULL, _IOLBF, 0);

	MOD = need_env("PAM_APITOKEN_SO");
	TOKENADM = need_env("TOKENADM");
	const char *ft = getenv("FAKETIME");
	if (ft && *ft && access(ft, X_OK) == 0) {
		snprintf(ftbuf, sizeof(ftbuf), "%s", ft);
		FAKETIME = ftbuf;
	}
	/* FAKETIME is also libfaketime's own variable, and tokenadm reads
	 * PAM_APITOKEN_CONF: neither may leak into the children. */
	unsetenv("FAKETIME");
	unsetenv("PAM_APITOKEN_CONF");
	umask(022);
	identify();

	const char *tmp = getenv("TMPDIR");
	snprintf(TOPDIR, sizeof(TOPDIR), "%s/test_module.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(TOPDIR))
		die("mkdtemp: %s", strerror(errno));
	PATHF(errlog, "%s/tokenadm.stderr", TOPDIR);
	printf("# module %s\n# tokenadm %s\n# faketime %s\n# running as %s "
	       "(group %s), other user %s, in %s\n",
	       MOD, TOKENADM, FAKETIME ? FAKETIME : "(none)", ME, MYGROUP,
	       OTHER, TOPDIR);
}

int module_finish(time_t started)
{
	th_check(n_auth_msg_failures == 0,
		 "13 no conversation message during any of %d pam_authenticate "
		 "calls", n_auth_calls);
	th_check(n_auth_prompt_failures == 0,
		 "13 at most one prompt in each of %d pam_authenticate calls",
		 n_auth_calls);

	if (th_count.fail == 0 && !getenv("TEST_MODULE_KEEP"))
		th_rm_rf(TOPDIR);
	else
		printf("# files kept in %s\n", TOPDIR);
	printf("summary: %d passed, %d failed, %d skipped in %lds\n",
	       th_count.pass, th_count.fail, th_count.skip,
	       (long)(time(NULL) - started));
	return th_count.fail ? 1 : 0;
}
