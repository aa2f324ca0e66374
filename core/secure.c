#include "secure.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>

void secure_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

bool secure_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

int secure_random(void *buf, size_t n)
{
	unsigned char *p = buf;

	while (n > 0) {
		ssize_t got = getrandom(p, n, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

__attribute__((noinline)) void secure_burn_stack(void)
{
	unsigned char pad[16384];

	explicit_bzero(pad, sizeof(pad));
	/* Keep the buffer (and so the wipe) from being optimised away. */
	__asm__ __volatile__("" : : "r"(pad) : "memory");
}

/* 0..15 to '0'..'9', 'a'..'f' by arithmetic: (9 - v) >> 8 is all ones
 * exactly when v > 9, adding the gap from '9' + 1 to 'a'. */
static char hex_digit(unsigned v)
{
	return (char)('0' + v + (((9u - v) >> 8) & ('a' - '0' - 10)));
}

void secure_hex_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex_digit(p[i] >> 4);
		out[2 * i + 1] = hex_digit(p[i] & 15u);
	}
}

void secure_free(void *p, size_t n)
{
	secure_wipe(p, n);
	free(p);
}
