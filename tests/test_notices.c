/* Unit tests for core/notices.c: which notice tokenadm notify owes a
 * token (thresholds crossed, one mail when two are crossed at once, the
 * idle, inactive and revoked-by-value kinds), what the sent-notices log
 * counts as already sent, and its parser over hostile text. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "notices.h"

#include "harness.h"

/* 2026-01-01T00:00:00Z: a fixed "now". */
#define NOW INT64_C(1767225600)
#define HOUR INT64_C(3600)
#define DAY INT64_C(86400)

static const char ID1[] = "AbCdEf012345";
static const char ID2[] = "zzzzzzzzzzzz";

static void conf(apitoken_config *cfg, int64_t max_idle)
{
	if (config_defaults(cfg) != 0) {
		fprintf(stderr, "config_defaults failed\n");
		exit(1);
	}
	/* As the parser keeps them: largest first. */
	cfg->notify_before[0] = 14 * DAY;
	cfg->notify_before[1] = 1 * DAY;
	cfg->n_notify_before = 2;
	cfg->max_idle = max_idle;
}

static token_record rec_with(const char *id, int64_t created, int64_t expires)
{
	token_record r;

	memset(&r, 0, sizeof(r));
	memcpy(r.id, id, TOKEN_ID_LEN);
	snprintf(r.user, sizeof(r.user), "alice");
	snprintf(r.name, sizeof(r.name), "ci");
	r.created = created;
	r.expires = expires;
	return r;
}

static size_t due(const apitoken_config *cfg, const token_record *r,
		  token_state st, int64_t now, notice out[NOTICE_KINDS])
{
	int64_t active = r->created > r->changed ? r->created : r->changed;
	return notices_due(cfg, r, st, active, now, out);
}

static void test_thresholds(void)
{
	apitoken_config cfg;
	notice out[NOTICE_KINDS];
	size_t k;

	conf(&cfg, 0);
	token_record r = rec_with(ID1, NOW - DAY, NOW + 20 * DAY);
	CHECK(due(&cfg, &r, TOKEN_ACTIVE, NOW, out) == 0,
	      "20 days left, thresholds 14d 1d: nothing due");
	r.expires = NOW + 14 * DAY;
	k = due(&cfg, &r, TOKEN_ACTIVE, NOW, out);
	CHECK(k == 1 && out[0].kind == NOTICE_EXPIRY &&
		      out[0].threshold == 14 * DAY && out[0].when == r.expires,
	      "exactly 14 days left: the 14d notice (k=%zu)", k);
	r.expires = NOW + 14 * DAY + 1;
	CHECK(due(&cfg, &r, TOKEN_ACTIVE, NOW, out) == 0,
	      "a second more than 14 days: nothing yet");
	/* Both thresholds crossed at once: one notice, for the nearer. */
	r.expires = NOW + 12 * HOUR;
	k = due(&cfg, &r, TOKEN_ACTIVE, NOW, out);
	CHECK(k == 1 && out[0].kind == NOTICE_EXPIRY &&
		      out[0].threshold == DAY,
	      "12h left: one notice, at the 1d threshold (k=%zu thr=%lld)", k,
	      k ? (long long)out[0].threshold : -1LL);
	r.expires = NOW;
	CHECK(due(&cfg, &r, TOKEN_ACTIVE, NOW, out) == 0,
	      "expiring this second: nothing (it has passed)");
	r.expires = 0;
	CHECK(due(&cfg, &r, TOKEN_ACTIVE, NOW, out) == 0,
	      "a token that never expires: no expiry notice");
	r.expires = NOW + HOUR;
	CHECK(due(&cfg, &r, TOKEN_DISABLED, NOW, out) == 0 &&
		      due(&cfg, &r, TOKEN_REVOKED, NOW, out) == 0,
	      "a disabled or revoked token gets no expiry notice");

	/* notify_before unset: nothing of any kind. */
	cfg.n_notify_before = 0;
	r.flags = RECORD_REVOKED | RECORD_REVOKED_BY_VALUE;
	r.changed = NOW - HOUR;
	CHECK(due(&cfg, &r, TOKEN_REVOKED, NOW, out) == 0 &&
		      due(&cfg, &r, TOKEN_INACTIVE, NOW, out) == 0,
	      "notify_before unset: nothing is due, of any kind");
	config_free(&cfg);
}

/* Daily runs from creation to expiry with the log kept between them, as
 * tokenadm notify keeps <db>.notified: how many notices went out. */
static size_t simulate(const apitoken_config *cfg, int64_t lifetime,
		       int64_t step, int64_t first_run)
{
	notice_log log = { 0 };
	notice out[NOTICE_KINDS];
	size_t sent = 0;
	token_record r = rec_with(ID1, NOW, NOW + lifetime);

	for (int64_t t = NOW + first_run; t < r.expires + 2 * DAY; t += step) {
		size_t k = due(cfg, &r, TOKEN_ACTIVE, t, out);
		for (size_t i = 0; i < k; i++) {
			if (notice_log_has(&log, &out[i]))
				continue;
			sent++;
			if (notice_log_add(&log, &out[i]) != 0)
				exit(1);
		}
	}
	notice_log_free(&log);
	return sent;
}

static void test_once_per_threshold(void)
{
	apitoken_config cfg;
	notice out[NOTICE_KINDS];
	notice_log log = { 0 };

	conf(&cfg, 0);
	size_t s = simulate(&cfg, 30 * DAY, DAY, 0);
	CHECK(s == 2, "30-day token, a run a day: two notices (got %zu)", s);
	s = simulate(&cfg, 30 * DAY, HOUR, 0);
	CHECK(s == 2, "30-day token, a run an hour: two notices (got %zu)", s);
	/* The runs missed until 12 hours before the end: one notice, not
	 * two (a late first run does not flood). */
	s = simulate(&cfg, 30 * DAY, 100 * DAY, 30 * DAY - 12 * HOUR);
	CHECK(s == 1, "first run with 12h left: one notice (got %zu)", s);
	s = simulate(&cfg, 12 * HOUR, DAY, 0);
	CHECK(s == 1, "12-hour token: one notice (got %zu)", s);

	/* A nearer threshold's notice covers the farther one; not the
	 * other way round. */
	token_record r = rec_with(ID1, NOW, NOW + 12 * HOUR);
	CHECK(due(&cfg, &r, TOKEN_ACTIVE, NOW, out) == 1, "12h: one due");
	CHECK(notice_log_add(&log, &out[0]) == 0, "add");
	notice far = out[0];
	far.threshold = 14 * DAY;
	CHECK(notice_log_has(&log, &far), "a sent 1d notice covers 14d");
	notice_log_free(&log);
	far.threshold = 14 * DAY;
	CHECK(notice_log_add(&log, &far) == 0, "add");
	CHECK(!notice_log_has(&log, &out[0]), "a sent 14d notice does not cover 1d");
	/* Another expiry (the token was given a new one) is a new notice. */
	notice moved = far;
	moved.when += DAY;
	CHECK(!notice_log_has(&log, &moved), "a new expiry is not covered");
	notice other = far;
	memcpy(other.id, ID2, TOKEN_ID_LEN);
	CHECK(!notice_log_has(&log, &other), "another token is not covered");
	notice_log_free(&log);
	config_free(&cfg);
}

static void test_other_kinds(void)
{
	apitoken_config cfg;
	notice out[NOTICE_KINDS];
	size_t k;

	conf(&cfg, 90 * DAY);
	/* Last active 80 days ago: retired in 10 days, within 14d. */
	token_record r = rec_with(ID1, NOW - 80 * DAY, NOW + 200 * DAY);
	k = due(&cfg, &r, TOKEN_ACTIVE, NOW, out);
	CHECK(k == 1 && out[0].kind == NOTICE_IDLE &&
		      out[0].threshold == 14 * DAY &&
		      out[0].when == NOW + 10 * DAY,
	      "80 days idle of 90: an idle notice at 14d (k=%zu)", k);
	CHECK(notice_idle_deadline(&cfg, NOW) == NOW + 90 * DAY, "deadline");
	r.expires = NOW + 5 * DAY;
	k = due(&cfg, &r, TOKEN_ACTIVE, NOW, out);
	CHECK(k == 1 && out[0].kind == NOTICE_EXPIRY,
	      "expires before it would be retired: the expiry notice only");
	cfg.max_idle = 0;
	CHECK(notice_idle_deadline(&cfg, NOW) == 0, "max_idle off: no deadline");
	r.expires = NOW + 200 * DAY;
	CHECK(due(&cfg, &r, TOKEN_ACTIVE, NOW, out) == 0,
	      "max_idle off: no idle notice");

	k = due(&cfg, &r, TOKEN_INACTIVE, NOW, out);
	CHECK(k == 1 && out[0].kind == NOTICE_INACTIVE, "inactive: one notice");

	r.flags = RECORD_REVOKED | RECORD_REVOKED_BY_VALUE;
	r.changed = NOW - HOUR;
	k = due(&cfg, &r, TOKEN_REVOKED, NOW, out);
	CHECK(k == 1 && out[0].kind == NOTICE_REVOKED &&
		      out[0].when == r.changed,
	      "revoked by value an hour ago: one notice");
	r.changed = NOW - NOTICE_REVOKED_MAX_AGE - 1;
	CHECK(due(&cfg, &r, TOKEN_REVOKED, NOW, out) == 0,
	      "revoked by value long ago: not dug up");
	r.changed = NOW + DAY;
	CHECK(due(&cfg, &r, TOKEN_REVOKED, NOW, out) == 0,
	      "revoked 'in the future' (a clock moved back): nothing");
	r.flags = RECORD_REVOKED;
	r.changed = NOW - HOUR;
	CHECK(due(&cfg, &r, TOKEN_REVOKED, NOW, out) == 0,
	      "revoked by an administrator: no mail");
	config_free(&cfg);
}

static void test_parser(void)
{
	notice_log log;
	size_t bad = 99;
	char line[NOTICE_LINE_MAX];

	/* Good lines (with harmless spacing, duplicates, no final newline)
	 * and hostile ones mixed. */
	static const char text[] =
		"AbCdEf012345 expiry 1209600 1767225600\n"
		"\n"
		"  zzzzzzzzzzzz revoked 0 1767225000  \n"
		"AbCdEf012345 expiry 1209600 1767225600\n"  /* duplicate */
		"AbCdEf01234 expiry 1 2\n"                  /* id too short */
		"AbCdEf0123456 expiry 1 2\n"                /* id too long */
		"AbCdEf01234- expiry 1 2\n"                 /* not base62 */
		"AbCdEf012345 bogus 1 2\n"                  /* unknown kind */
		"AbCdEf012345 Expiry 1 2\n"                 /* kinds are exact */
		"AbCdEf012345 expiry -1 2\n"                /* negative */
		"AbCdEf012345 expiry 1 1234567890123456\n"  /* 16 digits */
		"AbCdEf012345 expiry 1 2 3\n"               /* a fifth word */
		"AbCdEf012345 expiry 1\n"                   /* three words */
		"AbCdEf012345\texpiry 1 2\n"                /* a tab */
		"AbCdEf012345 expiry 1 2\r\n"               /* CR */
		"AbCdEf012345 expiry 0x10 2\n"              /* hex */
		"AbCdEf012345 expiry 1 +2\n"
		"AbCdEf012345 exp\0ry 1 2\n"                /* a NUL */
		"\xff\xfe\x01 garbage\n"
		"AbCdEf012345 idle 86400 999999999999999";  /* 15 digits, no \n */
	CHECK(notice_log_parse(text, sizeof(text) - 1, &log, &bad) == 0,
	      "parse");
	CHECK(log.n == 3, "three notices kept (got %zu)", log.n);
	CHECK(bad == 15, "fifteen lines skipped and counted (got %zu)", bad);
	notice n = { .kind = NOTICE_EXPIRY, .threshold = 14 * DAY,
		     .when = NOW };
	memcpy(n.id, ID1, sizeof(ID1));
	CHECK(notice_log_has(&log, &n), "the expiry line is in the log");
	n.kind = NOTICE_REVOKED;
	n.threshold = 0;
	n.when = 1767225000;
	memcpy(n.id, ID2, sizeof(ID2));
	CHECK(notice_log_has(&log, &n), "the revoked line is in the log");
	n.kind = NOTICE_IDLE;
	n.threshold = DAY;
	n.when = INT64_C(999999999999999);
	memcpy(n.id, ID1, sizeof(ID1));
	CHECK(notice_log_has(&log, &n), "the last line, without a newline");
	notice_log_free(&log);

	/* What notice_format writes, notice_log_parse reads back. */
	n.kind = NOTICE_INACTIVE;
	n.threshold = 0;
	n.when = 0;
	size_t len = notice_format(&n, line, sizeof(line));
	CHECK(len > 0 && line[len - 1] == '\n', "format");
	CHECK(notice_log_parse(line, len, &log, &bad) == 0 && log.n == 1 &&
		      bad == 0 && notice_log_has(&log, &n),
	      "a formatted line parses back");
	notice_log_free(&log);

	/* Nothing but garbage: an empty log, all lines counted. */
	char junk[4096];
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)((i * 131u + 7u) % 256u);
	CHECK(notice_log_parse(junk, sizeof(junk), &log, &bad) == 0 &&
		      log.n == 0 && bad > 0,
	      "binary junk: nothing kept");
	notice_log_free(&log);
	CHECK(notice_log_parse("", 0, &log, &bad) == 0 && log.n == 0 &&
		      bad == 0,
	      "an empty file");
	notice_log_free(&log);
}

/* Entries added in any order are found (the log is kept sorted). */
static void test_order(void)
{
	notice_log log = { 0 };
	notice n;
	char id[TOKEN_ID_LEN + 1];
	static const char b62[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

	for (unsigned i = 0; i < 500; i++) {
		unsigned v = (i * 7919u) % 500u;
		for (int j = 0; j < TOKEN_ID_LEN; j++)
			id[j] = b62[(v >> (j % 3 * 3)) % 61u + (unsigned)j % 2u];
		id[TOKEN_ID_LEN] = '\0';
		memset(&n, 0, sizeof(n));
		memcpy(n.id, id, sizeof(id));
		n.kind = (notice_kind)(v % NOTICE_KINDS);
		n.when = v;
		if (notice_log_add(&log, &n) != 0)
			exit(1);
	}
	for (size_t i = 1; i < log.n; i++)
		CHECK(memcmp(log.v[i - 1].id, log.v[i].id, TOKEN_ID_LEN) <= 0,
		      "sorted at %zu", i);
	size_t found = 0;
	for (unsigned v = 0; v < 500; v++) {
		for (int j = 0; j < TOKEN_ID_LEN; j++)
			id[j] = b62[(v >> (j % 3 * 3)) % 61u + (unsigned)j % 2u];
		memset(&n, 0, sizeof(n));
		memcpy(n.id, id, TOKEN_ID_LEN);
		n.kind = (notice_kind)(v % NOTICE_KINDS);
		n.when = v;
		found += notice_log_has(&log, &n);
	}
	CHECK(found == 500, "every entry found (%zu of 500)", found);
	notice_log_free(&log);
}

int main(void)
{
	test_thresholds();
	test_once_per_threshold();
	test_other_kinds();
	test_parser();
	test_order();
	return th_summary("notices: all checks passed");
}
