/* create's limits: see quota.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authcheck.h"
#include "lastused.h"
#include "quota.h"

typedef struct count_ctx {
	unsigned live;
	quota_reclaim *dead;
	bool oom;
} count_ctx;

static int count_own(tool *t, void *ctx, const token_record *rec)
{
	count_ctx *c = ctx;
	quota_reclaim *r = c->dead;

	/* Only the owner's records come here (tool_walk_records). A disabled
	 * token counts as live: it can be enabled again. */
	if (record_death(rec, t->now) == TOKEN_ACTIVE) {
		c->live++;
		return 0;
	}
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		reclaimed_token *grown = realloc(r->tok, cap * sizeof(*grown));
		if (!grown) {
			c->oom = true;
			return 1;
		}
		r->tok = grown;
		r->cap = cap;
	}
	reclaimed_token *d = &r->tok[r->n++];
	memcpy(d->id, rec->id, sizeof(d->id));
	memcpy(d->name, rec->name, sizeof(d->name));
	return 0;
}

int quota_check(tool *t, store_txn *txn, const char *owner,
		quota_reclaim *r)
{
	unsigned limit = config_token_limit(&t->cfg, t->admin);
	bool store_cap = !t->admin && t->cfg.max_store_tokens;
	count_ctx c = { 0, r, false };
	unsigned long entries = 0;

	if (!limit && !store_cap)
		return EXIT_OK;
	/* One walk for all: the owner's records are decoded, everyone
	 * else's only counted. */
	if (tool_walk_records(t, txn, owner, count_own, &c, &entries) < 0)
		return EXIT_REFUSED;
	if (c.oom) {
		warnx_("out of memory");
		return EXIT_REFUSED;
	}
	bool short_of_room =
		(limit && c.live + r->n >= limit) ||
		(store_cap && entries >= t->cfg.max_store_tokens);
	if (short_of_room && r->n > 0) {
		for (size_t i = 0; i < r->n; i++)
			if (store_txn_delete(txn, r->tok[i].id, TOKEN_ID_LEN) !=
			    0) {
				warnx_("cannot delete token %s", r->tok[i].id);
				return EXIT_REFUSED;
			}
		entries -= r->n;
	} else {
		r->n = 0; /* kept: nothing reclaimed */
	}
	if (limit && c.live >= limit) {
		warnx_("%s already has %u tokens, the most allowed; "
		       "revoke one first", owner, c.live);
		return EXIT_DENIED;
	}
	/* The whole store, dead records included (they take disk until
	 * pruned): what members together may grow it to. Administrators are
	 * not held back, they are who prunes. */
	if (store_cap && entries >= t->cfg.max_store_tokens) {
		warnx_("the store holds %lu tokens, the most allowed "
		       "(max_store_tokens); ask an administrator", entries);
		return EXIT_DENIED;
	}
	return EXIT_OK;
}

void quota_finish(tool *t, const char *owner, quota_reclaim *r,
		  bool committed)
{
	for (size_t i = 0; committed && i < r->n; i++) {
		token_record gone = { 0 };
		memcpy(gone.id, r->tok[i].id, sizeof(gone.id));
		snprintf(gone.user, sizeof(gone.user), "%s", owner);
		memcpy(gone.name, r->tok[i].name, sizeof(gone.name));
		lastused_forget(&t->cfg, gone.id);
		audit(t, "pruned", &gone, "reason=room_for_a_new_token");
	}
	free(r->tok);
	memset(r, 0, sizeof(*r));
}
