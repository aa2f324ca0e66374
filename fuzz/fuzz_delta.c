/* The delta reader: bundle_read_ex over full bundles and deltas alike
 * (format 2: a "base" header line and "remove" lines; see
 * pam_apitoken-bundle(5)), and the full-only readers' refusal of a delta.
 *
 * Input: a mode byte, then the file, as fuzz_bundle:
 *   mode & 1: the file is the signed part only; the harness appends a valid
 *             signature line made with the fixed test key;
 *   mode & 2: on_header stops the read;  mode & 4: visit or on_remove
 *             stops at the first line it is handed.
 *
 * Checks: 0 or -1 with a printable "line N: ..." reason; on_header first
 * and once, a delta's base from 1 to generation-1 (a full bundle's 0);
 * remove lines only in a delta, with valid ids; no id twice, as record or
 * remove; bundle_read (full only) refuses every delta and agrees with
 * bundle_read_ex on every full bundle; with pass 1's proof the same
 * answer; and an accepted file written back by bundle_writer (records
 * and removes in the same order) gives the same signed bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_bundle_common.h"
#include "fuzz_common.h"

/* Pass 2 is bundle_read_ex, with remove lines handed to on_remove. */
static int read_ex(int fd, const bundle_proof *proof, bundle_header *h_out,
		   fuzz_bundle_seen *s, char *err, size_t errlen)
{
	return bundle_read_ex(fd, proof, h_out, fuzz_bundle_on_header,
			      fuzz_bundle_visit, fuzz_bundle_on_remove, s, err,
			      errlen);
}

/* The full-only reader: refuses any delta, else agrees. */
static void check_full_only(int fd, const fuzz_bundle_seen *s, int rrc)
{
	fuzz_bundle_seen s4;
	char e4[256];

	fuzz_bundle_seen_like(&s4, s);
	lseek(fd, 0, SEEK_SET);
	int rc4 = bundle_read(fd, NULL, fuzz_bundle_on_header,
			      fuzz_bundle_visit, &s4, e4, sizeof(e4));
	if (rrc == 0 && s->h.base)
		FUZZ_CHECK(rc4 == -1 && strstr(e4, "a delta bundle"),
			   "bundle_read took a delta: %s", rc4 ? e4 : "ok");
	if (rrc == 0 && !s->h.base)
		FUZZ_CHECK(rc4 == 0 && s4.n == s->n,
			   "bundle_read refused a full bundle: %s", e4);
	FUZZ_CHECK(s4.removes == 0, "bundle_read handed a remove");
	fuzz_bundle_seen_free(&s4);
}

static const fuzz_bundle_target target = {
	.name = "delta",
	.deltas = true,
	.read = read_ex,
	.extra = check_full_only,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_bundle_run(&target, data, size);
}
