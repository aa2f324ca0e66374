/* No token or secret left in memory: none in argv, logs or core dumps, and
 * none left unwiped in freed memory (tokenadm(8), PRIVILEGE: "wiped from
 * memory"; pam_apitoken(8), LOGGING: "never logged").
 *
 * A. In this process, through the real libpam and the module: log in with
 *    a valid token (authenticate + account check), pam_end, then read every
 *    writable mapping of this process (heap, stack, anonymous maps,
 *    libraries' data) looking for the token's secret, each 16-character
 *    half on its own. This process never handles the secret: a helper
 *    child holds it, hands it over a pipe straight into the conversation's
 *    reply buffer, and scans this process through /proc/PPID/mem while it
 *    waits; so any copy found was made by libpam, the module or the
 *    libraries under them. Positive control: a heap copy of the token made
 *    on purpose must be found (else the scanner is blind and the test
 *    fails). Scanned after pam_authenticate returns (Linux-PAM has already
 *    wiped PAM_AUTHTOK then: _pam_sanitize), after pam_end, after more
 *    logins, after a refused login (the right token presented for another
 *    account).
 *
 * B. tokenadm, a separate process:
 *    B1 a tokenadm blocked reading a token on stdin (verify) is not dumpable
 *       and has no core limit: /proc/PID/limits says 0, /proc/PID/ files
 *       belong to root instead of the process's uid (the kernel's mark of a
 *       non-dumpable task), PTRACE_ATTACH from a process of the same uid
 *       fails (while attaching to an ordinary process of that uid works),
 *       and SIGABRT kills it without a core file even though it was started
 *       with an unlimited core limit (while the control process dumps).
 *       Runs as nobody when we are root, as ourselves otherwise.
 *    B2 (root only) tokenadm verify, create and rotate are stopped by
 *       ptrace at their exit (PTRACE_EVENT_EXIT, memory still intact) and
 *       their memory is scanned for the secret they read or printed.
 *       Positive control: the config path is found in the same scan.
 *
 * Each check prints PASS/FAIL/SKIP; exit 1 if any failed, 77 if all skipped.
 * Environment: PAM_APITOKEN_SO, TOKENADM. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "mem_common.h"

#define HALF 16
#define SCAN_CHUNK (1u << 20)
#define SCAN_OVERLAP 64
#define SCAN_MAX_MAPPING ((uintptr_t)1 << 30)

/* ---- the secret, kept in pieces on a page of its own ---- */

typedef struct secret_pieces {
	char *page;  /* mmap'd, excluded from self-scans */
	char *pub;   /* "ptk_<id>_" */
	char *h1;    /* secret[0..16) */
	char *h2;    /* secret[16..32) */
	char *check; /* the 6 check digits */
} secret_pieces;

static int pieces_alloc(secret_pieces *s)
{
	s->page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->page == MAP_FAILED)
		return -1;
	/* Far apart: no contiguous copy of the secret here either. */
	s->pub = s->page;
	s->h1 = s->page + 1024;
	s->h2 = s->page + 2048;
	s->check = s->page + 3072;
	return 0;
}

/* Split tok into the pieces and wipe tok. */
static int pieces_take(secret_pieces *s, char *tok)
{
	size_t n = strlen(tok);
	char *u1 = strchr(tok, '_');
	int rc = -1;

	if (u1 && (size_t)(u1 - tok) + 1 + 12 + 1 + 32 + 6 == n &&
	    u1[13] == '_') {
		size_t pub = (size_t)(u1 - tok) + 14;
		memcpy(s->pub, tok, pub);
		s->pub[pub] = '\0';
		memcpy(s->h1, tok + pub, HALF);
		s->h1[HALF] = '\0';
		memcpy(s->h2, tok + pub + HALF, HALF);
		s->h2[HALF] = '\0';
		memcpy(s->check, tok + pub + 2 * HALF, 6);
		s->check[6] = '\0';
		rc = 0;
	}
	explicit_bzero(tok, n);
	return rc;
}

/* Write the token piece by piece (a pipe is a byte stream). */
static int pieces_write(const secret_pieces *s, int fd, bool newline)
{
	const char *parts[] = { s->pub, s->h1, s->h2, s->check,
				newline ? "\n" : "" };
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		size_t n = strlen(parts[i]);
		if (n && write(fd, parts[i], n) != (ssize_t)n)
			return -1;
	}
	return 0;
}

/* ---- the scanner ---- */

typedef struct range {
	uintptr_t lo, hi;
} range;

typedef struct scan_result {
	int h1, h2;   /* occurrences of each half */
	int full;     /* first half directly followed by the second */
	int marker;   /* occurrences of the positive-control marker */
	int mappings; /* mappings read */
	int skipped;  /* mappings over SCAN_MAX_MAPPING (sanitizer shadow) */
} scan_result;

static bool excluded(uintptr_t a, const range *ex, size_t nex)
{
	for (size_t i = 0; i < nex; i++)
		if (a >= ex[i].lo && a < ex[i].hi)
			return true;
	return false;
}

static void count_hits(const char *label, const char *where, uintptr_t base,
		       const unsigned char *buf, size_t n, size_t limit,
		       const secret_pieces *s, const char *marker,
		       const range *ex, size_t nex, scan_result *r)
{
	const char *needles[3] = { s->h1, s->h2, marker };

	for (int k = 0; k < 3; k++) {
		const char *nd = needles[k];
		size_t nl = nd ? strlen(nd) : 0;
		if (!nl)
			continue;
		const unsigned char *p = buf;
		while ((size_t)(p - buf) < n) {
			p = memmem(p, n - (size_t)(p - buf), nd, nl);
			if (!p)
				break;
			size_t i = (size_t)(p - buf);
			uintptr_t addr = base + i;
			/* Hits in the overlap are counted by the next chunk. */
			if (i < limit && !excluded(addr, ex, nex)) {
				if (k == 2) {
					r->marker++;
				} else {
					bool full = k == 0 && i + 2 * HALF <= n &&
						    memcmp(p + HALF, s->h2, HALF) == 0;
					if (k == 0)
						r->h1++;
					else
						r->h2++;
					r->full += full;
					char ctx[33];
					size_t from = i >= 32 ? i - 32 : 0;
					size_t j = 0;
					for (size_t q = from; q < i; q++)
						ctx[j++] = (char)(buf[q] >= 0x20 &&
								  buf[q] < 0x7f
								  ? buf[q] : '.');
					ctx[j] = '\0';
					if (strcmp(label, "warm-up") != 0)
					printf("# %s: %s half at %#" PRIxPTR " in %s%s; "
					       "preceded by \"%s\"\n", label,
					       k == 0 ? "first" : "second", addr, where,
					       full ? " (the whole secret)" : "",
					       k == 1 ? "(not shown)" : ctx);
				}
			}
			p++;
		}
	}
}

/* Read every writable mapping of pid through /proc/PID/mem. */
static int scan_memory(pid_t pid, const char *label, const secret_pieces *s,
		       const char *marker, const range *ex, size_t nex,
		       scan_result *r)
{
	char path[64], line[512];
	unsigned char *buf;
	FILE *maps;
	int memfd;

	memset(r, 0, sizeof(*r));
	buf = mmap(NULL, SCAN_CHUNK, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return -1;
	range all[8] = { { 0, 0 } };
	size_t nall = 0;
	for (size_t i = 0; i < nex && nall < 7; i++)
		all[nall++] = ex[i];
	if (pid == getpid()) {
		all[nall].lo = (uintptr_t)buf;
		all[nall++].hi = (uintptr_t)buf + SCAN_CHUNK;
	}
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	maps = fopen(path, "re");
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	memfd = open(path, O_RDONLY | O_CLOEXEC);
	if (!maps || memfd < 0) {
		printf("# %s: cannot open %s: %s\n", label, path, strerror(errno));
		if (maps)
			fclose(maps);
		if (memfd >= 0)
			close(memfd);
		munmap(buf, SCAN_CHUNK);
		return -1;
	}
	while (fgets(line, sizeof(line), maps)) {
		/* "lo-hi perms offset dev inode   name" */
		char *p = line, *end;
		char where[256] = "";
		uintptr_t lo = (uintptr_t)strtoull(p, &end, 16);
		if (end == p || *end != '-')
			continue;
		p = end + 1;
		uintptr_t hi = (uintptr_t)strtoull(p, &end, 16);
		if (end == p || *end != ' ' || hi <= lo)
			continue;
		const char *perms = end + 1;
		if (strlen(perms) < 4)
			continue;
		/* The name is the sixth field, if any. */
		p = end + 1;
		for (int f = 0; f < 4 && p; f++) {
			p = strchr(p, ' ');
			if (p)
				p += strspn(p, " ");
		}
		if (p && *p) {
			snprintf(where, sizeof(where), "%s", p);
			where[strcspn(where, "\n")] = '\0';
		}
		if (perms[0] != 'r' || perms[1] != 'w')
			continue;
		if (strstr(where, "[vvar]") || strstr(where, "[vsyscall]"))
			continue;
		if (!where[0])
			snprintf(where, sizeof(where), "[anonymous]");
		/* AddressSanitizer's shadow: terabytes of reserved zeros. */
		if (hi - lo > SCAN_MAX_MAPPING) {
			r->skipped++;
			continue;
		}
		r->mappings++;
		for (uintptr_t at = lo; at < hi;) {
			size_t want = hi - at < SCAN_CHUNK ? hi - at : SCAN_CHUNK;
			ssize_t got = pread(memfd, buf, want, (off_t)at);
			if (got <= 0)
				break;
			bool last = at + (size_t)got >= hi;
			size_t step = last || (size_t)got <= SCAN_OVERLAP
					      ? (size_t)got
					      : (size_t)got - SCAN_OVERLAP;
			count_hits(label, where, at, buf, (size_t)got, step, s,
				   marker, all, nall, r);
			at += step;
		}
	}
	fclose(maps);
	close(memfd);
	explicit_bzero(buf, SCAN_CHUNK);
	munmap(buf, SCAN_CHUNK);
	return 0;
}

/* ---- A: this process, through libpam ----
 *
 * This process (the one logging in) never touches the secret itself: a
 * helper child holds it, hands the token over a pipe straight into the
 * conversation's reply buffer (read(2): the kernel copies it, no register
 * of ours sees it) and does the scans of this process's memory through
 * /proc/PPID/mem. So whatever copy a scan finds was made by libpam, the
 * module or the libraries they call, not by the test. */

/* Part B's copy, fetched from the holder once part A is done. */
static secret_pieces secret;

enum { REQ_TOKEN = 'T', REQ_SCAN = 'S', REQ_PIECES = 'P', REQ_QUIT = 'Q' };

typedef struct holder {
	pid_t pid;
	int req;  /* to the holder */
	int resp; /* from the holder */
} holder;

/* The holder: owns the secret, serves requests until REQ_QUIT or EOF. */
static void holder_main(const mt_env *e, int req, int resp)
{
	secret_pieces s;
	char tok[160];

	if (pieces_alloc(&s) != 0 ||
	    mt_create_token(e, e->user, "secret-scan", tok, sizeof(tok)) != 0 ||
	    pieces_take(&s, tok) != 0) {
		explicit_bzero(tok, sizeof(tok));
		unsigned char no = 0;
		th_write_all(resp, &no, 1);
		_exit(1);
	}
	unsigned char yes = 1;
	th_write_all(resp, &yes, 1);
	for (;;) {
		unsigned char c;
		if (!th_read_all(req, &c, 1) || c == REQ_QUIT)
			_exit(0);
		if (c == REQ_TOKEN || c == REQ_PIECES) {
			/* length, then the text (or the four pieces). */
			size_t a = strlen(s.pub), k = strlen(s.check);
			unsigned char len = (unsigned char)(a + 2 * HALF + k);
			th_write_all(resp, &len, 1);
			th_write_all(resp, s.pub, a);
			th_write_all(resp, s.h1, HALF);
			th_write_all(resp, s.h2, HALF);
			th_write_all(resp, s.check, k);
		} else if (c == REQ_SCAN) {
			char label[128];
			unsigned char n;
			scan_result r;
			if (!th_read_all(req, &n, 1) || !th_read_all(req, label, n))
				_exit(1);
			label[n < sizeof(label) ? n : sizeof(label) - 1] = '\0';
			if (scan_memory(getppid(), label, &s, NULL, NULL, 0, &r) != 0)
				r.mappings = -1;
			th_write_all(resp, &r, sizeof(r));
		}
	}
}

static holder keeper = { -1, -1, -1 };

static int holder_start(const mt_env *e)
{
	int to[2], from[2];
	unsigned char ok = 0;

	if (pipe2(to, O_CLOEXEC) != 0 || pipe2(from, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(to[1]);
		close(from[0]);
		holder_main(e, to[0], from[1]);
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	/* With Yama's ptrace_scope=1 only a named tracer may read us. */
	prctl(PR_SET_PTRACER, (unsigned long)pid, 0, 0, 0);
	keeper.pid = pid;
	keeper.req = to[1];
	keeper.resp = from[0];
	if (!th_read_all(keeper.resp, &ok, 1) || !ok)
		return -1;
	return 0;
}

static void holder_stop(void)
{
	unsigned char q = REQ_QUIT;
	if (keeper.pid <= 0)
		return;
	th_write_all(keeper.req, &q, 1);
	close(keeper.req);
	close(keeper.resp);
	waitpid(keeper.pid, NULL, 0);
	keeper.pid = -1;
}

/* The token, read by the kernel straight into a new malloc'd buffer. */
static char *holder_token(void)
{
	unsigned char c = REQ_TOKEN, len;
	if (!th_write_all(keeper.req, &c, 1) || !th_read_all(keeper.resp, &len, 1))
		return NULL;
	char *t = malloc((size_t)len + 1);
	if (!t)
		return NULL;
	if (!th_read_all(keeper.resp, t, len)) {
		free(t);
		return NULL;
	}
	t[len] = '\0';
	return t;
}

/* The conversation's answer (th_conv.answer): the token straight from the
 * helper, never copied on its way to libpam. */
static char *holder_answer(void *arg)
{
	(void)arg;
	return holder_token();
}

static void scan_self(const char *label, bool expect_found)
{
	unsigned char c = REQ_SCAN, n = (unsigned char)strlen(label);
	scan_result r;

	if (!th_write_all(keeper.req, &c, 1) || !th_write_all(keeper.req, &n, 1) ||
	    !th_write_all(keeper.req, label, n) ||
	    !th_read_all(keeper.resp, &r, sizeof(r)) || r.mappings < 0) {
		th_report("FAIL", "%s: the helper could not read this process's "
				  "memory", label);
		return;
	}
	if (expect_found) {
		if (r.full > 0)
			th_report("PASS", "%s: the scanner finds a heap copy of the "
					  "token (%d found, %d mappings read)",
				  label, r.full, r.mappings);
		else
			th_report("FAIL", "%s: positive control: the scanner did not "
					  "find a heap copy of the token", label);
		return;
	}
	if (r.h1 == 0 && r.h2 == 0)
		th_report("PASS", "%s: no copy of the secret or any half of it in "
				  "%d writable mappings", label, r.mappings);
	else
		th_report("FAIL", "%s: secret left in memory: %d first halves, %d "
				  "second halves, %d whole", label, r.h1, r.h2,
			  r.full);
}

/* Positive control: a heap copy of the token must be found; then it is
 * wiped (explicit_bzero writes zeros: no secret passes a register). */
static void scan_control(void)
{
	char *copy = holder_token();

	if (!copy) {
		th_report("FAIL", "A0 control: no token from the helper");
		return;
	}
	scan_self("A0 control", true);
	explicit_bzero(copy, strlen(copy));
	free(copy);
}

static void part_a(const mt_env *e)
{
	th_conv answer = { .answer = holder_answer };
	struct pam_conv conv = { th_conversation, &answer };
	pam_handle_t *h = NULL;
	int rc;

	scan_control();
	scan_self("A0 before any login", false);
	rc = pam_start_confdir(MT_SERVICE, e->user, &conv, e->confdir, &h);
	if (rc != PAM_SUCCESS) {
		th_report("FAIL", "pam_start_confdir: %d", rc);
		return;
	}
	pam_set_item(h, PAM_RHOST, "192.0.2.10");
	rc = pam_authenticate(h, PAM_SILENT);
	if (rc != PAM_SUCCESS) {
		th_report("FAIL", "valid token refused: %s", pam_strerror(h, rc));
		pam_end(h, rc);
		return;
	}
	/* Linux-PAM's pam_authenticate clears PAM_AUTHTOK (_pam_sanitize,
	 * an overwriting pam_set_item(NULL)) before it returns. */
	scan_self("A1 accepted login, pam_authenticate returned", false);
	rc = pam_acct_mgmt(h, PAM_SILENT);
	if (rc != PAM_SUCCESS)
		th_report("FAIL", "account check: %s", pam_strerror(h, rc));
	pam_end(h, rc);
	scan_self("A2 accepted login, after pam_end", false);

	/* Several more logins: freed memory gets reused and re-freed. */
	for (int i = 0; i < 5; i++)
		mt_login(e, MT_SERVICE, e->user, &conv, "192.0.2.10", &rc);
	scan_self("A3 after 5 more accepted logins", false);

	if (e->other_user[0]) {
		rc = mt_login(e, MT_SERVICE, e->other_user, &conv, "192.0.2.10",
			      NULL);
		if (rc != PAM_AUTH_ERR)
			th_report("FAIL", "token accepted for another account: %d", rc);
		scan_self("A4 refused login (right token, other account)", false);
	}
	/* Through the "ignore" stack (module then pam_permit). */
	rc = mt_login(e, MT_SERVICE_PW, e->user, &conv, NULL, NULL);
	scan_self("A5 token through the password stack", false);
}

/* The pieces for part B (this process may hold the secret from now on). */
static int holder_pieces(secret_pieces *s)
{
	unsigned char c = REQ_PIECES, len;
	char tok[160];

	if (pieces_alloc(s) != 0 || !th_write_all(keeper.req, &c, 1) ||
	    !th_read_all(keeper.resp, &len, 1) || !th_read_all(keeper.resp, tok, len))
		return -1;
	tok[len] = '\0';
	return pieces_take(s, tok);
}

/* ---- B1: tokenadm is not dumpable ---- */

/* Wait until pid runs comm and sleeps (blocked on stdin). */
static bool wait_blocked(pid_t pid, const char *comm)
{
	char path[64], buf[512];
	int steady = 0;

	for (int i = 0; i < 500; i++) {
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		if (th_read_text(path, buf, sizeof(buf)) >= 0) {
			char *rp = strrchr(buf, ')');
			char want[64];
			snprintf(want, sizeof(want), "(%s)", comm);
			if (strstr(buf, want) && rp && rp[2] == 'S') {
				if (++steady >= 5)
					return true;
			} else {
				steady = 0;
			}
		}
		usleep(10000);
	}
	return false;
}

typedef struct probe_ids {
	uid_t uid;
	gid_t gid;
} probe_ids;

static void become(const probe_ids *p)
{
	if (getuid() == 0 && p->uid != 0 &&
	    (setgroups(0, NULL) != 0 || setgid(p->gid) != 0 ||
	     setuid(p->uid) != 0))
		_exit(126);
}

/* Start argv as the probe user with an unlimited core limit (if allowed),
 * cwd dir, stdin from a pipe we keep (*in_fd), stdout/stderr to /dev/null. */
static pid_t spawn(const probe_ids *p, char *const argv[], const char *dir,
		   int *in_fd)
{
	int in[2];

	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(in[0], 0);
		dup2(null, 1);
		dup2(null, 2);
		become(p);
		struct rlimit rl;
		if (getrlimit(RLIMIT_CORE, &rl) == 0) {
			rl.rlim_cur = rl.rlim_max;
			setrlimit(RLIMIT_CORE, &rl);
		}
		if (chdir(dir) != 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	*in_fd = in[1];
	return pid;
}

/* From a child running as the probe user: PTRACE_ATTACH to target.
 * Returns 0 attached (then detached), or the errno. */
static int attach_as(const probe_ids *p, pid_t target)
{
	int fds[2];

	if (pipe(fds) != 0)
		return EIO;
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		become(p);
		int err = 0;
		if (ptrace(PTRACE_ATTACH, target, NULL, NULL) != 0) {
			err = errno;
		} else {
			waitpid(target, NULL, __WALL);
			ptrace(PTRACE_DETACH, target, NULL, NULL);
		}
		if (write(fds[1], &err, sizeof(err)) != sizeof(err))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	int err = EIO;
	if (read(fds[0], &err, sizeof(err)) != sizeof(err))
		err = EIO;
	close(fds[0]);
	waitpid(pid, NULL, 0);
	return err;
}

/* Any "core" or "core.*" file in dir; remove says whether to delete them. */
static bool core_files(const char *dir, bool remove)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, "core", 4) != 0)
			continue;
		found = true;
		if (remove) {
			char path[700];
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			unlink(path);
		}
	}
	closedir(d);
	return found;
}

static void part_b1(const mt_env *e)
{
	probe_ids p = { getuid(), getgid() };
	char cwd[400], path[128], buf[4096];
	int in_fd;

	if (getuid() == 0) {
		p.uid = 65534;
		p.gid = 65534;
	}
	snprintf(cwd, sizeof(cwd), "%s/cwd", e->dir);
	if (mkdir(cwd, 0700) != 0 || chown(cwd, p.uid, p.gid) != 0) {
		th_report("FAIL", "B1 setup: %s: %s", cwd, strerror(errno));
		return;
	}
	const char *who = p.uid == 0 ? "root" : p.uid == 65534 ? "nobody" : e->user;

	/* Control: an ordinary process of the probe user. */
	char *sleeper[] = { "/bin/sleep", "30", NULL };
	pid_t ctl = spawn(&p, sleeper, cwd, &in_fd);
	bool ctl_ok = ctl > 0 && wait_blocked(ctl, "sleep");
	int ctl_attach = ctl_ok ? attach_as(&p, ctl) : EIO;
	int status = 0;
	if (ctl > 0) {
		kill(ctl, SIGABRT);
		waitpid(ctl, &status, 0);
		close(in_fd);
	}
	bool ctl_dumped = ctl_ok && WIFSIGNALED(status) && WCOREDUMP(status);
	core_files(cwd, true);

	/* tokenadm verify as the probe user, blocked on stdin. */
	char *argv[] = { (char *)e->tokenadm, "--config", (char *)e->conf,
			 "verify", "--user", (char *)who, NULL };
	pid_t pid = spawn(&p, argv, cwd, &in_fd);
	if (pid <= 0 || !wait_blocked(pid, "tokenadm")) {
		th_report("FAIL", "B1 tokenadm verify as %s did not block on stdin",
			  who);
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	if (th_read_text(path, buf, sizeof(buf)) >= 0) {
		char *l = strstr(buf, "Max core file size");
		char *q = l ? l + strlen("Max core file size") : NULL, *end = NULL;
		unsigned long soft = 1, hard = 1;
		if (q) {
			soft = strtoul(q, &end, 10);
			if (end != q)
				hard = strtoul(q = end, &end, 10);
		}
		if (l && end != q && soft == 0 && hard == 0)
			th_report("PASS", "B1 tokenadm: core file size limit 0/0 "
					  "(started with an unlimited one)");
		else
			th_report("FAIL", "B1 tokenadm: core limit not 0: %.60s",
				  l ? l : "(no line)");
	} else {
		th_report("FAIL", "B1 cannot read %s", path);
	}

	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (p.uid == 0) {
		th_report("SKIP", "B1 /proc ownership: the probe runs as root");
	} else if (stat(path, &st) == 0 && st.st_uid == 0) {
		th_report("PASS", "B1 tokenadm (uid %u) is not dumpable: its /proc "
				  "files belong to root", (unsigned)p.uid);
	} else {
		th_report("FAIL", "B1 tokenadm's /proc files belong to uid %u: it is "
				  "dumpable", (unsigned)st.st_uid);
	}

	int err = attach_as(&p, pid);
	if (ctl_attach != 0)
		th_report("SKIP", "B1 ptrace: control attach as %s failed (%s): "
				  "ptrace restricted here", who, strerror(ctl_attach));
	else if (err == EPERM)
		th_report("PASS", "B1 PTRACE_ATTACH as %s: EPERM (control process of "
				  "the same uid: attached)", who);
	else
		th_report("FAIL", "B1 PTRACE_ATTACH to tokenadm as %s: %s", who,
			  err ? strerror(err) : "attached");

	kill(pid, SIGABRT);
	waitpid(pid, &status, 0);
	close(in_fd);
	bool dumped = WIFSIGNALED(status) && WCOREDUMP(status);
	bool file = core_files(cwd, false);
	if (!ctl_dumped && !dumped && !file)
		th_report("SKIP", "B1 SIGABRT: the control process did not dump "
				  "core either (core_pattern/limits here)");
	else if (!dumped && !file)
		th_report("PASS", "B1 SIGABRT mid-read: no core dump (the control "
				  "process dumped one)");
	else
		th_report("FAIL", "B1 SIGABRT: tokenadm dumped core (%s)",
			  file ? "file written" : "WCOREDUMP");
	core_files(cwd, true);
}

/* ---- B2: tokenadm's memory at exit (root) ---- */

/* Run argv traced; feed stdin (may be -1: nothing); at PTRACE_EVENT_EXIT
 * call at_exit(pid). Returns the exit status or -1. */
static int run_traced(char *const argv[], const secret_pieces *feed,
		      int out_fd_child, void (*at_exit)(pid_t, void *),
		      void *ctx)
{
	int in[2];
	int status;

	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);
		dup2(in[0], 0);
		dup2(out_fd_child >= 0 ? out_fd_child : null, 1);
		dup2(null, 2);
		/* LeakSanitizer (in a sanitizer build) checks leaks at exit
		 * by ptrace-attaching to the process: we are its tracer, so it
		 * would fail. Leaks are scripts/valgrind-tests.sh's business. */
		const char *asan = getenv("ASAN_OPTIONS");
		char opts[512];
		snprintf(opts, sizeof(opts), "%s%sdetect_leaks=0", asan ? asan : "",
			 asan && *asan ? ":" : "");
		setenv("ASAN_OPTIONS", opts, 1);
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	if (out_fd_child >= 0)
		close(out_fd_child);
	/* The exec stop. */
	if (waitpid(pid, &status, 0) != pid || !WIFSTOPPED(status)) {
		close(in[1]);
		return -1;
	}
	ptrace(PTRACE_SETOPTIONS, pid, NULL,
	       (void *)(long)(PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL));
	ptrace(PTRACE_CONT, pid, NULL, NULL);
	if (feed)
		pieces_write(feed, in[1], true);
	close(in[1]);
	for (;;) {
		if (waitpid(pid, &status, 0) != pid)
			return -1;
		if (WIFEXITED(status))
			return WEXITSTATUS(status);
		if (WIFSIGNALED(status))
			return -1;
		if (WIFSTOPPED(status) &&
		    status >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
			at_exit(pid, ctx);
			ptrace(PTRACE_CONT, pid, NULL, NULL);
			continue;
		}
		int sig = WIFSTOPPED(status) ? WSTOPSIG(status) : 0;
		ptrace(PTRACE_CONT, pid, NULL, (void *)(long)(sig == SIGTRAP ? 0 : sig));
	}
}

typedef struct exit_scan {
	const char *label;
	const mt_env *e;
	const secret_pieces *s;
	int out_fd; /* read the new token from here first (create), or -1 */
	secret_pieces fresh;
	bool done;
} exit_scan;

static void scan_at_exit(pid_t pid, void *ctx)
{
	exit_scan *x = ctx;
	const secret_pieces *s = x->s;
	scan_result r;

	if (x->out_fd >= 0) {
		/* tokenadm create has printed its token by now. */
		char tok[160];
		ssize_t n = read(x->out_fd, tok, sizeof(tok) - 1);
		tok[n > 0 ? n : 0] = '\0';
		tok[strcspn(tok, "\r\n")] = '\0';
		if (pieces_alloc(&x->fresh) != 0 || pieces_take(&x->fresh, tok) != 0) {
			th_report("FAIL", "%s: no token on stdout", x->label);
			return;
		}
		s = &x->fresh;
	}
	x->done = true;
	if (scan_memory(pid, x->label, s, x->e->conf, NULL, 0, &r) != 0) {
		th_report("FAIL", "%s: cannot read the process's memory", x->label);
		return;
	}
	if (r.marker == 0) {
		th_report("FAIL", "%s: positive control: config path not found in "
				  "%d mappings: the scanner is blind", x->label,
			  r.mappings);
		return;
	}
	if (r.h1 == 0 && r.h2 == 0)
		th_report("PASS", "%s: at exit no copy of the secret or a half of it "
				  "(%d mappings; control string found %d times)",
			  x->label, r.mappings, r.marker);
	else
		th_report("FAIL", "%s: at exit the secret is still in memory: %d "
				  "first halves, %d second halves, %d whole",
			  x->label, r.h1, r.h2, r.full);
}

static void part_b2(const mt_env *e)
{
	if (getuid() != 0) {
		th_report("SKIP", "B2 scanning tokenadm's memory needs root");
		return;
	}
	/* verify: the token read from stdin. */
	char *verify[] = { (char *)e->tokenadm, "--config", (char *)e->conf,
			   "verify", "--user", (char *)e->user, NULL };
	exit_scan x = { "B2 tokenadm verify", e, &secret, -1, { 0 }, false };
	int rc = run_traced(verify, &secret, -1, scan_at_exit, &x);
	if (rc != 0)
		th_report("FAIL", "B2 tokenadm verify exited %d (token refused?)", rc);
	if (!x.done)
		th_report("FAIL", "B2 tokenadm verify: never stopped at exit");

	/* create: the token it made and printed. */
	int out[2];
	if (pipe2(out, O_CLOEXEC) != 0)
		return;
	char *create[] = { (char *)e->tokenadm, "--config", (char *)e->conf,
			   "create", "--name", "b2", NULL };
	exit_scan y = { "B2 tokenadm create", e, NULL, out[0], { 0 }, false };
	int wfd = dup(out[1]); /* not CLOEXEC: the child's stdout */
	close(out[1]);
	/* Never block at the exit stop if nothing was printed. */
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	rc = run_traced(create, NULL, wfd, scan_at_exit, &y);
	close(out[0]);
	if (rc != 0)
		th_report("FAIL", "B2 tokenadm create exited %d", rc);
	if (!y.done)
		th_report("FAIL", "B2 tokenadm create: never stopped at exit");
	if (!y.fresh.page)
		return;

	/* rotate: the new secret it made and printed. */
	char id[13];
	if (!y.fresh.pub)
		return;
	const char *u = strchr(y.fresh.pub, '_');
	snprintf(id, sizeof(id), "%.12s", u ? u + 1 : "");
	munmap(y.fresh.page, 4096);
	if (pipe2(out, O_CLOEXEC) != 0)
		return;
	char *rotate[] = { (char *)e->tokenadm, "--config", (char *)e->conf,
			   "rotate", id, NULL };
	exit_scan z = { "B2 tokenadm rotate", e, NULL, out[0], { 0 }, false };
	wfd = dup(out[1]);
	close(out[1]);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	rc = run_traced(rotate, NULL, wfd, scan_at_exit, &z);
	close(out[0]);
	if (rc != 0)
		th_report("FAIL", "B2 tokenadm rotate exited %d", rc);
	if (!z.done)
		th_report("FAIL", "B2 tokenadm rotate: never stopped at exit");
	if (z.fresh.page)
		munmap(z.fresh.page, 4096);
}

int main(void)
{
	mt_env env;
	int rc;

	setvbuf(stdout, NULL, _IOLBF, 0);
	rc = mt_init(&env, getuid() == 0);
	if (rc != 0)
		return rc;
	if (holder_start(&env) != 0) {
		fprintf(stderr, "cannot create the test token\n");
		holder_stop();
		mt_cleanup(&env);
		return 1;
	}

	part_a(&env);
	rc = holder_pieces(&secret);
	holder_stop();
	if (rc != 0) {
		th_report("FAIL", "no token pieces from the helper");
	} else {
		part_b1(&env);
		part_b2(&env);
	}

	mt_cleanup(&env);
	printf("%d passed, %d failed, %d skipped\n", th_count.pass,
	       th_count.fail, th_count.skip);
	if (th_count.fail)
		return 1;
	return th_count.pass ? 0 : MT_SKIP;
}
