/* Handling secrets: wiping, constant-time comparison, randomness. */
#ifndef APITOKEN_SECURE_H
#define APITOKEN_SECURE_H

#include <stdbool.h>
#include <stddef.h>

/* Zero memory in a way the compiler may not elide. */
void secure_wipe(void *p, size_t n);

/* Compare without a data-dependent early exit, so the time taken tells an
 * attacker nothing about how many leading bytes of a guess were right. */
bool secure_equal(const void *a, const void *b, size_t n);

/* Fill buf from the kernel CSPRNG (getrandom, blocking until seeded).
 * Returns 0 or -1. */
int secure_random(void *buf, size_t n);

/* Overwrite the stack below the caller. A lazily bound library call (zlib's
 * crc32 binds on first use) makes the dynamic linker save every vector
 * register on the stack, and those may still hold secret bytes a memcpy
 * moved: wipe that region once the secret is no longer needed. */
void secure_burn_stack(void);

/* Lowercase hex of the n bytes at in: 2 * n digits at out, no NUL (callers
 * place them inside a longer text). Without a table indexed by the bytes,
 * so that encoding a key leaks nothing through the cache. */
void secure_hex_encode(const void *in, size_t n, char *out);

/* free() after wiping n bytes; NULL is fine. */
void secure_free(void *p, size_t n);

#endif
