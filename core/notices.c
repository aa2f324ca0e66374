#include "notices.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

static const char *const kind_names[NOTICE_KINDS] = {
	[NOTICE_EXPIRY] = "expiry",
	[NOTICE_IDLE] = "idle",
	[NOTICE_INACTIVE] = "inactive",
	[NOTICE_REVOKED] = "revoked",
};

const char *notice_kind_name(notice_kind kind)
{
	return kind < NOTICE_KINDS ? kind_names[kind] : "?";
}

int64_t notice_idle_deadline(const apitoken_config *cfg, int64_t last_active)
{
	if (cfg->max_idle <= 0 || last_active > INT64_MAX - cfg->max_idle)
		return 0;
	return last_active + cfg->max_idle;
}

/* The nearest notify_before threshold that the moment `at` is already
 * within, or 0 when none is (or it has passed). Thresholds are kept
 * largest first. */
static int64_t nearest_crossed(const apitoken_config *cfg, int64_t at,
			       int64_t now)
{
	int64_t left = at - now, best = 0;

	if (at <= now)
		return 0;
	for (size_t i = 0; i < cfg->n_notify_before; i++)
		if (left <= cfg->notify_before[i])
			best = cfg->notify_before[i];
	return best;
}

static void set(notice *n, const token_record *rec, notice_kind kind,
		int64_t threshold, int64_t when)
{
	memset(n, 0, sizeof(*n));
	memcpy(n->id, rec->id, sizeof(n->id));
	n->kind = kind;
	n->threshold = threshold;
	n->when = when;
}

size_t notices_due(const apitoken_config *cfg, const token_record *rec,
		   token_state state, int64_t last_active, int64_t now,
		   notice out[NOTICE_KINDS])
{
	size_t k = 0;
	int64_t t;

	/* notify_before unset: nothing is mailed, of any kind. */
	if (cfg->n_notify_before == 0)
		return 0;
	if (state == TOKEN_ACTIVE && rec->expires != 0 &&
	    (t = nearest_crossed(cfg, rec->expires, now)) != 0)
		set(&out[k++], rec, NOTICE_EXPIRY, t, rec->expires);
	int64_t deadline = notice_idle_deadline(cfg, last_active);
	/* No idle warning for a token that expires before it would be
	 * retired: the expiry notice says all there is. */
	if (state == TOKEN_ACTIVE && deadline != 0 &&
	    (rec->expires == 0 || deadline < rec->expires) &&
	    (t = nearest_crossed(cfg, deadline, now)) != 0)
		set(&out[k++], rec, NOTICE_IDLE, t, deadline);
	if (state == TOKEN_INACTIVE)
		set(&out[k++], rec, NOTICE_INACTIVE, 0, 0);
	if ((rec->flags & RECORD_REVOKED_BY_VALUE) && rec->changed <= now &&
	    now - rec->changed < NOTICE_REVOKED_MAX_AGE)
		set(&out[k++], rec, NOTICE_REVOKED, 0, rec->changed);
	return k;
}

static int cmp_notice(const notice *a, const notice *b)
{
	int c = memcmp(a->id, b->id, TOKEN_ID_LEN);
	if (c)
		return c;
	return (a->kind > b->kind) - (a->kind < b->kind);
}

/* Where the first entry with n's id and kind is (or would go). */
static size_t lower_bound(const notice_log *log, const notice *n)
{
	size_t lo = 0, hi = log->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cmp_notice(&log->v[mid], n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool notice_log_has(const notice_log *log, const notice *n)
{
	for (size_t i = lower_bound(log, n);
	     i < log->n && cmp_notice(&log->v[i], n) == 0; i++) {
		const notice *s = &log->v[i];
		if (s->when != n->when)
			continue;
		/* A mail at a nearer threshold covers the farther ones. */
		if (s->threshold == n->threshold ||
		    ((n->kind == NOTICE_EXPIRY || n->kind == NOTICE_IDLE) &&
		     s->threshold <= n->threshold))
			return true;
	}
	return false;
}

int notice_log_add(notice_log *log, const notice *n)
{
	if (log->n == log->cap) {
		size_t cap = log->cap ? log->cap * 2 : 64;
		notice *v = realloc(log->v, cap * sizeof(*v));
		if (!v)
			return -1;
		log->v = v;
		log->cap = cap;
	}
	size_t at = lower_bound(log, n);
	memmove(&log->v[at + 1], &log->v[at], (log->n - at) * sizeof(*n));
	log->v[at] = *n;
	log->n++;
	return 0;
}

/* A decimal number 0..10^15 (far beyond any time or duration here), the
 * whole word. */
static bool parse_num(const char *w, size_t len, int64_t *out)
{
	int64_t v = 0;

	if (len == 0 || len > 15)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (w[i] < '0' || w[i] > '9')
			return false;
		v = v * 10 + (w[i] - '0');
	}
	*out = v;
	return true;
}

static bool parse_line(const char *s, size_t len, notice *n)
{
	const char *w[4];
	size_t wl[4], k = 0, i = 0;

	while (i < len && k < 4) {
		if (s[i] == ' ') {
			i++;
			continue;
		}
		w[k] = s + i;
		while (i < len && s[i] != ' ')
			i++;
		wl[k] = (size_t)(s + i - w[k]);
		k++;
	}
	while (i < len && s[i] == ' ')
		i++;
	if (k != 4 || i != len || wl[0] != TOKEN_ID_LEN)
		return false;
	memset(n, 0, sizeof(*n));
	memcpy(n->id, w[0], TOKEN_ID_LEN);
	if (!token_id_valid(n->id))
		return false;
	n->kind = NOTICE_KINDS;
	for (int kd = 0; kd < NOTICE_KINDS; kd++)
		if (strlen(kind_names[kd]) == wl[1] &&
		    memcmp(kind_names[kd], w[1], wl[1]) == 0)
			n->kind = (notice_kind)kd;
	return n->kind != NOTICE_KINDS && parse_num(w[2], wl[2], &n->threshold) &&
	       parse_num(w[3], wl[3], &n->when);
}

int notice_log_parse(const char *text, size_t len, notice_log *log,
		     size_t *bad)
{
	size_t start = 0;

	*bad = 0;
	memset(log, 0, sizeof(*log));
	while (start < len) {
		const char *nl = memchr(text + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - text) : len;
		notice n;
		if (end > start) {
			if (parse_line(text + start, end - start, &n)) {
				if (!notice_log_has(log, &n) &&
				    notice_log_add(log, &n) != 0) {
					notice_log_free(log);
					return -1;
				}
			} else {
				(*bad)++;
			}
		}
		start = end + 1;
	}
	return 0;
}

size_t notice_format(const notice *n, char *buf, size_t buflen)
{
	int r = snprintf(buf, buflen, "%s %s %lld %lld\n", n->id,
			 notice_kind_name(n->kind), (long long)n->threshold,
			 (long long)n->when);
	return r < 0 || (size_t)r >= buflen ? 0 : (size_t)r;
}

void notice_log_free(notice_log *log)
{
	free(log->v);
	memset(log, 0, sizeof(*log));
}
