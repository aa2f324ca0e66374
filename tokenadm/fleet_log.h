/* The authority's change log: which token ids each generation changed,
 * kept in the store beside the records (metadata keys "~dlog~..."), for
 * the delta bundles (fleet_write.h). Kept in the store so a generation
 * and its log entry are committed by the same rename: a crash can never
 * leave a generation whose changes are unknown.
 *
 * The log of a generation lists ids only (put or deleted: which one is
 * read from the store when a delta is written), and is pruned to the
 * window the configuration's delta_window keeps. */
#ifndef TOKENADM_FLEET_LOG_H
#define TOKENADM_FLEET_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "tokenadm.h"

/* In the authority's commit, once the generation became gen (at t->now):
 * log the ids txn changed, and prune what fell out of the window.
 * Returns 0 or -1 (reported). */
int fleet_log_commit(tool *t, store_txn *txn, uint64_t gen);

/* The oldest generation a delta can start from, given the current one:
 * cur itself when the log is empty or off. Returns 0 or -1 (err). */
int fleet_log_floor(store_view *v, uint64_t cur, uint64_t *floor, char *err,
		    size_t errlen);

/* The ids changed in generations since+1 .. cur (floor <= since < cur),
 * sorted and without repeats, in *ids (free it). Returns 0 or -1 (err). */
int fleet_log_collect(store_view *v, uint64_t since, uint64_t cur,
		      char (**ids)[TOKEN_ID_LEN], size_t *n, char *err,
		      size_t errlen);

#endif
