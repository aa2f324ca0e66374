/* The fleet's metadata in the store (see fleet.h). */
#include "fleet.h"
#include "fleet_log.h"
#include "logsafe.h"
#include "signkey.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

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

/* "NAME=" then a decimal without sign or leading zero, then one space
 * (or the end, when last). Advances *p. */
static int take_number(const char **p, const char *name, bool last,
		       uint64_t max, uint64_t *out)
{
	size_t n = strlen(name);
	const char *s = *p;
	uint64_t v = 0;

	if (strncmp(s, name, n) != 0)
		return -1;
	s += n;
	if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (last ? *s != '\0' : *s != ' ')
		return -1;
	*p = last ? s : s + 1;
	*out = v;
	return 0;
}

/* Strict: "generation=N created=N imported=N signer=HEX|-", nothing else.
 * Only tokenadm writes it, but a store can be damaged. */
static int meta_parse(const char *s, fleet_meta *m)
{
	uint64_t gen, created, imported;

	if (take_number(&s, "generation=", false, (uint64_t)INT64_MAX, &gen) ||
	    take_number(&s, "created=", false, (uint64_t)INT64_MAX, &created) ||
	    take_number(&s, "imported=", false, (uint64_t)INT64_MAX,
			&imported) ||
	    strncmp(s, "signer=", 7) != 0)
		return -1;
	s += 7;
	size_t n = strlen(s);
	if (strcmp(s, "-") == 0)
		n = 0;
	else if (n != BUNDLE_FPR_LEN || strspn(s, "0123456789abcdef") != n)
		return -1;
	m->generation = gen;
	m->created = (int64_t)created;
	m->imported = (int64_t)imported;
	memcpy(m->signer, s, n);
	m->signer[n] = '\0';
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

int fleet_before_commit(tool *t, store_txn *txn)
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
	if (fleet_meta_put(txn, &m) != 0)
		return -1;
	return fleet_log_commit(t, txn, m.generation);
}

char *fleet_signing_pub_path(const apitoken_config *cfg)
{
	char *p;

	return asprintf(&p, "%s.pub", cfg->signing_key) < 0 ? NULL : p;
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

void fleet_refuse(const tool *t, const char *what, const char *fmt, ...)
{
	char why[256], safe[256], by[LOGSAFE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	warnx_("refused: %s", why);
	syslog(LOG_WARNING, "%s refused: %s by=%s uid=%u", what,
	       log_safe(why, safe, sizeof(safe)),
	       log_safe(t->user, by, sizeof(by)), (unsigned)t->uid);
}

int fleet_load_trusted(const tool *t, const char *what, EVP_PKEY **keys,
		       size_t *n)
{
	char err[256];

	*n = 0;
	if (t->cfg.n_trusted_keys == 0) {
		fleet_refuse(t, what, "no trusted_key in the configuration");
		return -1;
	}
	for (size_t i = 0; i < t->cfg.n_trusted_keys; i++) {
		keys[i] = signkey_load_public(t->cfg.trusted_keys[i], err,
					      sizeof(err));
		if (!keys[i]) {
			warnx_("trusted_key %s: %s", t->cfg.trusted_keys[i],
			       err);
			return -1;
		}
		(*n)++;
	}
	return 0;
}

static void local_key(const char *id, char key[sizeof(LOCAL_PREFIX) +
						 TOKEN_ID_LEN])
{
	snprintf(key, sizeof(LOCAL_PREFIX) + TOKEN_ID_LEN, "%s%.12s",
		 LOCAL_PREFIX, id);
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

/* Copies one of this host's marks into the new store as it was. */
static int carry_mark(void *ctx, const char *key, size_t keylen,
		      const uint8_t *val, size_t vallen)
{
	store_txn *txn = ctx;

	if (keylen != sizeof(LOCAL_PREFIX) - 1 + TOKEN_ID_LEN ||
	    memcmp(key, LOCAL_PREFIX, sizeof(LOCAL_PREFIX) - 1) != 0)
		return 0;
	return store_txn_put(txn, key, keylen, val, vallen) != 0 ? -1 : 0;
}

int fleet_local_carry(tool *t, store_txn *txn)
{
	char err[256] = "";

	if (store_each_meta(t->reader, carry_mark, txn, err, sizeof(err)) != 0) {
		warnx_("cannot carry this host's own revocations and disables "
		       "over: %s", err[0] ? err : "store write failed");
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
	store_status st = meta_fetch(t, txn, key, sizeof(key) - 1, buf,
				     sizeof(buf), &len);
	if (st == STORE_NOTFOUND)
		return LOCAL_NONE;
	/* A read error must not quietly drop an emergency revocation. */
	if (st != STORE_OK)
		return LOCAL_UNKNOWN;
	if (len == 7 && memcmp(buf, "revoked", 7) == 0)
		return LOCAL_REVOKED;
	/* Anything else that is there: the safer of the two that remain. */
	return LOCAL_DISABLED;
}
