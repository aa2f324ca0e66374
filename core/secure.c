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

void secure_free(void *p, size_t n)
{
	secure_wipe(p, n);
	free(p);
}
