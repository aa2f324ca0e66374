/* Records crossing to the fleet and back, and the store's upgrade to
 * record format 2 (see fleet_records.h). */
#include "fleet_records.h"

#include <stdio.h>
#include <stdlib.h>
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

/* ---- lapses reach the hosts (fleet_note_lapses) ---- */

#include <openssl/evp.h>

#define LAPSED_KEY "~lapsed~~~~~"

typedef struct lapse_ctx {
	uint8_t sum[32]; /* XOR of SHA-256(id) of the lapsed: order-free */
	bool collect;    /* inside the transaction: note every admin-issued id */
	char (*ids)[TOKEN_ID_LEN];
	size_t n, cap;
	int failed;
} lapse_ctx;

static int note_lapse(tool *t, void *ctx, const token_record *rec)
{
	lapse_ctx *l = ctx;
	uint8_t h[32];
	unsigned int hl = 0;

	if (!(rec->flags & RECORD_ADMIN_ISSUED))
		return 0;
	if (l->collect) {
		if (l->n == l->cap) {
			size_t cap = l->cap ? l->cap * 2 : 64;
			void *p = reallocarray(l->ids, cap, sizeof(*l->ids));
			if (!p) {
				l->failed = 1;
				return 1;
			}
			l->ids = p;
			l->cap = cap;
		}
		memcpy(l->ids[l->n++], rec->id, TOKEN_ID_LEN);
	}
	if (owner_issuer_standing(&t->cfg, rec, &owner_lookup_nss) == 1)
		return 0;
	if (EVP_Digest(rec->id, TOKEN_ID_LEN, h, &hl, EVP_sha256(), NULL) != 1 ||
	    hl != sizeof(h)) {
		l->failed = 1;
		return 1;
	}
	for (size_t i = 0; i < sizeof(h); i++)
		l->sum[i] ^= h[i];
	return 0;
}

/* Walk v's records (NULL: the live store; else txn's copy) into l, and
 * say whether the lapsed set differs from the one noted in the store:
 * 1 differs, 0 same, -1 error (reported). hex gets the new note. */
static int lapses_changed(tool *t, store_txn *txn, lapse_ctx *l, char *hex,
			  size_t hexlen)
{
	uint8_t old[2 * sizeof(l->sum) + 1];
	size_t oldlen = 0;
	char err[256] = "";

	if (tool_foreach_record(t, txn, note_lapse, l) != 0 || l->failed)
		return -1;
	for (size_t i = 0; i < sizeof(l->sum) && 2 * i + 2 < hexlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", l->sum[i]);
	store_view *own = txn ? NULL : store_open(t->cfg.db_path, err,
						  sizeof(err));
	store_view *v = txn ? store_txn_view(txn) : own;
	store_status st = v ? store_get(v, LAPSED_KEY, strlen(LAPSED_KEY), old,
					sizeof(old), &oldlen, err, sizeof(err)) :
			      STORE_ERROR;
	store_close(own);
	if (st == STORE_ERROR) {
		warnx_("%s", err[0] ? err : "cannot read the store");
		return -1;
	}
	bool none = strspn(hex, "0") == strlen(hex);
	if (st == STORE_NOTFOUND ? none :
	    oldlen == strlen(hex) && memcmp(old, hex, oldlen) == 0)
		return 0;
	return 1;
}

/* Put every collected record back as it is stored: the bytes stay, but
 * the ids enter this generation's change log, so a delta from any earlier
 * generation carries them (and fleet_record_for_export marks them as it
 * writes them). Which of them changed state is not known here (the store
 * keeps only a digest of the lapsed set), so every token an administrator
 * issued goes: a superset, covering a lapse and a return alike. */
static int touch_collected(store_txn *txn, const lapse_ctx *l)
{
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len = 0;
	char err[256] = "";
	int rc = 0;

	for (size_t i = 0; rc == 0 && i < l->n; i++) {
		store_status st = store_get(store_txn_view(txn), l->ids[i],
					    TOKEN_ID_LEN, buf, sizeof(buf), &len,
					    err, sizeof(err));
		if (st != STORE_OK ||
		    store_txn_put(txn, l->ids[i], TOKEN_ID_LEN, buf, len) != 0)
			rc = -1;
	}
	secure_wipe(buf, sizeof(buf));
	return rc;
}

int fleet_note_lapses(tool *t)
{
	lapse_ctx l = { .failed = 0 };
	char hex[2 * sizeof(l.sum) + 1];

	/* A first look without the writers' lock: nothing changed (every
	 * export and publish but a few) costs no transaction. */
	int r = lapses_changed(t, NULL, &l, hex, sizeof(hex));
	if (r <= 0)
		return r;
	/* The set of lapsed issuers' tokens changed since the last export:
	 * a new generation, so hosts take the bundle that says so (an
	 * import refuses a generation it already has, publish reuses the
	 * files of an unchanged one), with the tokens concerned in its
	 * change log, so a delta carries them too. Judged again under the
	 * lock, on the copy being written. */
	store_txn *txn = NULL;
	if (tool_begin(t, &txn) != 0)
		return -1;
	lapse_ctx in = { .collect = true };
	r = lapses_changed(t, txn, &in, hex, sizeof(hex));
	if (r == 1 && (touch_collected(txn, &in) != 0 ||
		       store_txn_put(txn, LAPSED_KEY, strlen(LAPSED_KEY),
				     (const uint8_t *)hex, strlen(hex)) != 0)) {
		warnx_("cannot note the lapsed issuers in the store");
		r = -1;
	}
	free(in.ids);
	if (r != 1) {
		tool_abort(t, txn);
		return r;
	}
	return tool_commit(t, txn) == 0 ? 0 : -1;
}
