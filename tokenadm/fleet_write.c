/* Writing full bundles and deltas (see fleet_write.h). */
#include "fleet_write.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "fleet_log.h"
#include "fleet_records.h"
#include "secure.h"
#include "signkey.h"

static int open_writer(tool *t, uint64_t base, uint64_t gen,
		       bundle_writer **w, int fd, char *err, size_t errlen)
{
	bundle_header h = { .generation = gen, .created = t->now,
			    .base = base };

	snprintf(h.prefix, sizeof(h.prefix), "%s", t->cfg.prefix);
	*w = bundle_writer_open(fd, &h, err, errlen);
	return *w ? 0 : -1;
}

/* The current generation, refusing a store that has none. */
static int current(tool *t, fleet_meta *m, char *err, size_t errlen)
{
	if (!t->reader || !t->key) {
		snprintf(err, errlen, "the store is not open");
		return -1;
	}
	if (fleet_meta_get(t, NULL, m) != 0) {
		snprintf(err, errlen, "cannot read the store's generation");
		return -1;
	}
	if (m->generation == 0) {
		snprintf(err, errlen, "the store has no generation yet (made "
				      "before the fleet support): change "
				      "anything, or run tokenadm init, first");
		return -1;
	}
	return 0;
}

/* One record, checked before it is signed (a damaged record must not be
 * pushed to every host) and made what the fleet must see: the configured
 * bundle_format, lapsed issuers marked (fleet_records.h). Full bundles
 * and deltas alike. Returns 0 or -1 (err). */
static int add_record(tool *t, bundle_writer *w, const char *id,
		      const uint8_t *val, size_t len, char *err, size_t errlen)
{
	uint8_t out[RECORD_ENCODED_MAX];
	size_t outlen = 0;
	char sid[TOKEN_ID_LEN + 1];

	memcpy(sid, id, TOKEN_ID_LEN);
	sid[TOKEN_ID_LEN] = '\0';
	if (fleet_record_for_export(t, sid, val, len, out, &outlen) != 0) {
		snprintf(err, errlen, "token %s failed its integrity check; "
				      "not exporting a damaged store", sid);
		return -1;
	}
	int rc = bundle_writer_record(w, sid, out, outlen);
	secure_wipe(out, sizeof(out));
	if (rc != 0) {
		snprintf(err, errlen, "cannot write the bundle: %s",
			 bundle_writer_error(w));
		return -1;
	}
	return 0;
}

typedef struct full_walk {
	tool *t;
	bundle_writer *w;
	unsigned long n;
	char *err;
	size_t errlen;
} full_walk;

static int full_one(void *ctx, const char *key, size_t keylen,
		    const uint8_t *val, size_t vallen)
{
	full_walk *x = ctx;

	if (keylen != TOKEN_ID_LEN) {
		snprintf(x->err, x->errlen, "a store entry has a malformed key");
		return 1;
	}
	if (add_record(x->t, x->w, key, val, vallen, x->err, x->errlen) != 0)
		return 1;
	x->n++;
	return 0;
}

static int finish(bundle_writer *w, EVP_PKEY *key, char *err, size_t errlen)
{
	char why[256];

	if (bundle_writer_finish(w, key, why, sizeof(why)) != 0) {
		snprintf(err, errlen, "cannot write the bundle: %s", why);
		return -1;
	}
	return 0;
}

int fleet_write_full(tool *t, EVP_PKEY *signing_key, int fd,
		     fleet_written *out, char *err, size_t errlen)
{
	fleet_meta m;
	full_walk x = { .t = t, .err = err, .errlen = errlen };
	char why[256] = "";

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	if (current(t, &m, err, errlen) != 0 ||
	    open_writer(t, 0, m.generation, &x.w, fd, err, errlen) != 0)
		return -1;
	int rc = store_each(t->reader, full_one, &x, why, sizeof(why));
	if (rc != 0) {
		if (rc < 0)
			snprintf(err, errlen, "%s", why);
		bundle_writer_abort(x.w);
		return -1;
	}
	if (finish(x.w, signing_key, err, errlen) != 0)
		return -1;
	out->generation = m.generation;
	out->records = x.n;
	return 0;
}

int fleet_delta_range(tool *t, uint64_t *floor, uint64_t *cur, char *err,
		      size_t errlen)
{
	fleet_meta m;

	if (current(t, &m, err, errlen) != 0 ||
	    fleet_log_floor(t->reader, m.generation, floor, err, errlen) != 0)
		return -1;
	*cur = m.generation;
	return 0;
}

int fleet_write_delta(tool *t, EVP_PKEY *signing_key, uint64_t since, int fd,
		      fleet_written *out, char *err, size_t errlen)
{
	uint64_t floor, cur;
	char (*ids)[TOKEN_ID_LEN] = NULL;
	size_t n = 0;
	bundle_writer *w = NULL;
	uint8_t val[RECORD_ENCODED_MAX];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	if (fleet_delta_range(t, &floor, &cur, err, errlen) != 0)
		return -1;
	if (since >= cur) {
		snprintf(err, errlen, "generation %" PRIu64 " is %s: no delta "
			 "to write", since, since == cur ?
			 "the current one" : "newer than this store's");
		return FLEET_NOTHING_NEW;
	}
	if (since < floor) {
		if (floor == cur)
			snprintf(err, errlen, "no delta from generation %"
				 PRIu64 ": this authority keeps no delta log "
				 "yet (delta_window); export the full bundle",
				 since);
		else
			snprintf(err, errlen, "generation %" PRIu64 " is "
				 "older than the delta window (deltas start "
				 "at generation %" PRIu64 "); export the full "
				 "bundle", since, floor);
		return FLEET_OUTSIDE_WINDOW;
	}
	if (fleet_log_collect(t->reader, since, cur, &ids, &n, err, errlen) != 0 ||
	    open_writer(t, since, cur, &w, fd, err, errlen) != 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		char why[256] = "";
		size_t len = 0;
		store_status st = store_get(t->reader, ids[i], TOKEN_ID_LEN,
					    val, sizeof(val), &len, why,
					    sizeof(why));
		if (st == STORE_NOTFOUND) {
			if (bundle_writer_remove(w, ids[i]) != 0) {
				snprintf(err, errlen, "cannot write the "
					 "bundle: %s", bundle_writer_error(w));
				goto out;
			}
			out->removed++;
			continue;
		}
		if (st != STORE_OK) {
			snprintf(err, errlen, "%s", why[0] ? why :
				 "cannot read the store");
			goto out;
		}
		if (add_record(t, w, ids[i], val, len, err, errlen) != 0)
			goto out;
		out->records++;
	}
	rc = finish(w, signing_key, err, errlen);
	w = NULL;
	if (rc == 0) {
		out->base = since;
		out->generation = cur;
	}
out:
	secure_wipe(val, sizeof(val));
	bundle_writer_abort(w);
	free(ids);
	return rc;
}

int fleet_write_prepare(tool *t, const char *verb, const char *done,
			bool note_lapses, fleet_meta *meta, EVP_PKEY **key)
{
	char err[256], what[64];

	if (!t->admin) {
		warnx_("only administrators %s the store", verb);
		return EXIT_DENIED;
	}
	snprintf(what, sizeof(what), "bundles are %s", done);
	int rc = fleet_require_authority(t, what);
	if (rc != EXIT_OK)
		return rc;
	if ((note_lapses && fleet_note_lapses(t) != 0) ||
	    tool_open_store(t) != 0 || fleet_meta_get(t, NULL, meta) != 0)
		return EXIT_REFUSED;
	if (meta->generation == 0) {
		warnx_("the store has no generation yet (made before the fleet "
		       "support): change anything, or run tokenadm init, first");
		return EXIT_REFUSED;
	}
	*key = signkey_load_private(t->cfg.signing_key, err, sizeof(err));
	if (!*key) {
		warnx_("%s (tokenadm init --signing makes one)", err);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}
