/* hard_crash: kill -9 tokenadm in the middle of its writes.
 *
 * A crash of tokenadm at any point loses no committed token and leaves a
 * store the module can read (tokenadm(8), FILES: "a crash leaves the old
 * store or the new one, whole"). At least 200 times, `tokenadm
 * create` (and sometimes `tokenadm rotate --grace`) is started and sent
 * SIGKILL after a random delay, calibrated to how long a create takes
 * here so the kills land throughout the write (copy, GDBM changes, fsync,
 * rename, directory fsync). When strace is installed, more kills are
 * placed exactly at chosen system calls of the write (strace's syscall
 * fault injection with signal=KILL): before the copy, before each write,
 * before each fsync, before the rename, after it.
 *
 * After every kill: `tokenadm list --json` must succeed and parse, with no
 * integrity-check warning on stderr; the most recent committed tokens
 * authenticate through the module (libpam, pam_start_confdir, in this
 * process). Every 20 kills and at the end: every token whose create
 * returned (exit 0, token captured) authenticates, and a sample also
 * through `tokenadm verify`. Every successful write must leave no
 * <db>.tmp.* debris from the killed writers before it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hard_common.h"

extern char **environ;

#define MAX_TOKENS 4096

typedef struct token {
	char text[HC_TOKEN_MAX];     /* current secret (if known) */
	char old[HC_TOKEN_MAX];      /* secret before a rotation, in grace */
	char id[HC_ID_LEN + 1];
	bool rotated;                /* a rotate was started (once only) */
} token;

static hc_site site;
static token toks[MAX_TOKENS];
static int n_toks;
static long n_checked_module, n_checked_verify;
static int kills, kills_midwrite, kills_committed, kills_before,
	exits_before_kill, rotate_kills, strace_kills, good_writes;

/* "FAIL: ..."; gives up after 30. */
__attribute__((format(printf, 1, 2)))
static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	th_vreport("FAIL", fmt, ap);
	va_end(ap);
	if (th_count.fail > 30)
		hc_die("too many failures");
}

/* ---- a minimal JSON validator (RFC 8259 syntax) ---- */

typedef struct jp {
	const char *p;
	int depth;
} jp;

static void ws(jp *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static bool jvalue(jp *j);

static bool jstring(jp *j)
{
	if (*j->p != '"')
		return false;
	j->p++;
	while (*j->p && *j->p != '"') {
		unsigned char c = (unsigned char)*j->p;
		if (c < 0x20)
			return false;
		if (c == '\\') {
			j->p++;
			if (*j->p == 'u') {
				for (int i = 1; i <= 4; i++) {
					char h = j->p[i];
					if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
					      (h >= 'A' && h <= 'F')))
						return false;
				}
				j->p += 5;
				continue;
			}
			if (!strchr("\"\\/bfnrt", *j->p) || !*j->p)
				return false;
		}
		j->p++;
	}
	if (*j->p != '"')
		return false;
	j->p++;
	return true;
}

static bool jnumber(jp *j)
{
	const char *s = j->p;
	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (*j->p >= '1' && *j->p <= '9')
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	else
		return false;
	if (*j->p == '.') {
		j->p++;
		if (!(*j->p >= '0' && *j->p <= '9'))
			return false;
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (*j->p == 'e' || *j->p == 'E') {
		j->p++;
		if (*j->p == '+' || *j->p == '-')
			j->p++;
		if (!(*j->p >= '0' && *j->p <= '9'))
			return false;
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s;
}

static bool jvalue(jp *j)
{
	ws(j);
	if (++j->depth > 64)
		return false;
	bool ok = false;
	if (*j->p == '{') {
		j->p++;
		ws(j);
		if (*j->p == '}') {
			j->p++;
			ok = true;
		} else {
			for (;;) {
				ws(j);
				if (!jstring(j))
					break;
				ws(j);
				if (*j->p++ != ':')
					break;
				if (!jvalue(j))
					break;
				ws(j);
				if (*j->p == ',') {
					j->p++;
					continue;
				}
				if (*j->p == '}') {
					j->p++;
					ok = true;
				}
				break;
			}
		}
	} else if (*j->p == '[') {
		j->p++;
		ws(j);
		if (*j->p == ']') {
			j->p++;
			ok = true;
		} else {
			for (;;) {
				if (!jvalue(j))
					break;
				ws(j);
				if (*j->p == ',') {
					j->p++;
					continue;
				}
				if (*j->p == ']') {
					j->p++;
					ok = true;
				}
				break;
			}
		}
	} else if (*j->p == '"') {
		ok = jstring(j);
	} else if (strncmp(j->p, "true", 4) == 0) {
		j->p += 4;
		ok = true;
	} else if (strncmp(j->p, "false", 5) == 0) {
		j->p += 5;
		ok = true;
	} else if (strncmp(j->p, "null", 4) == 0) {
		j->p += 4;
		ok = true;
	} else {
		ok = jnumber(j);
	}
	j->depth--;
	return ok;
}

static bool json_valid(const char *text)
{
	jp j = { text, 0 };
	if (!jvalue(&j))
		return false;
	ws(&j);
	return *j.p == '\0';
}

/* ---- the store ---- */

static char *list_out;
static size_t list_cap = 1 << 22;

/* tokenadm list --json: must succeed, parse, warn of nothing. Returns the
 * number of entries. */
static int check_list(const char *when)
{
	char err[4096];
	char *argv[] = { (char *)hc_tokenadm_path, (char *)"--config", site.conf,
			 (char *)"list", (char *)"--all", (char *)"--json", NULL };
	int st = hc_run(argv, NULL, list_out, list_cap, err, sizeof(err), 60000);
	if (st != 0) {
		fail("%s: tokenadm list --json failed (status %d): %.300s", when,
		     st, err);
		return -1;
	}
	if (strstr(err, "integrity") || strstr(err, "skipping") ||
	    strstr(err, "corrupt"))
		fail("%s: tokenadm list warned: %.300s", when, err);
	if (!json_valid(list_out))
		fail("%s: tokenadm list --json is not valid JSON: %.200s", when,
		     list_out);
	int n = 0;
	for (const char *p = list_out; (p = strstr(p, "\"id\":")); p += 5)
		n++;
	return n;
}

static bool auth_ok(const char *tok)
{
	n_checked_module++;
	return hc_auth_simple(site.confdir, "root", tok, NULL) == PAM_SUCCESS;
}

static void check_token(const token *t, const char *when)
{
	if (t->text[0] && !auth_ok(t->text))
		fail("%s: committed token %s (current secret) refused", when, t->id);
	if (t->old[0] && !auth_ok(t->old))
		fail("%s: committed token %s (pre-rotation secret, in grace) "
		     "refused", when, t->id);
}

static void check_all(const char *when, bool with_tool)
{
	for (int i = 0; i < n_toks; i++)
		check_token(&toks[i], when);
	if (!with_tool)
		return;
	/* The tool's own read path (tokenadm verify) for a sample. */
	for (int k = 0; k < 8 && n_toks > 0; k++) {
		token *t = &toks[hc_rand() % (uint64_t)n_toks];
		const char *s = t->old[0] ? t->old : t->text;
		if (!s[0])
			continue;
		char in[200], out[512], err[1024];
		snprintf(in, sizeof(in), "%s\n", s);
		char *argv[] = { (char *)hc_tokenadm_path, (char *)"--config",
				 site.conf, (char *)"verify", (char *)"--user",
				 (char *)"root", NULL };
		int st = hc_run(argv, in, out, sizeof(out), err, sizeof(err), 60000);
		n_checked_verify++;
		if (st != 0)
			fail("%s: tokenadm verify refused committed token %s: %s%s",
			     when, t->id, out, err);
	}
}

static void spot_check(const char *when)
{
	for (int k = 0; k < 3 && k < n_toks; k++)
		check_token(&toks[n_toks - 1 - k], when);
	for (int k = 0; k < 2 && n_toks > 0; k++)
		check_token(&toks[hc_rand() % (uint64_t)n_toks], when);
}

/* ---- writers ---- */

typedef struct proc {
	pid_t pid;
	int out, err;
} proc;

static proc spawn(char *const argv[])
{
	int po[2], pe[2];
	posix_spawn_file_actions_t fa;
	proc p;
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC))
		hc_die("pipe");
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
	int rc = posix_spawn(&p.pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(po[1]);
	close(pe[1]);
	if (rc != 0)
		hc_die("spawn %s: %s", argv[0], strerror(rc));
	p.out = po[0];
	p.err = pe[0];
	return p;
}

/* After the process is gone: its output (small, still in the pipe). */
static void collect(proc *p, char *out, size_t outsz)
{
	size_t n = 0;
	for (;;) {
		ssize_t r = read(p->out, out + n, outsz - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n >= outsz - 1)
			break;
	}
	out[n] = '\0';
	char sink[4096];
	while (read(p->err, sink, sizeof(sink)) > 0)
		;
	close(p->out);
	close(p->err);
}

static void sleep_us(double us)
{
	struct timespec ts = { (time_t)(us / 1e6),
			       (long)((us - (double)(time_t)(us / 1e6) * 1e6) * 1000) };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void add_token(const char *text)
{
	if (n_toks >= MAX_TOKENS)
		return;
	token *t = &toks[n_toks++];
	memset(t, 0, sizeof(*t));
	snprintf(t->text, sizeof(t->text), "%.100s", text);
	hc_token_id(t->text, t->id);
}

static char *const *create_argv(void)
{
	static char *argv[12];
	argv[0] = (char *)hc_tokenadm_path;
	argv[1] = (char *)"--config";
	argv[2] = site.conf;
	argv[3] = (char *)"create";
	argv[4] = (char *)"--name";
	argv[5] = (char *)"crash";
	argv[6] = (char *)"--expires";
	argv[7] = (char *)"never";
	argv[8] = NULL;
	return argv;
}

/* One uninterrupted create: must succeed and leave no debris. */
static void good_write(const char *when)
{
	char out[512], err[2048];
	int tmp_before = (int)th_count_tmp(site.db);
	int st = hc_run(create_argv(), NULL, out, sizeof(out), err, sizeof(err),
			60000);
	good_writes++;
	if (st != 0) {
		fail("%s: a create after kills failed (status %d): %.300s", when,
		     st, err);
		return;
	}
	out[strcspn(out, "\n")] = '\0';
	add_token(out);
	int tmp_after = (int)th_count_tmp(site.db);
	if (tmp_after != 0)
		fail("%s: %d temporary file(s) left after a successful write "
		     "(%d before it)", when, tmp_after, tmp_before);
	check_token(&toks[n_toks - 1], when);
}

typedef struct kill_result {
	bool exited;    /* finished before the kill */
	int status;
	char out[512];
} kill_result;

static void run_and_kill(char *const argv[], double delay_us, kill_result *r)
{
	proc p = spawn(argv);
	int st = 0;
	pid_t w;
	if (delay_us < 0) {
		/* strace places the kill itself: wait for the end. */
		while ((w = waitpid(p.pid, &st, 0)) < 0 && errno == EINTR)
			;
	} else {
		sleep_us(delay_us);
		w = waitpid(p.pid, &st, WNOHANG);
	}
	r->exited = w == p.pid;
	if (!r->exited) {
		kill(p.pid, SIGKILL);
		while (waitpid(p.pid, &st, 0) < 0 && errno == EINTR)
			;
	}
	r->status = st;
	collect(&p, r->out, sizeof(r->out));
}

static int last_count;

/* After a kill (or an early exit): account for it and check the store. */
static void after(kill_result *r, bool is_rotate, token *rot, const char *when)
{
	bool completed = WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0;
	int tmp = (int)th_count_tmp(site.db);

	if (WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGKILL) {
		kills++;
		if (tmp > 0)
			kills_midwrite++;
		if (is_rotate)
			rotate_kills++;
	} else if (completed) {
		exits_before_kill++;
	} else if (!WIFSIGNALED(r->status)) {
		fail("%s: tokenadm exited %d on its own", when,
		     WEXITSTATUS(r->status));
	} else {
		fail("%s: tokenadm died of signal %d", when, WTERMSIG(r->status));
	}
	r->out[strcspn(r->out, "\n")] = '\0';
	if (completed && strncmp(r->out, "ptk_", 4) == 0) {
		if (is_rotate) {
			snprintf(rot->text, sizeof(rot->text), "%.100s", r->out);
		} else {
			add_token(r->out);
		}
	} else if (completed) {
		fail("%s: exit 0 without a token on stdout", when);
	} else if (is_rotate) {
		/* Killed: the rotation may or may not have committed; the old
		 * secret works either way (grace), the new one is unknown. */
		rot->text[0] = '\0';
	}
	int n = check_list(when);
	if (n >= 0) {
		if (n < last_count)
			fail("%s: the store lost entries (%d, was %d)", when, n,
			     last_count);
		if (n > last_count + (completed ? 1 : 0) &&
		    WIFSIGNALED(r->status) && !is_rotate)
			kills_committed++; /* killed after its commit */
		if (n == last_count && WIFSIGNALED(r->status) && !is_rotate &&
		    tmp == 0)
			kills_before++;
		last_count = n;
	}
	spot_check(when);
}

static token *pick_unrotated(void)
{
	for (int tries = 0; tries < 50 && n_toks > 0; tries++) {
		token *t = &toks[hc_rand() % (uint64_t)n_toks];
		if (!t->rotated && t->text[0])
			return t;
	}
	return NULL;
}

static void one_kill(double delay_us, const char *const *prefix_argv)
{
	char when[64];
	kill_result r;
	token *rot = NULL;
	char *argv[40];
	int n = 0;

	snprintf(when, sizeof(when), "kill %d", kills + exits_before_kill + 1);
	if (prefix_argv)
		for (; prefix_argv[n]; n++)
			argv[n] = (char *)prefix_argv[n];
	bool rotate = !prefix_argv && hc_rand() % 5 == 0 && (rot = pick_unrotated());
	if (rotate) {
		rot->rotated = true;
		snprintf(rot->old, sizeof(rot->old), "%s", rot->text);
		argv[n++] = (char *)hc_tokenadm_path;
		argv[n++] = (char *)"--config";
		argv[n++] = site.conf;
		argv[n++] = (char *)"rotate";
		argv[n++] = rot->id;
		argv[n++] = (char *)"--grace";
		argv[n++] = (char *)"2d";
		argv[n] = NULL;
	} else {
		char *const *c = create_argv();
		for (int i = 0; c[i]; i++)
			argv[n++] = c[i];
		argv[n] = NULL;
	}
	run_and_kill(argv, delay_us, &r);
	after(&r, rotate, rot, when);
	if ((kills + exits_before_kill) % 10 == 0)
		good_write(when);
	if ((kills + exits_before_kill) % 20 == 0)
		check_all(when, true);
}

static double time_run(char *const argv[], const char *in)
{
	double t = hc_now();
	char out[512], err[2048];
	int st = hc_run(argv, in, out, sizeof(out), err, sizeof(err), 60000);
	double d = hc_now() - t;
	if (st != 0)
		hc_die("calibration run failed (status %d): %s", st, err);
	if (strncmp(out, "ptk_", 4) == 0) {
		out[strcspn(out, "\n")] = '\0';
		add_token(out);
	}
	return d * 1e6;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static const char *find_strace(void)
{
	static const char *where[] = { "/usr/bin/strace", "/bin/strace",
				       "/usr/local/bin/strace" };
	if (getenv("HARD_NO_STRACE"))
		return NULL;
	for (size_t i = 0; i < sizeof(where) / sizeof(*where); i++)
		if (access(where[i], X_OK) == 0)
			return where[i];
	return NULL;
}

int main(void)
{
	char dir[1024];

	hc_init("hard_crash");
	alarm(HC_ASAN ? 400 : 200);
	hc_log_keep(false);
	list_out = malloc(list_cap);
	char *top = hc_tmpdir("hard_crash");
	snprintf(dir, sizeof(dir), "%s/site", top);
	mkdir(dir, 0755);
	hc_site_init(&site, dir, NULL);

	/* Pad the store so the copy and the GDBM work are not trivial. */
	int pad = HC_ASAN ? 60 : 200;
	double t0 = hc_now();
	for (int i = 0; i < pad; i++) {
		char tok[HC_TOKEN_MAX], id[13];
		hc_create(&site, tok, id, "pad", NULL);
		add_token(tok);
	}
	printf("padded the store with %d tokens in %.1f s\n", pad, hc_now() - t0);

	/* Calibrate: a full create, and a run that does the same start-up
	 * (config, key, store) without writing. */
	double dc[9], dv[9];
	char in[200];
	snprintf(in, sizeof(in), "%s\n", toks[0].text);
	char *vargv[] = { (char *)hc_tokenadm_path, (char *)"--config", site.conf,
			  (char *)"verify", (char *)"--user", (char *)"root", NULL };
	for (int i = 0; i < 9; i++) {
		dc[i] = time_run(create_argv(), NULL);
		dv[i] = time_run(vargv, in);
	}
	qsort(dc, 9, sizeof(double), cmp_d);
	qsort(dv, 9, sizeof(double), cmp_d);
	double d_create = dc[4], d_start = dv[4];
	if (d_start > d_create * 0.9)
		d_start = d_create * 0.5;
	printf("calibration: create %.0f us, start-up without a write %.0f us "
	       "(medians of 9)\n", d_create, d_start);
	last_count = check_list("start");
	check_all("start", true);

	/* Random-time kills: a third anywhere in [0, 1.1 x create], the rest
	 * in the window after start-up, where the write happens. */
	int target = 200 + (HC_ASAN ? 0 : 40);
	while (kills < target) {
		double delay = hc_rand() % 3 == 0 ?
			(double)(hc_rand() % 1000) / 1000.0 * d_create * 1.1 :
			d_start * 0.8 + (double)(hc_rand() % 1000) / 1000.0 *
						(d_create * 0.95 - d_start * 0.8);
		one_kill(delay, NULL);
		if (kills + exits_before_kill > target * 6)
			hc_die("kills do not land: %d kills in %d runs", kills,
			       kills + exits_before_kill);
	}
	int timed_kills = kills;

	/* Kills placed at chosen system calls of the write (strace). */
	const char *strace = find_strace();
	if (strace) {
		static const char *points[] = {
			"flock:1", "copy_file_range:1", "lseek:3", "write:1",
			"write:2", "write:3", "fsync:1", "fsync:2", "fsync:3",
			"renameat:1", "fsync:4", "write:4", "write:6",
		};
		int reps = HC_ASAN ? 1 : 3;
		for (size_t i = 0; i < sizeof(points) / sizeof(*points); i++)
			for (int r = 0; r < reps; r++) {
				char sc[32], trace[64], inject[96];
				snprintf(sc, sizeof(sc), "%s", points[i]);
				char *colon = strchr(sc, ':');
				*colon = '\0';
				snprintf(trace, sizeof(trace), "trace=%s", sc);
				snprintf(inject, sizeof(inject),
					 "inject=%s:signal=SIGKILL:when=%s", sc,
					 colon + 1);
				const char *pre[] = { strace, "-qq", "-o", "/dev/null",
						      "-e", trace, "-e", inject, NULL };
				int k0 = kills;
				one_kill(-1, pre);
				strace_kills += kills - k0;
			}
	} else {
		printf("NOTE: strace not found: no syscall-placed kills\n");
	}

	/* Final: one more write must clean up and everything must verify. */
	good_write("final");
	if (th_count_tmp(site.db) != 0)
		fail("final: temporary files remain after the final write");
	int n = check_list("final");
	check_all("final", true);
	int missing = 0;
	for (int i = 0; i < n_toks; i++) {
		char want[40];
		snprintf(want, sizeof(want), "\"id\":\"%s\"", toks[i].id);
		if (!strstr(list_out, want))
			missing++;
	}
	if (missing)
		fail("final: %d committed token ids missing from list --json",
		     missing);

	printf("hard_crash: %d kills survived (%d at random times, %d at chosen "
	       "syscalls; %d of them rotations), %d landed mid-write (temp file "
	       "left), %d after the commit, %d before the write began; %d runs "
	       "finished before their kill; %d clean writes; %d committed "
	       "tokens, %d store entries; checks: %ld through the module, %ld "
	       "through tokenadm verify; %d failures\n",
	       kills, timed_kills, strace_kills, rotate_kills, kills_midwrite,
	       kills_committed, kills_before, exits_before_kill, good_writes,
	       n_toks, n, n_checked_module, n_checked_verify, th_count.fail);
	hc_rmrf(top);
	free(top);
	free(list_out);
	return th_count.fail ? 1 : 0;
}
