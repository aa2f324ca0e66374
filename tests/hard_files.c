/* hard_files: corrupt and hostile store, site key and config.
 *
 * For each of the three files, many cases: truncated (several lengths),
 * zero-length, bit-flipped, wrong magic, replaced by a symlink (to a valid
 * copy), a directory, a FIFO, a character device, a socket, owned by
 * another user (root only), group- or world-writable, the key world-
 * readable. Each case authenticates a VALID token through the real libpam
 * (pam_start_confdir) in a freshly forked child (a fresh module cache) with
 * a watchdog, and asserts:
 *   - never PAM_SUCCESS (unless the case is a documented control);
 *   - the exact class: store/key problems PAM_AUTHINFO_UNAVAIL, config
 *     problems PAM_SERVICE_ERR;
 *   - no crash, no hang (a FIFO must not block);
 *   - a clear log line: captured by interposing syslog(3) (hard_common.c),
 *     it must name the file (or say "integrity check" for a record whose
 *     MAC failed), and for a config syntax error name "file:line".
 *   - a revoked token and a host-restricted token never succeed, and a
 *     plain password still gets PAM_IGNORE (the next module's turn) unless
 *     the config itself is invalid.
 * GDBM returns flipped bits silently, so the store is attacked where it
 * hurts: bits flipped inside the token's own record (the MAC must refuse
 * it, PAM_AUTHINFO_UNAVAIL), records swapped between ids, resized, and
 * random flips in GDBM's header and anywhere else (the valid token may
 * succeed only if the flip missed its record). A store truncated after
 * the token's record may still serve that (intact, MAC-checked) record:
 * GDBM notices a short file only when a read reaches the cut; counted.
 * Config texts (cuts, flips, garbage) are judged by an oracle written
 * from pam_apitoken.conf(5), independent of the product's parser.
 *
 * In-place cases: a child keeps the module loaded (its process-wide cache
 * holds config, key and an open store handle), authenticates, has the
 * file changed under it in place (same inode: write, truncate, chmod,
 * chown) or replaced, authenticates again (must fail, right class), gets
 * the file restored, and must succeed again. */
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "build_config.h"
#include "hard_common.h"

/* The case tables below leave trailing fields to their zero defaults. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#define UNAVAIL PAM_AUTHINFO_UNAVAIL
#define SVCERR PAM_SERVICE_ERR
#define OK PAM_SUCCESS
#define REF PAM_AUTH_ERR
#define ANY_FAIL (-100) /* any result but PAM_SUCCESS */
#define CHILD_TIMEOUT 20

static hc_site site;
static char *top;
static char tok_valid[HC_TOKEN_MAX], id_valid[13];       /* valid, no rules */
static char tok_rev[HC_TOKEN_MAX], id_rev[13];   /* revoked */
static char tok_rule[HC_TOKEN_MAX], id_rule[13]; /* allow 10.0.0.0/8 */
static char *pristine_conf, *pristine_key, *pristine_db, *revoked_db,
	*other_key;
static size_t conf_len, key_len, db_len, revoked_db_len, other_key_len;
static size_t rec_off, rec_len; /* the valid token's record in the store */
static bool have_key_off;
static uid_t nobody_uid = (uid_t)-1;
static bool is_root;

static int n_cases;
static int per_file[3];
static int n_flip_success_outside, n_flip_refused, n_flip_unavail;
static int n_trunc_served, n_log_unnamed;
static const char *file_names[3] = { "store", "key", "config" };

enum { F_STORE, F_KEY, F_CONF };

static const char *file_path(int f)
{
	return f == F_STORE ? site.db : f == F_KEY ? site.key : site.conf;
}

/* ---- restoring and mutating files ---- */

static void remove_any(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return;
	if (S_ISDIR(st.st_mode))
		rmdir(path); /* the directories made here are empty */
	else
		unlink(path);
}

static void put_file(const char *path, const char *data, size_t len,
		     mode_t mode)
{
	char tmp[800];
	snprintf(tmp, sizeof(tmp), "%s.restore", path);
	unlink(tmp);
	hc_write_file(tmp, data, len, mode);
	remove_any(path);
	if (rename(tmp, path) != 0)
		hc_die("rename %s: %s", tmp, strerror(errno));
}

static void restore_all(void)
{
	put_file(site.conf, pristine_conf, conf_len, 0644);
	put_file(site.key, pristine_key, key_len, 0600);
	put_file(site.db, pristine_db, db_len, 0600);
	char real[800];
	for (int f = 0; f < 3; f++) {
		snprintf(real, sizeof(real), "%s.real", file_path(f));
		unlink(real);
	}
}

static const char *pristine(int f, size_t *len)
{
	switch (f) {
	case F_STORE: *len = db_len; return pristine_db;
	case F_KEY: *len = key_len; return pristine_key;
	default: *len = conf_len; return pristine_conf;
	}
}

static void flip_bit(const char *path, size_t off, int bit)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	unsigned char c;
	if (fd < 0 || pread(fd, &c, 1, (off_t)off) != 1)
		hc_die("flip %s: %s", path, strerror(errno));
	c ^= (unsigned char)(1u << bit);
	if (pwrite(fd, &c, 1, (off_t)off) != 1)
		hc_die("flip %s: %s", path, strerror(errno));
	close(fd);
}

/* Write data over path's own inode (O_TRUNC, no rename). */
static void write_in_place(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len || close(fd) != 0)
		hc_die("write in place %s: %s", path, strerror(errno));
}

typedef enum {
	M_NONE,
	M_MISSING,
	M_TRUNCATE,   /* arg: length */
	M_FLIP,       /* arg: offset, arg2: bit */
	M_CONTENT,    /* data, dlen: replace by these bytes */
	M_SYMLINK,    /* to a valid copy */
	M_DIR,
	M_FIFO,
	M_CHARDEV,
	M_SOCKET,
	M_CHOWN,      /* to nobody */
	M_CHMOD,      /* arg: mode */
} mut_kind;

typedef struct mutation {
	mut_kind kind;
	size_t arg;
	int arg2;
	const char *data;
	size_t dlen;
} mutation;

/* Returns false if the mutation cannot be done here (then SKIP). */
static bool mutate(int f, const mutation *m)
{
	const char *path = file_path(f);
	char real[800];
	size_t plen;
	const char *orig = pristine(f, &plen);
	struct stat st;

	switch (m->kind) {
	case M_NONE:
		return true;
	case M_MISSING:
		unlink(path);
		return true;
	case M_TRUNCATE:
		if (truncate(path, (off_t)m->arg) != 0)
			hc_die("truncate: %s", strerror(errno));
		return true;
	case M_FLIP:
		flip_bit(path, m->arg, m->arg2);
		return true;
	case M_CONTENT:
		if (lstat(path, &st) != 0)
			hc_die("lstat %s", path);
		put_file(path, m->data, m->dlen, st.st_mode & 07777);
		return true;
	case M_SYMLINK:
		snprintf(real, sizeof(real), "%s.real", path);
		unlink(real);
		hc_write_file(real, orig, plen, f == F_CONF ? 0644 : 0600);
		unlink(path);
		if (symlink(real, path) != 0)
			hc_die("symlink: %s", strerror(errno));
		return true;
	case M_DIR:
		unlink(path);
		if (mkdir(path, 0700) != 0)
			hc_die("mkdir: %s", strerror(errno));
		return true;
	case M_FIFO:
		unlink(path);
		if (mkfifo(path, 0600) != 0)
			hc_die("mkfifo: %s", strerror(errno));
		return true;
	case M_CHARDEV:
		unlink(path);
		/* /dev/zero: endless zeros if anyone reads it as a file. */
		return mknod(path, S_IFCHR | 0600, makedev(1, 5)) == 0;
	case M_SOCKET: {
		unlink(path);
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		if (s < 0 || strlen(path) >= sizeof(sa.sun_path))
			return false;
		memcpy(sa.sun_path, path, strlen(path) + 1);
		bool ok = bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(s);
		return ok;
	}
	case M_CHOWN:
		if (!is_root || nobody_uid == (uid_t)-1)
			return false;
		if (chown(path, nobody_uid, (gid_t)-1) != 0)
			hc_die("chown: %s", strerror(errno));
		return true;
	case M_CHMOD:
		if (chmod(path, (mode_t)m->arg) != 0)
			hc_die("chmod: %s", strerror(errno));
		return true;
	}
	return false;
}

/* ---- running a case in a child ---- */

#define LOG_MAX 6000

typedef struct outcome {
	int rc[4];   /* valid token; revoked; rule token from 11.0.0.1; spare */
	char log[LOG_MAX];
} outcome;

typedef void (*child_fn)(void *arg, outcome *o);

static int auth_rc(const char *tok, const char *rhost)
{
	return hc_auth_simple(site.confdir, "root", tok, rhost);
}

/* Run fn in a forked child with a watchdog. Returns 0, or 1 with why set
 * if the child crashed or hung. */
static int in_child(child_fn fn, void *arg, outcome *o, char *why,
		    size_t whylen)
{
	int p[2];
	if (pipe(p) != 0)
		hc_die("pipe");
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		hc_die("fork");
	if (pid == 0) {
		close(p[0]);
		alarm(CHILD_TIMEOUT);
		outcome mine;
		memset(&mine, 0, sizeof(mine));
		for (int i = 0; i < 4; i++)
			mine.rc[i] = -1;
		hc_log_clear();
		fn(arg, &mine);
		if (!mine.log[0])
			snprintf(mine.log, sizeof(mine.log), "%s", hc_log_text());
		if (hc_log_violations())
			snprintf(mine.log, sizeof(mine.log),
				 "LOG VIOLATION (token or control character "
				 "in a log line): %s", hc_log_first_violation());
		_exit(th_write_all(p[1], &mine, sizeof(mine)) ? 0 : 3);
	}
	close(p[1]);
	memset(o, 0, sizeof(*o));
	size_t got = 0;
	char *b = (char *)o;
	for (;;) {
		ssize_t r = read(p[0], b + got, sizeof(*o) - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(p[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(st)) {
		snprintf(why, whylen, "%s (signal %d)",
			 WTERMSIG(st) == SIGALRM ? "HANG: watchdog fired" :
						   "CRASH",
			 WTERMSIG(st));
		return 1;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || got != sizeof(*o)) {
		snprintf(why, whylen, "child failed (status %d, %zu bytes)", st,
			 got);
		return 1;
	}
	return 0;
}

static void fresh_child(void *arg, outcome *o)
{
	(void)arg;
	o->rc[0] = auth_rc(tok_valid, NULL);
	o->rc[1] = auth_rc(tok_rev, NULL);
	o->rc[2] = auth_rc(tok_rule, "11.0.0.1");
	o->rc[3] = auth_rc("hunter2", NULL);
}

/* The log must say what is wrong. Returns 1 if it names the file (or the
 * record whose MAC failed; for a config syntax error file:line), 2 if it
 * says what failed ("store ...", "unknown token id") without naming the
 * file, 0 if there is no usable line. */
/* What a plain password (not token-shaped) gets, per file problem. */
static int plain_rc[3][32];

static void plain_count(int f, int rc)
{
	if (rc >= 0 && rc < 32)
		plain_rc[f][rc]++;
}

static int log_clear(int f, int got, const char *log, bool need_line)
{
	if (strstr(log, "LOG VIOLATION"))
		return 0;
	if (got == OK)
		return 1;
	const char *path = file_path(f);
	if (f == F_CONF && got == SVCERR) {
		if (!strstr(log, path))
			return 0;
		if (need_line) {
			char want[700];
			snprintf(want, sizeof(want), "%s:", path);
			const char *p = strstr(log, want);
			return p && p[strlen(want)] >= '1' && p[strlen(want)] <= '9';
		}
		return 1;
	}
	/* A refusal is a "failure" (fail2ban counts it), trouble with the
	 * files an "error". */
	if (!strstr(log, got == REF ? "authentication failure; logname=" :
				      "authentication error; logname="))
		return 0;
	/* A store problem is met looking the token up: its id is known. */
	if (f == F_STORE && !strstr(log, id_valid))
		return 0;
	if (strstr(log, path) || strstr(log, "integrity check"))
		return 1;
	if (got == REF && strstr(log, "reason=unknown token id"))
		return 2;
	if (strstr(log, "reason=store ") || strstr(log, "reason=site key "))
		return 2;
	return 0;
}

typedef struct kase {
	const char *what;
	int file;
	mutation m;
	int expect;      /* for the valid token; ANY_FAIL: anything but OK */
	int expect_alt;  /* also acceptable (0 = none) */
	bool need_line;  /* config: the log names file:line */
	bool no_log_check;
	/* A truncated store whose cut left the record intact may serve it. */
	size_t ok_if_cut_after;
} kase;

static void run_fresh(const kase *k)
{
	outcome o;
	char why[128];

	restore_all();
	if (!mutate(k->file, &k->m)) {
		th_count.skip++;
		printf("SKIP [%s %s]: not possible here\n",
		       file_names[k->file], k->what);
		return;
	}
	n_cases++;
	per_file[k->file]++;
	char what[200];
	snprintf(what, sizeof(what), "%s %s", file_names[k->file], k->what);
	if (in_child(fresh_child, NULL, &o, why, sizeof(why))) {
		th_fail_case(what, "%s", why);
		return;
	}
	int got = o.rc[0];
	bool ok = k->expect == ANY_FAIL ? got != OK :
		  (got == k->expect || (k->expect_alt && got == k->expect_alt));
	if (!ok && got == OK && k->m.kind == M_TRUNCATE && k->ok_if_cut_after &&
	    k->m.arg >= k->ok_if_cut_after) {
		n_trunc_served++;
		return;
	}
	if (!ok)
		th_fail_case(what, "valid token got %s, expected %s; log: %.300s",
			     th_pam_name(got),
			     k->expect == ANY_FAIL ? "any failure" :
						     th_pam_name(k->expect),
			     o.log);
	if (o.rc[1] == OK || o.rc[2] == OK || o.rc[3] == OK)
		th_fail_case(what, "a revoked (%s) or host-restricted (%s) token "
				   "or a plain password (%s) was accepted",
			     th_pam_name(o.rc[1]), th_pam_name(o.rc[2]),
			     th_pam_name(o.rc[3]));
	plain_count(k->file, o.rc[3]);
	/* A password that is not token-shaped is PAM_IGNORE (pam_apitoken(8),
	 * DESCRIPTION; seen as PAM_PERM_DENIED on the module-only stack) in
	 * every case here but an invalid config, which fails everything. */
	int plain_want = (k->file == F_CONF && k->expect == SVCERR) ?
				 SVCERR : PAM_PERM_DENIED;
	if (o.rc[3] != plain_want)
		th_fail_case(what, "a plain password got %s, expected %s",
			     th_pam_name(o.rc[3]),
			     plain_want == SVCERR ? "PAM_SERVICE_ERR" :
						    "PAM_IGNORE (PERM_DENIED alone)");
	int lc = k->no_log_check ? 1 : log_clear(k->file, got, o.log, k->need_line);
	if (ok && lc == 0)
		th_fail_case(what, "no clear log line (want the file%s named); "
				   "log: %.400s",
			     k->need_line ? " and line" : "", o.log);
	if (ok && lc == 2) {
		if (n_log_unnamed++ < 3)
			printf("NOTE [%s]: the log line does not name the file: "
			       "%.240s\n", what, o.log);
	}
}

/* ---- the config oracle: what a config of only db/key lines means ---- */

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Expected result for a config text made only of "db = PATH" and
 * "key = PATH" lines (and whatever a flip or a cut made of them): a syntax
 * error fails closed with PAM_SERVICE_ERR; a valid file naming other paths
 * (which do not exist) gives PAM_AUTHINFO_UNAVAIL; a file equal in meaning
 * to the original gives PAM_SUCCESS. Independent of the product's parser;
 * follows pam_apitoken.conf(5). */
static int conf_oracle(const char *text, size_t len, bool *syntax)
{
	char db[1024] = "", key[1024] = "";
	bool seen_db = false, seen_key = false;
	size_t pos = 0;

	*syntax = true;
	if (memchr(text, '\0', len))
		return SVCERR;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char line[1024];
		if (n >= sizeof(line))
			return SVCERR;
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		for (char *c = line; *c; c++)
			if ((unsigned char)*c >= 0x80)
				return SVCERR; /* no multi-byte text here */
		char *s = line;
		while (blank(*s))
			s++;
		size_t l = strlen(s);
		while (l > 0 && blank(s[l - 1]))
			s[--l] = '\0';
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq)
			return SVCERR;
		*eq = '\0';
		char *k = s, *v = eq + 1;
		l = strlen(k);
		while (l > 0 && blank(k[l - 1]))
			k[--l] = '\0';
		while (blank(*v))
			v++;
		char *slot;
		if (strcmp(k, "db") == 0 && !seen_db)
			slot = db, seen_db = true;
		else if (strcmp(k, "key") == 0 && !seen_key)
			slot = key, seen_key = true;
		else
			return SVCERR;
		if (v[0] != '/')
			return SVCERR;
		for (char *c = v; *c; c++)
			if (blank(*c) || (unsigned char)*c < 0x20 || *c == 0x7f)
				return SVCERR;
		snprintf(slot, 1024, "%s", v);
	}
	*syntax = false;
	/* A key the text leaves out takes its built-in default, and the
	 * default files may be real on this machine (the demo, the package
	 * test): then the module reads someone else's store and key, and
	 * the valid token is merely unknown there.  Only a missing file is
	 * certain to be "unavailable". */
	const char *eff_db = seen_db ? db : APITOKEN_DEFAULT_DB;
	const char *eff_key = seen_key ? key : APITOKEN_DEFAULT_KEY;
	if (strcmp(eff_db, site.db) == 0 && strcmp(eff_key, site.key) == 0)
		return OK;
	struct stat st_db, st_key;
	if (stat(eff_db, &st_db) == 0 && S_ISREG(st_db.st_mode) &&
	    stat(eff_key, &st_key) == 0 && S_ISREG(st_key.st_mode))
		return ANY_FAIL;
	return UNAVAIL;
}

static void conf_text_case(const char *what, const char *text, size_t len)
{
	bool syntax;
	int exp = conf_oracle(text, len, &syntax);
	kase k = { .what = what, .file = F_CONF,
		   .m = { .kind = M_CONTENT, .data = text, .dlen = len },
		   .expect = exp, .need_line = syntax };
	/* A valid config naming another (missing) key or store is a store or
	 * key problem: the log names that file, not the config. */
	if (exp == UNAVAIL || exp == ANY_FAIL)
		k.no_log_check = true;
	run_fresh(&k);
}

/* ---- the cases ---- */

static void store_cases(void)
{
	int before = n_cases;
	size_t lens[] = { 1, 16, 64, 511, 4095, 4096, 4097, db_len / 2,
			  rec_off + rec_len, rec_off, db_len - 4096, db_len - 1 };

	run_fresh(&(kase){ "pristine (control)", F_STORE, { M_NONE, 0, 0, 0, 0 }, OK, 0, 0, 0 });
	run_fresh(&(kase){ "missing", F_STORE, { M_MISSING, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "zero-length", F_STORE, { M_TRUNCATE, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	for (size_t i = 0; i < sizeof(lens) / sizeof(*lens); i++) {
		if (lens[i] == 0 || lens[i] >= db_len)
			continue;
		char *w;
		if (asprintf(&w, "truncated to %zu of %zu bytes", lens[i],
			     db_len) < 0)
			hc_die("oom");
		run_fresh(&(kase){ w, F_STORE, { M_TRUNCATE, lens[i], 0, 0, 0 },
				   UNAVAIL, 0, 0, 0, rec_off + rec_len });
		free(w);
	}
	char *bad = malloc(db_len);
	memcpy(bad, pristine_db, db_len);
	memcpy(bad, "PTKR", 4);
	run_fresh(&(kase){ "wrong magic", F_STORE, { M_CONTENT, 0, 0, bad, db_len }, UNAVAIL, 0, 0, 0 });
	memset(bad, 0, 4);
	run_fresh(&(kase){ "zeroed magic", F_STORE, { M_CONTENT, 0, 0, bad, db_len }, UNAVAIL, 0, 0, 0 });
	memcpy(bad, pristine_db, db_len);
	memset(bad, 0, db_len);
	run_fresh(&(kase){ "all zeros, same size", F_STORE, { M_CONTENT, 0, 0, bad, db_len }, UNAVAIL, 0, 0, 0 });
	for (size_t i = 0; i < db_len; i++)
		bad[i] = (char)hc_rand();
	run_fresh(&(kase){ "random bytes, same size", F_STORE, { M_CONTENT, 0, 0, bad, db_len }, UNAVAIL, 0, 0, 0 });
	memcpy(bad, pristine_key, key_len);
	run_fresh(&(kase){ "replaced by the key file's text", F_STORE, { M_CONTENT, 0, 0, bad, key_len }, UNAVAIL, 0, 0, 0 });
	free(bad);
	run_fresh(&(kase){ "symlink to a valid copy", F_STORE, { M_SYMLINK, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "a directory", F_STORE, { M_DIR, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "a FIFO", F_STORE, { M_FIFO, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "a character device (/dev/zero)", F_STORE, { M_CHARDEV, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "a socket", F_STORE, { M_SOCKET, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "owned by nobody", F_STORE, { M_CHOWN, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "group-writable (0660)", F_STORE, { M_CHMOD, 0660, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "world-writable (0602)", F_STORE, { M_CHMOD, 0602, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "world-writable (0666)", F_STORE, { M_CHMOD, 0666, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "world-readable 0644 (control: not a secret)", F_STORE, { M_CHMOD, 0644, 0, 0, 0 }, OK, 0, 0, 0 });
	run_fresh(&(kase){ "group-readable 0640 (control)", F_STORE, { M_CHMOD, 0640, 0, 0, 0 }, OK, 0, 0, 0 });

	/* Bits flipped inside the valid token's own record: GDBM hands the
	 * bytes back as they are; the record MAC must refuse them. */
	int nrec = HC_ASAN ? 40 : 120;
	for (int i = 0; i < nrec; i++) {
		size_t off = rec_off + (size_t)(hc_rand() % rec_len);
		int bit = (int)(hc_rand() % 8);
		char w[120];
		snprintf(w, sizeof(w), "bit %d flipped in the record at +%zu",
			 bit, off - rec_off);
		run_fresh(&(kase){ w, F_STORE, { M_FLIP, off, bit, 0, 0 }, UNAVAIL, 0, 0, 0 });
	}
	/* Several bits at once. */
	for (int i = 0; i < (HC_ASAN ? 5 : 20); i++) {
		char *b = malloc(db_len);
		memcpy(b, pristine_db, db_len);
		int nb = 2 + (int)(hc_rand() % 7);
		for (int j = 0; j < nb; j++)
			b[rec_off + hc_rand() % rec_len] ^=
				(char)(1u << (hc_rand() % 8));
		if (memcmp(b + rec_off, pristine_db + rec_off, rec_len) != 0)
			run_fresh(&(kase){ "several bits flipped in the record", F_STORE,
					   { M_CONTENT, 0, 0, b, db_len }, UNAVAIL, 0, 0, 0 });
		free(b);
	}
	/* The stored key (the id) in front of the record: GDBM no longer
	 * finds it (refused as unknown) or the record fails its check. */
	if (have_key_off)
		for (int i = 0; i < 12; i++)
			run_fresh(&(kase){ "bit flipped in the stored id", F_STORE,
					   { M_FLIP, rec_off - 12 + (size_t)i, (int)(hc_rand() % 8), 0, 0 },
					   REF, UNAVAIL, 0, 0 });
	printf("store: %d cases so far\n", n_cases - before);
}

/* Build a store from the pristine one with the valid token's value set to
 * val (vlen bytes), through GDBM itself: what a hostile writer with access
 * to the file could make. Returns malloc'd file bytes. */
static char *crafted_store(const char *val, size_t vlen, size_t *outlen)
{
	char src[800], dst[800];
	snprintf(src, sizeof(src), "%s/craft-src.db", top);
	snprintf(dst, sizeof(dst), "%s/craft-dst.db", top);
	unlink(dst);
	hc_write_file(src, pristine_db, db_len, 0600);
	GDBM_FILE in = gdbm_open(src, 0, GDBM_READER | GDBM_NOLOCK, 0600, NULL);
	GDBM_FILE out = gdbm_open(dst, 4096, GDBM_NEWDB | GDBM_NOLOCK, 0600, NULL);
	if (!in || !out)
		hc_die("gdbm_open: %s", gdbm_strerror(gdbm_errno));
	for (datum k = gdbm_firstkey(in); k.dptr;) {
		datum v = gdbm_fetch(in, k);
		if (k.dsize == 12 && memcmp(k.dptr, id_valid, 12) == 0) {
			v.dptr = realloc(v.dptr, vlen ? vlen : 1);
			memcpy(v.dptr, val, vlen);
			v.dsize = (int)vlen;
		}
		if (gdbm_store(out, k, v, GDBM_REPLACE) != 0)
			hc_die("gdbm_store: %s", gdbm_strerror(gdbm_errno));
		free(v.dptr);
		datum next = gdbm_nextkey(in, k);
		free(k.dptr);
		k = next;
	}
	gdbm_close(in);
	gdbm_close(out);
	char *bytes = th_read_file(dst, outlen);
	unlink(src);
	unlink(dst);
	return bytes;
}

static void store_record_cases(void)
{
	int before = n_cases;
	const char *rec = pristine_db + rec_off;
	char buf[6000];
	size_t n;
	char *s;

	/* Another token's record under this id. */
	{
		char src[800];
		snprintf(src, sizeof(src), "%s/craft-rev.db", top);
		hc_write_file(src, pristine_db, db_len, 0600);
		GDBM_FILE g = gdbm_open(src, 0, GDBM_READER | GDBM_NOLOCK, 0600, NULL);
		datum k = { id_rev, 12 };
		datum v = gdbm_fetch(g, k);
		if (!v.dptr)
			hc_die("revoked record not found");
		s = crafted_store(v.dptr, (size_t)v.dsize, &n);
		run_fresh(&(kase){ "another token's record moved under this id", F_STORE,
				   { M_CONTENT, 0, 0, s, n }, UNAVAIL, 0, 0, 0 });
		free(s);
		free(v.dptr);
		gdbm_close(g);
		unlink(src);
	}
	s = crafted_store(rec, rec_len - 1, &n);
	run_fresh(&(kase){ "record one byte short", F_STORE, { M_CONTENT, 0, 0, s, n }, UNAVAIL, 0, 0, 0 });
	free(s);
	memcpy(buf, rec, rec_len);
	buf[rec_len] = 'x';
	s = crafted_store(buf, rec_len + 1, &n);
	run_fresh(&(kase){ "record one byte long", F_STORE, { M_CONTENT, 0, 0, s, n }, UNAVAIL, 0, 0, 0 });
	free(s);
	s = crafted_store(buf, 0, &n);
	run_fresh(&(kase){ "empty record", F_STORE, { M_CONTENT, 0, 0, s, n }, UNAVAIL, 0, 0, 0 });
	free(s);
	memset(buf, 0, sizeof(buf));
	s = crafted_store(buf, rec_len, &n);
	run_fresh(&(kase){ "record of zeros", F_STORE, { M_CONTENT, 0, 0, s, n }, UNAVAIL, 0, 0, 0 });
	free(s);
	memset(buf, 'A', sizeof(buf));
	s = crafted_store(buf, 5000, &n);
	run_fresh(&(kase){ "record of 5000 bytes", F_STORE, { M_CONTENT, 0, 0, s, n }, UNAVAIL, 0, 0, 0 });
	free(s);
	/* The record without its MAC, and the MAC alone. */
	s = crafted_store(rec, rec_len - 32, &n);
	run_fresh(&(kase){ "record without its MAC", F_STORE, { M_CONTENT, 0, 0, s, n }, UNAVAIL, 0, 0, 0 });
	free(s);
	s = crafted_store(rec + rec_len - 32, 32, &n);
	run_fresh(&(kase){ "the MAC alone", F_STORE, { M_CONTENT, 0, 0, s, n }, UNAVAIL, 0, 0, 0 });
	free(s);
	printf("store records: %d cases\n", n_cases - before);
}

/* Random flips anywhere in the store: the valid token may still work if
 * the flip missed it, but nothing may ever be read as something else. */
static void store_random_flips(void)
{
	int nflips = HC_ASAN ? 60 : 250;
	int nheader = getenv("HARD_HEADER_ALL") ? 1024 : (HC_ASAN ? 40 : 128);
	size_t lo = have_key_off ? rec_off - 12 : rec_off, hi = rec_off + rec_len;

	/* Where a flip means something: the header, and every non-zero byte
	 * (directory, buckets, records); plus anywhere at all. */
	size_t *meaningful = malloc(db_len * sizeof(*meaningful)), nm = 0;
	for (size_t i = 0; i < db_len; i++)
		if (pristine_db[i] || i < 512)
			meaningful[nm++] = i;
	for (int i = 0; i < nflips + nheader; i++) {
		/* GDBM's header (sizes, locations, counts) first: bits of its
		 * first 128 bytes; then meaningful bytes and anywhere. */
		size_t off = i < nheader ? (size_t)(i % 1024) / 8 :
			     i % 4 == 3 ? (size_t)(hc_rand() % db_len) :
					  meaningful[hc_rand() % nm];
		int bit = i < nheader ? (nheader == 1024 ? i % 8 : (int)(hc_rand() % 8)) :
					(int)(hc_rand() % 8);
		if (i < nheader && nheader != 1024)
			off = (size_t)(hc_rand() % 128);
		outcome o;
		char why[128], what[120];

		restore_all();
		flip_bit(site.db, off, bit);
		n_cases++;
		per_file[F_STORE]++;
		snprintf(what, sizeof(what), "store random flip: bit %d at %zu", bit,
			 off);
		if (in_child(fresh_child, NULL, &o, why, sizeof(why))) {
			th_fail_case(what, "%s", why);
			continue;
		}
		int got = o.rc[0];
		bool inside = off >= lo && off < hi;
		if (got == OK && inside)
			th_fail_case(what, "the valid token was accepted with its "
					   "record changed");
		else if (got == OK)
			n_flip_success_outside++;
		else if (got == REF)
			n_flip_refused++;
		else if (got == UNAVAIL)
			n_flip_unavail++;
		else
			th_fail_case(what, "unexpected %s", th_pam_name(got));
		if (o.rc[1] == OK || o.rc[2] == OK)
			th_fail_case(what, "revoked token %s, host-restricted token "
					   "from 11.0.0.1 %s",
				     th_pam_name(o.rc[1]), th_pam_name(o.rc[2]));
		if (o.rc[3] != PAM_PERM_DENIED)
			th_fail_case(what, "a plain password got %s, expected "
				     "PAM_IGNORE", th_pam_name(o.rc[3]));
		plain_count(F_STORE, o.rc[3]);
		if (strstr(o.log, "LOG VIOLATION"))
			th_fail_case(what, "%s", o.log);
	}
	free(meaningful);
	printf("store random flips: %d in GDBM's header, %d elsewhere (valid "
	       "token accepted, flip elsewhere: "
	       "%d; refused as unknown: %d; unavailable: %d)\n",
	       nheader, nflips, n_flip_success_outside, n_flip_refused,
	       n_flip_unavail);
}

static void key_cases(void)
{
	int before = n_cases;
	size_t lens[] = { 1, 7, 8, 9, 40, key_len - 2, key_len - 1 };
	char buf[256];

	run_fresh(&(kase){ "pristine (control)", F_KEY, { M_NONE, 0, 0, 0, 0 }, OK, 0, 0, 0 });
	run_fresh(&(kase){ "missing", F_KEY, { M_MISSING, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "zero-length", F_KEY, { M_TRUNCATE, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	for (size_t i = 0; i < sizeof(lens) / sizeof(*lens); i++) {
		char w[80];
		snprintf(w, sizeof(w), "truncated to %zu of %zu bytes", lens[i],
			 key_len);
		run_fresh(&(kase){ w, F_KEY, { M_TRUNCATE, lens[i], 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	}
	memcpy(buf, pristine_key, key_len);
	buf[key_len] = '\n';
	run_fresh(&(kase){ "an extra newline", F_KEY, { M_CONTENT, 0, 0, buf, key_len + 1 }, UNAVAIL, 0, 0, 0 });
	buf[key_len] = 'a';
	run_fresh(&(kase){ "an extra byte", F_KEY, { M_CONTENT, 0, 0, buf, key_len + 1 }, UNAVAIL, 0, 0, 0 });
	memcpy(buf, "ptkkey2:", 8);
	run_fresh(&(kase){ "wrong magic (ptkkey2:)", F_KEY, { M_CONTENT, 0, 0, buf, key_len }, UNAVAIL, 0, 0, 0 });
	memcpy(buf, "PTKKEY1:", 8);
	run_fresh(&(kase){ "wrong magic (PTKKEY1:)", F_KEY, { M_CONTENT, 0, 0, buf, key_len }, UNAVAIL, 0, 0, 0 });
	memcpy(buf, pristine_key, key_len);
	for (size_t i = 8; i < key_len - 1; i++)
		if (buf[i] >= 'a' && buf[i] <= 'f')
			buf[i] ^= 0x20;
	if (memcmp(buf, pristine_key, key_len) != 0)
		run_fresh(&(kase){ "upper-case hex", F_KEY, { M_CONTENT, 0, 0, buf, key_len }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "another site's valid key", F_KEY,
			   { M_CONTENT, 0, 0, other_key, other_key_len }, UNAVAIL, 0, 0, 0 });
	for (int i = 0; i < (HC_ASAN ? 30 : 120); i++) {
		size_t off = (size_t)(hc_rand() % key_len);
		int bit = (int)(hc_rand() % 8);
		char w[80];
		snprintf(w, sizeof(w), "bit %d flipped at %zu", bit, off);
		run_fresh(&(kase){ w, F_KEY, { M_FLIP, off, bit, 0, 0 }, UNAVAIL, 0, 0, 0 });
	}
	run_fresh(&(kase){ "symlink to a valid copy", F_KEY, { M_SYMLINK, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "a directory", F_KEY, { M_DIR, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "a FIFO", F_KEY, { M_FIFO, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "a character device (/dev/zero)", F_KEY, { M_CHARDEV, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "a socket", F_KEY, { M_SOCKET, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "owned by nobody", F_KEY, { M_CHOWN, 0, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "group-writable (0660)", F_KEY, { M_CHMOD, 0660, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "world-writable (0602)", F_KEY, { M_CHMOD, 0602, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "world-readable (0604)", F_KEY, { M_CHMOD, 0604, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "world-readable (0644)", F_KEY, { M_CHMOD, 0644, 0, 0, 0 }, UNAVAIL, 0, 0, 0 });
	run_fresh(&(kase){ "group-readable 0640 (control)", F_KEY, { M_CHMOD, 0640, 0, 0, 0 }, OK, 0, 0, 0 });
	run_fresh(&(kase){ "read-only 0400 (control)", F_KEY, { M_CHMOD, 0400, 0, 0, 0 }, OK, 0, 0, 0 });
	printf("key: %d cases\n", n_cases - before);
}

static void conf_cases(void)
{
	int before = n_cases;
	char *buf = malloc(conf_len + 64);

	run_fresh(&(kase){ "pristine (control)", F_CONF, { M_NONE, 0, 0, 0, 0 }, OK, 0, 0, 0 });
	/* conf= names it: it must exist. */
	run_fresh(&(kase){ "missing", F_CONF, { M_MISSING, 0, 0, 0, 0 }, SVCERR, 0, 0, 0 });
	/* Empty is a valid config (all defaults): the default key and store
	 * are not this site's, so never success. */
	run_fresh(&(kase){ "zero-length (defaults)", F_CONF, { M_TRUNCATE, 0, 0, 0, 0 }, ANY_FAIL, 0, 0, true });
	for (size_t cut = 1; cut < conf_len; cut++) {
		char w[80];
		snprintf(w, sizeof(w), "truncated to %zu of %zu bytes", cut,
			 conf_len);
		conf_text_case(w, pristine_conf, cut);
	}
	/* One flip per byte (a random bit), and random flips. */
	for (size_t i = 0; i < conf_len; i++) {
		memcpy(buf, pristine_conf, conf_len);
		int bit = (int)(hc_rand() % 8);
		buf[i] ^= (char)(1u << bit);
		char w[80];
		snprintf(w, sizeof(w), "bit %d flipped at %zu", bit, i);
		conf_text_case(w, buf, conf_len);
	}
	for (int i = 0; i < (HC_ASAN ? 10 : 40); i++) {
		memcpy(buf, pristine_conf, conf_len);
		int nb = 2 + (int)(hc_rand() % 6);
		for (int j = 0; j < nb; j++)
			buf[hc_rand() % conf_len] ^= (char)(1u << (hc_rand() % 8));
		conf_text_case("several bits flipped", buf, conf_len);
	}
	for (size_t i = 0; i < conf_len; i++)
		buf[i] = (char)hc_rand();
	conf_text_case("random bytes", buf, conf_len);
	free(buf);

	/* Hostile texts: each a syntax error naming file:line. */
	static const char *hostile[] = {
		"bogus = 1\n",
		"db = /tmp/x\n",
		"allow_from = 10.0.0.0/33\n",
		"allow_from = example.com\n",
		"prefix = ptk_x\n",
		"max_tokens_per_user = -1\n",
		"[group]\n",
		"[group ops]\nmax_lifetime = forever\n",
		"[group ops]\ndeny_from = 10.0.0.0/8\n",
		"max_lifetime = 90d\n",
		"[users]\n",
		"key\n",
		" = x\n",
		"deny_services = su;rm\n",
		"prefix = \xc3\x28\n",
		"allow_from = 10.0.0.1\x01\n",
	};
	for (size_t i = 0; i < sizeof(hostile) / sizeof(*hostile); i++) {
		char text[2048];
		int n = snprintf(text, sizeof(text), "db = %s\nkey = %s\n%s",
				 site.db, site.key, hostile[i]);
		run_fresh(&(kase){ "hostile text", F_CONF,
				   { M_CONTENT, 0, 0, text, (size_t)n }, SVCERR, 0, true, 0 });
	}
	{
		char text[2048];
		int n = snprintf(text, sizeof(text), "db = store/tokens.db\nkey = %s\n",
				 site.key);
		run_fresh(&(kase){ "relative db path", F_CONF,
				   { M_CONTENT, 0, 0, text, (size_t)n }, SVCERR, 0, true, 0 });
	}
	{
		char text[2048];
		int n = snprintf(text, sizeof(text), "db = %s\nkey = %s\n", site.db,
				 site.key);
		text[n] = '\0';
		memcpy(text + n, "#\0x\n", 4);
		run_fresh(&(kase){ "a NUL byte", F_CONF,
				   { M_CONTENT, 0, 0, text, (size_t)n + 4 }, SVCERR, 0, true, 0 });
	}
	{
		size_t big = 5000;
		char *text = malloc(big + 2048);
		int n = snprintf(text, 2048, "db = %s\nkey = %s\n#", site.db, site.key);
		memset(text + n, 'x', big);
		text[n + big] = '\n';
		run_fresh(&(kase){ "a line of 5000 bytes (comment)", F_CONF,
				   { M_CONTENT, 0, 0, text, (size_t)n + big + 1 }, SVCERR, 0, true, 0 });
		free(text);
		big = (size_t)1 << 21;
		text = malloc(big);
		memset(text, '\n', big);
		n = snprintf(text, 2048, "db = %s\nkey = %s\n", site.db, site.key);
		text[n] = '\n';
		run_fresh(&(kase){ "a file of 2 MiB", F_CONF,
				   { M_CONTENT, 0, 0, text, big }, SVCERR, 0, 0, 0 });
		free(text);
	}
	run_fresh(&(kase){ "symlink to a valid copy", F_CONF, { M_SYMLINK, 0, 0, 0, 0 }, SVCERR, 0, 0, 0 });
	run_fresh(&(kase){ "a directory", F_CONF, { M_DIR, 0, 0, 0, 0 }, SVCERR, 0, 0, 0 });
	run_fresh(&(kase){ "a FIFO", F_CONF, { M_FIFO, 0, 0, 0, 0 }, SVCERR, 0, 0, 0 });
	run_fresh(&(kase){ "a character device (/dev/zero)", F_CONF, { M_CHARDEV, 0, 0, 0, 0 }, SVCERR, 0, 0, 0 });
	run_fresh(&(kase){ "a socket", F_CONF, { M_SOCKET, 0, 0, 0, 0 }, SVCERR, 0, 0, 0 });
	run_fresh(&(kase){ "owned by nobody", F_CONF, { M_CHOWN, 0, 0, 0, 0 }, SVCERR, 0, 0, 0 });
	run_fresh(&(kase){ "group-writable (0664)", F_CONF, { M_CHMOD, 0664, 0, 0, 0 }, SVCERR, 0, 0, 0 });
	run_fresh(&(kase){ "world-writable (0646)", F_CONF, { M_CHMOD, 0646, 0, 0, 0 }, SVCERR, 0, 0, 0 });
	run_fresh(&(kase){ "world-readable 0644 (control)", F_CONF, { M_CHMOD, 0644, 0, 0, 0 }, OK, 0, 0, 0 });
	run_fresh(&(kase){ "0600 (control)", F_CONF, { M_CHMOD, 0600, 0, 0, 0 }, OK, 0, 0, 0 });
	printf("config: %d cases\n", n_cases - before);
}

/* ---- in place, while a process keeps the module loaded ---- */

typedef struct inplace {
	const char *what;
	int file;
	mutation m;       /* done in the child, between two logins */
	bool in_place;    /* same inode (write/truncate/chmod/chown) */
	int expect;
	int expect_alt;
	const char *rhost;
} inplace;

static void inplace_child(void *arg, outcome *o)
{
	const inplace *c = arg;
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	const char *path = file_path(c->file);
	struct stat st0;

	o->rc[0] = auth_rc(tok_valid, c->rhost);
	lstat(path, &st0);
	/* Not in the same clock tick as the last write: this checks the
	 * cache's ordinary freshness test, not timestamp granularity. */
	nanosleep(&pause, NULL);
	hc_log_clear();
	if (!mutate(c->file, &c->m)) {
		o->rc[3] = -2;
		return;
	}
	o->rc[1] = auth_rc(tok_valid, c->rhost);
	char log1[LOG_MAX];
	snprintf(log1, sizeof(log1), "%s", hc_log_text());
	/* Restore: in place for in-place changes (same inode, old mode and
	 * owner), else by putting the pristine file back. */
	nanosleep(&pause, NULL);
	size_t plen;
	const char *orig = pristine(c->file, &plen);
	if (c->in_place) {
		if (chown(path, st0.st_uid, st0.st_gid) != 0 ||
		    chmod(path, st0.st_mode & 07777) != 0)
			_exit(4);
		write_in_place(path, orig, plen);
	} else {
		put_file(path, orig, plen, st0.st_mode & 07777);
	}
	o->rc[2] = auth_rc(tok_valid, c->rhost);
	/* The caller wants the log of the failing login. */
	snprintf(o->log, sizeof(o->log), "%s", log1[0] ? log1 : "(empty)");
}

static void inplace_case(const inplace *c)
{
	outcome o;
	char why[128], what[200];

	restore_all();
	snprintf(what, sizeof(what), "in place: %s %s", file_names[c->file],
		 c->what);
	if ((c->m.kind == M_CHOWN && (!is_root || nobody_uid == (uid_t)-1))) {
		th_count.skip++;
		printf("SKIP [%s]: needs root\n", what);
		return;
	}
	n_cases++;
	per_file[c->file]++;
	if (in_child(inplace_child, (void *)c, &o, why, sizeof(why))) {
		th_fail_case(what, "%s", why);
		return;
	}
	if (o.rc[3] == -2) {
		th_count.skip++;
		printf("SKIP [%s]: not possible here\n", what);
		return;
	}
	if (o.rc[0] != OK)
		th_fail_case(what, "first login got %s", th_pam_name(o.rc[0]));
	bool ok = c->expect == ANY_FAIL ? o.rc[1] != OK :
		  (o.rc[1] == c->expect || (c->expect_alt && o.rc[1] == c->expect_alt));
	if (!ok)
		th_fail_case(what, "login after the change got %s, expected %s "
				   "(the cache did not notice?); log: %.300s",
			     th_pam_name(o.rc[1]),
			     c->expect == ANY_FAIL ? "any failure" :
						     th_pam_name(c->expect),
			     o.log);
	if (o.rc[2] != OK)
		th_fail_case(what, "login after the restore got %s (stale failure "
				   "cached?)", th_pam_name(o.rc[2]));
}

static void inplace_cases(void)
{
	int before = n_cases;
	char text[2048];
	int n;

	/* Config: rewritten in place with a host rule a local login fails. */
	n = snprintf(text, sizeof(text), "db = %s\nkey = %s\nallow_from = 10.0.0.0/8\n",
		     site.db, site.key);
	static char conf_rule[2048];
	memcpy(conf_rule, text, (size_t)n);
	inplace_case(&(inplace){ "rewritten with allow_from (other size)", F_CONF,
				 { M_CONTENT, 0, 0, conf_rule, (size_t)n }, false, REF, 0, NULL });
	{
		/* Same size, same inode: one byte of the key path. */
		const char *p = strstr(pristine_conf, "site.key");
		size_t off = (size_t)(p - pristine_conf) + 7;
		inplace_case(&(inplace){ "one byte of the key path (same size)", F_CONF,
					 { M_FLIP, off, 0, 0, 0 }, true, UNAVAIL, 0, NULL });
	}
	inplace_case(&(inplace){ "truncated to 9 bytes", F_CONF,
				 { M_TRUNCATE, 9, 0, 0, 0 }, true, ANY_FAIL, 0, NULL });
	inplace_case(&(inplace){ "chmod 0664", F_CONF, { M_CHMOD, 0664, 0, 0, 0 }, true, SVCERR, 0, NULL });
	inplace_case(&(inplace){ "chmod 0646", F_CONF, { M_CHMOD, 0646, 0, 0, 0 }, true, SVCERR, 0, NULL });
	inplace_case(&(inplace){ "chown nobody", F_CONF, { M_CHOWN, 0, 0, 0, 0 }, true, SVCERR, 0, NULL });
	inplace_case(&(inplace){ "replaced by a symlink", F_CONF, { M_SYMLINK, 0, 0, 0, 0 }, false, SVCERR, 0, NULL });
	inplace_case(&(inplace){ "replaced by a FIFO", F_CONF, { M_FIFO, 0, 0, 0, 0 }, false, SVCERR, 0, NULL });
	inplace_case(&(inplace){ "removed", F_CONF, { M_MISSING, 0, 0, 0, 0 }, false, SVCERR, 0, NULL });

	/* Key. */
	{
		size_t off = 8;
		while (off < key_len && pristine_key[off] != '0' && pristine_key[off] != '1')
			off++;
		if (off < key_len)
			inplace_case(&(inplace){ "one hex digit (same size)", F_KEY,
						 { M_FLIP, off, 0, 0, 0 }, true, UNAVAIL, 0, NULL });
	}
	inplace_case(&(inplace){ "overwritten in place with another site's key", F_KEY,
				 { M_CONTENT, 0, 0, other_key, other_key_len }, true, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "truncated to 40 bytes", F_KEY, { M_TRUNCATE, 40, 0, 0, 0 }, true, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "chmod 0604", F_KEY, { M_CHMOD, 0604, 0, 0, 0 }, true, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "chmod 0620", F_KEY, { M_CHMOD, 0620, 0, 0, 0 }, true, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "chown nobody", F_KEY, { M_CHOWN, 0, 0, 0, 0 }, true, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "replaced by a symlink", F_KEY, { M_SYMLINK, 0, 0, 0, 0 }, false, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "removed", F_KEY, { M_MISSING, 0, 0, 0, 0 }, false, UNAVAIL, 0, NULL });

	/* Store. */
	inplace_case(&(inplace){ "bit flipped in the record", F_STORE,
				 { M_FLIP, rec_off + rec_len / 2, 3, 0, 0 }, true, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "overwritten in place with a copy where the token is revoked",
				 F_STORE, { M_CONTENT, 0, 0, revoked_db, revoked_db_len }, true, REF, 0, NULL });
	inplace_case(&(inplace){ "truncated to 0", F_STORE, { M_TRUNCATE, 0, 0, 0, 0 }, true, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "truncated to 4096", F_STORE, { M_TRUNCATE, 4096, 0, 0, 0 }, true, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "chmod 0620", F_STORE, { M_CHMOD, 0620, 0, 0, 0 }, true, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "chmod 0602", F_STORE, { M_CHMOD, 0602, 0, 0, 0 }, true, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "chown nobody", F_STORE, { M_CHOWN, 0, 0, 0, 0 }, true, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "replaced by a symlink", F_STORE, { M_SYMLINK, 0, 0, 0, 0 }, false, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "replaced by a directory", F_STORE, { M_DIR, 0, 0, 0, 0 }, false, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "replaced by a FIFO", F_STORE, { M_FIFO, 0, 0, 0, 0 }, false, UNAVAIL, 0, NULL });
	inplace_case(&(inplace){ "removed", F_STORE, { M_MISSING, 0, 0, 0, 0 }, false, UNAVAIL, 0, NULL });
	printf("in place (module kept loaded): %d cases\n", n_cases - before);
}

/* ---- setup ---- */

static void find_record(void)
{
	char copy[800];
	snprintf(copy, sizeof(copy), "%s/find.db", top);
	hc_write_file(copy, pristine_db, db_len, 0600);
	GDBM_FILE g = gdbm_open(copy, 0, GDBM_READER | GDBM_NOLOCK, 0600, NULL);
	if (!g)
		hc_die("gdbm_open: %s", gdbm_strerror(gdbm_errno));
	datum k = { id_valid, 12 };
	datum v = gdbm_fetch(g, k);
	if (!v.dptr)
		hc_die("token record not in the store");
	rec_len = (size_t)v.dsize;
	const char *hit = memmem(pristine_db, db_len, v.dptr, rec_len);
	if (!hit || memmem(hit + 1, db_len - (size_t)(hit + 1 - pristine_db),
			   v.dptr, rec_len))
		hc_die("record not found exactly once in the file");
	rec_off = (size_t)(hit - pristine_db);
	have_key_off = rec_off >= 12 && memcmp(hit - 12, id_valid, 12) == 0;
	free(v.dptr);
	gdbm_close(g);
	unlink(copy);
}

int main(void)
{
	char dir[1024], err[2048];

	hc_init("hard_files");
	alarm(600);
	if (!hc_disable_audit())
		printf("NOTE: libpam audit stays on\n");
	is_root = geteuid() == 0;
	struct passwd *pw = getpwnam("nobody");
	if (pw && pw->pw_uid != geteuid())
		nobody_uid = pw->pw_uid;
	if (!is_root)
		printf("NOTE: not root: owner-change cases are skipped\n");

	top = hc_tmpdir("hard_files");
	snprintf(dir, sizeof(dir), "%s/site", top);
	mkdir(dir, 0755);
	hc_site_init(&site, dir, NULL);
	/* Padding records, so the store has more than our tokens. */
	char ptok[HC_TOKEN_MAX], pid_[13];
	for (int i = 0; i < 12; i++)
		hc_create(&site, ptok, pid_, "padding", NULL);
	hc_create(&site, tok_valid, id_valid, "valid", NULL);
	hc_create(&site, tok_rev, id_rev, "revoked", NULL);
	hc_create(&site, tok_rule, id_rule, "rule", "--allow-from", "10.0.0.0/8",
		  NULL);
	for (int i = 0; i < 12; i++)
		hc_create(&site, ptok, pid_, "padding", NULL);
	if (hc_tokenadm(&site, NULL, 0, err, sizeof(err), "revoke", id_rev, NULL) != 0)
		hc_die("revoke: %s", err);
	pristine_conf = th_read_file(site.conf, &conf_len);
	pristine_key = th_read_file(site.key, &key_len);
	pristine_db = th_read_file(site.db, &db_len);

	/* A copy of the store where the valid token is revoked, and another
	 * site's key. */
	hc_site other;
	snprintf(dir, sizeof(dir), "%s/other", top);
	mkdir(dir, 0755);
	hc_site_init(&other, dir, NULL);
	other_key = th_read_file(other.key, &other_key_len);
	hc_copy_file(site.key, other.key, 0600);
	hc_copy_file(site.db, other.db, 0600);
	if (hc_tokenadm(&other, NULL, 0, err, sizeof(err), "revoke", id_valid, NULL) != 0)
		hc_die("revoke in the copy: %s", err);
	revoked_db = th_read_file(other.db, &revoked_db_len);
	find_record();
	printf("site: store %zu bytes (valid token's record %zu bytes at %zu), "
	       "key %zu bytes, config %zu bytes\n",
	       db_len, rec_len, rec_off, key_len, conf_len);

	store_cases();
	store_record_cases();
	store_random_flips();
	key_cases();
	conf_cases();
	inplace_cases();
	restore_all();

	for (int f = 0; f < 3; f++) {
		printf("plain password while the %s is broken:", file_names[f]);
		for (int rc = 0; rc < 32; rc++)
			if (plain_rc[f][rc])
				printf(" %s x%d", rc == PAM_PERM_DENIED ?
					"PAM_IGNORE (PERM_DENIED alone)" : th_pam_name(rc),
				       plain_rc[f][rc]);
		putchar('\n');
	}
	printf("truncated stores that still served the intact record: %d; "
	       "failures logged without naming the file: %d\n",
	       n_trunc_served, n_log_unnamed);
	printf("hard_files: 3 files, %d cases (store %d, key %d, config %d), "
	       "%d skipped, %d failures\n",
	       n_cases, per_file[F_STORE], per_file[F_KEY], per_file[F_CONF],
	       th_count.skip, th_count.fail);
	hc_rmrf(top);
	free(top);
	return th_count.fail ? 1 : 0;
}
