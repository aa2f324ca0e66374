/* The fleet's metadata in the store (see fleet.h). */
#include "fleet.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define META_KEY "~fleet~~~~~~"
#define LOCAL_PREFIX "~local~"
#define META_MAX 256

static store_status meta_fetch(tool *t, store_txn *txn, const char *key,
			       size_t keylen, uint8_t *buf, size_t bufsz,
			       size_t *len)
{
	char err[256];

	store_view *v = txn ? store_txn_view(txn) : t->reader;

	if (!v)
		return STORE_ERROR;
	return store_get(v, key, keylen, buf, bufsz, len, err, sizeof(err));
}

/* Strict: "generation=N created=N imported=N signer=HEX|-", nothing else.
 * Only tokenadm writes it, but a store can be damaged. */
static int meta_parse(const char *s, fleet_meta *m)
{
	char signer[BUNDLE_FPR_LEN + 2];
	int64_t created, imported;
	uint64_t gen;
	int end = 0;

	if (sscanf(s, "generation=%" SCNu64 " created=%" SCNd64
		      " imported=%" SCNd64 " signer=%65s%n",
		   &gen, &created, &imported, signer, &end) != 4 ||
	    s[end] != '\0' || created < 0 || imported < 0)
		return -1;
	if (strcmp(signer, "-") == 0)
		signer[0] = '\0';
	else if (strlen(signer) != BUNDLE_FPR_LEN)
		return -1;
	m->generation = gen;
	m->created = created;
	m->imported = imported;
	memcpy(m->signer, signer, strlen(signer) + 1);
	return 0;
}

int fleet_meta_get(tool *t, store_txn *txn, fleet_meta *m)
{
	uint8_t buf[META_MAX + 1];
	size_t len = 0;

	memset(m, 0, sizeof(*m));
	store_status st = meta_fetch(t, txn, META_KEY, strlen(META_KEY), buf,
				     META_MAX, &len);
	if (st == STORE_NOTFOUND)
		return 0;
	if (st != STORE_OK || len > META_MAX) {
		warnx_("cannot read the store's fleet metadata");
		return -1;
	}
	buf[len] = '\0';
	if (memchr(buf, '\0', len) || meta_parse((const char *)buf, m) != 0) {
		warnx_("the store's fleet metadata is malformed");
		return -1;
	}
	return 0;
}

int fleet_meta_put(store_txn *txn, const fleet_meta *m)
{
	char buf[META_MAX];
	int n = snprintf(buf, sizeof(buf),
			 "generation=%" PRIu64 " created=%" PRId64
			 " imported=%" PRId64 " signer=%s",
			 m->generation, m->created, m->imported,
			 m->signer[0] ? m->signer : "-");

	if (n < 0 || (size_t)n >= sizeof(buf) ||
	    store_txn_put(txn, META_KEY, strlen(META_KEY), (uint8_t *)buf,
			  (size_t)n) != 0) {
		warnx_("cannot write the store's fleet metadata");
		return -1;
	}
	return 0;
}

int fleet_bump_generation(tool *t, store_txn *txn)
{
	fleet_meta m;

	if (t->cfg.role != ROLE_AUTHORITY)
		return 0; /* a host's generation is the bundle's */
	if (fleet_meta_get(t, txn, &m) != 0)
		return -1;
	if (m.generation >= (uint64_t)INT64_MAX) {
		warnx_("the store's generation cannot grow any further");
		return -1;
	}
	m.generation++;
	m.created = t->now;
	return fleet_meta_put(txn, &m);
}

int fleet_require_authority(const tool *t, const char *what)
{
	if (t->cfg.role == ROLE_AUTHORITY)
		return EXIT_OK;
	warnx_("this host is import-only (role = import-only in %s): %s on "
	       "the authority, which pushes them here",
	       t->cfg.path ? t->cfg.path : "the configuration", what);
	return EXIT_DENIED;
}

static void local_key(const char *id, char key[sizeof(LOCAL_PREFIX) +
						 TOKEN_ID_LEN])
{
	memcpy(key, LOCAL_PREFIX, strlen(LOCAL_PREFIX));
	memcpy(key + strlen(LOCAL_PREFIX), id, TOKEN_ID_LEN);
}

int fleet_local_put(store_txn *txn, const char *id, local_override o)
{
	char key[sizeof(LOCAL_PREFIX) + TOKEN_ID_LEN];
	const char *v = o == LOCAL_REVOKED ? "revoked" : "disabled";

	local_key(id, key);
	if (store_txn_put(txn, key, sizeof(key) - 1, (const uint8_t *)v,
			  strlen(v)) != 0) {
		warnx_("cannot note the local change to token %s", id);
		return -1;
	}
	return 0;
}

local_override fleet_local_get(tool *t, store_txn *txn, const char *id)
{
	char key[sizeof(LOCAL_PREFIX) + TOKEN_ID_LEN];
	uint8_t buf[16];
	size_t len = 0;

	local_key(id, key);
	if (meta_fetch(t, txn, key, sizeof(key) - 1, buf, sizeof(buf), &len) !=
	    STORE_OK)
		return LOCAL_NONE;
	if (len == 7 && memcmp(buf, "revoked", 7) == 0)
		return LOCAL_REVOKED;
	/* Anything else that is there: the safer of the two that remain. */
	return LOCAL_DISABLED;
}
