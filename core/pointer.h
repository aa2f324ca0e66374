/* The pointer of a published directory: a small signed file, "latest",
 * that says which generation the authority is at, until when it says so,
 * and which files (the full bundle, deltas from recent generations) bring
 * a host there, each with its size and SHA-256 (pam_apitoken-bundle(5),
 * POINTER). It is TUF's timestamp file for the fleet: a host fetches it
 * with a conditional request, and only what it names when it is newer.
 *
 * A pointer is a few hundred bytes, so it is read whole into memory; the
 * signature is checked before any field is believed. */
#ifndef APITOKEN_POINTER_H
#define APITOKEN_POINTER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "bundle.h"

/* The largest pointer a reader takes (a header and 64 deltas fit in a
 * quarter of it). */
#define POINTER_MAX_SIZE 16384
#define POINTER_DELTAS_MAX 64
/* A file name: 1..64 of A-Z a-z 0-9 . _ -, starting with a letter or a
 * digit: safe in a URL and a path as it is. */
#define POINTER_NAME_MAX 64
#define POINTER_SHA256_LEN 32

typedef struct pointer_file {
	char name[POINTER_NAME_MAX + 1];
	uint64_t base;   /* a delta's base generation; 0 for the full bundle */
	uint64_t size;   /* bytes, 1 .. 2^63-1 */
	uint8_t sha256[POINTER_SHA256_LEN];
} pointer_file;

typedef struct pointer {
	char prefix[17];
	uint64_t generation; /* 1 .. 2^63-1 */
	int64_t created;     /* when the authority signed it */
	int64_t expires;     /* after this no host believes it; > created */
	pointer_file full;
	pointer_file deltas[POINTER_DELTAS_MAX];
	size_t n_deltas;     /* bases strictly rising, each < generation */
	char signer[BUNDLE_FPR_LEN + 1]; /* set by pointer_verify */
} pointer;

/* The signed text of p, signed with key (Ed25519 private), into a
 * malloc'ed buffer *out of *outlen bytes. Returns 0, or -1 with a reason
 * in err (an invalid field, a key that cannot sign, no memory). */
int pointer_write(const pointer *p, EVP_PKEY *key, char **out,
		  size_t *outlen, char *err, size_t errlen);

/* Check the framing and the signature of buf (len bytes) with the trusted
 * key the signature line names, then, and only then, parse the fields
 * into *p. Returns 0, or -1 with one of these in err:
 *   "truncated", "malformed at line N: REASON", "unknown key FPR",
 *   "bad signature", "line N: REASON" (a signed but invalid field).
 * It checks no time and no prefix: those are the host's to judge. */
int pointer_verify(const char *buf, size_t len, EVP_PKEY *const *trusted,
		   size_t n_trusted, pointer *p, char *err, size_t errlen);

/* The fields of buf without the signature (the publisher reads its own
 * previous pointer to know which files a reader may still be fetching;
 * and the fuzz target). The signature line's syntax is checked, not the
 * signature. Returns 0 or -1 with a reason in err. */
int pointer_parse(const char *buf, size_t len, pointer *p, char *err,
		  size_t errlen);

/* Is name a valid file name of a pointer? */
int pointer_name_valid(const char *name);

/* The entry of p a file of that size and SHA-256 is, or NULL. */
const pointer_file *pointer_find(const pointer *p, uint64_t size,
				 const uint8_t sha256[POINTER_SHA256_LEN]);

#endif
