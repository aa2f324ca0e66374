/* hard_logthrottle: log_success_interval through the real libpam.
 *
 * Web servers call PAM on every HTTP request, so a token's successes are
 * logged once per log_success_interval (default 1h), refusals always. The
 * throttle lives in the token's last-use record (<db>.lastused/<id>,
 * "ptklu2 <time> <client> <logged>"), shared by every thread and process
 * of every service. Checked here, with the module's syslog lines
 * captured (hard_common.c):
 *   - default config: of many successes with one token only the first is
 *     logged; a second token is logged on its own; every refusal of the
 *     throttled token is logged;
 *   - another process (this program exec'd anew, so nothing of this
 *     one's memory or of the module loaded here) sees the same record and
 *     logs nothing;
 *   - threads racing on a fresh record log at least once, then never;
 *   - a record whose logged time is over the interval old (the interval
 *     passed), a first-version record without one, and one dated in the
 *     future (clock set back) each let the next success be logged;
 *   - without the last-used directory every success is logged;
 *   - log_success_interval = 0 logs every success;
 *   - a success that cannot be kept on the handle (pam_set_data fails,
 *     made to here) is PAM_BUF_ERR with an error line, and does not count
 *     as logged: the next success is logged. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hard_common.h"

#define N_THREADS 8

static int failures;
static pthread_barrier_t barrier;
/* Set: pam_set_data refuses the module's verified token (below). */
static volatile int fail_set_data;
static const char *thread_confdir, *thread_tok;

static void expect(bool ok, const char *what, const char *log)
{
	printf("%s: %s\n", ok ? "PASS" : "FAIL", what);
	if (!ok) {
		failures++;
		printf("  log: %.1500s\n", log);
	}
}

/* Lines in the captured log holding both needles. */
static int count_lines(const char *a, const char *b)
{
	const char *p = hc_log_text();
	int n = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[4096];
		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		if (strstr(line, a) && strstr(line, b))
			n++;
		p += len + (nl ? 1 : 0);
	}
	return n;
}

static int accepted(const char *id)
{
	return count_lines("authentication accepted for user root;", id);
}

static int refused(const char *id)
{
	return count_lines("authentication failure;", id);
}

/* pam_set_data taken over (export_dynamic: the module binds to this):
 * with fail_set_data, storing the module's verified token fails as on
 * ENOMEM (libpam then calls no cleanup); everything else goes to libpam. */
__attribute__((visibility("default"))) int
pam_set_data(pam_handle_t *pamh, const char *name, void *data,
	     void (*cleanup)(pam_handle_t *, void *, int));

int pam_set_data(pam_handle_t *pamh, const char *name, void *data,
		 void (*cleanup)(pam_handle_t *, void *, int))
{
	int (*real)(pam_handle_t *, const char *, void *,
		    void (*)(pam_handle_t *, void *, int)) =
		(int (*)(pam_handle_t *, const char *, void *,
			 void (*)(pam_handle_t *, void *, int)))
			dlsym(RTLD_NEXT, "pam_set_data");

	if (fail_set_data && data && strcmp(name, "pam_apitoken_verified") == 0)
		return PAM_BUF_ERR;
	return real ? real(pamh, name, data, cleanup) : PAM_SYSTEM_ERR;
}

static void login_ok(const hc_site *s, const char *tok, const char *rhost)
{
	int rc = hc_auth_simple(s->confdir, "root", tok, rhost);
	if (rc != PAM_SUCCESS)
		hc_die("login with a valid token gave %s", th_pam_name(rc));
}

/* Replace the token's last-use record with text. */
static void put_record(const hc_site *s, const char *id, const char *text)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s.lastused/%s", s->db, id);
	unlink(path);
	hc_write_file(path, text, strlen(text), 0640);
}

static void *racer(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&barrier);
	if (hc_auth_simple(thread_confdir, "root", thread_tok, "10.9.9.9") !=
	    PAM_SUCCESS)
		hc_die("racing login refused");
	return NULL;
}

static void race(const hc_site *s, const char *tok)
{
	pthread_t th[N_THREADS];

	thread_confdir = s->confdir;
	thread_tok = tok;
	pthread_barrier_init(&barrier, NULL, N_THREADS);
	for (int k = 0; k < N_THREADS; k++)
		if (pthread_create(&th[k], NULL, racer, NULL) != 0)
			hc_die("pthread_create");
	for (int k = 0; k < N_THREADS; k++)
		pthread_join(th[k], NULL);
	pthread_barrier_destroy(&barrier);
}

/* hard_logthrottle --login CONFDIR TOKEN RHOST ID, run by main in a new
 * process: one login; exit status the number of accepted lines for ID, or
 * 100 if the login failed. */
static int login_child(char **argv)
{
	int rc = hc_auth_simple(argv[2], "root", argv[3], argv[4]);
	return rc != PAM_SUCCESS ? 100 : accepted(argv[5]);
}

int main(int argc, char **argv)
{
	hc_site site, zero;
	char dir[1024], tok1[HC_TOKEN_MAX], id1[13], tok2[HC_TOKEN_MAX], id2[13];
	char tok3[HC_TOKEN_MAX], id3[13], tokz[HC_TOKEN_MAX], idz[13];
	char text[256];

	if (argc == 6 && strcmp(argv[1], "--login") == 0) {
		hc_init("hard_logthrottle --login");
		return login_child(argv);
	}
	hc_init("hard_logthrottle");
	alarm(100);
	hc_disable_audit();
	char *top = hc_tmpdir("hard_logthrottle");

	/* The default interval (1h): no log_success_interval in the file. */
	snprintf(dir, sizeof(dir), "%s/site", top);
	mkdir(dir, 0755);
	hc_site_init(&site, dir, NULL);
	hc_create(&site, tok1, id1, "one", NULL);
	hc_create(&site, tok2, id2, "two", NULL);
	hc_create(&site, tok3, id3, "three", NULL);

	hc_log_clear();
	for (int i = 0; i < 5; i++)
		login_ok(&site, tok1, "192.0.2.10");
	expect(accepted(id1) == 1,
	       "default interval: 5 successes of one token, 1 accepted line",
	       hc_log_text());

	/* A wrong secret for the same token, throttled or not: every one
	 * logged. */
	char wrong[HC_TOKEN_MAX];
	hc_wrong_secret(tok1, wrong);
	hc_log_clear();
	for (int i = 0; i < 3; i++)
		if (hc_auth_simple(site.confdir, "root", wrong, "192.0.2.11") !=
		    PAM_AUTH_ERR)
			hc_die("a wrong secret was not refused");
	login_ok(&site, tok1, "192.0.2.10");
	expect(refused(id1) == 3 && accepted(id1) == 0,
	       "3 refusals of a throttled token: 3 failure lines; its next "
	       "success: none", hc_log_text());

	hc_log_clear();
	login_ok(&site, tok2, "192.0.2.12");
	login_ok(&site, tok2, "192.0.2.12");
	expect(accepted(id2) == 1 && accepted(id1) == 0,
	       "another token is throttled on its own: its first success "
	       "logged", hc_log_text());

	/* Another process reads the same record: nothing to log. A fresh
	 * program (a fork would share what this process and the module
	 * loaded in it hold in memory), so only the record can tell it. */
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char *const args[] = { argv[0], "--login", site.confdir, tok1,
				       "192.0.2.13", id1, NULL };
		execv("/proc/self/exe", args);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	expect(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "another process logs no success of a token logged here",
	       WIFEXITED(st) && WEXITSTATUS(st) == 100 ?
		       "(in the child: the login failed)" :
		       "(in the child: an accepted line, or it did not run)");

	/* The interval passed: the record says the last line is 3601 s old. */
	long long now = (long long)time(NULL);
	snprintf(text, sizeof(text), "ptklu2 %lld 192.0.2.10 %lld\n", now - 30,
		 now - 3601);
	put_record(&site, id1, text);
	hc_log_clear();
	login_ok(&site, tok1, "192.0.2.10");
	login_ok(&site, tok1, "192.0.2.10");
	expect(accepted(id1) == 1,
	       "logged time over the interval old: the next success is "
	       "logged, the one after not", hc_log_text());

	/* Just inside the interval: still quiet. */
	snprintf(text, sizeof(text), "ptklu2 %lld 192.0.2.10 %lld\n", now - 30,
		 now - 3500);
	put_record(&site, id1, text);
	hc_log_clear();
	login_ok(&site, tok1, "192.0.2.10");
	expect(accepted(id1) == 0, "logged time 3500 s old: not logged",
	       hc_log_text());

	/* A record of the first version knows no logged time. */
	snprintf(text, sizeof(text), "ptklu1 %lld 192.0.2.10\n", now - 5);
	put_record(&site, id1, text);
	hc_log_clear();
	login_ok(&site, tok1, "192.0.2.10");
	login_ok(&site, tok1, "192.0.2.10");
	expect(accepted(id1) == 1,
	       "first-version record: logged once, then throttled",
	       hc_log_text());

	/* A logged time in the future (clock set back) proves nothing. */
	snprintf(text, sizeof(text), "ptklu2 %lld 192.0.2.10 %lld\n", now - 5,
		 now + 86400);
	put_record(&site, id1, text);
	hc_log_clear();
	login_ok(&site, tok1, "192.0.2.10");
	expect(accepted(id1) == 1, "logged time in the future: logged",
	       hc_log_text());

	/* Threads of one process racing on a fresh record: at least one line
	 * (no success is lost from the log for good), and the record then
	 * silences the next burst. */
	hc_log_clear();
	race(&site, tok3);
	int first = accepted(id3);
	hc_log_clear();
	race(&site, tok3);
	int second = accepted(id3);
	char what[160];
	snprintf(what, sizeof(what),
		 "%d racing threads: %d accepted line(s) (1..%d), then %d", N_THREADS,
		 first, N_THREADS, second);
	expect(first >= 1 && first <= N_THREADS && second == 0, what,
	       hc_log_text());

	/* No last-used directory: nothing to throttle with, log it all. */
	char ludir[700], cmd[800];
	snprintf(ludir, sizeof(ludir), "%s.lastused", site.db);
	snprintf(cmd, sizeof(cmd), "%s.away", ludir);
	if (rename(ludir, cmd) != 0)
		hc_die("cannot move %s away", ludir);
	hc_log_clear();
	for (int i = 0; i < 3; i++)
		login_ok(&site, tok2, "192.0.2.14");
	expect(accepted(id2) == 3,
	       "without the last-used directory every success is logged",
	       hc_log_text());
	rename(cmd, ludir);

	/* The success cannot be kept on the handle: an error, logged, and
	 * not the logged success that would silence the next one. */
	char tok4[HC_TOKEN_MAX], id4[13];
	hc_create(&site, tok4, id4, "four", NULL);
	hc_log_clear();
	fail_set_data = 1;
	int rc = hc_auth_simple(site.confdir, "root", tok4, "192.0.2.16");
	fail_set_data = 0;
	expect(rc == PAM_BUF_ERR &&
		       count_lines("authentication error;", id4) == 1 &&
		       count_lines("reason=out of memory", id4) == 1 &&
		       accepted(id4) == 0,
	       "pam_set_data fails: PAM_BUF_ERR and one error line",
	       hc_log_text());
	hc_log_clear();
	login_ok(&site, tok4, "192.0.2.16");
	expect(accepted(id4) == 1,
	       "after that failure, the next success is logged", hc_log_text());

	/* log_success_interval = 0: every success. */
	snprintf(dir, sizeof(dir), "%s/zero", top);
	mkdir(dir, 0755);
	hc_site_init(&zero, dir, "log_success_interval = 0\n");
	hc_create(&zero, tokz, idz, "zero", NULL);
	hc_log_clear();
	for (int i = 0; i < 4; i++)
		login_ok(&zero, tokz, "192.0.2.15");
	expect(accepted(idz) == 4, "log_success_interval = 0: 4 of 4 logged",
	       hc_log_text());

	expect(hc_log_violations() == 0, "no log line holds a token",
	       hc_log_first_violation());
	printf("hard_logthrottle: %s\n", failures ? "FAILED" : "passed");
	hc_rmrf(top);
	free(top);
	return failures ? 1 : 0;
}
