/* Records crossing to the fleet and back, and the store's upgrade to
 * record format 2 (see fleet_records.h). */
#include "fleet_records.h"

#include <stdio.h>
#include <string.h>

#include "ownercheck.h"
#include "secure.h"

int fleet_record_for_export(tool *t, const char *id, const uint8_t *val,
			    size_t vallen, uint8_t *out, size_t *outlen)
{
	token_record rec;
	int rc = record_decode(id, val, vallen, t->key, &rec);

	if (rc != 0)
		return rc;
	bool changed = false;
	/* Judged here, at every export, never stored on the authority: an
	 * issuer put back into admin_group revives the token with the next
	 * bundle. A lookup that fails counts as lapsed (fail closed). */
	if ((rec.flags & RECORD_ADMIN_ISSUED) &&
	    !(rec.flags & RECORD_ISSUER_LAPSED) &&
	    owner_issuer_standing(&t->cfg, &rec, &owner_lookup_nss) != 1) {
		rec.flags |= RECORD_ISSUER_LAPSED;
		changed = true;
	}
	unsigned version = t->cfg.bundle_format == 2 ? RECORD_VERSION_MAX :
						       RECORD_VERSION_V1;
	if (version == RECORD_VERSION_V1)
		record_as_v1(&rec);
	if (!changed && rec.version == version) {
		memcpy(out, val, vallen);
		*outlen = vallen;
	} else {
		*outlen = record_encode_version(&rec, t->key, version, out,
						RECORD_ENCODED_MAX);
		rc = *outlen ? 0 : -1;
	}
	secure_wipe(&rec, sizeof(rec));
	return rc;
}

/* What this host bound id to before (its store as it was), or
 * RECORD_UID_UNKNOWN. Returns 0, or -1 when the store cannot be read. */
static int prior_binding(tool *t, const token_record *rec, uint32_t *uid)
{
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len = 0;
	char err[256];
	token_record old;

	*uid = RECORD_UID_UNKNOWN;
	if (!t->reader)
		return 0;
	store_status st = store_get(t->reader, rec->id, TOKEN_ID_LEN, buf,
				    sizeof(buf), &len, err, sizeof(err));
	if (st == STORE_NOTFOUND)
		return 0;
	if (st != STORE_OK)
		return -1;
	/* A damaged or foreign old record binds nothing: bound afresh. */
	if (record_decode(rec->id, buf, len, t->key, &old) == 0 &&
	    strcmp(old.user, rec->user) == 0)
		*uid = old.owner_uid;
	secure_wipe(buf, sizeof(buf));
	secure_wipe(&old, sizeof(old));
	return 0;
}

int fleet_record_for_import(tool *t, token_record *rec)
{
	uint32_t uid;

	if (t->cfg.uid_binding != UID_BINDING_LOCAL)
		return 0; /* the authority's uid as carried, or none needed */
	if (prior_binding(t, rec, &uid) != 0)
		return -1;
	if (uid == RECORD_UID_UNKNOWN &&
	    owner_lookup_nss.uid_of(NULL, rec->user, &uid) != 1)
		uid = RECORD_UID_UNKNOWN; /* no account here (yet): refused */
	if (uid == rec->owner_uid && rec->version == RECORD_VERSION_MAX)
		return 0;
	rec->owner_uid = uid;
	return 1;
}

typedef struct upgrade_ctx {
	store_txn *txn;
	unsigned long n, unbound;
	int failed;
} upgrade_ctx;

static int upgrade_one(tool *t, void *ctx, const token_record *old)
{
	upgrade_ctx *u = ctx;
	token_record rec = *old;

	if (rec.version != RECORD_VERSION_V1)
		return 0;
	bool host_binding = t->cfg.role == ROLE_AUTHORITY ||
			    t->cfg.uid_binding != UID_BINDING_AUTHORITY;
	uint32_t uid = RECORD_UID_UNKNOWN;
	if (owner_lookup_nss.uid_of(NULL, rec.user, &uid) != 1)
		uid = RECORD_UID_UNKNOWN;
	/* uid_binding = authority on a host: only the authority's bundle can
	 * say which uid; until one comes in format 2 the token is refused. */
	rec.owner_uid = host_binding ? uid : RECORD_UID_UNKNOWN;
	if (rec.owner_uid == RECORD_UID_UNKNOWN)
		u->unbound++;
	/* Minted for someone else by a member of admin_group who was not
	 * root: from now on it lives only while that issuer is one. */
	if (t->cfg.role == ROLE_AUTHORITY && rec.creator_uid != 0 &&
	    !(rec.flags & RECORD_GROUP_BOUND) && rec.creator_uid != uid)
		rec.flags |= RECORD_ADMIN_ISSUED;
	int rc = tool_put_record(t, u->txn, &rec);
	secure_wipe(&rec, sizeof(rec));
	if (rc != 0) {
		u->failed = 1;
		return 1;
	}
	u->n++;
	return 0;
}

static int count_v1(void *ctx, const char *key, size_t keylen,
		    const uint8_t *val, size_t vallen)
{
	(void)key;
	if (keylen == TOKEN_ID_LEN &&
	    record_peek_version(val, vallen) == RECORD_VERSION_V1)
		(*(unsigned long *)ctx)++;
	return 0;
}

int store_upgrade_records(tool *t)
{
	char err[256] = "";
	unsigned long v1 = 0;

	/* A cheap look first (no MAC): a store already upgraded is left
	 * alone, so a rerun of init (every package upgrade) changes nothing
	 * and makes no new fleet generation. */
	store_view *v = store_open(t->cfg.db_path, err, sizeof(err));
	int rc = v ? store_each(v, count_v1, &v1, err, sizeof(err)) : -1;
	store_close(v);
	if (rc < 0) {
		warnx_("%s", err[0] ? err : "cannot read the store");
		return EXIT_REFUSED;
	}
	if (v1 == 0)
		return EXIT_OK;
	upgrade_ctx u = { 0 };
	if (tool_begin(t, &u.txn) != 0)
		return EXIT_REFUSED;
	/* The live store, read under the writers' lock (nobody else can
	 * commit now), written into the transaction's copy: never a walk of
	 * the file being written. */
	if (tool_foreach_record(t, NULL, upgrade_one, &u) != 0 || u.failed) {
		tool_abort(t, u.txn);
		return EXIT_REFUSED;
	}
	if (tool_commit(t, u.txn) != 0)
		return EXIT_REFUSED;
	say("upgraded %lu token record(s) to format 2 (bound to their "
	    "owner's uid)%s",
	    u.n, u.unbound ? "; some have no owner uid and stay refused "
			     "(tokenadm list says which)" : "");
	return EXIT_OK;
}
