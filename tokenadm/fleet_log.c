/* The authority's change log (see fleet_log.h).
 *
 * Layout, all under metadata keys no token id can have:
 *   "~dlog~floor"  the lowest generation still logged, L (deltas can start
 *                  from L-1); absent: nothing logged
 *   "~dlog~G"      generation G: "CREATED CHUNKS\n" then up to CHUNK_IDS
 *                  ids of 12 bytes each, concatenated
 *   "~dlog~G~C"    further chunks (C = 1 .. CHUNKS-1) of a large change
 *                  (a prune of many tokens), CHUNK_IDS ids each at most
 * One revocation adds one small entry; the store's copy on every write
 * grows with the window, which is why the window is bounded. */
#include "fleet_log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_PREFIX "~dlog~"
#define FLOOR_KEY LOG_PREFIX "floor"
#define CHUNK_IDS 4096
#define HEAD_MAX 48
#define VALUE_MAX (HEAD_MAX + CHUNK_IDS * TOKEN_ID_LEN)

static int log_key(char *buf, size_t n, uint64_t gen, uint64_t chunk)
{
	int k = chunk ? snprintf(buf, n, LOG_PREFIX "%" PRIu64 "~%" PRIu64, gen,
				 chunk) :
			snprintf(buf, n, LOG_PREFIX "%" PRIu64, gen);
	return k > 0 && (size_t)k < n ? k : -1;
}

static bool decimal(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 19 || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return v <= (uint64_t)INT64_MAX;
}

/* Read the floor: 0 when absent. Returns 0 or -1. */
static int get_floor(store_view *v, uint64_t *floor, char *err, size_t errlen)
{
	char buf[24];
	size_t len = 0;

	*floor = 0;
	store_status st = store_get(v, FLOOR_KEY, strlen(FLOOR_KEY),
				    (uint8_t *)buf, sizeof(buf), &len, err,
				    errlen);
	if (st == STORE_NOTFOUND)
		return 0;
	if (st != STORE_OK || !decimal(buf, len, floor) || *floor == 0) {
		if (st == STORE_OK)
			snprintf(err, errlen, "the delta log's floor is "
					      "malformed");
		return -1;
	}
	return 0;
}

/* The head of generation gen's entry: created, chunks, and the ids of
 * chunk 0 (into buf, *idn of them at *ids). Returns 1 found, 0 absent,
 * -1 malformed or unreadable (err). */
static int get_head(store_view *v, uint64_t gen, uint8_t *buf,
		    int64_t *created, uint64_t *chunks, const uint8_t **ids,
		    size_t *idn, char *err, size_t errlen)
{
	char key[64];
	size_t len = 0;

	if (log_key(key, sizeof(key), gen, 0) < 0)
		return -1;
	store_status st = store_get(v, key, strlen(key), buf, VALUE_MAX, &len,
				    err, errlen);
	if (st == STORE_NOTFOUND)
		return 0;
	if (st != STORE_OK)
		return -1;
	const uint8_t *nl = memchr(buf, '\n', len < HEAD_MAX ? len : HEAD_MAX);
	const uint8_t *sp = nl ? memchr(buf, ' ', (size_t)(nl - buf)) : NULL;
	uint64_t c;
	if (!sp || !decimal((const char *)buf, (size_t)(sp - buf), &c) ||
	    !decimal((const char *)sp + 1, (size_t)(nl - sp - 1), chunks) ||
	    *chunks == 0 || (len - (size_t)(nl + 1 - buf)) % TOKEN_ID_LEN) {
		snprintf(err, errlen, "the delta log of generation %" PRIu64
				      " is malformed", gen);
		return -1;
	}
	*created = (int64_t)c;
	*ids = nl + 1;
	*idn = (len - (size_t)(nl + 1 - buf)) / TOKEN_ID_LEN;
	return 1;
}

static int drop_gen(store_txn *txn, uint64_t gen, uint64_t chunks)
{
	char key[64];

	for (uint64_t c = 0; c < chunks; c++) {
		if (log_key(key, sizeof(key), gen, c) < 0 ||
		    store_txn_delete(txn, key, strlen(key)) != 0)
			return -1;
	}
	return 0;
}

/* Is generation gen (made at created) outside the window, now that the
 * newest is newest? */
static bool outside(const tool *t, uint64_t gen, int64_t created,
		    uint64_t newest)
{
	if (newest - gen >= CONFIG_DELTA_WINDOW_GENS_MAX)
		return true;
	if (t->cfg.delta_window_gens)
		return newest - gen >= t->cfg.delta_window_gens;
	return t->cfg.delta_window_secs == 0 ||
	       created < t->now - t->cfg.delta_window_secs;
}

int fleet_log_commit(tool *t, store_txn *txn, uint64_t gen)
{
	const char (*changed)[STORE_CHANGED_KEY_LEN];
	size_t n = store_txn_changed(txn, &changed);
	store_view *v = store_txn_view(txn);
	bool off = !t->cfg.delta_window_gens && !t->cfg.delta_window_secs;
	char err[256] = "", key[64], head[HEAD_MAX];
	uint64_t floor;
	uint8_t *buf = malloc(VALUE_MAX);
	int rc = -1;

	if (!buf) {
		snprintf(err, sizeof(err), "out of memory");
		goto out;
	}
	if (get_floor(v, &floor, err, sizeof(err)) != 0)
		goto out;
	if (!off) {
		uint64_t chunks = n ? (n + CHUNK_IDS - 1) / CHUNK_IDS : 1;
		for (uint64_t c = 0; c < chunks; c++) {
			size_t from = (size_t)c * CHUNK_IDS, len = 0;
			size_t k = n - from < CHUNK_IDS ? n - from : CHUNK_IDS;
			if (c == 0) {
				int h = snprintf(head, sizeof(head),
						 "%" PRId64 " %" PRIu64 "\n",
						 t->now, chunks);
				if (h < 0 || (size_t)h >= sizeof(head))
					goto out;
				memcpy(buf, head, (size_t)h);
				len = (size_t)h;
			}
			if (n)
				memcpy(buf + len, changed[from],
				       k * TOKEN_ID_LEN);
			len += n ? k * TOKEN_ID_LEN : 0;
			if (log_key(key, sizeof(key), gen, c) < 0 ||
			    store_txn_put(txn, key, strlen(key), buf, len) != 0) {
				snprintf(err, sizeof(err), "cannot write it");
				goto out;
			}
		}
		if (floor == 0)
			floor = gen;
	}
	/* Prune from the oldest end: each commit drops what fell out. */
	while (floor && floor < gen + (off ? 1 : 0)) {
		int64_t created;
		uint64_t chunks;
		const uint8_t *ids;
		size_t idn;
		int got = get_head(v, floor, buf, &created, &chunks, &ids, &idn,
				   err, sizeof(err));
		if (got < 0)
			goto out;
		if (got && !off && !outside(t, floor, created, gen))
			break;
		if (got && drop_gen(txn, floor, chunks) != 0) {
			snprintf(err, sizeof(err), "cannot prune it");
			goto out;
		}
		floor++;
	}
	if (off || floor > gen) {
		/* Absent already is fine. */
		(void)store_txn_delete(txn, FLOOR_KEY, strlen(FLOOR_KEY));
	} else {
		int h = snprintf(head, sizeof(head), "%" PRIu64, floor);
		if (store_txn_put(txn, FLOOR_KEY, strlen(FLOOR_KEY),
				  (const uint8_t *)head, (size_t)h) != 0) {
			snprintf(err, sizeof(err), "cannot write it");
			goto out;
		}
	}
	rc = 0;
out:
	free(buf);
	if (rc != 0)
		warnx_("the delta log: %s", err[0] ? err : "failed");
	return rc;
}

int fleet_log_floor(store_view *v, uint64_t cur, uint64_t *floor, char *err,
		    size_t errlen)
{
	uint64_t lowest;

	if (get_floor(v, &lowest, err, errlen) != 0)
		return -1;
	*floor = lowest == 0 || lowest > cur ? cur : lowest - 1;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	return memcmp(a, b, TOKEN_ID_LEN);
}

static bool ids_valid(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n * TOKEN_ID_LEN; i++) {
		uint8_t c = p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
		      (c >= 'a' && c <= 'z')))
			return false;
	}
	return true;
}

int fleet_log_collect(store_view *v, uint64_t since, uint64_t cur,
		      char (**ids_out)[TOKEN_ID_LEN], size_t *n_out, char *err,
		      size_t errlen)
{
	char (*ids)[TOKEN_ID_LEN] = NULL;
	size_t n = 0, cap = 0;
	uint8_t *buf = malloc(VALUE_MAX);
	int rc = -1;

	*ids_out = NULL;
	*n_out = 0;
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (uint64_t g = since + 1; g <= cur; g++) {
		int64_t created;
		uint64_t chunks;
		const uint8_t *p;
		size_t k;
		int got = get_head(v, g, buf, &created, &chunks, &p, &k, err,
				   errlen);
		if (got == 0)
			snprintf(err, errlen, "the delta log lacks generation "
					      "%" PRIu64, g);
		if (got <= 0)
			goto out;
		for (uint64_t c = 0;;) {
			if (!ids_valid(p, k)) {
				snprintf(err, errlen, "the delta log of "
					 "generation %" PRIu64 " is malformed",
					 g);
				goto out;
			}
			if (n + k > cap) {
				size_t nc = cap ? cap * 2 : 256;
				while (nc < n + k)
					nc *= 2;
				void *q = reallocarray(ids, nc, sizeof(*ids));
				if (!q) {
					snprintf(err, errlen, "out of memory");
					goto out;
				}
				ids = q;
				cap = nc;
			}
			if (k)
				memcpy(ids[n], p, k * TOKEN_ID_LEN);
			n += k;
			if (++c == chunks)
				break;
			char key[64];
			size_t len = 0;
			if (log_key(key, sizeof(key), g, c) < 0 ||
			    store_get(v, key, strlen(key), buf, VALUE_MAX, &len,
				      err, errlen) != STORE_OK ||
			    len % TOKEN_ID_LEN) {
				snprintf(err, errlen, "the delta log of "
					 "generation %" PRIu64 " lacks a part",
					 g);
				goto out;
			}
			p = buf;
			k = len / TOKEN_ID_LEN;
		}
	}
	if (n)
		qsort(ids, n, sizeof(*ids), by_id);
	size_t u = 0;
	for (size_t i = 0; i < n; i++)
		if (u == 0 || memcmp(ids[u - 1], ids[i], TOKEN_ID_LEN) != 0)
			memmove(ids[u++], ids[i], TOKEN_ID_LEN);
	*ids_out = ids;
	*n_out = u;
	ids = NULL;
	rc = 0;
out:
	free(ids);
	free(buf);
	return rc;
}
