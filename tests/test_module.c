/* Module tests through the real libpam (pam_start_confdir), in the style of
 * Linux-PAM's own tst-pam_*-retval.c: service files in a private folder
 * naming the module by its absolute path, a conversation that answers the
 * password prompt, and tokenadm run as a real process to make the store.
 *
 * Each check prints PASS/FAIL/SKIP and a name; the last line is a summary
 * and the exit status is non-zero if any check failed.
 *
 * Environment (set by meson): PAM_APITOKEN_SO (the module), TOKENADM (the
 * tool), FAKETIME (the faketime program, or empty: the checks that need a
 * moved clock are skipped).
 *
 * Seeing the module's own return code through libpam: every service name
 * exists in two folders.
 *   "alone": the module is the only auth (and account) module, "required".
 *            libpam hands back the module's code unchanged, except that a
 *            stack in which every module said PAM_IGNORE fails with
 *            PAM_PERM_DENIED (a code this module never returns itself).
 *   "probe": [success=done ignore=ignore default=die] module, then
 *            pam_permit: PAM_IGNORE (and only it, or success) passes.
 * So "alone" gives PAM_PERM_DENIED and "probe" gives PAM_SUCCESS exactly
 * when the module said PAM_IGNORE. (pam_sm_* cannot be called directly on
 * a handle from here: libpam refuses pam_set_data from an application, and
 * the module needs it for the account check.)
 *
 * Runs as root (tokens for "root") or as any other user (tokens for that
 * user: the trust checks accept files owned by the euid); checks that need
 * root say SKIP otherwise. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include <security/pam_appl.h>

#define WATCHDOG_SECONDS 110

static const char *MOD;      /* absolute path of pam_apitoken.so */
static const char *TOKENADM; /* absolute path of tokenadm */
static const char *FAKETIME; /* faketime program, NULL if absent */

static char ME[256];      /* the euid's user name: tokens are for it */
static char OTHER[256];   /* another existing user */
static char MYGROUP[256]; /* the euid's primary group: admin_group */
static bool IS_ROOT;

static char TOPDIR[PATH_MAX]; /* everything this run creates is under it */

/* ------------------------------------------------------------------ */
/* Reporting                                                           */

static int n_pass, n_fail, n_skip;

__attribute__((format(printf, 2, 0)))
static void vreport(const char *tag, const char *fmt, va_list ap)
{
	printf("%s: ", tag);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
}

__attribute__((format(printf, 2, 3)))
static bool check(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(ok ? "PASS" : "FAIL", fmt, ap);
	va_end(ap);
	if (ok)
		n_pass++;
	else
		n_fail++;
	return ok;
}

__attribute__((format(printf, 1, 2)))
static void skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("SKIP", fmt, ap);
	va_end(ap);
	n_skip++;
}

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport("FATAL", fmt, ap);
	va_end(ap);
	printf("summary: %d passed, %d failed, %d skipped (aborted)\n", n_pass,
	       n_fail + 1, n_skip);
	exit(1);
}

/* snprintf into an array that must not be cut short. */
#define PATHF(buf, ...) \
	do { \
		int n_ = snprintf((buf), sizeof(buf), __VA_ARGS__); \
		if (n_ < 0 || (size_t)n_ >= sizeof(buf)) \
			die("text too long at line %d", __LINE__); \
	} while (0)

static const char *code_name(int rc)
{
	static char other[32];

	switch (rc) {
	case PAM_SUCCESS: return "PAM_SUCCESS";
	case PAM_IGNORE: return "PAM_IGNORE";
	case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
	case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
	case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
	case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
	case PAM_ACCT_EXPIRED: return "PAM_ACCT_EXPIRED";
	case PAM_BUF_ERR: return "PAM_BUF_ERR";
	case PAM_CONV_ERR: return "PAM_CONV_ERR";
	case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
	case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
	case PAM_AUTHTOK_ERR: return "PAM_AUTHTOK_ERR";
	case PAM_CRED_INSUFFICIENT: return "PAM_CRED_INSUFFICIENT";
	case PAM_ABORT: return "PAM_ABORT";
	case PAM_OPEN_ERR: return "PAM_OPEN_ERR";
	case PAM_NEW_AUTHTOK_REQD: return "PAM_NEW_AUTHTOK_REQD";
	case PAM_BAD_ITEM: return "PAM_BAD_ITEM";
	}
	snprintf(other, sizeof(other), "code %d", rc);
	return other;
}

__attribute__((format(printf, 3, 4)))
static bool expect_code(int got, int want, const char *fmt, ...)
{
	char name[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	if (got == want)
		return check(true, "%s -> %s", name, code_name(want));
	return check(false, "%s: got %s, want %s", name, code_name(got),
		     code_name(want));
}

/* ------------------------------------------------------------------ */
/* Small file helpers                                                  */

static void write_file(const char *path, mode_t mode, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	size_t n = strlen(text);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n || close(fd) != 0)
		die("cannot write %s: %s", path, strerror(errno));
	if (chmod(path, mode) != 0)
		die("chmod %s: %s", path, strerror(errno));
}

static size_t read_file(const char *path, char *buf, size_t bufsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t have = 0;

	if (fd < 0)
		return 0;
	while (have + 1 < bufsz) {
		ssize_t n = read(fd, buf + have, bufsz - 1 - have);
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	buf[have] = '\0';
	return have;
}

/* Overwrite a file's bytes in place (same inode, mode and owner). */
static void rewrite_in_place(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) != 0)
		die("cannot rewrite %s: %s", path, strerror(errno));
}

/* A whole binary file into a malloc'd buffer. */
static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) != 0)
		die("cannot read %s: %s", path, strerror(errno));
	uint8_t *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		die("out of memory");
	size_t have = 0;
	while (have < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + have, (size_t)st.st_size - have);
		if (n <= 0)
			die("short read of %s", path);
		have += (size_t)n;
	}
	close(fd);
	*len = have;
	return buf;
}

static void rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode)) {
		chmod(path, 0700);
		DIR *d = opendir(path);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			if (strcmp(e->d_name, ".") == 0 ||
			    strcmp(e->d_name, "..") == 0)
				continue;
			char sub[PATH_MAX];
			snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
			rm_rf(sub);
		}
		if (d)
			closedir(d);
		rmdir(path);
	} else {
		unlink(path);
	}
}

static void copy_file(const char *from, const char *to)
{
	size_t len;
	struct stat st;
	uint8_t *buf = slurp(from, &len);

	if (stat(from, &st) != 0)
		die("stat %s", from);
	int fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		      st.st_mode & 07777);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || close(fd) != 0)
		die("cannot copy to %s", to);
	chmod(to, st.st_mode & 07777);
	free(buf);
}

/* ------------------------------------------------------------------ */
/* Running tokenadm                                                    */

static char errlog[PATH_MAX]; /* stderr of the last tokenadm run */

/* Run TOKENADM --config conf ARGS... (under faketime -f ft when ft is
 * set), stdout into out. Returns the exit status, or -1 if it died. */
static int tokenadm(const char *conf, const char *ft, char *out,
		    size_t outlen, const char *const *args)
{
	const char *argv[40];
	int n = 0, p[2];

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
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	size_t have = 0;
	char sink[4096];
	for (;;) {
		char *dst = out && have + 1 < outlen ? out + have : sink;
		size_t room = out && have + 1 < outlen ? outlen - 1 - have :
							 sizeof(sink);
		ssize_t r = read(p[0], dst, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (dst != sink)
			have += (size_t)r;
	}
	close(p[0]);
	if (out && outlen)
		out[have] = '\0';
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid: %s", strerror(errno));
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return -1;
}

static void show_errlog(void)
{
	char buf[2048];

	if (read_file(errlog, buf, sizeof(buf)))
		printf("  tokenadm said: %s", buf);
}

#define TA(conf, ft, out, outlen, ...) \
	tokenadm((conf), (ft), (out), (outlen), (const char *const[]){ __VA_ARGS__, NULL })

/* A token as tokenadm printed it, and its id. */
typedef struct token {
	char text[128];
	char id[16];
} token;

static bool parse_token(const char *line, const char *prefix, token *t)
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

/* tokenadm create --name NAME ARGS... ; dies if it does not work: every
 * check after it depends on it. */
static void mint_v(token *t, const char *conf, const char *prefix,
		   const char *ft, const char *const *args)
{
	char out[512];
	int rc = tokenadm(conf, ft, out, sizeof(out), args);

	if (rc != 0 || !parse_token(out, prefix, t)) {
		show_errlog();
		die("tokenadm create (%s ...) exit %d, stdout '%s'", args[1], rc,
		    out);
	}
}

#define MINT(t, conf, ...) \
	mint_v((t), (conf), "ptk", NULL, (const char *const[]){ "create", __VA_ARGS__, NULL })
#define MINT_FT(t, conf, ft, ...) \
	mint_v((t), (conf), "ptk", (ft), (const char *const[]){ "create", __VA_ARGS__, NULL })

static void admin(const char *conf, const char *ft, const char *what,
		  const char *const *args)
{
	char out[512];
	int rc = tokenadm(conf, ft, out, sizeof(out), args);

	if (rc != 0) {
		show_errlog();
		die("tokenadm %s exit %d", what, rc);
	}
}

#define ADMIN(conf, ...) \
	admin((conf), NULL, #__VA_ARGS__, (const char *const[]){ __VA_ARGS__, NULL })

/* tokenadm rotate: the new token. */
static void rotate(token *t, const char *conf, const char *ft,
		   const char *id, const char *grace)
{
	char out[512];
	int rc = tokenadm(conf, ft, out, sizeof(out),
			  (const char *const[]){ "rotate", id, "--grace",
						 grace, NULL });

	if (rc != 0 || !parse_token(out, "ptk", t)) {
		show_errlog();
		die("tokenadm rotate exit %d", rc);
	}
}

/* ------------------------------------------------------------------ */
/* Making token-shaped text                                            */

static const char B62[] =
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static void random_b62(char *out, size_t n)
{
	unsigned char b[64];

	if (n > sizeof(b) || getrandom(b, n, 0) != (ssize_t)n)
		die("getrandom");
	for (size_t i = 0; i < n; i++)
		out[i] = B62[b[i] % 62];
	out[n] = '\0';
}

/* body + its CRC-32 as 6 base62 digits, most significant first
 * (tokenadm(8), TOKEN FORMAT). */
static void with_check(const char *body, char *out, size_t outlen)
{
	uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)body,
				       (uInt)strlen(body));
	char digits[7];

	for (int i = 5; i >= 0; i--) {
		digits[i] = B62[crc % 62];
		crc /= 62;
	}
	digits[6] = '\0';
	snprintf(out, outlen, "%s%s", body, digits);
}

static void craft(char *out, size_t outlen, const char *prefix,
		  const char *id, const char *secret)
{
	char body[128];

	snprintf(body, sizeof(body), "%s_%s_%s", prefix, id, secret);
	with_check(body, out, outlen);
}

/* ------------------------------------------------------------------ */
/* The conversation                                                    */

typedef struct conv_state {
	const char *password; /* answer to PAM_PROMPT_ECHO_OFF */
	bool fail;            /* return PAM_CONV_ERR instead */
	int prompts;
	int messages;         /* PAM_TEXT_INFO and PAM_ERROR_MSG */
	char last_msg[256];
} conv_state;

static int conversation(int n, const struct pam_message **msg,
			struct pam_response **resp, void *appdata)
{
	conv_state *cs = appdata;
	struct pam_response *r;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	/* libpam frees these with libc's free. */
	r = calloc((size_t)n, sizeof(*r));
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			cs->prompts++;
			if (cs->fail)
				goto fail;
			r[i].resp = strdup(cs->password ? cs->password : "");
			if (!r[i].resp)
				goto fail;
			break;
		case PAM_TEXT_INFO:
		case PAM_ERROR_MSG:
			cs->messages++;
			snprintf(cs->last_msg, sizeof(cs->last_msg), "%s",
				 msg[i]->msg ? msg[i]->msg : "(null)");
			break;
		default:
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (int i = 0; i < n; i++)
		free(r[i].resp);
	free(r);
	return PAM_CONV_ERR;
}

/* ------------------------------------------------------------------ */
/* Sessions on a real libpam handle                                    */

typedef struct sess {
	pam_handle_t *h;
	struct pam_conv conv;
	conv_state cs;
	const char *label;
} sess;

static int n_auth_calls;        /* pam_authenticate calls made */
static int n_auth_msg_failures; /* ... that produced a message */
static int n_auth_prompt_failures;

static void sess_open(sess *s, const char *confdir, const char *service,
		      const char *user, const char *pw, const char *rhost)
{
	memset(s, 0, sizeof(*s));
	s->cs.password = pw;
	s->conv.conv = conversation;
	s->conv.appdata_ptr = &s->cs;
	s->label = service;
	int rc = pam_start_confdir(service, user, &s->conv, confdir, &s->h);
	if (rc != PAM_SUCCESS || !s->h)
		die("pam_start_confdir(%s, %s): %s", service, confdir,
		    code_name(rc));
	if (rhost && pam_set_item(s->h, PAM_RHOST, rhost) != PAM_SUCCESS)
		die("pam_set_item(PAM_RHOST)");
}

/* pam_authenticate; pam_apitoken(8), DESCRIPTION (and mod_authnz_pam)
 * allow no info or error message during it, and at most the one password
 * prompt. */
static int sess_auth(sess *s, int flags)
{
	int before = s->cs.messages, prompts = s->cs.prompts;
	int rc = pam_authenticate(s->h, flags);

	n_auth_calls++;
	if (s->cs.messages != before && !s->cs.fail) {
		n_auth_msg_failures++;
		check(false, "no conversation message during pam_authenticate "
			     "(service %s): got \"%s\"", s->label, s->cs.last_msg);
	}
	if (s->cs.prompts - prompts > 1) {
		n_auth_prompt_failures++;
		check(false, "at most one prompt per pam_authenticate (service "
			     "%s): got %d", s->label, s->cs.prompts - prompts);
	}
	return rc;
}

static int sess_acct(sess *s, int flags)
{
	return pam_acct_mgmt(s->h, flags);
}

static void sess_close(sess *s, int status)
{
	pam_end(s->h, status);
	s->h = NULL;
}

/* ------------------------------------------------------------------ */
/* Sites (a store and key) and profiles (a config and service files)   */

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

static const char *const SERVICES[] = {
	"test", "web", "other", "sudo", "su", "su-l", "sudo-i", "polkit-1",
	"passwd", "chfn", "chsh", "doas", "systemd-run0", NULL,
};

static int site_seq;

static void site_new(site *s, const char *name)
{
	PATHF(s->dir, "%s/%02d-%s", TOPDIR, ++site_seq, name);
	if (mkdir(s->dir, 0700) != 0)
		die("mkdir %s: %s", s->dir, strerror(errno));
	PATHF(s->db, "%s/store/tokens.db", s->dir);
	PATHF(s->key, "%s/site.key", s->dir);
	PATHF(s->lastused, "%s.lastused", s->db);
}

/* The config text every profile of a site starts with. */
static void base_conf(const site *s, char *buf, size_t len, const char *extra)
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

static void write_service(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];

	int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		abort();
	write_file(path, 0644, text);
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST)
		die("mkdir %s: %s", path, strerror(errno));
}

/* A profile whose module arguments are args (which name the config). */
static void profile_args(profile *p, const site *s, const char *name,
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

/* A profile with its own config file (text written with mode 0644). */
static void profile_conf(profile *p, const site *s, const char *name,
			 const char *conf_text, const char *extra_args)
{
	char args[2 * PATH_MAX];

	PATHF(p->conf, "%s/%s.conf", s->dir, name);
	write_file(p->conf, 0644, conf_text);
	int n = snprintf(args, sizeof(args), "conf=%s%s%s", p->conf,
			 extra_args ? " " : "", extra_args ? extra_args : "");
	if (n < 0 || (size_t)n >= sizeof(args))
		abort();
	profile_args(p, s, name, args);
}

/* The usual profile: base config plus extra lines. */
static void profile_std(profile *p, const site *s, const char *name,
			const char *extra_conf, const char *extra_args)
{
	char text[8192];

	base_conf(s, text, sizeof(text), extra_conf);
	profile_conf(p, s, name, text, extra_args);
}

/* tokenadm init. With check_lastused, also check that it made the
 * last-used folder (<db>.lastused), and make it if not so that the rest
 * still runs. */
static void site_init(site *s, const profile *p, bool check_lastused)
{
	ADMIN(p->conf, "init");
	struct stat st;
	if (stat(s->db, &st) != 0 || stat(s->key, &st) != 0)
		die("tokenadm init made no store or key in %s", s->dir);
	if (!check_lastused)
		return;
	bool made = lstat(s->lastused, &st) == 0 && S_ISDIR(st.st_mode);
	check(made && (st.st_mode & 002) == 0,
	      "init: creates the last-used folder %s (not world-writable)",
	      s->lastused);
	if (!made && mkdir(s->lastused, 0700) != 0)
		die("mkdir %s: %s", s->lastused, strerror(errno));
}

/* ------------------------------------------------------------------ */
/* Asking the module                                                   */

static int stack_auth(const char *confdir, const char *service,
		      const char *user, const char *pw, const char *rhost,
		      int flags)
{
	sess s;

	sess_open(&s, confdir, service, user, pw, rhost);
	int rc = sess_auth(&s, flags);
	sess_close(&s, rc);
	return rc;
}

/* The module's own pam_sm_authenticate result (see the top comment). */
static int auth_code(const profile *p, const char *service, const char *user,
		     const char *pw, const char *rhost)
{
	int rc = stack_auth(p->alone, service, user, pw, rhost, 0);

	if (rc != PAM_PERM_DENIED)
		return rc;
	rc = stack_auth(p->probe, service, user, pw, rhost, 0);
	return rc == PAM_SUCCESS ? PAM_IGNORE : PAM_PERM_DENIED;
}

/* auth then acct on one handle, both codes the module's own. */
static void auth_acct(const profile *p, const char *service, const char *user,
		      const char *pw, const char *rhost, int *auth_rc,
		      int *acct_rc)
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

#define EXPECT_AUTH(p, service, user, pw, rhost, want, ...) \
	expect_code(auth_code((p), (service), (user), (pw), (rhost)), (want), __VA_ARGS__)

/* ------------------------------------------------------------------ */
/* 1. Passwords that are not tokens                                    */

static void test_not_token(const site *s, const profile *p)
{
	token t;
	char buf[512];

	MINT(&t, p->conf, "--name", "shape", "--user", ME);
	/* The real token first, so a PAM_IGNORE below means "not a token"
	 * and not "the module never works". */
	EXPECT_AUTH(p, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "1 the minted token itself");

	EXPECT_AUTH(p, "test", ME, "correct horse battery staple", NULL,
		    PAM_IGNORE, "1 plain password");
	EXPECT_AUTH(p, "test", ME, "", NULL, PAM_IGNORE, "1 empty password");

	snprintf(buf, sizeof(buf), "%s", t.text);
	buf[strlen(buf) - 1] = buf[strlen(buf) - 1] == 'A' ? 'B' : 'A';
	EXPECT_AUTH(p, "test", ME, buf, NULL, PAM_IGNORE,
		    "1 bad CRC (last character changed)");

	snprintf(buf, sizeof(buf), "xyz%s", t.text + 3);
	EXPECT_AUTH(p, "test", ME, buf, NULL, PAM_IGNORE,
		    "1 wrong prefix (CRC of the original text)");

	char secret[40], id[16];
	memcpy(secret, t.text + 17, 32);
	secret[32] = '\0';
	memcpy(id, t.id, 13);
	craft(buf, sizeof(buf), "xyz", id, secret);
	EXPECT_AUTH(p, "test", ME, buf, NULL, PAM_IGNORE,
		    "1 other prefix with a valid CRC");

	secret[31] = '\0';
	craft(buf, sizeof(buf), "ptk", id, secret);
	EXPECT_AUTH(p, "test", ME, buf, NULL, PAM_IGNORE,
		    "1 wrong length (31-character secret, valid CRC)");

	snprintf(buf, sizeof(buf), "%s ", t.text);
	EXPECT_AUTH(p, "test", ME, buf, NULL, PAM_IGNORE,
		    "1 token with a trailing blank");
	snprintf(buf, sizeof(buf), "%s", t.text);
	buf[strlen(buf) - 1] = '\0';
	EXPECT_AUTH(p, "test", ME, buf, NULL, PAM_IGNORE,
		    "1 token missing its last character");

	/* §6: huge and binary passwords are simply not tokens. */
	char *huge = malloc(256 * 1024 + 1);
	if (!huge)
		die("out of memory");
	memset(huge, 'A', 256 * 1024);
	huge[256 * 1024] = '\0';
	EXPECT_AUTH(p, "test", ME, huge, NULL, PAM_IGNORE,
		    "1 256 KiB password");
	free(huge);
	EXPECT_AUTH(p, "test", ME, "\xff\xfe\x01\x80" "binary\x1b[0m", NULL,
		    PAM_IGNORE, "1 binary password");

	/* The documented stacks. */
	expect_code(stack_auth(p->stacks, "tp-permit", ME, "hunter2", NULL, 0),
		    PAM_SUCCESS,
		    "1 tokens-or-passwords: plain password reaches the password "
		    "module (pam_permit)");
	expect_code(stack_auth(p->stacks, "tp-deny", ME, "hunter2", NULL, 0),
		    PAM_AUTH_ERR,
		    "1 tokens-or-passwords: plain password reaches the password "
		    "module (pam_deny)");
	expect_code(stack_auth(p->stacks, "tp-deny", ME, t.text, NULL, 0),
		    PAM_SUCCESS,
		    "1 tokens-or-passwords: a valid token is sufficient "
		    "(pam_deny never consulted)");
	int rc = stack_auth(p->stacks, "tonly", ME, "hunter2", NULL, 0);
	check(rc != PAM_SUCCESS,
	      "1 tokens-only stack refuses a plain password (%s)", code_name(rc));
	expect_code(stack_auth(p->stacks, "tonly", ME, t.text, NULL, 0),
		    PAM_SUCCESS, "1 tokens-only stack accepts a valid token");

	/* prefix = acme: the site's prefix decides what is token-shaped. */
	profile acme;
	token a;
	profile_std(&acme, s, "acme", "prefix = acme", NULL);
	mint_v(&a, acme.conf, "acme", NULL,
	       (const char *const[]){ "create", "--name", "acme", "--user", ME,
				      NULL });
	check(strncmp(a.text, "acme_", 5) == 0,
	      "1 prefix = acme: tokenadm mints acme_ tokens");
	EXPECT_AUTH(&acme, "test", ME, a.text, NULL, PAM_SUCCESS,
		    "1 prefix = acme: acme token accepted");
	EXPECT_AUTH(&acme, "test", ME, t.text, NULL, PAM_IGNORE,
		    "1 prefix = acme: ptk token is not token-shaped");
	EXPECT_AUTH(p, "test", ME, a.text, NULL, PAM_IGNORE,
		    "1 prefix = ptk: acme token is not token-shaped");
}

/* ------------------------------------------------------------------ */
/* 2. A valid token; 12. setcred                                       */

static void test_valid(const profile *p)
{
	token t;
	sess s;
	int a, b;

	MINT(&t, p->conf, "--name", "valid", "--user", ME);
	auth_acct(p, "test", ME, t.text, NULL, &a, &b);
	expect_code(a, PAM_SUCCESS, "2 valid token: pam_authenticate");
	expect_code(b, PAM_SUCCESS, "2 valid token: pam_acct_mgmt");

	/* Exactly one prompt, answered. */
	sess_open(&s, p->alone, "test", ME, t.text, "203.0.113.9");
	a = sess_auth(&s, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	expect_code(a, PAM_SUCCESS,
		    "2 valid token with PAM_SILENT|PAM_DISALLOW_NULL_AUTHTOK "
		    "(mod_authnz_pam's flags)");
	check(s.cs.prompts == 1, "2 exactly one password prompt (got %d)",
	      s.cs.prompts);
	expect_code(pam_setcred(s.h, PAM_ESTABLISH_CRED), PAM_SUCCESS,
		    "12 pam_setcred(PAM_ESTABLISH_CRED) after token auth");
	expect_code(pam_setcred(s.h, PAM_DELETE_CRED), PAM_SUCCESS,
		    "12 pam_setcred(PAM_DELETE_CRED)");
	sess_close(&s, PAM_SUCCESS);

	/* setcred with no authentication first. */
	sess_open(&s, p->alone, "test", ME, "x", NULL);
	expect_code(pam_setcred(s.h, PAM_ESTABLISH_CRED), PAM_SUCCESS,
		    "12 pam_setcred without a prior pam_authenticate");
	sess_close(&s, PAM_SUCCESS);

	/* And pam_sm_setcred called directly on a real handle. */
	void *dl = dlopen(MOD, RTLD_NOW | RTLD_LOCAL);
	int (*setcred)(pam_handle_t *, int, int, const char **) =
		dl ? (int (*)(pam_handle_t *, int, int, const char **))
			     dlsym(dl, "pam_sm_setcred") : NULL;
	if (check(setcred != NULL, "12 dlsym(pam_sm_setcred)")) {
		const char *argv[] = { p->args };
		sess_open(&s, p->alone, "test", ME, "x", NULL);
		expect_code(setcred(s.h, PAM_ESTABLISH_CRED, 1, argv), PAM_SUCCESS,
			    "12 pam_sm_setcred direct call");
		expect_code(setcred(s.h, PAM_REFRESH_CRED | PAM_SILENT, 0, NULL),
			    PAM_SUCCESS, "12 pam_sm_setcred direct call, no args");
		sess_close(&s, PAM_SUCCESS);
	}
	if (dl)
		dlclose(dl);
}

/* ------------------------------------------------------------------ */
/* 3. Refusals                                                          */

static void test_refusals(const profile *p)
{
	token t, o;
	char buf[256], id[16], secret[40];

	MINT(&t, p->conf, "--name", "refusals", "--user", ME);
	EXPECT_AUTH(p, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "3 baseline token works");

	random_b62(id, 12);
	random_b62(secret, 32);
	craft(buf, sizeof(buf), "ptk", id, secret);
	EXPECT_AUTH(p, "test", ME, buf, NULL, PAM_AUTH_ERR,
		    "3 unknown id (valid CRC)");

	memcpy(secret, t.text + 17, 32);
	secret[32] = '\0';
	secret[0] = secret[0] == 'a' ? 'b' : 'a';
	craft(buf, sizeof(buf), "ptk", t.id, secret);
	EXPECT_AUTH(p, "test", ME, buf, NULL, PAM_AUTH_ERR,
		    "3 wrong secret (one character, valid CRC)");
	random_b62(secret, 32);
	craft(buf, sizeof(buf), "ptk", t.id, secret);
	EXPECT_AUTH(p, "test", ME, buf, NULL, PAM_AUTH_ERR,
		    "3 wrong secret (random, valid CRC)");

	/* Someone else's token. */
	MINT(&o, p->conf, "--name", "others", "--user", OTHER);
	EXPECT_AUTH(p, "test", ME, o.text, NULL, PAM_AUTH_ERR,
		    "3 %s's token presented for %s", OTHER, ME);
	EXPECT_AUTH(p, "test", OTHER, o.text, NULL, PAM_SUCCESS,
		    "3 %s's token for %s", OTHER, OTHER);
	EXPECT_AUTH(p, "test", OTHER, t.text, NULL, PAM_AUTH_ERR,
		    "3 %s's token presented for %s", ME, OTHER);
	/* §6 odd user names: refused, nothing else. */
	EXPECT_AUTH(p, "test", "root\nFAKE rhost=1.2.3.4", t.text, NULL,
		    PAM_AUTH_ERR, "3 user name with a newline");
	char longname[600];
	memset(longname, 'u', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	EXPECT_AUTH(p, "test", longname, t.text, NULL, PAM_AUTH_ERR,
		    "3 599-character user name");

	/* Revoked. */
	token r;
	MINT(&r, p->conf, "--name", "revoked", "--user", ME);
	EXPECT_AUTH(p, "test", ME, r.text, NULL, PAM_SUCCESS,
		    "3 to-be-revoked token works first");
	ADMIN(p->conf, "revoke", r.id);
	EXPECT_AUTH(p, "test", ME, r.text, NULL, PAM_AUTH_ERR, "3 revoked token");

	/* Disabled, then enabled again. */
	token d;
	MINT(&d, p->conf, "--name", "disabled", "--user", ME);
	ADMIN(p->conf, "disable", d.id);
	EXPECT_AUTH(p, "test", ME, d.text, NULL, PAM_AUTH_ERR,
		    "3 disabled token");
	ADMIN(p->conf, "enable", d.id);
	EXPECT_AUTH(p, "test", ME, d.text, NULL, PAM_SUCCESS,
		    "3 enabled again: works");

	/* Expired: created two days ago for one day. */
	if (!FAKETIME) {
		skip("3 expired token (no faketime)");
		return;
	}
	token e;
	MINT_FT(&e, p->conf, "-2d", "--name", "expired", "--user", ME,
		"--expires", "1d");
	EXPECT_AUTH(p, "test", ME, e.text, NULL, PAM_AUTH_ERR, "3 expired token");
	/* The same under faketime, minted one day in the past with two
	 * days to run: still valid now (proves the clock, not the tool). */
	token e2;
	MINT_FT(&e2, p->conf, "-1d", "--name", "notyet", "--user", ME,
		"--expires", "2d");
	EXPECT_AUTH(p, "test", ME, e2.text, NULL, PAM_SUCCESS,
		    "3 minted yesterday for two days: still valid");
}

/* ------------------------------------------------------------------ */
/* 3 (group). Owner no longer allowed to hold tokens                   */
/* (pam_apitoken.conf(5), GROUP SECTIONS)                              */

static void test_groups(const site *s)
{
	profile in, out, none;
	char extra[512];
	token t, svc;

	snprintf(extra, sizeof(extra), "[group %s]\nmax_lifetime = never\n",
		 MYGROUP);
	profile_std(&in, s, "grp-in", extra, NULL);
	profile_std(&out, s, "grp-out",
		    "[group ptk-no-such-group-x]\nmax_lifetime = never\n", NULL);
	profile_std(&none, s, "grp-none", NULL, NULL);

	/* Minted by the owner for themselves while in an allowed group. */
	MINT(&t, in.conf, "--name", "bound");
	EXPECT_AUTH(&in, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "3 group-bound token while its owner is in the group");
	EXPECT_AUTH(&none, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "3 no [group] sections at all: group check off");
	if (IS_ROOT) {
		/* Root is always an administrator: its own tokens are never
		 * bound. The bound case with real users and the setuid tool
		 * is in test_privilege.sh. */
		EXPECT_AUTH(&out, "test", ME, t.text, NULL, PAM_SUCCESS,
			    "3 root's own token is not bound to groups");
	} else {
		/* ME is an administrator through admin_group in every
		 * profile here; a config without admin_group and without
		 * ME's group leaves the token's owner allowed nowhere. */
		char bare[16384];
		profile gone;
		int n = snprintf(bare, sizeof(bare),
				 "db = %s\nkey = %s\n[group "
				 "ptk-no-such-group-x]\nmax_lifetime = never\n",
				 s->db, s->key);
		if (n < 0 || (size_t)n >= sizeof(bare))
			abort();
		profile_conf(&gone, s, "grp-gone", bare, NULL);
		EXPECT_AUTH(&gone, "test", ME, t.text, NULL, PAM_AUTH_ERR,
			    "3 owner no longer in any allowed group: refused");
		EXPECT_AUTH(&out, "test", ME, t.text, NULL, PAM_SUCCESS,
			    "3 an administrator's own token lives while they "
			    "are one");
		sess ss;
		sess_open(&ss, in.alone, "test", ME, t.text, NULL);
		int a1 = sess_auth(&ss, 0);
		char conf_in[8192];
		base_conf(s, conf_in, sizeof(conf_in), extra);
		write_file(in.conf, 0644, bare);
		int b1 = sess_acct(&ss, 0);
		write_file(in.conf, 0644, conf_in);
		sess_close(&ss, b1);
		expect_code(a1, PAM_SUCCESS, "9 group-bound token: auth");
		expect_code(b1, PAM_ACCT_EXPIRED,
			    "9 owner left the allowed groups before "
			    "pam_acct_mgmt");
		EXPECT_AUTH(&in, "test", ME, t.text, NULL, PAM_SUCCESS,
			    "3 group restored: the token works again");
	}
	int a, b;
	/* A token an administrator issued for another account is not subject
	 * to the group check. */
	MINT(&svc, in.conf, "--name", "svc", "--user", OTHER);
	auth_acct(&out, "test", OTHER, svc.text, NULL, &a, &b);
	expect_code(a, PAM_SUCCESS,
		    "3 admin-issued token for another account ignores groups");
	expect_code(b, PAM_SUCCESS,
		    "3 ... and its account check passes");
}

/* ------------------------------------------------------------------ */
/* 4. Rotation                                                          */

static void test_rotation(const profile *p)
{
	token t, n;

	MINT(&t, p->conf, "--name", "rotate", "--user", ME);
	rotate(&n, p->conf, NULL, t.id, "1h");
	check(strcmp(n.id, t.id) == 0 && strcmp(n.text, t.text) != 0,
	      "4 rotate keeps the id, changes the secret");
	EXPECT_AUTH(p, "test", ME, n.text, NULL, PAM_SUCCESS,
		    "4 new secret works after rotate --grace 1h");
	EXPECT_AUTH(p, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "4 old secret works within the grace period");

	token t0, n0;
	MINT(&t0, p->conf, "--name", "rotate0", "--user", ME);
	char out[512];
	int rc = TA(p->conf, NULL, out, sizeof(out), "rotate", t0.id);
	if (check(rc == 0 && parse_token(out, "ptk", &n0),
		  "4 rotate without --grace")) {
		EXPECT_AUTH(p, "test", ME, n0.text, NULL, PAM_SUCCESS,
			    "4 no grace: new secret works");
		EXPECT_AUTH(p, "test", ME, t0.text, NULL, PAM_AUTH_ERR,
			    "4 no grace: old secret refused at once");
	}

	/* Revocation ends the grace too. */
	token t1, n1;
	MINT(&t1, p->conf, "--name", "rotate-revoke", "--user", ME);
	rotate(&n1, p->conf, NULL, t1.id, "1h");
	ADMIN(p->conf, "revoke", t1.id);
	EXPECT_AUTH(p, "test", ME, t1.text, NULL, PAM_AUTH_ERR,
		    "4 revoked during grace: old secret refused");
	EXPECT_AUTH(p, "test", ME, n1.text, NULL, PAM_AUTH_ERR,
		    "4 revoked during grace: new secret refused");

	if (!FAKETIME) {
		skip("4 grace over (no faketime)");
		return;
	}
	token t2, n2;
	MINT_FT(&t2, p->conf, "-3h", "--name", "rotate-past", "--user", ME);
	rotate(&n2, p->conf, "-2h", t2.id, "1h");
	EXPECT_AUTH(p, "test", ME, t2.text, NULL, PAM_AUTH_ERR,
		    "4 rotated 2h ago with 1h grace: old secret refused");
	EXPECT_AUTH(p, "test", ME, n2.text, NULL, PAM_SUCCESS,
		    "4 rotated 2h ago with 1h grace: new secret works");
}

/* ------------------------------------------------------------------ */
/* 5. Host rules                                                        */

static void test_hosts(const site *s, const profile *p)
{
	token a, l, d, six, none, ld;

	MINT(&a, p->conf, "--name", "net10", "--user", ME, "--allow-from",
	     "10.0.0.0/8");
	EXPECT_AUTH(p, "test", ME, a.text, "10.1.2.3", PAM_SUCCESS,
		    "5 allow 10/8: 10.1.2.3");
	EXPECT_AUTH(p, "test", ME, a.text, "11.0.0.1", PAM_AUTH_ERR,
		    "5 allow 10/8: 11.0.0.1");
	EXPECT_AUTH(p, "test", ME, a.text, NULL, PAM_AUTH_ERR,
		    "5 allow 10/8: no PAM_RHOST");
	EXPECT_AUTH(p, "test", ME, a.text, "", PAM_AUTH_ERR,
		    "5 allow 10/8: empty PAM_RHOST");
	EXPECT_AUTH(p, "test", ME, a.text, "example.com", PAM_AUTH_ERR,
		    "5 allow 10/8: hostname example.com");
	EXPECT_AUTH(p, "test", ME, a.text, "10.1.2.3.example.com", PAM_AUTH_ERR,
		    "5 allow 10/8: hostname 10.1.2.3.example.com");
	EXPECT_AUTH(p, "test", ME, a.text, "10.1.2.3 ", PAM_AUTH_ERR,
		    "5 allow 10/8: '10.1.2.3 ' (garbage)");
	EXPECT_AUTH(p, "test", ME, a.text, "10.1.2", PAM_AUTH_ERR,
		    "5 allow 10/8: '10.1.2' (garbage)");
	EXPECT_AUTH(p, "test", ME, a.text, "::ffff:10.1.2.3", PAM_SUCCESS,
		    "5 allow 10/8: ::ffff:10.1.2.3 matched as IPv4");
	EXPECT_AUTH(p, "test", ME, a.text, "::ffff:11.0.0.1", PAM_AUTH_ERR,
		    "5 allow 10/8: ::ffff:11.0.0.1");
	EXPECT_AUTH(p, "test", ME, a.text, "fe80::1%eth0", PAM_AUTH_ERR,
		    "5 allow 10/8: fe80::1%%eth0 (zone id)");

	MINT(&l, p->conf, "--name", "local", "--user", ME, "--allow-from",
	     "local");
	EXPECT_AUTH(p, "test", ME, l.text, NULL, PAM_SUCCESS,
		    "5 allow local: no PAM_RHOST");
	EXPECT_AUTH(p, "test", ME, l.text, "127.0.0.1", PAM_AUTH_ERR,
		    "5 allow local: 127.0.0.1 is remote");

	MINT(&ld, p->conf, "--name", "local-or-10", "--user", ME,
	     "--allow-from", "local", "--allow-from", "10.0.0.0/8");
	EXPECT_AUTH(p, "test", ME, ld.text, NULL, PAM_SUCCESS,
		    "5 allow local+10/8: no PAM_RHOST");
	EXPECT_AUTH(p, "test", ME, ld.text, "10.9.9.9", PAM_SUCCESS,
		    "5 allow local+10/8: 10.9.9.9");
	EXPECT_AUTH(p, "test", ME, ld.text, "192.0.2.1", PAM_AUTH_ERR,
		    "5 allow local+10/8: 192.0.2.1");

	MINT(&d, p->conf, "--name", "deny", "--user", ME, "--deny-from",
	     "10.66.0.0/16", "--deny-from", "2001:db8:66::/48");
	EXPECT_AUTH(p, "test", ME, d.text, "10.66.1.1", PAM_AUTH_ERR,
		    "5 deny 10.66/16: 10.66.1.1");
	EXPECT_AUTH(p, "test", ME, d.text, "::ffff:10.66.1.1", PAM_AUTH_ERR,
		    "5 deny 10.66/16: ::ffff:10.66.1.1");
	EXPECT_AUTH(p, "test", ME, d.text, "10.67.1.1", PAM_SUCCESS,
		    "5 deny 10.66/16 only: 10.67.1.1");
	/* No PAM_RHOST is admitted only by an explicit "local" (a remote
	 * service that forgot PAM_RHOST must not slip past address rules). */
	EXPECT_AUTH(p, "test", ME, d.text, NULL, PAM_AUTH_ERR,
		    "5 deny rules only: no PAM_RHOST refused (fail closed)");
	EXPECT_AUTH(p, "test", ME, d.text, "2001:db8:66::5", PAM_AUTH_ERR,
		    "5 deny 2001:db8:66::/48: 2001:db8:66::5");
	EXPECT_AUTH(p, "test", ME, d.text, "2001:db8:67::5", PAM_SUCCESS,
		    "5 deny 2001:db8:66::/48: 2001:db8:67::5");
	EXPECT_AUTH(p, "test", ME, d.text, "example.com", PAM_AUTH_ERR,
		    "5 deny rules: a hostname is refused (fail closed)");

	MINT(&six, p->conf, "--name", "v6", "--user", ME, "--allow-from",
	     "2001:db8::/32");
	EXPECT_AUTH(p, "test", ME, six.text, "2001:db8::1", PAM_SUCCESS,
		    "5 allow 2001:db8::/32: 2001:db8::1");
	EXPECT_AUTH(p, "test", ME, six.text, "2001:DB8:ffff::abcd", PAM_SUCCESS,
		    "5 allow 2001:db8::/32: 2001:DB8:ffff::abcd");
	EXPECT_AUTH(p, "test", ME, six.text, "2001:db9::1", PAM_AUTH_ERR,
		    "5 allow 2001:db8::/32: 2001:db9::1");
	EXPECT_AUTH(p, "test", ME, six.text, "10.1.2.3", PAM_AUTH_ERR,
		    "5 allow 2001:db8::/32: 10.1.2.3");

	/* No rules anywhere: anything goes, even a hostname. */
	MINT(&none, p->conf, "--name", "norules", "--user", ME);
	EXPECT_AUTH(p, "test", ME, none.text, "example.com", PAM_SUCCESS,
		    "5 no rules: hostname rhost accepted");

	/* Global rules in the config: both must pass. */
	profile g;
	profile_std(&g, s, "global-hosts",
		    "allow_from = 10.0.0.0/8, 2001:db8::/32 local\n"
		    "deny_from = 10.99.0.0/16", NULL);
	EXPECT_AUTH(&g, "test", ME, none.text, "10.1.1.1", PAM_SUCCESS,
		    "5 global allow 10/8: 10.1.1.1");
	EXPECT_AUTH(&g, "test", ME, none.text, "192.0.2.1", PAM_AUTH_ERR,
		    "5 global allow 10/8: 192.0.2.1");
	EXPECT_AUTH(&g, "test", ME, none.text, NULL, PAM_SUCCESS,
		    "5 global allow local: no PAM_RHOST");
	EXPECT_AUTH(&g, "test", ME, none.text, "10.99.1.1", PAM_AUTH_ERR,
		    "5 global deny 10.99/16: 10.99.1.1");
	EXPECT_AUTH(&g, "test", ME, none.text, "example.com", PAM_AUTH_ERR,
		    "5 global rules: hostname refused");
	EXPECT_AUTH(&g, "test", ME, d.text, "10.66.1.1", PAM_AUTH_ERR,
		    "5 global allows 10.66.1.1 but the token denies it");
	EXPECT_AUTH(&g, "test", ME, d.text, "10.67.1.1", PAM_SUCCESS,
		    "5 global allows 10.67.1.1 and the token does not deny it");
	EXPECT_AUTH(&g, "test", ME, a.text, "10.99.1.1", PAM_AUTH_ERR,
		    "5 token allows 10.99.1.1 but the global rules deny it");
	profile dl;
	profile_std(&dl, s, "global-deny-local", "deny_from = local", NULL);
	EXPECT_AUTH(&dl, "test", ME, none.text, NULL, PAM_AUTH_ERR,
		    "5 global deny_from = local: no PAM_RHOST refused");
	EXPECT_AUTH(&dl, "test", ME, none.text, "10.1.1.1", PAM_SUCCESS,
		    "5 global deny_from = local: 10.1.1.1 allowed");
	token c;
	MINT(&c, p->conf, "--name", "net192", "--user", ME, "--allow-from",
	     "192.0.2.0/24");
	EXPECT_AUTH(p, "test", ME, c.text, "192.0.2.1", PAM_SUCCESS,
		    "5 token allows 192.0.2.0/24 (no global rules)");
	EXPECT_AUTH(&g, "test", ME, c.text, "192.0.2.1", PAM_AUTH_ERR,
		    "5 token allows 192.0.2.1 but the global allow list does "
		    "not");
	EXPECT_AUTH(&g, "test", ME, c.text, "10.1.1.1", PAM_AUTH_ERR,
		    "5 global allows 10.1.1.1 but the token's allow list does "
		    "not");
}

/* ------------------------------------------------------------------ */
/* 6. Service rules                                                     */

static void test_services(const site *s, const profile *p)
{
	token web, plain, sudo;
	/* Every entry of the default deny_services (core/config.h). */
	static const char *const denied[] = { "sudo", "su", "su-l", "sudo-i",
		"polkit-1", "passwd", "chfn", "chsh", "doas", "systemd-run0",
		NULL };

	MINT(&web, p->conf, "--name", "web", "--user", ME, "--service", "web");
	EXPECT_AUTH(p, "web", ME, web.text, NULL, PAM_SUCCESS,
		    "6 --service web: service web");
	EXPECT_AUTH(p, "other", ME, web.text, NULL, PAM_AUTH_ERR,
		    "6 --service web: service other");
	EXPECT_AUTH(p, "sudo", ME, web.text, NULL, PAM_AUTH_ERR,
		    "6 --service web: service sudo");

	MINT(&plain, p->conf, "--name", "any-service", "--user", ME);
	EXPECT_AUTH(p, "other", ME, plain.text, NULL, PAM_SUCCESS,
		    "6 no --service: service other");
	for (int i = 0; denied[i]; i++)
		EXPECT_AUTH(p, denied[i], ME, plain.text, NULL, PAM_AUTH_ERR,
			    "6 default deny_services: %s refused for a token "
			    "without --service", denied[i]);
	/* ... and each opens only to a token that names it, on purpose. */
	for (int i = 0; denied[i]; i++) {
		token named;
		MINT(&named, p->conf, "--name", denied[i], "--user", ME,
		     "--service", denied[i]);
		EXPECT_AUTH(p, denied[i], ME, named.text, NULL, PAM_SUCCESS,
			    "6 --service %s: accepted on %s", denied[i],
			    denied[i]);
	}

	MINT(&sudo, p->conf, "--name", "sudo", "--user", ME, "--service",
	     "sudo", "--service", "web");
	EXPECT_AUTH(p, "sudo", ME, sudo.text, NULL, PAM_SUCCESS,
		    "6 --service sudo: sudo accepted");
	EXPECT_AUTH(p, "web", ME, sudo.text, NULL, PAM_SUCCESS,
		    "6 --service sudo --service web: web accepted");
	EXPECT_AUTH(p, "su", ME, sudo.text, NULL, PAM_AUTH_ERR,
		    "6 --service sudo: su still refused");
	EXPECT_AUTH(p, "other", ME, sudo.text, NULL, PAM_AUTH_ERR,
		    "6 --service sudo: other refused");

	profile open;
	profile_std(&open, s, "no-deny-services", "deny_services =", NULL);
	EXPECT_AUTH(&open, "sudo", ME, plain.text, NULL, PAM_SUCCESS,
		    "6 deny_services = (empty): sudo accepted");
	EXPECT_AUTH(&open, "other", ME, web.text, NULL, PAM_AUTH_ERR,
		    "6 deny_services = (empty): token's own list still applies");

	profile custom;
	profile_std(&custom, s, "custom-deny-services",
		    "deny_services = web, other", NULL);
	EXPECT_AUTH(&custom, "other", ME, plain.text, NULL, PAM_AUTH_ERR,
		    "6 deny_services = web, other: other refused");
	EXPECT_AUTH(&custom, "sudo", ME, plain.text, NULL, PAM_SUCCESS,
		    "6 deny_services = web, other: sudo no longer in the list");
	EXPECT_AUTH(&custom, "web", ME, web.text, NULL, PAM_SUCCESS,
		    "6 deny_services = web, other: a token naming web may");
}

/* ------------------------------------------------------------------ */
/* 7. Store and key trouble                                             */

static void test_faults(void)
{
	site s;
	profile p;
	token t;
	char moved[PATH_MAX + 16];
	size_t dblen, keylen;

	site_new(&s, "faults");
	profile_std(&p, &s, "faults", NULL, NULL);
	site_init(&s, &p, false);
	MINT(&t, p.conf, "--name", "faults", "--user", ME);

#define OK_AGAIN(what) \
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS, "7 %s undone: works again", what)
#define UNAVAIL(what) \
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_AUTHINFO_UNAVAIL, "7 %s", what)

	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS, "7 baseline");

	snprintf(moved, sizeof(moved), "%s.moved", s.db);
	rename(s.db, moved);
	UNAVAIL("store missing");
	EXPECT_AUTH(&p, "test", ME, "plain password", NULL, PAM_IGNORE,
		    "7 store missing: a plain password is still PAM_IGNORE");
	rename(moved, s.db);
	OK_AGAIN("store missing");

	snprintf(moved, sizeof(moved), "%s.moved", s.key);
	rename(s.key, moved);
	UNAVAIL("key missing");
	EXPECT_AUTH(&p, "test", ME, "plain password", NULL, PAM_IGNORE,
		    "7 key missing: a plain password is still PAM_IGNORE");
	rename(moved, s.key);
	OK_AGAIN("key missing");

	chmod(s.key, 0604);
	UNAVAIL("key readable by others (0604)");
	chmod(s.key, 0620);
	UNAVAIL("key writable by group (0620)");
	chmod(s.key, 0640);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "7 key 0640 (group read is how services are admitted)");
	chmod(s.key, 0600);
	if (!IS_ROOT) {
		chmod(s.key, 0000);
		UNAVAIL("key unreadable (0000, not root)");
		chmod(s.key, 0600);
		OK_AGAIN("key 0000");
	} else {
		skip("7 key mode 0000 (root reads it anyway)");
	}

	chmod(s.db, 0620);
	UNAVAIL("store writable by group (0620)");
	chmod(s.db, 0602);
	UNAVAIL("store writable by others (0602)");
	chmod(s.db, 0644);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "7 store 0644 (readable is fine)");
	chmod(s.db, 0600);
	OK_AGAIN("store modes");

	/* Symlinks. */
	snprintf(moved, sizeof(moved), "%s.real", s.db);
	rename(s.db, moved);
	if (symlink(moved, s.db) != 0)
		die("symlink: %s", strerror(errno));
	UNAVAIL("store is a symlink");
	unlink(s.db);
	rename(moved, s.db);
	OK_AGAIN("store symlink");

	snprintf(moved, sizeof(moved), "%s.real", s.key);
	rename(s.key, moved);
	if (symlink(moved, s.key) != 0)
		die("symlink: %s", strerror(errno));
	UNAVAIL("key is a symlink");
	unlink(s.key);
	rename(moved, s.key);
	OK_AGAIN("key symlink");

	/* Not a regular file. */
	snprintf(moved, sizeof(moved), "%s.real", s.db);
	rename(s.db, moved);
	mkdir(s.db, 0700);
	UNAVAIL("store is a directory");
	rmdir(s.db);
	if (mkfifo(s.db, 0600) == 0) {
		UNAVAIL("store is a FIFO (must not hang)");
		unlink(s.db);
	}
	rename(moved, s.db);
	OK_AGAIN("store not a regular file");

	/* Corrupt store: garbage of the same size, same inode and mode. */
	uint8_t *db = slurp(s.db, &dblen);
	uint8_t *junk = malloc(dblen);
	if (!junk || getrandom(junk, dblen, 0) != (ssize_t)dblen)
		die("getrandom");
	rewrite_in_place(s.db, junk, dblen);
	UNAVAIL("store overwritten with random bytes");
	rewrite_in_place(s.db, "", 0);
	UNAVAIL("store truncated to 0 bytes");
	rewrite_in_place(s.db, db, dblen);
	OK_AGAIN("corrupt store");
	free(junk);
	free(db);

	/* Corrupt or replaced key, written in place right after a success
	 * (a cache keyed on size or whole-second mtimes would miss it). */
	uint8_t *key = slurp(s.key, &keylen);
	uint8_t *other = malloc(keylen);
	if (!other || getrandom(other, keylen, 0) != (ssize_t)keylen)
		die("getrandom");
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "7 key about to be replaced: works");
	rewrite_in_place(s.key, other, keylen);
	UNAVAIL("key replaced in place by another key of the same size");
	rewrite_in_place(s.key, key, keylen);
	OK_AGAIN("key replaced");
	rewrite_in_place(s.key, key, keylen > 5 ? 5 : keylen);
	UNAVAIL("key truncated to 5 bytes");
	rewrite_in_place(s.key, "", 0);
	UNAVAIL("key empty");
	rewrite_in_place(s.key, key, keylen);
	OK_AGAIN("key truncated");
	free(other);
	free(key);

	/* Owned by someone else (only root can give a file away). */
	if (IS_ROOT) {
		struct passwd *pw = getpwnam(OTHER);
		if (pw && chown(s.db, pw->pw_uid, (gid_t)-1) == 0) {
			UNAVAIL("store owned by another user");
			if (chown(s.db, 0, (gid_t)-1) != 0)
				perror("chown");
			OK_AGAIN("store owner");
		}
		if (pw && chown(s.key, pw->pw_uid, (gid_t)-1) == 0) {
			UNAVAIL("key owned by another user");
			if (chown(s.key, 0, (gid_t)-1) != 0)
				perror("chown");
			OK_AGAIN("key owner");
		}
	} else {
		skip("7 store/key owned by another user (needs root)");
	}

	/* 9. The account check of a session whose store went away. */
	sess ss;
	sess_open(&ss, p.alone, "test", ME, t.text, NULL);
	int a = sess_auth(&ss, 0);
	snprintf(moved, sizeof(moved), "%s.moved", s.db);
	rename(s.db, moved);
	int b = sess_acct(&ss, 0);
	rename(moved, s.db);
	sess_close(&ss, b);
	expect_code(a, PAM_SUCCESS, "9 auth before the store vanished");
	expect_code(b, PAM_AUTHINFO_UNAVAIL,
		    "9 pam_acct_mgmt with the store gone");
#undef OK_AGAIN
#undef UNAVAIL
}

/* ------------------------------------------------------------------ */
/* 7. Tampered records                                                  */

/* Apply f to the stored value of id (in place, through GDBM). */
typedef void (*value_fn)(uint8_t *val, size_t *len);

static void tamper(const char *db, const char *id, value_fn f)
{
	GDBM_FILE g = gdbm_open(db, 0, GDBM_WRITER | GDBM_NOMMAP, 0, NULL);
	if (!g)
		die("gdbm_open %s: %s", db, gdbm_strerror(gdbm_errno));
	datum k = { (char *)id, (int)strlen(id) };
	datum v = gdbm_fetch(g, k);
	if (!v.dptr)
		die("gdbm_fetch %s: not found", id);
	uint8_t buf[8192];
	size_t len = (size_t)v.dsize;
	if (len > sizeof(buf) - 64)
		die("record too big");
	memcpy(buf, v.dptr, len);
	free(v.dptr);
	f(buf, &len);
	datum nv = { (char *)buf, (int)len };
	if (gdbm_store(g, k, nv, GDBM_REPLACE) != 0)
		die("gdbm_store: %s", gdbm_strerror(gdbm_errno));
	gdbm_close(g);
}

static void swap_values(const char *db, const char *id1, const char *id2)
{
	GDBM_FILE g = gdbm_open(db, 0, GDBM_WRITER | GDBM_NOMMAP, 0, NULL);
	if (!g)
		die("gdbm_open %s: %s", db, gdbm_strerror(gdbm_errno));
	datum k1 = { (char *)id1, (int)strlen(id1) };
	datum k2 = { (char *)id2, (int)strlen(id2) };
	datum v1 = gdbm_fetch(g, k1), v2 = gdbm_fetch(g, k2);
	if (!v1.dptr || !v2.dptr)
		die("gdbm_fetch for swap");
	if (gdbm_store(g, k1, v2, GDBM_REPLACE) != 0 ||
	    gdbm_store(g, k2, v1, GDBM_REPLACE) != 0)
		die("gdbm_store for swap");
	free(v1.dptr);
	free(v2.dptr);
	gdbm_close(g);
}

/* Offsets from core/record.c's documented layout (a test may know it; if
 * the layout changes these still flip *some* bit and must be refused). */
static void flip_flags(uint8_t *v, size_t *len)
{
	if (*len > 8)
		v[8] ^= 0x01; /* the "revoked" bit */
}

static void clear_expiry(uint8_t *v, size_t *len)
{
	if (*len > 32)
		memset(v + 24, 0, 8); /* expires = 0: never */
}

static void flip_middle(uint8_t *v, size_t *len)
{
	v[*len / 2] ^= 0x10;
}

static void flip_last(uint8_t *v, size_t *len)
{
	v[*len - 1] ^= 0x80;
}

static void drop_last(uint8_t *v, size_t *len)
{
	(void)v;
	(*len)--;
}

static void append_byte(uint8_t *v, size_t *len)
{
	v[(*len)++] = 0;
}

static void test_tamper(void)
{
	site s;
	profile p;
	token t, r, a, b;

	site_new(&s, "tamper");
	profile_std(&p, &s, "tamper", NULL, NULL);
	site_init(&s, &p, false);
	MINT(&t, p.conf, "--name", "victim", "--user", ME);
	MINT(&r, p.conf, "--name", "revoked", "--user", ME);
	MINT(&a, p.conf, "--name", "a", "--user", ME);
	MINT(&b, p.conf, "--name", "b", "--user", OTHER);
	ADMIN(p.conf, "revoke", r.id);

	EXPECT_AUTH(&p, "test", ME, r.text, NULL, PAM_AUTH_ERR,
		    "7 tamper baseline: revoked token refused");
	tamper(s.db, r.id, flip_flags);
	EXPECT_AUTH(&p, "test", ME, r.text, NULL, PAM_AUTHINFO_UNAVAIL,
		    "7 tampered record: revoked bit cleared");

	if (FAKETIME) {
		token e;
		MINT_FT(&e, p.conf, "-2d", "--name", "expired", "--user", ME,
			"--expires", "1d");
		EXPECT_AUTH(&p, "test", ME, e.text, NULL, PAM_AUTH_ERR,
			    "7 tamper baseline: expired token refused");
		tamper(s.db, e.id, clear_expiry);
		EXPECT_AUTH(&p, "test", ME, e.text, NULL, PAM_AUTHINFO_UNAVAIL,
			    "7 tampered record: expiry set to never");
	} else {
		skip("7 tampered expiry (no faketime)");
	}

	/* The rest on copies of a good record, one change each. */
	static const struct {
		const char *what;
		value_fn f;
	} changes[] = {
		{ "one bit flipped in the middle", flip_middle },
		{ "one bit flipped in the MAC", flip_last },
		{ "last byte cut off", drop_last },
		{ "one byte appended", append_byte },
	};
	char saved[PATH_MAX + 16];
	snprintf(saved, sizeof(saved), "%s.saved", s.db);
	copy_file(s.db, saved);
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		tamper(s.db, t.id, changes[i].f);
		EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_AUTHINFO_UNAVAIL,
			    "7 tampered record: %s", changes[i].what);
		copy_file(saved, s.db);
		EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS,
			    "7 record restored after: %s", changes[i].what);
	}

	/* Swap two records: each id now holds the other's (valid) record. */
	EXPECT_AUTH(&p, "test", OTHER, b.text, NULL, PAM_SUCCESS,
		    "7 swap baseline: %s's token", OTHER);
	swap_values(s.db, a.id, b.id);
	EXPECT_AUTH(&p, "test", ME, a.text, NULL, PAM_AUTHINFO_UNAVAIL,
		    "7 records swapped between ids: token a");
	EXPECT_AUTH(&p, "test", OTHER, b.text, NULL, PAM_AUTHINFO_UNAVAIL,
		    "7 records swapped between ids: token b");
	EXPECT_AUTH(&p, "test", OTHER, a.text, NULL, PAM_AUTHINFO_UNAVAIL,
		    "7 records swapped: token a presented as %s", OTHER);
	copy_file(saved, s.db);
	EXPECT_AUTH(&p, "test", ME, a.text, NULL, PAM_SUCCESS,
		    "7 swap undone: token a works again");
	unlink(saved);
}

/* ------------------------------------------------------------------ */
/* 8. Invalid configuration                                             */

static void test_bad_config(const site *s, const profile *good)
{
	token t;
	profile p;
	char text[8192], args[2 * PATH_MAX];

	MINT(&t, good->conf, "--name", "badconf", "--user", ME);
	EXPECT_AUTH(good, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "8 baseline with the good config");

	static const struct {
		const char *name, *extra;
	} bad[] = {
		{ "unknown key", "frobnicate = yes" },
		{ "bad value (allow_from 10.0.0.0/33)", "allow_from = 10.0.0.0/33" },
		{ "bad value (max_tokens_per_user = ten)", "max_tokens_per_user = ten" },
		{ "bad value (prefix with _)", "prefix = a_b" },
		{ "bad value (deny_services with /)", "deny_services = su/do" },
		{ "duplicate key", "admin_group = root" },
		{ "line without =", "allow_from" },
		{ "bad max_lifetime", "[group x]\nmax_lifetime = forever" },
		{ "unknown section", "[users]" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[32];
		snprintf(name, sizeof(name), "bad%zu", i);
		base_conf(s, text, sizeof(text), bad[i].extra);
		profile_conf(&p, s, name, text, NULL);
		EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SERVICE_ERR,
			    "8 config with %s", bad[i].name);
		EXPECT_AUTH(&p, "test", ME, "plain password", NULL,
			    PAM_SERVICE_ERR,
			    "8 config with %s, plain password", bad[i].name);
	}

	/* A config others may write would let them widen the rules. */
	base_conf(s, text, sizeof(text), NULL);
	profile_conf(&p, s, "gw", text, NULL);
	chmod(p.conf, 0664);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SERVICE_ERR,
		    "8 config writable by group (0664)");
	chmod(p.conf, 0644);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "8 same config at 0644 works");

	/* conf= that does not name a usable file. */
	snprintf(args, sizeof(args), "conf=%s/no-such.conf", s->dir);
	profile_args(&p, s, "missing-conf", args);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SERVICE_ERR,
		    "8 conf= names a missing file");
	profile_args(&p, s, "relative-conf", "conf=tests/pam_apitoken.conf");
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SERVICE_ERR,
		    "8 conf= relative path");
	profile_args(&p, s, "empty-conf", "conf=");
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SERVICE_ERR,
		    "8 conf= empty");
	snprintf(args, sizeof(args), "conf=%s db=store/tokens.db", good->conf);
	profile_args(&p, s, "relative-db", args);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SERVICE_ERR,
		    "8 db= relative path");
	snprintf(args, sizeof(args), "conf=%s", s->dir);
	profile_args(&p, s, "dir-conf", args);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SERVICE_ERR,
		    "8 conf= names a directory");

	/* db= overrides the config's store (positive case). */
	PATHF(text, "db = %s/elsewhere.db\nkey = %s\n", s->dir, s->key);
	snprintf(args, sizeof(args), "db=%s", s->db);
	profile_conf(&p, s, "db-override", text, args);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "10 db= overrides the config's db");
	profile_conf(&p, s, "db-nooverride", text, NULL);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_AUTHINFO_UNAVAIL,
		    "10 the same config without db= has no store");
}

/* ------------------------------------------------------------------ */
/* 9. Account management                                                */

typedef struct acct_call {
	sess *s;
	int rc;
} acct_call;

static void *acct_thread(void *arg)
{
	acct_call *c = arg;
	c->rc = sess_acct(c->s, 0);
	return NULL;
}

/* pam_acct_mgmt on another thread than pam_authenticate ran on, as a
 * threaded host may do: what authentication verified rides on the handle. */
static int acct_elsewhere(sess *s)
{
	acct_call c = { s, -1 };
	pthread_t th;

	if (pthread_create(&th, NULL, acct_thread, &c) != 0)
		die("pthread_create");
	pthread_join(th, NULL);
	return c.rc;
}

static void test_acct(const profile *p)
{
	token t, d;
	sess s;
	int a, b;

	MINT(&t, p->conf, "--name", "acct", "--user", ME);
	sess_open(&s, p->alone, "test", ME, t.text, NULL);
	a = sess_auth(&s, 0);
	b = sess_acct(&s, 0);
	expect_code(a, PAM_SUCCESS, "9 auth");
	expect_code(b, PAM_SUCCESS, "9 acct before revocation");
	ADMIN(p->conf, "revoke", t.id);
	b = sess_acct(&s, 0);
	sess_close(&s, b);
	expect_code(b, PAM_ACCT_EXPIRED, "9 acct on the same handle after revoke");

	token x;
	MINT(&x, p->conf, "--name", "acct-thread", "--user", ME);
	sess_open(&s, p->alone, "test", ME, x.text, NULL);
	a = sess_auth(&s, 0);
	b = acct_elsewhere(&s);
	expect_code(a, PAM_SUCCESS, "9 auth, then acct on another thread");
	expect_code(b, PAM_SUCCESS, "9 acct on another thread than auth");
	ADMIN(p->conf, "revoke", x.id);
	b = acct_elsewhere(&s);
	sess_close(&s, b);
	expect_code(b, PAM_ACCT_EXPIRED,
		    "9 acct on another thread after revoke");

	MINT(&d, p->conf, "--name", "acct-disable", "--user", ME);
	sess_open(&s, p->alone, "test", ME, d.text, NULL);
	a = sess_auth(&s, 0);
	ADMIN(p->conf, "disable", d.id);
	b = sess_acct(&s, 0);
	sess_close(&s, b);
	expect_code(a, PAM_SUCCESS, "9 auth (to be disabled)");
	expect_code(b, PAM_ACCT_EXPIRED, "9 acct after disable");
	ADMIN(p->conf, "enable", d.id);

	/* No token authentication on this handle: PAM_IGNORE. */
	sess_open(&s, p->alone, "test", ME, "x", NULL);
	b = sess_acct(&s, 0);
	sess_close(&s, b);
	expect_code(b, PAM_PERM_DENIED,
		    "9 acct alone without auth (stack of only PAM_IGNORE)");
	sess_open(&s, p->probe, "test", ME, "x", NULL);
	b = sess_acct(&s, 0);
	sess_close(&s, b);
	expect_code(b, PAM_SUCCESS,
		    "9 acct without auth, then pam_permit: module said "
		    "PAM_IGNORE");

	/* After a plain-password login. */
	auth_acct(p, "test", ME, "not a token", NULL, &a, &b);
	expect_code(a, PAM_IGNORE, "9 plain password auth");
	expect_code(b, PAM_IGNORE, "9 acct after a plain-password auth");

	/* A failed attempt after a success on the same handle: the account
	 * check must not see the earlier success. (An application cannot
	 * change PAM_AUTHTOK, so the second attempt fails on the host.) */
	token g;
	MINT(&g, p->conf, "--name", "acct-reauth", "--user", ME, "--allow-from",
	     "10.0.0.0/8");
	sess_open(&s, p->probe, "test", ME, g.text, "10.1.1.1");
	a = sess_auth(&s, 0);
	pam_set_item(s.h, PAM_RHOST, "11.0.0.1");
	int a2 = sess_auth(&s, 0);
	b = sess_acct(&s, 0);
	sess_close(&s, b);
	expect_code(a, PAM_SUCCESS, "9 first auth on a handle");
	expect_code(a2, PAM_AUTH_ERR, "9 second auth, now from a refused host");
	expect_code(b, PAM_SUCCESS,
		    "9 acct after the failed second auth, then pam_permit: the "
		    "module said PAM_IGNORE (the first success did not outlive "
		    "the second attempt)");

	/* acct after a refused token: nothing to re-check. */
	char buf[256], secret[40];
	random_b62(secret, 32);
	craft(buf, sizeof(buf), "ptk", g.id, secret);
	auth_acct(p, "test", ME, buf, NULL, &a, &b);
	expect_code(a, PAM_AUTH_ERR, "9 wrong secret auth");
	expect_code(b, PAM_IGNORE, "9 acct after a refused token");
}

/* ------------------------------------------------------------------ */
/* 10. Options                                                          */

static void test_options(const site *s, const profile *p)
{
	token t;
	profile q;
	char args[2 * PATH_MAX], text[4 * PATH_MAX];
	sess ss;
	int rc;

	MINT(&t, p->conf, "--name", "options", "--user", ME);

	snprintf(args, sizeof(args), "conf=%s debug", p->conf);
	profile_args(&q, s, "opt-debug", args);
	EXPECT_AUTH(&q, "test", ME, t.text, NULL, PAM_SUCCESS, "10 debug: token");
	EXPECT_AUTH(&q, "test", ME, "password", NULL, PAM_IGNORE,
		    "10 debug: plain password");

	snprintf(args, sizeof(args), "frobnicate conf=%s nonsense=1", p->conf);
	profile_args(&q, s, "opt-unknown", args);
	EXPECT_AUTH(&q, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "10 unknown options ignored: token works");
	EXPECT_AUTH(&q, "test", ME, "password", NULL, PAM_IGNORE,
		    "10 unknown options ignored: plain password");

	snprintf(args, sizeof(args), "conf=%s warn=bogus", p->conf);
	profile_args(&q, s, "opt-badwarn", args);
	EXPECT_AUTH(&q, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "10 warn=bogus: logged, token still works");

	/* use_first_pass / try_first_pass / use_authtok: an earlier module
	 * (this one, under a config with another prefix, so it says
	 * PAM_IGNORE) prompts and sets PAM_AUTHTOK; PAM_AUTHTOK cannot be
	 * set by an application. */
	profile acme;
	char acmeconf[8192];
	base_conf(s, acmeconf, sizeof(acmeconf), "prefix = acme");
	profile_conf(&acme, s, "opt-acme", acmeconf, NULL);
	static const char *const passopts[] = { "use_first_pass",
		"try_first_pass", "use_authtok" };
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "pre-%s", passopts[i]);
		snprintf(text, sizeof(text),
			 "auth optional %s %s\n"
			 "auth required %s %s %s\n",
			 MOD, acme.args, MOD, p->args, passopts[i]);
		write_service(p->stacks, name, text);
		sess_open(&ss, p->stacks, name, ME, t.text, NULL);
		rc = sess_auth(&ss, 0);
		expect_code(rc, PAM_SUCCESS,
			    "10 %s: token from an earlier module's prompt",
			    passopts[i]);
		check(ss.cs.prompts == 1,
		      "10 %s: one prompt for the whole stack (got %d)",
		      passopts[i], ss.cs.prompts);
		sess_close(&ss, rc);

		snprintf(name, sizeof(name), "alone-%s", passopts[i]);
		snprintf(text, sizeof(text), "auth required %s %s %s\n", MOD,
			 p->args, passopts[i]);
		write_service(p->stacks, name, text);
		sess_open(&ss, p->stacks, name, ME, t.text, NULL);
		rc = sess_auth(&ss, 0);
		if (i == 0) {
			check(rc != PAM_SUCCESS && ss.cs.prompts == 0,
			      "10 use_first_pass with no earlier password: no "
			      "prompt, not accepted (%s, %d prompts)",
			      code_name(rc), ss.cs.prompts);
		} else {
			check(rc == PAM_SUCCESS && ss.cs.prompts == 1,
			      "10 %s with no earlier password: prompts once "
			      "and accepts (%s, %d prompts)", passopts[i],
			      code_name(rc), ss.cs.prompts);
		}
		sess_close(&ss, rc);
	}

	/* An application cannot normally preset PAM_AUTHTOK (libpam keeps
	 * it for modules); if this libpam allows it, use_first_pass must
	 * take it without a prompt. */
	sess_open(&ss, p->stacks, "alone-use_first_pass", ME, "unused", NULL);
	rc = pam_set_item(ss.h, PAM_AUTHTOK, t.text);
	if (rc == PAM_SUCCESS) {
		int a = sess_auth(&ss, 0);
		check(a == PAM_SUCCESS && ss.cs.prompts == 0,
		      "10 use_first_pass with PAM_AUTHTOK set by the "
		      "application: accepted without a prompt (%s, %d prompts)",
		      code_name(a), ss.cs.prompts);
	} else {
		printf("# note: libpam refuses pam_set_item(PAM_AUTHTOK) from "
		       "an application (%s); use_first_pass was tested with an "
		       "earlier module setting it\n", code_name(rc));
	}
	sess_close(&ss, PAM_SUCCESS);

	/* A conversation that fails: passed through, never success. */
	sess_open(&ss, p->alone, "test", ME, t.text, NULL);
	ss.cs.fail = true;
	rc = sess_auth(&ss, 0);
	sess_close(&ss, rc);
	check(rc != PAM_SUCCESS && rc != PAM_PERM_DENIED,
	      "10 conversation failure: an error, not success or ignore (%s)",
	      code_name(rc));
}

/* ------------------------------------------------------------------ */
/* 11. warn=DURATION                                                    */

static void test_warn(const site *s, const profile *p)
{
	token soon, later, never;
	profile w;
	char args[2 * PATH_MAX];
	sess ss;
	int a, b;

	MINT(&soon, p->conf, "--name", "soon", "--user", ME, "--expires", "3d");
	MINT(&later, p->conf, "--name", "later", "--user", ME, "--expires", "30d");
	MINT(&never, p->conf, "--name", "never", "--user", ME, "--expires",
	     "never");
	snprintf(args, sizeof(args), "conf=%s warn=7d", p->conf);
	profile_args(&w, s, "warn", args);

	sess_open(&ss, w.alone, "test", ME, soon.text, NULL);
	a = sess_auth(&ss, 0);
	int msgs_after_auth = ss.cs.messages;
	b = sess_acct(&ss, 0);
	expect_code(a, PAM_SUCCESS, "11 warn=7d, token expires in 3d: auth");
	expect_code(b, PAM_SUCCESS, "11 warn=7d, token expires in 3d: acct");
	check(msgs_after_auth == 0, "11 no message during pam_authenticate");
	check(ss.cs.messages == 1 && strstr(ss.cs.last_msg, soon.id),
	      "11 acct sends one PAM_TEXT_INFO naming the token (got %d: \"%s\")",
	      ss.cs.messages, ss.cs.last_msg);
	check(strstr(ss.cs.last_msg, soon.text + 17) == NULL,
	      "11 the warning does not contain the secret");
	sess_close(&ss, b);

	sess_open(&ss, w.alone, "test", ME, soon.text, NULL);
	a = sess_auth(&ss, PAM_SILENT);
	b = sess_acct(&ss, PAM_SILENT);
	check(a == PAM_SUCCESS && b == PAM_SUCCESS && ss.cs.messages == 0,
	      "11 PAM_SILENT: no warning (auth %s, acct %s, %d messages)",
	      code_name(a), code_name(b), ss.cs.messages);
	sess_close(&ss, b);

	sess_open(&ss, w.alone, "test", ME, later.text, NULL);
	a = sess_auth(&ss, 0);
	b = sess_acct(&ss, 0);
	check(a == PAM_SUCCESS && b == PAM_SUCCESS && ss.cs.messages == 0,
	      "11 token expiring after the window: no warning (%d messages)",
	      ss.cs.messages);
	sess_close(&ss, b);

	sess_open(&ss, w.alone, "test", ME, never.text, NULL);
	a = sess_auth(&ss, 0);
	b = sess_acct(&ss, 0);
	check(a == PAM_SUCCESS && b == PAM_SUCCESS && ss.cs.messages == 0,
	      "11 token that never expires: no warning (%d messages)",
	      ss.cs.messages);
	sess_close(&ss, b);

	/* Without warn= there is never a message. */
	sess_open(&ss, p->alone, "test", ME, soon.text, NULL);
	a = sess_auth(&ss, 0);
	b = sess_acct(&ss, 0);
	check(a == PAM_SUCCESS && b == PAM_SUCCESS && ss.cs.messages == 0,
	      "11 no warn= option: no warning (%d messages)", ss.cs.messages);
	sess_close(&ss, b);
}

/* ------------------------------------------------------------------ */
/* 14. Last used                                                        */

/* The JSON object of id in tokenadm list --json output, copied to obj. */
static bool json_object_of(const char *json, const char *id, char *obj,
			   size_t objlen)
{
	char pat[64];

	snprintf(pat, sizeof(pat), "\"id\":\"%s\"", id);
	const char *at = strstr(json, pat);
	if (!at)
		return false;
	const char *start = at;
	while (start > json && *start != '{')
		start--;
	const char *end = strchr(at, '}');
	if (!end || (size_t)(end - start + 1) >= objlen)
		return false;
	memcpy(obj, start, (size_t)(end - start + 1));
	obj[end - start + 1] = '\0';
	return true;
}

static void test_lastused(const site *s, const profile *p)
{
	token t, l, n;
	static char json[1 << 17];
	char obj[4096];

	MINT(&t, p->conf, "--name", "lastused", "--user", ME);
	MINT(&l, p->conf, "--name", "lastused-local", "--user", ME);
	MINT(&n, p->conf, "--name", "never-used", "--user", ME);
	EXPECT_AUTH(p, "test", ME, t.text, "192.0.2.7", PAM_SUCCESS,
		    "14 auth from 192.0.2.7");
	/* Within the minute: not recorded again. */
	EXPECT_AUTH(p, "test", ME, t.text, "192.0.2.8", PAM_SUCCESS,
		    "14 auth again from 192.0.2.8");
	EXPECT_AUTH(p, "test", ME, l.text, NULL, PAM_SUCCESS,
		    "14 auth with no PAM_RHOST");

	int rc = TA(p->conf, NULL, json, sizeof(json), "list", "--json");
	if (!check(rc == 0, "14 tokenadm list --json")) {
		show_errlog();
		return;
	}
	if (check(json_object_of(json, t.id, obj, sizeof(obj)),
		  "14 list shows the token")) {
		check(strstr(obj, "\"last_used\":null") == NULL &&
			      strstr(obj, "\"last_used\":\"") != NULL,
		      "14 last_used is a time: %s", obj);
		check(strstr(obj, "\"last_rhost\":\"192.0.2.7\"") != NULL,
		      "14 last_rhost is 192.0.2.7 (and not re-recorded within "
		      "the minute)");
	}
	if (check(json_object_of(json, l.id, obj, sizeof(obj)),
		  "14 list shows the local token"))
		check(strstr(obj, "\"last_used\":\"") != NULL &&
			      strstr(obj, "\"last_rhost\":\"local\"") != NULL,
		      "14 no PAM_RHOST recorded as local: %s", obj);
	if (check(json_object_of(json, n.id, obj, sizeof(obj)),
		  "14 list shows the unused token"))
		check(strstr(obj, "\"last_used\":null") != NULL &&
			      strstr(obj, "\"last_rhost\":null") != NULL,
		      "14 never used: last_used and last_rhost null");

	/* Recording is best effort: a login never fails because of it. */
	char moved[PATH_MAX + 16];
	snprintf(moved, sizeof(moved), "%s.moved", s->lastused);
	rename(s->lastused, moved);
	write_file(s->lastused, 0600, "not a directory\n");
	token x;
	MINT(&x, p->conf, "--name", "lastused-broken", "--user", ME);
	EXPECT_AUTH(p, "test", ME, x.text, "192.0.2.9", PAM_SUCCESS,
		    "14 last-used folder is a file: login still works");
	unlink(s->lastused);
	EXPECT_AUTH(p, "test", ME, x.text, "192.0.2.9", PAM_SUCCESS,
		    "14 last-used folder missing: login still works");
	rename(moved, s->lastused);
	if (!IS_ROOT) {
		chmod(s->lastused, 0500);
		token y;
		MINT(&y, p->conf, "--name", "lastused-ro", "--user", ME);
		EXPECT_AUTH(p, "test", ME, y.text, "192.0.2.9", PAM_SUCCESS,
			    "14 last-used folder read-only: login still works");
		chmod(s->lastused, 0700);
	}
}

/* ------------------------------------------------------------------ */
/* 15. Threads and forks (the module serves threaded and forking       */
/* hosts), with tokenadm writing meanwhile                             */

typedef struct load {
	const profile *p;
	const char *good, *web, *bad;
	int iterations;
	int runs, mismatches;
	char first[300];
} load;

/* One login of each kind in turn; the codes are those of the "alone"
 * stacks (a plain password: every module ignored, PAM_PERM_DENIED). No
 * shared state: each login has its own handle and conversation. */
static void run_load(load *l)
{
	for (int i = 0; i < l->iterations; i++) {
		const char *service = "test", *pw;
		int want;
		switch (i % 4) {
		case 0: pw = l->good; want = PAM_SUCCESS; break;
		case 1: pw = l->web; service = "web"; want = PAM_SUCCESS; break;
		case 2: pw = l->bad; want = PAM_AUTH_ERR; break;
		default: pw = "just a password"; want = PAM_PERM_DENIED; break;
		}
		conv_state cs = { .password = pw };
		struct pam_conv conv = { conversation, &cs };
		pam_handle_t *h = NULL;
		int rc = pam_start_confdir(service, ME, &conv, l->p->alone, &h);
		if (rc == PAM_SUCCESS) {
			rc = pam_authenticate(h, PAM_SILENT);
			if (rc == PAM_SUCCESS) {
				int acct = pam_acct_mgmt(h, PAM_SILENT);
				if (acct != PAM_SUCCESS)
					rc = acct;
			}
			pam_end(h, rc);
		}
		l->runs++;
		if (rc != want || cs.messages) {
			if (!l->mismatches)
				snprintf(l->first, sizeof(l->first),
					 "login %d (%s): got %s, want %s, "
					 "%d messages", i, service,
					 code_name(rc), code_name(want),
					 cs.messages);
			l->mismatches++;
		}
	}
}

static void *load_thread(void *arg)
{
	run_load(arg);
	return NULL;
}

static void test_concurrency(const profile *p)
{
	token good, web, spare, tmp;
	char bad[256], secret[40];
	enum { THREADS = 4 };
	load loads[THREADS];
	pthread_t tid[THREADS];

	MINT(&good, p->conf, "--name", "load", "--user", ME);
	MINT(&web, p->conf, "--name", "load-web", "--user", ME, "--service",
	     "web");
	MINT(&spare, p->conf, "--name", "load-spare", "--user", ME);
	random_b62(secret, 32);
	craft(bad, sizeof(bad), "ptk", good.id, secret);

	for (int i = 0; i < THREADS; i++) {
		loads[i] = (load){ .p = p, .good = good.text, .web = web.text,
				   .bad = bad, .iterations = 80 };
		if (pthread_create(&tid[i], NULL, load_thread, &loads[i]) != 0)
			die("pthread_create");
	}
	/* Meanwhile the store is replaced again and again. */
	int writes = 0;
	for (int i = 0; i < 4; i++) {
		MINT(&tmp, p->conf, "--name", "load-churn", "--user", OTHER);
		ADMIN(p->conf, "revoke", tmp.id);
		writes += 2;
	}
	rotate(&tmp, p->conf, NULL, spare.id, "1h");
	writes++;
	int runs = 0, mismatches = 0;
	const char *first = "";
	for (int i = 0; i < THREADS; i++) {
		pthread_join(tid[i], NULL);
		runs += loads[i].runs;
		mismatches += loads[i].mismatches;
		if (loads[i].mismatches && !*first)
			first = loads[i].first;
	}
	check(mismatches == 0,
	      "15 %d threads, %d logins while tokenadm made %d changes: all "
	      "as expected%s%s", THREADS, runs, writes,
	      mismatches ? "; first wrong: " : "", first);

	/* A child forked after the module cached its handles, logging in at
	 * the same time as its parent. */
	load parent = { .p = p, .good = good.text, .web = web.text, .bad = bad,
			.iterations = 120 };
	load child = parent;
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		alarm(60);
		run_load(&child);
		if (child.mismatches)
			fprintf(stderr, "child: %s\n", child.first);
		_exit(child.mismatches > 100 ? 100 : child.mismatches);
	}
	run_load(&parent);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "15 forked child logs in correctly beside its parent (status "
	      "%d)", status);
	check(parent.mismatches == 0,
	      "15 parent logs in correctly beside a forked child%s%s",
	      parent.mismatches ? ": " : "", parent.first);
}

/* ------------------------------------------------------------------ */

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

int main(void)
{
	signal(SIGALRM, SIG_DFL);
	alarm(WATCHDOG_SECONDS);
	setvbuf(stdout, NULL, _IOLBF, 0);

	MOD = need_env("PAM_APITOKEN_SO");
	TOKENADM = need_env("TOKENADM");
	const char *ft = getenv("FAKETIME");
	static char ftbuf[PATH_MAX];
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

	site s;
	profile p;
	site_new(&s, "main");
	profile_std(&p, &s, "main", NULL, NULL);
	site_init(&s, &p, true);

	struct stat st;
	if (stat(s.key, &st) != 0)
		die("stat %s", s.key);
	check((st.st_mode & 077) == 0, "init: site key mode %04o",
	      (unsigned)(st.st_mode & 07777));
	if (stat(s.db, &st) != 0)
		die("stat %s", s.db);
	check((st.st_mode & 022) == 0, "init: store mode %04o",
	      (unsigned)(st.st_mode & 07777));

	time_t t0 = time(NULL);
	test_not_token(&s, &p);
	test_valid(&p);
	test_refusals(&p);
	test_groups(&s);
	test_rotation(&p);
	test_hosts(&s, &p);
	test_services(&s, &p);
	test_faults();
	test_tamper();
	test_bad_config(&s, &p);
	test_acct(&p);
	test_options(&s, &p);
	test_warn(&s, &p);
	test_lastused(&s, &p);
	test_concurrency(&p);

	check(n_auth_msg_failures == 0,
	      "13 no conversation message during any of %d pam_authenticate "
	      "calls", n_auth_calls);
	check(n_auth_prompt_failures == 0,
	      "13 at most one prompt in each of %d pam_authenticate calls",
	      n_auth_calls);

	if (n_fail == 0 && !getenv("TEST_MODULE_KEEP"))
		rm_rf(TOPDIR);
	else
		printf("# files kept in %s\n", TOPDIR);
	printf("summary: %d passed, %d failed, %d skipped in %lds\n", n_pass,
	       n_fail, n_skip, (long)(time(NULL) - t0));
	return n_fail ? 1 : 0;
}
