/* bundle_verify and bundle_read (a bundle comes from another host and
 * through other hands: see pam_apitoken-bundle(5)).
 *
 * Input: a mode byte, then the file.
 *   mode & 1: the file is the signed part only; the harness appends a valid
 *             signature line made with the fixed test key (fuzz_bundle_key.h),
 *             so pass 1 accepts whatever frames well and pass 2 runs on
 *             "authentic" input (a signature alone would hide its checks);
 *   otherwise the file is used as it is (almost always refused by pass 1).
 *   mode & 2: on_header stops the read;  mode & 4: visit stops at the first
 *             record.
 * Both passes read the file from a memfd, like a file an importer opened.
 * bundle_read runs on every input, whatever bundle_verify said, so the
 * parser is fuzzed without a valid signature.
 *
 * Checks: both return 0 or -1 with a printable reason of the documented
 * shapes; pass 2 never accepts what pass 1 calls malformed or truncated
 * (its checks include the framing); visited records have valid, unique
 * ids and 1..RECORD_ENCODED_MAX bytes; on_header comes first, once, with
 * the header h_out reports; a stopping callback stops the read; with pass
 * 1's proof pass 2 agrees with itself; and an accepted bundle written back
 * by bundle_writer gives the same signed bytes (one spelling per bundle),
 * all of them when the input was signed with the test key, and reads back
 * to the same records. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_bundle_common.h"
#include "fuzz_common.h"

/* Pass 2 is bundle_read, or bundle_read_checked with pass 1's proof. */
static int read_full(int fd, const bundle_proof *proof, bundle_header *h_out,
		     fuzz_bundle_seen *s, char *err, size_t errlen)
{
	if (proof)
		return bundle_read_checked(fd, proof, h_out,
					   fuzz_bundle_on_header,
					   fuzz_bundle_visit, s, err, errlen);
	return bundle_read(fd, h_out, fuzz_bundle_on_header, fuzz_bundle_visit,
			   s, err, errlen);
}

static const fuzz_bundle_target target = {
	.name = "bundle",
	.deltas = false,
	.read = read_full,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_bundle_run(&target, data, size);
}
