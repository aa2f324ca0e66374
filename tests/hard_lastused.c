/* hard_lastused: the last-used record under a threaded host.
 *
 * pam_apitoken(8), LAST-USED RECORDING: the module records when and from
 * where each token was last used, best effort; and it must be safe for
 * threaded hosts. Here 8 threads of
 * one process (Apache's event MPM, a JVM) log in with the same token at
 * the same instant, each from its own address, many times over; before
 * each burst the token's record file (<db>.lastused/<id>) is removed so
 * that every thread finds it due. After each burst the file must hold
 * exactly one whole record, "ptklu2 <time> <address> <logged>\n", naming one of
 * the addresses used -- never a mix of two threads' writes, which the
 * reader rejects, so `tokenadm list` would show the token as never used.
 * At the end `tokenadm list --json` must show last_used and last_rhost. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hard_common.h"

#define N_THREADS 8

static hc_site site;
static char tok[HC_TOKEN_MAX], id[13];
static pthread_barrier_t barrier;
static int bursts;
static volatile int stop_flag;
static int wrong_logins;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Addresses of different lengths, so interleaved writes show. */
static const char *rhosts[N_THREADS] = {
	"10.0.0.1", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", "10.0.0.2",
	"2001:db8::1234:5678:9abc:def0", "1.2.3.4", "::1", "10.11.12.13",
	"fe80::1",
};
static char canon[N_THREADS][INET6_ADDRSTRLEN];

static void *thread_main(void *arg)
{
	long k = (long)arg;

	for (;;) {
		pthread_barrier_wait(&barrier);
		if (stop_flag)
			break;
		int rc = hc_auth_simple(site.confdir, "root", tok, rhosts[k]);
		if (rc != PAM_SUCCESS) {
			pthread_mutex_lock(&lock);
			wrong_logins++;
			pthread_mutex_unlock(&lock);
		}
		pthread_barrier_wait(&barrier);
	}
	return NULL;
}

/* One whole record naming one of our addresses? */
static bool record_ok(const char *text, size_t len)
{
	long long when;
	char word[128];
	int used = 0;

	if (len == 0 || len >= 128 || text[len - 1] != '\n' ||
	    memchr(text, '\n', len) != text + len - 1)
		return false;
	long long logged;
	if (sscanf(text, "ptklu2 %lld %127s %lld%n", &when, word, &logged,
		   &used) != 3 ||
	    (size_t)used != len - 1 || when <= 0 || logged <= 0)
		return false;
	for (int k = 0; k < N_THREADS; k++)
		if (strcmp(word, canon[k]) == 0 || strcmp(word, rhosts[k]) == 0)
			return true;
	return false;
}

int main(void)
{
	char dir[1024], path[1400];
	pthread_t th[N_THREADS];
	int torn = 0, missing = 0;

	hc_init("hard_lastused");
	alarm(120);
	hc_disable_audit();
	hc_log_keep(false);
	for (int k = 0; k < N_THREADS; k++) {
		unsigned char a[16];
		int af = strchr(rhosts[k], ':') ? AF_INET6 : AF_INET;
		if (inet_pton(af, rhosts[k], a) != 1 ||
		    !inet_ntop(af, a, canon[k], sizeof(canon[k])))
			hc_die("bad address %s", rhosts[k]);
	}
	char *top = hc_tmpdir("hard_lastused");
	snprintf(dir, sizeof(dir), "%s/site", top);
	mkdir(dir, 0755);
	hc_site_init(&site, dir, NULL);
	hc_create(&site, tok, id, "lastused", NULL);
	snprintf(path, sizeof(path), "%s.lastused/%s", site.db, id);

	/* Bursts for a fixed time: a torn record needs two threads to
	 * interleave within a few system calls, so give it room. */
	double budget = HC_ASAN ? 4.0 : 3.0, end = hc_now() + budget;
	pthread_barrier_init(&barrier, NULL, N_THREADS + 1);
	for (long k = 0; k < N_THREADS; k++)
		if (pthread_create(&th[k], NULL, thread_main, (void *)k) != 0)
			hc_die("pthread_create");
	for (int i = 0;; i++) {
		if (hc_now() > end)
			stop_flag = 1;
		else
			unlink(path);
		pthread_barrier_wait(&barrier);
		if (stop_flag)
			break;
		bursts++;
		pthread_barrier_wait(&barrier);
		size_t len;
		char *text = th_read_file(path, &len);
		if (!text) {
			missing++;
			continue;
		}
		if (!record_ok(text, len)) {
			if (torn++ < 3) {
				printf("FAIL: burst %d: the last-used record is not one "
				       "whole line: \"", i);
				for (size_t j = 0; j < len; j++)
					putchar(text[j] == '\n' ? '|' : text[j]);
				printf("\"\n");
			}
		}
		free(text);
	}
	for (int k = 0; k < N_THREADS; k++)
		pthread_join(th[k], NULL);

	/* What an administrator sees. */
	static char out[65536];
	char err[2048];
	int st = hc_tokenadm(&site, out, sizeof(out), err, sizeof(err), "list",
			     "--json", NULL);
	bool shown = st == 0 && strstr(out, "\"last_used\":\"") &&
		     strstr(out, "\"last_rhost\":\"");
	if (!shown)
		printf("FAIL: after the last burst tokenadm list --json shows no "
		       "last use: %.300s\n", out);

	printf("hard_lastused: %d bursts of %d simultaneous logins (%d wrong), "
	       "%d torn records, %d missing records; last use %s by tokenadm "
	       "list\n",
	       bursts, N_THREADS, wrong_logins, torn, missing,
	       shown ? "shown" : "NOT shown");
	hc_rmrf(top);
	free(top);
	return (torn || missing || wrong_logins || !shown) ? 1 : 0;
}
