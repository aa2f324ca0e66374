/* Module tests while logins run: sections 14 (last used) and 15 (threads
 * and forks, with tokenadm writing meanwhile). See test_module.c. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "module_common.h"

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

void test_lastused(const site *s, const profile *p)
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
	if (!th_check(rc == 0, "14 tokenadm list --json")) {
		show_errlog();
		return;
	}
	if (th_check(json_object_of(json, t.id, obj, sizeof(obj)),
		     "14 list shows the token")) {
		th_check(strstr(obj, "\"last_used\":null") == NULL &&
				 strstr(obj, "\"last_used\":\"") != NULL,
			 "14 last_used is a time: %s", obj);
		th_check(strstr(obj, "\"last_rhost\":\"192.0.2.7\"") != NULL,
			 "14 last_rhost is 192.0.2.7 (and not re-recorded "
			 "within the minute)");
	}
	if (th_check(json_object_of(json, l.id, obj, sizeof(obj)),
		     "14 list shows the local token"))
		th_check(strstr(obj, "\"last_used\":\"") != NULL &&
				 strstr(obj, "\"last_rhost\":\"local\"") !=
					 NULL,
			 "14 no PAM_RHOST recorded as local: %s", obj);
	if (th_check(json_object_of(json, n.id, obj, sizeof(obj)),
		     "14 list shows the unused token"))
		th_check(strstr(obj, "\"last_used\":null") != NULL &&
				 strstr(obj, "\"last_rhost\":null") != NULL,
			 "14 never used: last_used and last_rhost null");

	/* Recording is best effort: a login never fails because of it. */
	char moved[PATH_MAX + 16];
	snprintf(moved, sizeof(moved), "%s.moved", s->lastused);
	rename(s->lastused, moved);
	must_write(s->lastused, 0600, "not a directory\n");
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
	} else {
		th_skip("14 last-used folder read-only (root writes through "
			"mode 0500)");
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
		th_conv cs = { .password = pw };
		struct pam_conv conv = { th_conversation, &cs };
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
					 th_pam_name(rc), th_pam_name(want),
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

void test_concurrency(const profile *p)
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
	th_check(mismatches == 0,
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
	th_check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		 "15 forked child logs in correctly beside its parent (status "
		 "%d)", status);
	th_check(parent.mismatches == 0,
		 "15 parent logs in correctly beside a forked child%s%s",
		 parent.mismatches ? ": " : "", parent.first);
}
