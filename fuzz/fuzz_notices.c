/* notice_log_parse: the sent-notices file of tokenadm notify
 * (<db>.notified), read back as untrusted text.
 *
 * Input: the file's bytes, as they are.
 *
 * Checks:
 *  - a line is kept exactly when an independent reading of the format
 *    (four words split by spaces, an id of 12 base62 characters, a known
 *    kind, two numbers of 1..15 decimal digits) accepts it: the lines the
 *    parser skips (*bad) are the non-empty lines that reading refuses;
 *  - every line that reading accepts is covered by the log (notice_log_has:
 *    kept, or a repeat of one kept, or an expiry/idle line at a farther
 *    threshold than one kept for the same moment);
 *  - every kept notice has a valid id, a known kind and numbers in range,
 *    the log is sorted by id then kind, and notice_log_has finds each one;
 *  - what notice_format writes for the log parses back with nothing
 *    skipped, to a log covering the same notices both ways and no bigger
 *    (a daily rewrite of the file neither forgets nor grows). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "notices.h"
#include "token.h"

#define NUM_LIMIT INT64_C(1000000000000000) /* 10^15: 15 digits at most */

static bool b62(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z');
}

static bool digits(const char *w, size_t n, int64_t *v)
{
	if (n < 1 || n > 15)
		return false;
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		if (w[i] < '0' || w[i] > '9')
			return false;
		*v = *v * 10 + (w[i] - '0');
	}
	return true;
}

/* The reference reading of one line (without its '\n'), into *out. */
static bool ref_line(const char *s, size_t len, notice *out)
{
	static const char *const kinds[] = { "expiry", "idle", "inactive",
					     "revoked" };
	const char *w[5];
	size_t wl[5], k = 0;

	for (size_t i = 0; i < len;) {
		if (s[i] == ' ') {
			i++;
			continue;
		}
		if (k == 5)
			return false;
		w[k] = s + i;
		while (i < len && s[i] != ' ')
			i++;
		wl[k] = (size_t)(s + i - w[k]);
		k++;
	}
	if (k != 4 || wl[0] != 12)
		return false;
	for (size_t i = 0; i < 12; i++)
		if (!b62(w[0][i]))
			return false;
	memset(out, 0, sizeof(*out));
	memcpy(out->id, w[0], 12);
	bool kind = false;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i]) == wl[1] && memcmp(kinds[i], w[1], wl[1]) == 0) {
			out->kind = (notice_kind)i;
			kind = true;
		}
	return kind && digits(w[2], wl[2], &out->threshold) &&
	       digits(w[3], wl[3], &out->when);
}

/* Every notice of a is covered by b. */
static void covered(const notice_log *a, const notice_log *b, const char *what)
{
	for (size_t i = 0; i < a->n; i++)
		FUZZ_CHECK(notice_log_has(b, &a->v[i]), "%s: notice %zu lost",
			   what, i);
}

static char *format_log(const notice_log *log, size_t *len)
{
	char *out = malloc(log->n * NOTICE_LINE_MAX + 1);
	size_t at = 0;

	if (!out)
		abort();
	for (size_t i = 0; i < log->n; i++) {
		size_t n = notice_format(&log->v[i], out + at, NOTICE_LINE_MAX);
		FUZZ_CHECK(n > 0, "notice %zu does not format", i);
		at += n;
	}
	*len = at;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	notice_log log;
	size_t bad = 0, nonempty = 0, refused = 0;
	notice ref;

	FUZZ_CHECK(notice_log_parse(text, size, &log, &bad) == 0, "parse");
	for (size_t start = 0; start < size;) {
		const char *nl = memchr(text + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - text) : size;
		if (end > start) {
			nonempty++;
			if (!ref_line(text + start, end - start, &ref))
				refused++;
			else
				FUZZ_CHECK(notice_log_has(&log, &ref),
					   "a good line at byte %zu is not in "
					   "the log", start);
		}
		start = end + 1;
	}
	FUZZ_CHECK(bad == refused, "%zu line(s) skipped, the reference "
		   "refuses %zu", bad, refused);
	FUZZ_CHECK(log.n <= nonempty - refused, "%zu kept of %zu good",
		   log.n, nonempty - refused);
	for (size_t i = 0; i < log.n; i++) {
		const notice *n = &log.v[i];
		FUZZ_CHECK(n->id[TOKEN_ID_LEN] == '\0' && token_id_valid(n->id),
			   "id of notice %zu", i);
		FUZZ_CHECK(n->kind < NOTICE_KINDS, "kind %d", (int)n->kind);
		FUZZ_CHECK(n->threshold >= 0 && n->threshold < NUM_LIMIT &&
				   n->when >= 0 && n->when < NUM_LIMIT,
			   "numbers of notice %zu", i);
		FUZZ_CHECK(notice_log_has(&log, n), "notice %zu not found", i);
		if (i > 0) {
			int c = memcmp(log.v[i - 1].id, n->id, TOKEN_ID_LEN);
			FUZZ_CHECK(c < 0 || (c == 0 && log.v[i - 1].kind <= n->kind),
				   "not sorted at %zu", i);
		}
	}
	/* The first good line is always kept. */
	FUZZ_CHECK((log.n == 0) == (nonempty == refused), "kept %zu of %zu good",
		   log.n, nonempty - refused);

	size_t len1, len2, bad2 = 1;
	char *once = format_log(&log, &len1);
	notice_log again;
	FUZZ_CHECK(notice_log_parse(once, len1, &again, &bad2) == 0 && bad2 == 0,
		   "formatted log does not parse back cleanly");
	covered(&log, &again, "written and read back");
	covered(&again, &log, "read back");
	FUZZ_CHECK(again.n <= log.n, "%zu back from %zu", again.n, log.n);
	char *twice = format_log(&again, &len2);
	FUZZ_CHECK(len2 <= len1, "the file grew on a rewrite");
	free(once);
	free(twice);
	notice_log_free(&again);
	notice_log_free(&log);
	return 0;
}
