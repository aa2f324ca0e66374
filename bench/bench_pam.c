/* bench_pam: drive real libpam in a loop and measure it.
 *
 * Each authentication is what a service does for one login: pam_start
 * (with a private service folder, pam_start_confdir), pam_set_item
 * (PAM_RHOST), pam_authenticate, pam_acct_mgmt (only after a successful
 * authentication, as services do) and pam_end. The conversation answers
 * the password prompt; passwords come from a file (never argv), one per
 * line, used in turn.
 *
 * --mode threads runs N threads in one process (Apache event MPM, the JVM);
 * --mode procs forks N processes (prefork servers, sshd). Every worker first
 * runs --warmup logins, then all start together and run for --seconds (or
 * --count logins in all). One JSON line on stdout reports logins/s, latency
 * percentiles (wall clock, and on-CPU time of the login's thread, which
 * leaves out preemption by other work on the machine) and CPU time per
 * login.
 *
 * Exit status: 0, 1 on a setup error, 3 if any login's result differed
 * from --expect: success (authentication and account management both
 * succeed), fail, any, or the PAM_* name pam_authenticate must return. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "harness.h"

#define N_RC 32 /* PAM_SUCCESS .. PAM_INCOMPLETE */

typedef enum {
	EXPECT_ANY,
	EXPECT_SUCCESS, /* authenticate and account both PAM_SUCCESS */
	EXPECT_FAIL,    /* anything else */
	EXPECT_RC,      /* pam_authenticate returns expect_rc */
} expect_kind;

static struct {
	const char *service_dir;
	const char *service;
	const char *user;
	const char *rhost;
	const char *label;
	bool procs;
	int workers;
	double seconds;
	long count;
	long warmup;
	expect_kind expect;
	int expect_rc;
	int flags;
	char **passwords;
	size_t n_passwords;
} opt = {
	.workers = 1,
	.warmup = 20,
	.label = "",
	.flags = PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK,
};

/* What one worker measured. Plain data: sent through a pipe by procs. */
typedef struct worker_stats {
	long n;             /* timed logins */
	long ok, failed;    /* final outcome: success / anything else */
	long mismatch;      /* outcome differed from --expect */
	long conv_msgs;     /* info/error messages the modules sent */
	int64_t cpu_ns;     /* user+system during the timed logins */
	int64_t end_ns;     /* CLOCK_MONOTONIC when the last login ended */
	int64_t first_ns;   /* latency of this worker's very first login */
	int last_auth_rc, last_acct_rc;
	/* Results: [0][rc] pam_authenticate, [1][rc] pam_acct_mgmt. */
	long rcs[2][N_RC];
} worker_stats;

typedef struct worker {
	int index;
	worker_stats st;
	uint64_t *lat;      /* ns per timed login, wall clock */
	uint64_t *cpu;      /* ns per timed login, on this thread's CPU */
	size_t cap;
	pthread_t thread;
	size_t next_pw;     /* the password the next login answers with */
	th_conv tc;         /* the conversation's state */
} worker;

static pthread_barrier_t barrier;
static int64_t deadline_ns; /* 0: run by count */
static long per_worker_count;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
						     noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("bench_pam: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static const char *const rc_names[N_RC] = {
	"PAM_SUCCESS", "PAM_OPEN_ERR", "PAM_SYMBOL_ERR", "PAM_SERVICE_ERR",
	"PAM_SYSTEM_ERR", "PAM_BUF_ERR", "PAM_PERM_DENIED", "PAM_AUTH_ERR",
	"PAM_CRED_INSUFFICIENT", "PAM_AUTHINFO_UNAVAIL", "PAM_USER_UNKNOWN",
	"PAM_MAXTRIES", "PAM_NEW_AUTHTOK_REQD", "PAM_ACCT_EXPIRED",
	"PAM_SESSION_ERR", "PAM_CRED_UNAVAIL", "PAM_CRED_EXPIRED",
	"PAM_CRED_ERR", "PAM_NO_MODULE_DATA", "PAM_CONV_ERR", "PAM_AUTHTOK_ERR",
	"PAM_AUTHTOK_RECOVERY_ERR", "PAM_AUTHTOK_LOCK_BUSY",
	"PAM_AUTHTOK_DISABLE_AGING", "PAM_TRY_AGAIN", "PAM_IGNORE", "PAM_ABORT",
	"PAM_AUTHTOK_EXPIRED", "PAM_MODULE_UNKNOWN", "PAM_BAD_ITEM",
	"PAM_CONV_AGAIN", "PAM_INCOMPLETE",
};

static const char *rc_name(int rc)
{
	return rc >= 0 && rc < N_RC ? rc_names[rc] : "unknown";
}

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t cpu_ns(int who)
{
	struct rusage ru;

	getrusage(who, &ru);
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000 +
	       ((int64_t)ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000;
}

/* One login. Returns true if it succeeded (authenticate and account). */
static bool login(worker *w, int *auth_rc, int *acct_rc)
{
	struct pam_conv pc = { th_conversation, &w->tc };
	pam_handle_t *pamh = NULL;
	int rc;

	*acct_rc = -1;
	w->tc.password = opt.passwords[w->next_pw];
	rc = pam_start_confdir(opt.service, opt.user, &pc, opt.service_dir,
			       &pamh);
	if (rc != PAM_SUCCESS) {
		*auth_rc = rc;
		return false;
	}
	if (opt.rhost)
		rc = pam_set_item(pamh, PAM_RHOST, opt.rhost);
	if (rc == PAM_SUCCESS)
		rc = pam_authenticate(pamh, opt.flags);
	*auth_rc = rc;
	if (rc == PAM_SUCCESS) {
		rc = pam_acct_mgmt(pamh, opt.flags);
		*acct_rc = rc;
	}
	pam_end(pamh, rc);
	w->next_pw = (w->next_pw + 1) % opt.n_passwords;
	return rc == PAM_SUCCESS;
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void record(worker *w, uint64_t ns, uint64_t cpu)
{
	if (w->st.n == (long)w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 65536;
		uint64_t *p = realloc(w->lat, cap * sizeof(*p));
		if (!p)
			die("%s", "out of memory");
		w->lat = p;
		p = realloc(w->cpu, cap * sizeof(*p));
		if (!p)
			die("%s", "out of memory");
		w->cpu = p;
		w->cap = cap;
	}
	w->lat[w->st.n] = ns;
	w->cpu[w->st.n++] = cpu;
}

static void run_warmup(worker *w)
{
	int arc, crc;

	/* Workers start on different passwords, so that with a list of
	 * tokens they do not all ask for the same one at once. */
	w->next_pw = ((size_t)w->index * opt.n_passwords) /
		     (size_t)(opt.workers > 0 ? opt.workers : 1);
	for (long i = 0; i < opt.warmup; i++) {
		int64_t t0 = mono_ns();
		login(w, &arc, &crc);
		if (i == 0)
			w->st.first_ns = mono_ns() - t0;
	}
}

static void run_timed(worker *w, int rusage_who)
{
	int arc = 0, crc = 0;
	int64_t cpu0 = cpu_ns(rusage_who);

	w->tc.messages = w->tc.unknown = 0;
	for (long i = 0;; i++) {
		if (deadline_ns ? mono_ns() >= deadline_ns : i >= per_worker_count)
			break;
		int64_t c0 = thread_cpu_ns(), t0 = mono_ns();
		bool ok = login(w, &arc, &crc);
		int64_t t1 = mono_ns();
		record(w, (uint64_t)(t1 - t0), (uint64_t)(thread_cpu_ns() - c0));
		if (arc >= 0 && arc < N_RC)
			w->st.rcs[0][arc]++;
		if (crc >= 0 && crc < N_RC)
			w->st.rcs[1][crc]++;
		if (ok)
			w->st.ok++;
		else
			w->st.failed++;
		if ((opt.expect == EXPECT_SUCCESS && !ok) ||
		    (opt.expect == EXPECT_FAIL && ok) ||
		    (opt.expect == EXPECT_RC && arc != opt.expect_rc))
			w->st.mismatch++;
	}
	w->st.end_ns = mono_ns();
	w->st.cpu_ns = cpu_ns(rusage_who) - cpu0;
	w->st.conv_msgs = w->tc.messages + w->tc.unknown;
	w->st.last_auth_rc = arc;
	w->st.last_acct_rc = crc;
}

static void *thread_main(void *arg)
{
	worker *w = arg;

	run_warmup(w);
	pthread_barrier_wait(&barrier); /* all warm */
	pthread_barrier_wait(&barrier); /* main set the deadline */
	run_timed(w, RUSAGE_THREAD);
	return NULL;
}

static int64_t run_threads(worker *ws)
{
	int64_t start;

	if (pthread_barrier_init(&barrier, NULL, (unsigned)opt.workers + 1))
		die("%s", "pthread_barrier_init failed");
	for (int i = 0; i < opt.workers; i++)
		if (pthread_create(&ws[i].thread, NULL, thread_main, &ws[i]))
			die("%s", "pthread_create failed");
	pthread_barrier_wait(&barrier);
	start = mono_ns();
	if (opt.seconds > 0)
		deadline_ns = start + (int64_t)(opt.seconds * 1e9);
	pthread_barrier_wait(&barrier);
	for (int i = 0; i < opt.workers; i++)
		pthread_join(ws[i].thread, NULL);
	return start;
}

/* Fork the workers one after another; each warms up, says it is ready,
 * waits for the start signal (the deadline), runs and sends back its
 * stats and latencies. */
static int64_t run_procs(worker *ws)
{
	int ready[2], go[2];
	int *res = calloc((size_t)opt.workers, sizeof(*res));
	pid_t *pids = calloc((size_t)opt.workers, sizeof(*pids));
	int64_t start;

	if (!res || !pids || pipe(ready) || pipe(go))
		die("%s", "pipe failed");
	fflush(NULL);
	for (int i = 0; i < opt.workers; i++) {
		int out[2];
		if (pipe(out))
			die("%s", "pipe failed");
		pid_t pid = fork();
		if (pid < 0)
			die("%s", "fork failed");
		if (pid == 0) {
			worker *w = &ws[i];
			char c = 'r';
			close(ready[0]);
			close(go[1]);
			close(out[0]);
			run_warmup(w);
			if (!th_write_all(ready[1], &c, 1) ||
			    !th_read_all(go[0], &deadline_ns, sizeof(deadline_ns)))
				_exit(1);
			run_timed(w, RUSAGE_SELF);
			if (!th_write_all(out[1], &w->st, sizeof(w->st)) ||
			    !th_write_all(out[1], w->lat,
				      (size_t)w->st.n * sizeof(*w->lat)) ||
			    !th_write_all(out[1], w->cpu,
				      (size_t)w->st.n * sizeof(*w->cpu)))
				_exit(1);
			_exit(0);
		}
		close(out[1]);
		res[i] = out[0];
		pids[i] = pid;
		/* One at a time: a worker is warm before the next starts. */
		char c;
		if (!th_read_all(ready[0], &c, 1))
			die("%s", "a worker failed during warm-up");
	}
	start = mono_ns();
	int64_t dl = opt.seconds > 0 ? start + (int64_t)(opt.seconds * 1e9) : 0;
	for (int i = 0; i < opt.workers; i++)
		if (!th_write_all(go[1], &dl, sizeof(dl)))
			die("%s", "cannot start the workers");
	for (int i = 0; i < opt.workers; i++) {
		worker *w = &ws[i];
		int status;
		if (!th_read_all(res[i], &w->st, sizeof(w->st)))
			die("%s", "a worker died");
		w->lat = malloc(((size_t)w->st.n + 1) * sizeof(*w->lat));
		w->cpu = malloc(((size_t)w->st.n + 1) * sizeof(*w->cpu));
		if (!w->lat || !w->cpu ||
		    !th_read_all(res[i], w->lat, (size_t)w->st.n * sizeof(*w->lat)) ||
		    !th_read_all(res[i], w->cpu, (size_t)w->st.n * sizeof(*w->cpu)))
			die("%s", "a worker died");
		close(res[i]);
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			die("%s", "a worker failed");
	}
	free(res);
	free(pids);
	return start;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v. */
static double pct_us(const uint64_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	if (k > n)
		k = n;
	return (double)v[k - 1] / 1000.0;
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void load_passwords(const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f)
		die("cannot open password file %s", path);
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		char **p = realloc(opt.passwords,
				   (opt.n_passwords + 1) * sizeof(*p));
		if (!p || !(p[opt.n_passwords] = strdup(line)))
			die("%s", "out of memory");
		opt.passwords = p;
		opt.n_passwords++;
	}
	free(line);
	fclose(f);
	if (opt.n_passwords == 0)
		die("password file %s is empty", path);
}

static void usage(void)
{
	fputs("usage: bench_pam --service-dir DIR --service NAME --user USER\n"
	      "                 --password-file FILE [--rhost ADDR]\n"
	      "                 [--mode threads|procs] [--workers N]\n"
	      "                 [--seconds S | --count N] [--warmup N]\n"
	      "                 [--expect success|fail|any|PAM_CODE] [--label TEXT]\n"
	      "                 [--flags 0]\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "service-dir", required_argument, NULL, 'd' },
		{ "service", required_argument, NULL, 's' },
		{ "user", required_argument, NULL, 'u' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "rhost", required_argument, NULL, 'r' },
		{ "mode", required_argument, NULL, 'm' },
		{ "workers", required_argument, NULL, 'w' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "count", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "expect", required_argument, NULL, 'e' },
		{ "label", required_argument, NULL, 'l' },
		{ "flags", required_argument, NULL, 'f' },
		{ 0 },
	};
	const char *pwfile = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': opt.service_dir = optarg; break;
		case 's': opt.service = optarg; break;
		case 'u': opt.user = optarg; break;
		case 'p': pwfile = optarg; break;
		case 'r': opt.rhost = optarg; break;
		case 'm':
			if (strcmp(optarg, "procs") == 0)
				opt.procs = true;
			else if (strcmp(optarg, "threads") != 0)
				usage();
			break;
		case 'w': opt.workers = atoi(optarg); break;
		case 'S': opt.seconds = strtod(optarg, NULL); break;
		case 'n': opt.count = strtol(optarg, NULL, 10); break;
		case 'W': opt.warmup = strtol(optarg, NULL, 10); break;
		case 'e':
			if (strcmp(optarg, "success") == 0)
				opt.expect = EXPECT_SUCCESS;
			else if (strcmp(optarg, "fail") == 0)
				opt.expect = EXPECT_FAIL;
			else if (strcmp(optarg, "any") == 0)
				opt.expect = EXPECT_ANY;
			else {
				opt.expect = EXPECT_RC;
				opt.expect_rc = -1;
				for (int r = 0; r < N_RC; r++)
					if (strcmp(optarg, rc_names[r]) == 0)
						opt.expect_rc = r;
				if (opt.expect_rc < 0)
					usage();
			}
			break;
		case 'l': opt.label = optarg; break;
		case 'f': opt.flags = atoi(optarg); break;
		default: usage();
		}
	}
	if (!opt.service_dir || !opt.service || !opt.user || !pwfile ||
	    optind != argc || opt.workers < 1 || opt.warmup < 1 ||
	    (opt.seconds > 0) == (opt.count > 0))
		usage();
	load_passwords(pwfile);
	per_worker_count = opt.count > 0 ?
		(opt.count + opt.workers - 1) / opt.workers : 0;

	worker *ws = calloc((size_t)opt.workers, sizeof(*ws));
	if (!ws)
		die("%s", "out of memory");
	for (int i = 0; i < opt.workers; i++)
		ws[i].index = i;

	int64_t start = opt.procs ? run_procs(ws) : run_threads(ws);

	/* Merge. */
	long n = 0, ok = 0, failed = 0, mismatch = 0, msgs = 0;
	long rcs[2][N_RC] = { { 0 } };
	int64_t cpu = 0, end = start;
	for (int i = 0; i < opt.workers; i++) {
		n += ws[i].st.n;
		ok += ws[i].st.ok;
		failed += ws[i].st.failed;
		mismatch += ws[i].st.mismatch;
		msgs += ws[i].st.conv_msgs;
		cpu += ws[i].st.cpu_ns;
		for (int step = 0; step < 2; step++)
			for (int r = 0; r < N_RC; r++)
				rcs[step][r] += ws[i].st.rcs[step][r];
		if (ws[i].st.end_ns > end)
			end = ws[i].st.end_ns;
	}
	uint64_t *all = malloc(((size_t)n + 1) * sizeof(*all));
	uint64_t *allcpu = malloc(((size_t)n + 1) * sizeof(*allcpu));
	if (!all || !allcpu)
		die("%s", "out of memory");
	size_t k = 0;
	for (int i = 0; i < opt.workers; i++) {
		memcpy(all + k, ws[i].lat, (size_t)ws[i].st.n * sizeof(*all));
		memcpy(allcpu + k, ws[i].cpu, (size_t)ws[i].st.n * sizeof(*all));
		k += (size_t)ws[i].st.n;
	}
	qsort(all, (size_t)n, sizeof(*all), cmp_u64);
	qsort(allcpu, (size_t)n, sizeof(*allcpu), cmp_u64);
	double wall = (double)(end - start) / 1e9;
	double sum = 0;
	for (long i = 0; i < n; i++)
		sum += (double)all[i];

	printf("{\"label\":");
	json_str(opt.label);
	printf(",\"service\":");
	json_str(opt.service);
	printf(",\"mode\":\"%s\",\"workers\":%d,\"auths\":%ld,"
	       "\"wall_s\":%.4f,\"auth_per_s\":%.1f,"
	       "\"mean_us\":%.2f,\"p50_us\":%.2f,\"p90_us\":%.2f,"
	       "\"p99_us\":%.2f,\"max_us\":%.2f,\"cpu_us_per_auth\":%.3f,"
	       "\"cpu_p50_us\":%.2f,\"cpu_p99_us\":%.2f,"
	       "\"ok\":%ld,\"failed\":%ld,\"mismatch\":%ld,\"conv_msgs\":%ld,"
	       "\"first_login_us\":%.1f,\"last_auth_rc\":",
	       opt.procs ? "procs" : "threads", opt.workers, n, wall,
	       wall > 0 ? (double)n / wall : 0.0,
	       n ? sum / (double)n / 1000.0 : 0.0, pct_us(all, (size_t)n, 50),
	       pct_us(all, (size_t)n, 90), pct_us(all, (size_t)n, 99),
	       n ? (double)all[n - 1] / 1000.0 : 0.0,
	       n ? (double)cpu / (double)n / 1000.0 : 0.0,
	       pct_us(allcpu, (size_t)n, 50), pct_us(allcpu, (size_t)n, 99),
	       ok, failed,
	       mismatch, msgs, (double)ws[0].st.first_ns / 1000.0);
	json_str(rc_name(ws[0].st.last_auth_rc));
	printf(",\"last_acct_rc\":");
	if (ws[0].st.last_acct_rc < 0)
		printf("null");
	else
		json_str(rc_name(ws[0].st.last_acct_rc));
	for (int step = 0; step < 2; step++) {
		const char *sep = "{";
		printf(",\"%s\":", step ? "acct_results" : "auth_results");
		for (int r = 0; r < N_RC; r++) {
			if (!rcs[step][r])
				continue;
			printf("%s\"%s\":%ld", sep, rc_names[r], rcs[step][r]);
			sep = ",";
		}
		printf("%s}", *sep == '{' ? "{" : "");
	}
	printf("}\n");
	fflush(stdout);

	for (int i = 0; i < opt.workers; i++) {
		free(ws[i].lat);
		free(ws[i].cpu);
	}
	free(ws);
	free(all);
	free(allcpu);
	for (size_t i = 0; i < opt.n_passwords; i++) {
		memset(opt.passwords[i], 0, strlen(opt.passwords[i]));
		free(opt.passwords[i]);
	}
	free(opt.passwords);
	return mismatch ? 3 : 0;
}
