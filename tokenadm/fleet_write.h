/* Writing the fleet's signed bundles: the whole store (a full bundle) or
 * only what changed since a generation (a delta), pam_apitoken-bundle(5).
 * Used by `tokenadm export` and by `tokenadm publish`, so that both write
 * the same bytes from the same store view.
 *
 * Both read t->reader (opened by tool_open_store; one view, so the full
 * bundle and the deltas written from it are of the same generation) and
 * need t->key (records are checked before they are signed: a damaged
 * record is never pushed to every host). signing_key is the authority's
 * Ed25519 private key (signkey_load_private). They write to fd and
 * neither close, seek nor fsync it; on failure what is on fd is not a
 * valid bundle. */
#ifndef TOKENADM_FLEET_WRITE_H
#define TOKENADM_FLEET_WRITE_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "fleet.h"
#include "tokenadm.h"

/* The privileged step that export and publish share: only an
 * administrator, only on the authority ("only administrators VERB the
 * store", "bundles are DONE"), with lapses first noted when note_lapses,
 * the store opened, *meta read and a generation there; then the signing
 * key loaded into *key (it is root's: read it now, sign after the drop;
 * the caller frees it). Returns EXIT_OK or the exit code (reported). */
int fleet_write_prepare(tool *t, const char *verb, const char *done,
			bool note_lapses, fleet_meta *meta, EVP_PKEY **key);

/* What was written. */
typedef struct fleet_written {
	uint64_t base;          /* delta: the generation it starts from; 0 full */
	uint64_t generation;    /* the store's, which the bundle carries */
	unsigned long records;  /* record lines */
	unsigned long removed;  /* delta: remove lines */
} fleet_written;

/* Return values besides 0 and -1. */
#define FLEET_OUTSIDE_WINDOW 1 /* since is older than the delta window */
#define FLEET_NOTHING_NEW 2    /* since is the current generation (or newer) */

/* The whole store. Returns 0, or -1 with the reason in err. */
int fleet_write_full(tool *t, EVP_PKEY *signing_key, int fd,
		     fleet_written *out, char *err, size_t errlen);

/* What changed from generation since to the current one: new and changed
 * records, and a remove line for each record gone. Returns 0, -1 (err),
 * FLEET_OUTSIDE_WINDOW or FLEET_NOTHING_NEW (err says which, in a line a
 * caller can print; nothing was written): the caller falls back to the
 * full bundle. */
int fleet_write_delta(tool *t, EVP_PKEY *signing_key, uint64_t since, int fd,
		      fleet_written *out, char *err, size_t errlen);

/* The oldest generation a delta can start from (*floor) and the current
 * one (*current), so a publisher knows which deltas it can offer: every
 * since with floor <= since < current. *floor == *current when there is
 * none. Returns 0 or -1 (err). */
int fleet_delta_range(tool *t, uint64_t *floor, uint64_t *current, char *err,
		      size_t errlen);

#endif
