/* What tokenadm keeps about the fleet in the store itself, beside the
 * records (keys starting with STORE_META_MARK, which no token id can be):
 * the generation, the last import, and this host's own emergency
 * revocations and disables, which no import may undo. Kept in the store so
 * that every change to them goes through the same copy-fsync-rename
 * transaction as the records: old and new are never mixed. */
#ifndef TOKENADM_FLEET_H
#define TOKENADM_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "bundle.h"
#include "tokenadm.h"

typedef struct fleet_meta {
	uint64_t generation; /* grows with every change on the authority */
	int64_t created;     /* import-only: when the bundle was exported */
	int64_t imported;    /* import-only: when it was installed; 0: never */
	char signer[BUNDLE_FPR_LEN + 1]; /* import-only: who signed it */
} fleet_meta;

/* Read the metadata from txn, or from t->reader when txn is NULL. A store
 * without any (made before the fleet, or never changed) reads as zeros.
 * Returns 0, or -1 (reported) if it is unreadable or malformed. */
int fleet_meta_get(tool *t, store_txn *txn, fleet_meta *m);
int fleet_meta_put(store_txn *txn, const fleet_meta *m);

/* What the fleet adds to every commit (tool.before_commit, set by main):
 * on the authority, the next generation (every commit advances it) and
 * its change log entry
 * (fleet_log.h); on an import-only host nothing (its generation is the
 * bundle's). Returns 0 or -1 (reported). */
int fleet_before_commit(tool *t, store_txn *txn);

/* The public half of the authority's signing key, "<signing_key>.pub"
 * (init --signing writes it there; status reads it). Free it; NULL: no
 * memory. */
char *fleet_signing_pub_path(const apitoken_config *cfg);

/* Refuse, with the message and exit 3 the fleet's scripts expect, a
 * command that only the authority may run ("what": "create tokens"). */
int fleet_require_authority(const tool *t, const char *what);

/* An import-only host's refusal: "refused: REASON" on stderr (the push or
 * the pull sees it) and one syslog warning "WHAT refused: REASON by=
 * uid=" (the host's log monitoring sees it). The reason may quote what
 * came from the authority, so the log line goes through log_safe. */
void fleet_refuse(const tool *t, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Load the configuration's trusted_key files into keys (room for
 * CONFIG_TRUSTED_KEYS_MAX), counting them in *n: on failure too, so the
 * caller frees keys[0..*n). None configured is a refusal (fleet_refuse
 * with what); an unreadable one is said on stderr. Returns 0 or -1. */
int fleet_load_trusted(const tool *t, const char *what, EVP_PKEY **keys,
		       size_t *n);

/* This host's own revocation or disable of id, which an import keeps. */
typedef enum {
	LOCAL_NONE = 0,
	LOCAL_DISABLED,
	LOCAL_REVOKED,
	LOCAL_UNKNOWN, /* the store could not be read: assume nothing */
} local_override;
int fleet_local_put(store_txn *txn, const char *id, local_override o);
local_override fleet_local_get(tool *t, store_txn *txn, const char *id);
/* Copy every mark of this host from t->reader into txn, also those of ids
 * the new bundle lacks: a token pruned on the authority and brought back
 * by a restored backup must find its local revocation still here. */
int fleet_local_carry(tool *t, store_txn *txn);

/* The authority's merged, fleet-wide last-use table
 * (<db>.lastused.fleet, written by tokenadm lastused merge); missing is
 * empty. Returns 0 or -1 (reported). */
char *fleet_lastused_path(const apitoken_config *cfg);
int fleet_lastused_load(const apitoken_config *cfg, int64_t now,
			lastused_table *table);

#endif
