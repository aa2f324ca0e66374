/* Durations, dates and RFC 3339 times.
 *
 * Everything here is plain integer arithmetic on UTC: no locale, no TZ, no
 * mktime(). A token's expiry is a security decision, so the parsers accept
 * only the exact forms documented in duration.h and reject anything else
 * rather than guessing what an unusual input might have meant.
 *
 * Decisions where the spec is silent:
 *  - A duration may not exceed DURATION_MAX (100 years of 365.25 days); a
 *    larger value is far more likely a typo than an intent, and "never"
 *    exists for tokens that should not expire.
 *  - Dates and times must name a year 1970..9999, and the resulting expiry
 *    must lie in (0, 9999-12-31T23:59:59Z]. 0 is how "never" is stored, so
 *    an expiry that computed to 0 (or earlier) must not be mistaken for it;
 *    the upper bound keeps every expiry printable as a 4-digit-year RFC 3339
 *    string (so "9999-12-31" itself, which would end at year 10000, is
 *    refused: use "never").
 *  - A leap second (":60") is rejected: POSIX time cannot represent it and
 *    an expiry written that way is more likely an error than a need.
 *  - Fractional seconds (1..9 digits) are accepted and dropped; the expiry
 *    moves earlier by less than a second, which errs on the safe side.
 *  - "-00:00" (RFC 3339's "offset unknown") is accepted as UTC.
 */
#include "duration.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define SECS_PER_DAY INT64_C(86400)

/* 100 years of 365.25 days: 3 155 760 000 s. */
#define DURATION_MAX (INT64_C(36525) * SECS_PER_DAY)

/* 9999-12-31T23:59:59Z, the last instant with a 4-digit year. */
#define TIME_MAX_4DIGIT INT64_C(253402300799)

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int64_t unit_seconds(char unit)
{
	switch (unit) {
	case 's': return 1;
	case 'm': return 60;
	case 'h': return 3600;
	case 'd': return SECS_PER_DAY;
	case 'w': return 7 * SECS_PER_DAY;
	default:  return 0;
	}
}

int duration_parse(const char *text, int64_t *seconds)
{
	if (!text || !seconds)
		return -1;

	/* The first digit must be 1-9: no zero, no leading zeros, no sign,
	 * no leading blank. */
	if (text[0] < '1' || text[0] > '9')
		return -1;

	int64_t n = 0;
	const char *p = text;
	for (; is_digit(*p); p++) {
		/* Anything above DURATION_MAX seconds is refused anyway, so
		 * stopping the count there also rules out int64 overflow. */
		n = n * 10 + (*p - '0');
		if (n > DURATION_MAX)
			return -1;
	}

	int64_t unit = unit_seconds(*p);
	if (unit == 0 || p[1] != '\0')
		return -1;
	if (n > DURATION_MAX / unit)
		return -1;

	*seconds = n * unit;
	return 0;
}

/* Read exactly n decimal digits. */
static bool read_digits(const char *s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30,
				       31, 31, 30, 31, 30, 31 };
	return m == 2 && is_leap(y) ? 29 : mdays[m - 1];
}

/* Leap years in [1, y-1] by the Gregorian rule. */
static int64_t leaps_before(int y)
{
	int64_t p = y - 1;
	return p / 4 - p / 100 + p / 400;
}

/* Days from 1970-01-01 to y-m-d (a validated date, y >= 1970). */
static int64_t days_from_civil(int y, int m, int d)
{
	static const int before[12] = { 0, 31, 59, 90, 120, 151,
					181, 212, 243, 273, 304, 334 };
	int64_t days = INT64_C(365) * (y - 1970) +
		       (leaps_before(y) - leaps_before(1970));

	days += before[m - 1];
	if (m > 2 && is_leap(y))
		days++;
	return days + (d - 1);
}

/* "YYYY-MM-DD" at the start of s, validated; *days since the epoch. */
static bool parse_date(const char *s, int64_t *days)
{
	int y, m, d;

	if (!read_digits(s, 4, &y) || s[4] != '-' ||
	    !read_digits(s + 5, 2, &m) || s[7] != '-' ||
	    !read_digits(s + 8, 2, &d))
		return false;
	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 ||
	    d > days_in_month(y, m))
		return false;
	*days = days_from_civil(y, m, d);
	return true;
}

/* "HH:MM:SS(.frac)?(Z|±HH:MM)" at s, to the whole string's end.
 * *secs is the time of day, *offset the zone's offset east of UTC. */
static bool parse_time_and_zone(const char *s, int64_t *secs, int64_t *offset)
{
	int hh, mm, ss;

	if (!read_digits(s, 2, &hh) || s[2] != ':' ||
	    !read_digits(s + 3, 2, &mm) || s[5] != ':' ||
	    !read_digits(s + 6, 2, &ss))
		return false;
	if (hh > 23 || mm > 59 || ss > 59)
		return false;
	s += 8;

	if (*s == '.') {
		int n = 0;
		for (s++; is_digit(*s); s++)
			n++;
		if (n < 1 || n > 9)
			return false;
	}

	if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
		*offset = 0;
	} else if (*s == '+' || *s == '-') {
		int oh, om;
		if (!read_digits(s + 1, 2, &oh) || s[3] != ':' ||
		    !read_digits(s + 4, 2, &om) || s[6] != '\0')
			return false;
		if (oh > 23 || om > 59)
			return false;
		*offset = (*s == '-' ? -1 : 1) * (oh * INT64_C(3600) + om * 60);
	} else {
		return false;
	}

	*secs = hh * INT64_C(3600) + mm * 60 + ss;
	return true;
}

/* An absolute DATE or RFC 3339 time. */
static int parse_absolute(const char *text, int64_t *when)
{
	int64_t days, t;

	if (!parse_date(text, &days))
		return -1;

	if (text[10] == '\0') {
		/* A bare date is valid through the whole UTC day, and a
		 * token is refused once now >= expiry: so the next midnight. */
		t = (days + 1) * SECS_PER_DAY;
	} else if (text[10] == 'T' || text[10] == 't') {
		int64_t secs, offset;
		if (!parse_time_and_zone(text + 11, &secs, &offset))
			return -1;
		/* Local time minus its offset east of UTC is UTC. */
		t = days * SECS_PER_DAY + secs - offset;
	} else {
		return -1;
	}

	if (t <= 0 || t > TIME_MAX_4DIGIT)
		return -1;
	*when = t;
	return 0;
}

int expiry_parse(const char *text, int64_t now, int64_t *when)
{
	int64_t d;

	if (!text || !when)
		return -1;

	if (strcmp(text, "never") == 0) {
		*when = 0;
		return 0;
	}

	if (duration_parse(text, &d) == 0) {
		/* d > 0, so only the upper end can overflow. */
		if (now > INT64_MAX - d)
			return -1;
		int64_t t = now + d;
		/* 0 means "never": a finite expiry must not collide with it. */
		if (t <= 0 || t > TIME_MAX_4DIGIT)
			return -1;
		*when = t;
		return 0;
	}

	return parse_absolute(text, when);
}

int time_format_rfc3339(int64_t t, char *buf, size_t buflen)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (!buf || buflen < 21)
		return -1;
	/* A 32-bit time_t cannot hold every int64 value. */
	if ((int64_t)tt != t || !gmtime_r(&tt, &tm))
		return -1;
	/* Four-digit years only, so the text has a fixed width and sorts. */
	if (tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		return -1;

	/* Same result as strftime("%Y-%m-%dT%H:%M:%SZ"), but with the year
	 * zero-padded and no locale involved. */
	int n = snprintf(buf, buflen, "%04d-%02d-%02dT%02d:%02d:%02dZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (n < 0 || (size_t)n >= buflen)
		return -1;
	return 0;
}
