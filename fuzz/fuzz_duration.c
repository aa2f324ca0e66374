/* duration_parse, expiry_parse, time_format_rfc3339.
 *
 * Input: one selector byte choosing "now" (fixed values, including the
 * extremes, or the next 8 input bytes as a little-endian int64), then the
 * text. The text is also read as an int64 (its first 8 bytes) for
 * time_format_rfc3339.
 *
 * Checks:
 *  - duration_parse: accepted text is [1-9][0-9]*[smhdw] exactly, the value
 *    is positive, at most 100 years, and equals the digits times the unit;
 *    "<seconds>s" parses back to the same value;
 *  - expiry_parse: "never" is 0 and nothing else is; a finite expiry is in
 *    (0, 9999-12-31T23:59:59Z]; a duration gives now + duration; every
 *    accepted expiry formats as RFC 3339 and parses back to itself, and an
 *    input already in canonical form ("YYYY-MM-DDTHH:MM:SSZ") comes back
 *    unchanged;
 *  - time_format_rfc3339 agrees with gmtime_r for every time it
 *    accepts, always 20 characters, refuses short buffers; and never
 *    formats what its parser would refuse (for times > 0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "duration.h"
#include "fuzz_common.h"

#define TIME_MAX_4DIGIT INT64_C(253402300799)
#define DURATION_MAX (INT64_C(36525) * 86400)

static const int64_t fixed_now[] = {
	INT64_C(1767225600), /* 2026-01-01 */
	0,
	-1,
	INT64_C(253402300799),
	INT64_C(253402300799) - 59,
	INT64_MAX,
	INT64_MIN,
	INT64_C(2147483647),
};
#define N_NOW (sizeof(fixed_now) / sizeof(fixed_now[0]))

static int64_t unit_of(char c)
{
	switch (c) {
	case 's': return 1;
	case 'm': return 60;
	case 'h': return 3600;
	case 'd': return 86400;
	case 'w': return 7 * 86400;
	}
	return 0;
}

static void check_duration(const char *text)
{
	int64_t secs = -12345;

	if (duration_parse(text, &secs) != 0) {
		FUZZ_CHECK(secs == -12345, "output written on failure");
		return;
	}
	size_t n = strlen(text);
	FUZZ_CHECK(n >= 2 && text[0] >= '1' && text[0] <= '9',
		   "accepted '%s'", text);
	int64_t v = 0;
	for (size_t i = 0; i + 1 < n; i++) {
		FUZZ_CHECK(text[i] >= '0' && text[i] <= '9', "'%s'", text);
		FUZZ_CHECK(v <= DURATION_MAX, "'%s' overflow", text);
		v = v * 10 + (text[i] - '0');
	}
	int64_t unit = unit_of(text[n - 1]);
	FUZZ_CHECK(unit != 0, "unit of '%s'", text);
	FUZZ_CHECK(v <= DURATION_MAX / unit && secs == v * unit,
		   "'%s' = %lld", text, (long long)secs);
	FUZZ_CHECK(secs > 0 && secs <= DURATION_MAX, "range");

	char again[32];
	int64_t back = 0;
	snprintf(again, sizeof(again), "%llds", (long long)secs);
	FUZZ_CHECK(duration_parse(again, &back) == 0 && back == secs,
		   "'%s' does not parse back", again);
}

static void check_format(int64_t t)
{
	char buf[32], ref[64];
	struct tm tm;
	time_t tt = (time_t)t;

	memset(buf, 'x', sizeof(buf));
	if (time_format_rfc3339(t, buf, sizeof(buf)) != 0) {
		/* Refused: must be outside years 0000..9999. */
		if ((int64_t)tt == t && gmtime_r(&tt, &tm))
			FUZZ_CHECK(tm.tm_year < -1900 || tm.tm_year > 9999 - 1900,
				   "refused %lld", (long long)t);
		return;
	}
	FUZZ_CHECK(strlen(buf) == 20, "length of '%s'", buf);
	FUZZ_CHECK(gmtime_r(&tt, &tm) != NULL, "gmtime");
	/* strftime's %Y does not zero-pad years before 1000. */
	snprintf(ref, sizeof(ref), "%04d-%02d-%02dT%02d:%02d:%02dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	FUZZ_CHECK(strcmp(buf, ref) == 0, "'%s' vs gmtime '%s'", buf, ref);
	FUZZ_CHECK(time_format_rfc3339(t, buf, 20) == -1, "buffer of 20");
	FUZZ_CHECK(time_format_rfc3339(t, buf, 21) == 0 && strcmp(buf, ref) == 0,
		   "buffer of 21");

	/* A time formatted for display can be given back as an expiry. */
	int64_t back = 0;
	if (t > 0) {
		FUZZ_CHECK(expiry_parse(ref, 0, &back) == 0 && back == t,
			   "'%s' (%lld) does not parse back", ref, (long long)t);
	}
}

static bool canonical_rfc3339(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	if (strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9')
				    : s[i] != shape[i])
			return false;
	return true;
}

static void check_expiry(const char *text, int64_t now)
{
	int64_t when = -12345, d;

	int rc = expiry_parse(text, now, &when);
	if (fuzz_verbose())
		fprintf(stderr, "expiry '%s' now %lld: %s %lld\n", text,
			(long long)now, rc == 0 ? "accepted" : "refused",
			(long long)when);
	if (rc != 0) {
		FUZZ_CHECK(when == -12345, "output written on failure");
		FUZZ_CHECK(strcmp(text, "never") != 0, "never refused");
		return;
	}
	if (strcmp(text, "never") == 0) {
		FUZZ_CHECK(when == 0, "never = %lld", (long long)when);
		return;
	}
	FUZZ_CHECK(when > 0 && when <= TIME_MAX_4DIGIT,
		   "'%s' gives %lld", text, (long long)when);
	if (duration_parse(text, &d) == 0)
		FUZZ_CHECK(when == now + d, "duration '%s' from %lld",
			   text, (long long)now);

	char buf[32];
	FUZZ_CHECK(time_format_rfc3339(when, buf, sizeof(buf)) == 0,
		   "expiry %lld cannot be printed", (long long)when);
	int64_t back = 0;
	FUZZ_CHECK(expiry_parse(buf, now, &back) == 0 && back == when,
		   "'%s' -> %lld -> '%s' -> %lld", text, (long long)when, buf,
		   (long long)back);
	if (canonical_rfc3339(text))
		FUZZ_CHECK(strcmp(text, buf) == 0, "'%s' printed as '%s'", text,
			   buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t now;

	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	data++;
	size--;
	if (sel < 0x80) {
		now = fixed_now[sel % N_NOW];
	} else {
		uint64_t u = 0;
		if (size < 8)
			return 0;
		for (int i = 0; i < 8; i++)
			u |= (uint64_t)data[i] << (8 * i);
		now = (int64_t)u;
		data += 8;
		size -= 8;
	}

	char *text = fuzz_cstr(data, size);
	check_duration(text);
	check_expiry(text, now);

	/* The raw bytes as a time, and now itself. */
	uint64_t u = 0;
	for (size_t i = 0; i < 8 && i < size; i++)
		u |= (uint64_t)data[i] << (8 * i);
	check_format((int64_t)u);
	check_format(now);
	/* A time near the valid range, where the edge cases are. */
	check_format((int64_t)(u % (uint64_t)(TIME_MAX_4DIGIT + 2 * 86400)) -
		     86400);
	free(text);
	return 0;
}
