/* Benchmark: does the time a refusal takes tell an attacker why?
 *
 * Through the real libpam (pam_start_confdir) with the module loaded, times
 * pam_authenticate for three kinds of refused token, interleaved in random
 * order so drift and caches hit all three alike:
 *   unknown   a well-formed token whose id is not in the store;
 *   wrong     the id of a real token with a wrong secret;
 *   foreign   another user's real token, correct secret (refused, and its
 *             owner must not show: pam_apitoken(8), PAM RETURN VALUES).
 * Each kind draws from a pool (random ids, random secrets for 10 real ids,
 * 10 real tokens of the other account), so none hits one record only.
 * Prints median, p10, p90 and spread per kind, then for each pair a
 * Mann-Whitney U test (normal approximation, ties corrected) and a verdict.
 *
 * Not a test: timings on shared machines vary, so nothing here fails a
 * build. `meson test --benchmark timing_refusals`, or run it directly.
 * Environment: PAM_APITOKEN_SO, TOKENADM; TIMING_N (samples per kind,
 * default 5000); TIMING_ACCEPTED=1 also times accepted logins (info). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "harness.h"
#include "mem_common.h"

enum { K_UNKNOWN, K_WRONG, K_FOREIGN, K_ACCEPTED, N_KINDS };
static const char *const kind_name[N_KINDS] = { "unknown id", "wrong secret",
						"other user's", "accepted" };
#define POOL 64
#define MINE 10 /* real tokens per account */

static mt_env env;

static uint64_t rnd(void)
{
	uint64_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != sizeof(v)) {
		perror("getrandom");
		exit(1);
	}
	return v;
}

static void random_base62(char *out, size_t n)
{
	static const char d[] = TH_B62;
	for (size_t i = 0; i < n; i++)
		out[i] = d[rnd() % 62];
	out[n] = '\0';
}

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* One pam_authenticate, timed alone (pam_start/pam_end outside). */
static double timed_login(const char *pw, int want)
{
	th_conv answer = { .password = pw };
	struct pam_conv conv = { th_conversation, &answer };
	pam_handle_t *h = NULL;

	if (pam_start_confdir(MT_SERVICE, env.user, &conv, env.confdir, &h) !=
	    PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir failed\n");
		exit(1);
	}
	pam_set_item(h, PAM_RHOST, "192.0.2.77");
	double t0 = now_ns();
	int rc = pam_authenticate(h, PAM_SILENT);
	double t1 = now_ns();
	pam_end(h, rc);
	if (rc != want) {
		fprintf(stderr, "unexpected result %d (want %d)\n", rc, want);
		exit(1);
	}
	return t1 - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double quantile(const double *sorted, size_t n, double q)
{
	double pos = q * (double)(n - 1);
	size_t i = (size_t)pos;
	double f = pos - (double)i;
	return i + 1 < n ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

typedef struct sample {
	double v;
	int group;
} sample;

static int cmp_sample(const void *a, const void *b)
{
	return cmp_double(&((const sample *)a)->v, &((const sample *)b)->v);
}

/* Mann-Whitney U of x against y: z score (positive: x tends larger) and
 * the common-language effect size P(x > y). */
static void mann_whitney(const double *x, size_t nx, const double *y,
			 size_t ny, double *z, double *auc)
{
	size_t n = nx + ny;
	sample *s = malloc(n * sizeof(*s));
	if (!s)
		exit(1);
	for (size_t i = 0; i < nx; i++)
		s[i] = (sample){ x[i], 0 };
	for (size_t i = 0; i < ny; i++)
		s[nx + i] = (sample){ y[i], 1 };
	qsort(s, n, sizeof(*s), cmp_sample);
	double rank_x = 0, tie_term = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && s[j + 1].v == s[i].v)
			j++;
		double r = ((double)i + (double)j) / 2 + 1; /* average rank */
		double t = (double)(j - i + 1);
		tie_term += t * t * t - t;
		for (size_t k = i; k <= j; k++)
			if (s[k].group == 0)
				rank_x += r;
		i = j + 1;
	}
	free(s);
	double u = rank_x - (double)nx * ((double)nx + 1) / 2;
	double mu = (double)nx * (double)ny / 2;
	double sigma = sqrt((double)nx * (double)ny / 12 *
			    ((double)n + 1 - tie_term / ((double)n * ((double)n - 1))));
	*z = sigma > 0 ? (u - mu) / sigma : 0;
	*auc = u / ((double)nx * (double)ny);
}

int main(void)
{
	char mine[MINE][128], theirs[MINE][128], id[13];
	char pool_unknown[POOL][80], pool_wrong[POOL][80];
	const char *n_env = getenv("TIMING_N");
	size_t n = n_env ? (size_t)strtoul(n_env, NULL, 10) : 5000;
	bool with_accepted = getenv("TIMING_ACCEPTED") != NULL;
	int kinds = with_accepted ? N_KINDS : K_ACCEPTED;

	if (n < 20)
		n = 20;
	int rc = mt_init(&env, false);
	if (rc != 0)
		return rc;
	if (!env.other_user[0]) {
		fprintf(stderr, "no second account to own a foreign token\n");
		mt_cleanup(&env);
		return MT_SKIP;
	}
	/* Several real tokens per account, so no kind hits a single record
	 * (and its cache lines) every time. */
	for (int i = 0; i < MINE; i++) {
		char name[32];
		snprintf(name, sizeof(name), "timing-%d", i);
		if (mt_create_token(&env, env.user, name, mine[i],
				    sizeof(mine[i])) != 0 ||
		    mt_create_token(&env, env.other_user, name, theirs[i],
				    sizeof(theirs[i])) != 0) {
			mt_cleanup(&env);
			return 1;
		}
	}
	for (int i = 0; i < POOL; i++) {
		char rid[13], sec[33];
		const char *u = strchr(mine[i % MINE], '_');
		snprintf(id, sizeof(id), "%.12s", u + 1);
		random_base62(rid, 12);
		random_base62(sec, 32);
		th_token_text(pool_unknown[i], sizeof(pool_unknown[i]), "ptk",
			      rid, sec);
		random_base62(sec, 32);
		th_token_text(pool_wrong[i], sizeof(pool_wrong[i]), "ptk", id,
			      sec);
	}

	size_t total = n * (size_t)kinds;
	int *order = malloc(total * sizeof(*order));
	double *t[N_KINDS];
	size_t cnt[N_KINDS] = { 0 };
	for (int k = 0; k < N_KINDS; k++)
		t[k] = malloc(n * sizeof(double));
	if (!order || !t[0] || !t[1] || !t[2] || !t[3])
		return 1;
	for (size_t i = 0; i < total; i++)
		order[i] = (int)(i % (size_t)kinds);
	for (size_t i = total - 1; i > 0; i--) {
		size_t j = rnd() % (i + 1);
		int tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}

	/* Warm up: module loaded, cache filled, store open, CPU clocked up. */
	for (int i = 0; i < 300; i++) {
		timed_login(pool_unknown[i % POOL], PAM_AUTH_ERR);
		timed_login(pool_wrong[i % POOL], PAM_AUTH_ERR);
		timed_login(theirs[i % MINE], PAM_AUTH_ERR);
	}
	for (size_t i = 0; i < total; i++) {
		int k = order[i];
		const char *pw = k == K_UNKNOWN ? pool_unknown[i % POOL] :
				 k == K_WRONG	? pool_wrong[i % POOL] :
				 k == K_FOREIGN ? theirs[i % MINE] :
						  mine[i % MINE];
		t[k][cnt[k]++] = timed_login(pw, k == K_ACCEPTED ? PAM_SUCCESS
								 : PAM_AUTH_ERR);
	}

	printf("pam_authenticate, %zu samples per kind, interleaved at random "
	       "(times in microseconds)\n\n", n);
	printf("%-14s %9s %9s %9s %9s %9s\n", "refusal", "p10", "median", "p90",
	       "spread", "mean");
	double med[N_KINDS] = { 0 }, iqr[N_KINDS] = { 0 };
	for (int k = 0; k < kinds; k++) {
		double mean = 0;
		for (size_t i = 0; i < cnt[k]; i++)
			mean += t[k][i];
		mean /= (double)cnt[k];
		double *s = malloc(cnt[k] * sizeof(double));
		if (!s)
			return 1;
		memcpy(s, t[k], cnt[k] * sizeof(double));
		qsort(s, cnt[k], sizeof(double), cmp_double);
		double p10 = quantile(s, cnt[k], 0.10), p90 = quantile(s, cnt[k], 0.90);
		med[k] = quantile(s, cnt[k], 0.5);
		iqr[k] = quantile(s, cnt[k], 0.75) - quantile(s, cnt[k], 0.25);
		printf("%-14s %9.2f %9.2f %9.2f %9.2f %9.2f\n", kind_name[k],
		       p10 / 1e3, med[k] / 1e3, p90 / 1e3, (p90 - p10) / 1e3,
		       mean / 1e3);
		free(s);
	}

	printf("\nMann-Whitney U (|z| >= 3: distinguishable at p < 0.003); "
	       "P(a>b): 0.5 = no tendency\n");
	static const int pairs[3][2] = { { K_UNKNOWN, K_WRONG },
					 { K_WRONG, K_FOREIGN },
					 { K_UNKNOWN, K_FOREIGN } };
	int distinguishable = 0;
	for (int p = 0; p < 3; p++) {
		int a = pairs[p][0], b = pairs[p][1];
		double z, auc;
		mann_whitney(t[a], cnt[a], t[b], cnt[b], &z, &auc);
		double delta = med[a] - med[b];
		double sigma = (iqr[a] + iqr[b]) / 2 / 1.349;
		printf("%-13s vs %-13s  z = %7.2f  P(a>b) = %.3f  "
		       "median diff = %+8.2f us (%+.1f%%)\n",
		       kind_name[a], kind_name[b], z, auc, delta / 1e3,
		       100 * delta / med[b]);
		if (fabs(z) >= 3) {
			distinguishable++;
			/* Samples an attacker needs per guess to tell the two
			 * apart at about this confidence: 2 * (4 sigma/delta)^2. */
			double need = delta != 0 ? 32 * sigma * sigma / (delta * delta)
						 : INFINITY;
			printf("    distinguishable here: ~%.0f timed attempts per "
			       "candidate would separate them on this machine\n",
			       need);
		}
	}
	printf("\nverdict: %s\n",
	       distinguishable == 0
		       ? "the three refusals are indistinguishable by time at "
			 "this sample size"
		       : "at least one pair of refusals differs measurably in "
			 "time (see above); judge the size of the difference "
			 "against network jitter");
	explicit_bzero(mine, sizeof(mine));
	explicit_bzero(theirs, sizeof(theirs));
	mt_cleanup(&env);
	for (int k = 0; k < N_KINDS; k++)
		free(t[k]);
	free(order);
	return 0;
}
