/* Stand-in for the delta branch's fleet_write.c until it is merged: the
 * full bundle only, written as `tokenadm export` writes it; no deltas
 * (every since is outside the window). Delete this file at the merge. */
#include "fleet_write.h"

#include <stdio.h>
#include <string.h>

#include "bundle.h"
#include "fleet.h"
#include "secure.h"

typedef struct walk {
	tool *t;
	bundle_writer *w;
	unsigned long n;
	char bad[TOKEN_ID_LEN + 1];
} walk;

static int one(void *ctx, const char *key, size_t keylen, const uint8_t *val,
	       size_t vallen)
{
	walk *x = ctx;
	token_record rec;
	char id[TOKEN_ID_LEN + 1];

	if (keylen != TOKEN_ID_LEN)
		return 1;
	memcpy(id, key, TOKEN_ID_LEN);
	id[TOKEN_ID_LEN] = '\0';
	int ok = record_decode(id, val, vallen, x->t->key, &rec) == 0;
	secure_wipe(&rec, sizeof(rec));
	if (!ok) {
		memcpy(x->bad, id, sizeof(x->bad));
		return 1;
	}
	if (bundle_writer_record(x->w, id, val, vallen) != 0)
		return 1;
	x->n++;
	return 0;
}

int fleet_write_full(tool *t, EVP_PKEY *signing_key, int fd,
		     fleet_written *out, char *err, size_t errlen)
{
	fleet_meta m;
	char e[256] = "";

	if (fleet_meta_get(t, NULL, &m) != 0) {
		snprintf(err, errlen, "cannot read the store's generation");
		return -1;
	}
	bundle_header h = { .generation = m.generation, .created = t->now };
	snprintf(h.prefix, sizeof(h.prefix), "%s", t->cfg.prefix);
	walk x = { .t = t };
	x.w = bundle_writer_open(fd, &h, err, errlen);
	if (!x.w)
		return -1;
	if (store_each(t->reader, one, &x, e, sizeof(e)) != 0) {
		snprintf(err, errlen, "%s", x.bad[0] ? "a record failed its "
			 "integrity check" : e[0] ? e :
			 bundle_writer_error(x.w));
		bundle_writer_abort(x.w);
		return -1;
	}
	if (bundle_writer_finish(x.w, signing_key, err, errlen) != 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->generation = m.generation;
	out->records = x.n;
	return 0;
}

int fleet_write_delta(tool *t, EVP_PKEY *signing_key, uint64_t since, int fd,
		      fleet_written *out, char *err, size_t errlen)
{
	(void)t, (void)signing_key, (void)since, (void)fd, (void)out;
	snprintf(err, errlen, "no deltas in this build");
	return FLEET_OUTSIDE_WINDOW;
}

int fleet_delta_range(tool *t, uint64_t *floor, uint64_t *current, char *err,
		      size_t errlen)
{
	fleet_meta m;

	if (fleet_meta_get(t, NULL, &m) != 0) {
		snprintf(err, errlen, "cannot read the store's generation");
		return -1;
	}
	*floor = *current = m.generation;
	return 0;
}
