/* Unit tests for core/duration.c: durations, expiries, RFC 3339 output. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"

#include "harness.h"

/* 2026-01-01T00:00:00Z: a fixed "now" so the tests do not depend on the
 * clock. */
#define NOW INT64_C(1767225600)

struct dur_case {
	const char *text;
	int rc;
	int64_t secs;
};

static const struct dur_case dur_cases[] = {
	{ "1s", 0, 1 },
	{ "30m", 0, 1800 },
	{ "12h", 0, 43200 },
	{ "90d", 0, 7776000 },
	{ "4w", 0, 2419200 },
	{ "1w", 0, 604800 },
	{ "10s", 0, 10 },
	{ "36525d", 0, INT64_C(3155760000) },      /* 100 years: the limit */
	{ "3155760000s", 0, INT64_C(3155760000) },
	{ "36526d", -1, 0 },                        /* just over */
	{ "3155760001s", -1, 0 },
	{ "5218w", -1, 0 },
	{ "0d", -1, 0 },
	{ "0s", -1, 0 },
	{ "01d", -1, 0 },
	{ "1", -1, 0 },
	{ "d", -1, 0 },
	{ "", -1, 0 },
	{ "-1d", -1, 0 },
	{ "+1d", -1, 0 },
	{ "1.5h", -1, 0 },
	{ " 1d", -1, 0 },
	{ "1d ", -1, 0 },
	{ "1 d", -1, 0 },
	{ "1D", -1, 0 },
	{ "1y", -1, 0 },
	{ "1dd", -1, 0 },
	{ "1d1h", -1, 0 },
	{ "1ms", -1, 0 },
	{ "99999999999999999999d", -1, 0 },
	{ "9223372036854775807s", -1, 0 },
	{ "9223372036854775808s", -1, 0 },
	{ "never", -1, 0 },
	{ "0x10s", -1, 0 },
};

static void test_durations(void)
{
	for (size_t i = 0; i < sizeof(dur_cases) / sizeof(dur_cases[0]); i++) {
		const struct dur_case *c = &dur_cases[i];
		int64_t got = -12345;
		int rc = duration_parse(c->text, &got);

		CHECK(rc == c->rc, "duration_parse(\"%s\") returned %d, want %d",
		      c->text, rc, c->rc);
		if (c->rc == 0)
			CHECK(got == c->secs,
			      "duration_parse(\"%s\") = %" PRId64 ", want %" PRId64,
			      c->text, got, c->secs);
		else
			CHECK(got == -12345,
			      "duration_parse(\"%s\") wrote a result on error",
			      c->text);
	}
	CHECK(duration_parse(NULL, &(int64_t){ 0 }) == -1, "NULL text");
}

struct exp_case {
	const char *text;
	int rc;
	int64_t when;
};

static const struct exp_case exp_cases[] = {
	{ "never", 0, 0 },
	{ "30m", 0, NOW + 1800 },
	{ "90d", 0, NOW + 90 * 86400 },
	{ "4w", 0, NOW + 2419200 },
	/* DATE: valid through the whole day, so the next midnight UTC. */
	{ "2027-01-31", 0, INT64_C(1801440000) },  /* 2027-02-01T00:00:00Z */
	{ "2028-02-29", 0, INT64_C(1835481600) },  /* leap day -> 03-01 */
	{ "2027-12-31", 0, INT64_C(1830297600) },  /* -> 2028-01-01 */
	{ "1970-01-01", 0, 86400 },
	{ "2000-02-29", 0, INT64_C(951868800) },   /* 400-year leap */
	{ "9999-12-30", 0, INT64_C(253402214400) },
	{ "9999-12-31", -1, 0 },   /* would end in year 10000 */
	{ "2027-02-29", -1, 0 },
	{ "2100-02-29", -1, 0 },   /* 100-year rule: not a leap year */
	{ "2027-13-01", -1, 0 },
	{ "2027-00-10", -1, 0 },
	{ "2027-01-00", -1, 0 },
	{ "2027-01-32", -1, 0 },
	{ "2027-04-31", -1, 0 },
	{ "1969-12-31", -1, 0 },
	{ "0000-01-01", -1, 0 },
	{ "10000-01-01", -1, 0 },
	{ "2027-1-31", -1, 0 },
	{ "2027/01/31", -1, 0 },
	{ "2027-01-31 ", -1, 0 },
	{ " 2027-01-31", -1, 0 },
	{ "2027-01-31x", -1, 0 },
	{ "27-01-31", -1, 0 },
	/* RFC 3339. */
	{ "2027-01-31T12:00:00Z", 0, INT64_C(1801396800) },
	{ "2027-01-31t12:00:00z", 0, INT64_C(1801396800) },
	{ "2027-01-31T12:00:00+02:00", 0, INT64_C(1801389600) },
	{ "2027-01-31T12:00:00-05:30", 0, INT64_C(1801416600) },
	{ "2027-01-31T12:00:00+00:00", 0, INT64_C(1801396800) },
	{ "2027-01-31T12:00:00-00:00", 0, INT64_C(1801396800) },
	{ "2027-01-31T12:00:00.5Z", 0, INT64_C(1801396800) },
	{ "2027-01-31T12:00:00.123456789Z", 0, INT64_C(1801396800) },
	{ "2027-01-31T12:00:00.999+01:00", 0, INT64_C(1801393200) },
	{ "2027-01-31T23:59:59Z", 0, INT64_C(1801439999) },
	{ "2027-01-31T00:30:00+01:00", 0, INT64_C(1801351800) }, /* prev day */
	{ "9999-12-31T23:59:59Z", 0, INT64_C(253402300799) },
	{ "9999-12-31T23:59:59-00:01", -1, 0 },  /* past year 9999 UTC */
	{ "1970-01-01T00:00:00Z", -1, 0 },  /* would read back as "never" */
	{ "1970-01-01T00:00:01Z", 0, 1 },
	{ "1970-01-01T00:30:00+01:00", -1, 0 },
	{ "2027-01-31T12:00:00.1234567890Z", -1, 0 },
	{ "2027-01-31T12:00:00.Z", -1, 0 },
	{ "2027-01-31T12:00:00", -1, 0 },      /* no zone */
	{ "2027-01-31T12:00Z", -1, 0 },
	{ "2027-01-31 12:00:00Z", -1, 0 },
	{ "2027-01-31T24:00:00Z", -1, 0 },
	{ "2027-01-31T12:60:00Z", -1, 0 },
	{ "2027-01-31T23:59:60Z", -1, 0 },     /* leap second: rejected */
	{ "2027-01-31T12:00:00+2:00", -1, 0 },
	{ "2027-01-31T12:00:00+0200", -1, 0 },
	{ "2027-01-31T12:00:00+02", -1, 0 },
	{ "2027-01-31T12:00:00+24:00", -1, 0 },
	{ "2027-01-31T12:00:00+02:60", -1, 0 },
	{ "2027-01-31T12:00:00+02:00 ", -1, 0 },
	{ "2027-01-31T12:00:00ZZ", -1, 0 },
	{ "2027-01-31T12:00:00UTC", -1, 0 },
	{ "2027-02-29T12:00:00Z", -1, 0 },
	{ "", -1, 0 },
	{ "Never", -1, 0 },
	{ "never ", -1, 0 },
	{ "0d", -1, 0 },
	{ "tomorrow", -1, 0 },
};

static void test_expiry(void)
{
	for (size_t i = 0; i < sizeof(exp_cases) / sizeof(exp_cases[0]); i++) {
		const struct exp_case *c = &exp_cases[i];
		int64_t got = -12345;
		int rc = expiry_parse(c->text, NOW, &got);

		CHECK(rc == c->rc, "expiry_parse(\"%s\") returned %d, want %d",
		      c->text, rc, c->rc);
		if (c->rc == 0)
			CHECK(got == c->when,
			      "expiry_parse(\"%s\") = %" PRId64 ", want %" PRId64,
			      c->text, got, c->when);
	}

	int64_t got;
	/* now + duration must not overflow. */
	CHECK(expiry_parse("1s", INT64_MAX, &got) == -1, "overflow not caught");
	CHECK(expiry_parse("4w", INT64_MAX - 100, &got) == -1,
	      "overflow not caught");
	/* A computed expiry of 0 would read back as "never". */
	CHECK(expiry_parse("1s", -1, &got) == -1, "expiry 0 accepted");
	CHECK(expiry_parse("1s", -2, &got) == -1, "negative expiry accepted");
	/* A past expiry is not refused here: tokenadm decides. */
	CHECK(expiry_parse("2020-01-01", NOW, &got) == 0 &&
		      got == INT64_C(1577923200),
	      "past date refused or wrong");
	CHECK(expiry_parse(NULL, NOW, &got) == -1, "NULL text accepted");
}

/* Every date's next midnight must agree with the C library's timegm. */
static void test_dates_against_timegm(void)
{
	char text[32];
	int checked = 0;

	for (int y = 1970; y <= 9999; y++) {
		for (int m = 1; m <= 12; m++) {
			for (int d = 1; d <= 31; d++) {
				/* Every day up to 2200, then a sample. */
				if (y > 2200 && d != 1 && d < 28)
					continue;
				struct tm tm = { .tm_year = y - 1900,
						 .tm_mon = m - 1,
						 .tm_mday = d };
				time_t ref = timegm(&tm);
				/* timegm normalises 02-30 to 03-02. */
				bool real = tm.tm_mday == d && tm.tm_mon == m - 1;
				int64_t got = -1;

				snprintf(text, sizeof(text), "%04d-%02d-%02d",
					 y, m, d);
				int rc = expiry_parse(text, NOW, &got);
				if (y == 9999 && m == 12 && d == 31)
					real = false; /* refused on purpose */
				if (!real) {
					CHECK(rc == -1, "%s accepted", text);
					continue;
				}
				CHECK(rc == 0 && got == (int64_t)ref + 86400,
				      "%s: %" PRId64 " vs timegm %" PRId64, text,
				      got, (int64_t)ref + 86400);
				checked++;
				if (th_count.fail > 20)
					return;
			}
		}
	}
	CHECK(checked > 100000, "only %d dates checked", checked);
}

static void test_format(void)
{
	char buf[64];

	CHECK(time_format_rfc3339(0, buf, sizeof(buf)) == 0 &&
		      strcmp(buf, "1970-01-01T00:00:00Z") == 0,
	      "format 0: %s", buf);
	CHECK(time_format_rfc3339(INT64_C(1801396800), buf, sizeof(buf)) == 0 &&
		      strcmp(buf, "2027-01-31T12:00:00Z") == 0,
	      "format 1801396800: %s", buf);
	CHECK(time_format_rfc3339(INT64_C(253402300799), buf, sizeof(buf)) == 0 &&
		      strcmp(buf, "9999-12-31T23:59:59Z") == 0,
	      "format max: %s", buf);

	/* Exactly 21 bytes is enough; 20 is not. */
	char small[21];
	CHECK(time_format_rfc3339(INT64_C(1801396800), small, sizeof(small)) == 0 &&
		      strcmp(small, "2027-01-31T12:00:00Z") == 0,
	      "21-byte buffer refused");
	CHECK(time_format_rfc3339(INT64_C(1801396800), small, 20) == -1,
	      "20-byte buffer accepted");
	CHECK(time_format_rfc3339(INT64_C(253402300800), buf, sizeof(buf)) == -1,
	      "year 10000 formatted as %s", buf);
	CHECK(time_format_rfc3339(INT64_MAX, buf, sizeof(buf)) == -1,
	      "INT64_MAX formatted");
	CHECK(time_format_rfc3339(0, NULL, 64) == -1, "NULL buffer accepted");

	/* Round trips: format, parse back, same instant. */
	static const int64_t times[] = {
		1, 59, 86399, 86400, INT64_C(951782400), INT64_C(1801396800),
		INT64_C(1835395200), INT64_C(4102444799), INT64_C(253402300799),
	};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		int64_t back = -1;
		int rc = time_format_rfc3339(times[i], buf, sizeof(buf));
		CHECK(rc == 0, "format %" PRId64 " failed", times[i]);
		CHECK(rc == 0 && expiry_parse(buf, NOW, &back) == 0 &&
			      back == times[i],
		      "round trip %" PRId64 " -> %s -> %" PRId64, times[i],
		      buf, back);
	}
	/* And parse, format: an offset time comes back in UTC. */
	int64_t t = 0;
	CHECK(expiry_parse("2027-01-31T12:00:00-05:30", NOW, &t) == 0 &&
		      time_format_rfc3339(t, buf, sizeof(buf)) == 0 &&
		      strcmp(buf, "2027-01-31T17:30:00Z") == 0,
	      "offset round trip: %s", buf);
}

int main(void)
{
	test_durations();
	test_expiry();
	test_dates_against_timegm();
	test_format();
	return th_summary("duration: all tests passed");
}
