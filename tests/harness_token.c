/* Token text per tokenadm(8), TOKEN FORMAT, for the tests, independent of the product's code
 * (core/token.c): apart from harness.c so that only the tests that make
 * tokens link zlib's crc32. See harness.h. */
#include "harness.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

void th_check_digits(const char *text, size_t len, char out[7])
{
	static const char b62[] = TH_B62;
	uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)text, (uInt)len);

	for (int i = 5; i >= 0; i--) {
		out[i] = b62[crc % 62];
		crc /= 62;
	}
	out[6] = '\0';
}

void th_token_text(char *out, size_t outlen, const char *prefix,
		   const char *id, const char *secret)
{
	char body[512], digits[7];
	int n = snprintf(body, sizeof(body), "%s_%s_%s", prefix, id, secret);

	if (n < 0 || (size_t)n >= sizeof(body))
		abort(); /* a test bug */
	th_check_digits(body, (size_t)n, digits);
	if ((size_t)n + 7 > outlen)
		abort();
	memcpy(out, body, (size_t)n);
	memcpy(out + n, digits, 7);
}
