/* How many tokens create may add: the owner's limit and the store's cap,
 * with the owner's own dead records paying for the room they take. */
#ifndef TOKENADM_QUOTA_H
#define TOKENADM_QUOTA_H

#include <stddef.h>

#include "tokenadm.h"

/* The owner's dead tokens that a create deleted to make room. */
typedef struct reclaimed_token {
	char id[TOKEN_ID_LEN + 1];
	char name[RECORD_NAME_MAX + 1];
} reclaimed_token;

typedef struct quota_reclaim {
	size_t n, cap;
	reclaimed_token *tok;
} quota_reclaim;

/* Inside create's transaction, so two creates racing cannot both slip
 * under a limit. The owner's live tokens count against
 * max_tokens_per_user, every record in the store (anyone's, dead or
 * alive) against max_store_tokens for a non-administrator. The owner's
 * revoked and expired records count too, against either: when they would
 * make the create fail, they are deleted in txn (listed in *r) and the
 * limits checked without them; so dead records one member piles up
 * (create --expires 1s in a loop) are theirs to pay for, never everyone
 * else's. Returns EXIT_OK, EXIT_DENIED or EXIT_REFUSED (reported). */
int quota_check(tool *t, store_txn *txn, const char *owner,
		quota_reclaim *r);

/* After the commit: forget the reclaimed tokens' last use, one audit line
 * each ("pruned"), and free the list. owner as given to quota_check. */
void quota_finish(tool *t, const char *owner, quota_reclaim *r,
		  bool committed);

#endif
