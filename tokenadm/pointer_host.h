/* What an import-only host does with a published directory's pointer
 * (core/pointer.h) and with the freshness it proves (core/freshness.h):
 * shared by `pull-plan` and `import --pointer`. */
#ifndef TOKENADM_POINTER_HOST_H
#define TOKENADM_POINTER_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "pointer.h"
#include "tokenadm.h"

/* A signed statement's creation time may be this far ahead of our clock. */
#define FLEET_CLOCK_SKEW 86400

/* Read the pointer on fd (at most POINTER_MAX_SIZE bytes), verify it with
 * the trusted keys (keys[0..nkeys), fleet_load_trusted), then hold it to
 * this host: its prefix, not created in
 * the future, not past its expiry, not older than max_bundle_age. Every
 * refusal is said on stderr and logged at warning ("pointer refused: ..."):
 * a frozen mirror must be loud. Returns 0 or -1. */
int host_pointer_load(tool *t, int fd, EVP_PKEY *const *keys, size_t nkeys,
		      pointer *p);

/* Record that the authority vouched, at seen, for generation gen, which
 * this host holds. Only ever forward: a replayed older statement cannot
 * make a host look fresher than it was. Returns 0 or -1 (reported). */
int host_note_fresh(const tool *t, int64_t seen, uint64_t gen);

/* SHA-256 and size of everything on fd from offset 0 (which is left at
 * its end). Returns 0 or -1 (reported). */
int host_file_sha256(int fd, uint8_t sha[POINTER_SHA256_LEN],
		     uint64_t *size);

#endif
