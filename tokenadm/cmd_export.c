/* tokenadm export: the whole store as one signed bundle for the fleet's
 * import-only hosts (pam_apitoken-bundle(5)). Records go out exactly as the
 * store holds them: digests and metadata, never a secret or the site key. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet.h"
#include "fleet_records.h"
#include "secure.h"
#include "signkey.h"
#include "tokenadm.h"

typedef struct export_opts {
	const char *out;   /* a path, or "-" for stdout */
	EVP_PKEY *key;     /* loaded while privileged */
	fleet_meta meta;
	unsigned long n;   /* records written */
} export_opts;

static int export_parse(int argc, char **argv, void *opts, int64_t now)
{
	(void)now;
	if (parse_out_option(argc, argv, 0, &((export_opts *)opts)->out) == 0)
		return EXIT_OK;
	warnx_("usage: export --out FILE|-");
	return EXIT_USAGE;
}

static int export_transact(tool *t, void *opts)
{
	export_opts *o = opts;
	char err[256];

	if (!t->admin) {
		warnx_("only administrators export the store");
		return EXIT_DENIED;
	}
	int rc = fleet_require_authority(t, "bundles are exported");
	if (rc != EXIT_OK)
		return rc;
	if (tool_open_store(t) != 0 ||
	    fleet_meta_get(t, NULL, &o->meta) != 0)
		return EXIT_REFUSED;
	if (o->meta.generation == 0) {
		warnx_("the store has no generation yet (made before the fleet "
		       "support): change anything, or run tokenadm init, first");
		return EXIT_REFUSED;
	}
	/* The signing key is root's: read it now, sign after the drop. */
	o->key = signkey_load_private(t->cfg.signing_key, err, sizeof(err));
	if (!o->key) {
		warnx_("%s (tokenadm init --signing makes one)", err);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

typedef struct export_walk {
	tool *t;
	bundle_writer *w;
	unsigned long n;
	char bad[TOKEN_ID_LEN + 1];
} export_walk;

static int export_one(void *ctx, const char *key, size_t keylen,
		      const uint8_t *val, size_t vallen)
{
	export_walk *x = ctx;
	char id[TOKEN_ID_LEN + 1];

	if (keylen != TOKEN_ID_LEN)
		return 1;
	memcpy(id, key, TOKEN_ID_LEN);
	id[TOKEN_ID_LEN] = '\0';
	/* A damaged record must not be signed and pushed to every host;
	 * the rest go out as the fleet must see them (fleet_records.h). */
	uint8_t out[RECORD_ENCODED_MAX];
	size_t outlen = 0;
	int ok = fleet_record_for_export(x->t, id, val, vallen, out,
					 &outlen) == 0;
	if (!ok) {
		memcpy(x->bad, id, sizeof(x->bad));
		return 1;
	}
	ok = bundle_writer_record(x->w, id, out, outlen) == 0;
	secure_wipe(out, sizeof(out));
	if (!ok)
		return 1;
	x->n++;
	return 0;
}

typedef struct export_out {
	tool *t;
	export_opts *o;
} export_out;

/* Write the bundle on fd. Returns 0 or -1 (reported). */
static int write_bundle(int fd, void *ctx)
{
	tool *t = ((export_out *)ctx)->t;
	export_opts *o = ((export_out *)ctx)->o;
	bundle_header h = { .generation = o->meta.generation,
			    .created = t->now };
	char err[256];

	snprintf(h.prefix, sizeof(h.prefix), "%s", t->cfg.prefix);
	export_walk x = { .t = t };
	x.w = bundle_writer_open(fd, &h, err, sizeof(err));
	if (!x.w) {
		warnx_("cannot write the bundle: %s", err);
		return -1;
	}
	int rc = store_each(t->reader, export_one, &x, err,
				      sizeof(err));
	if (rc != 0) {
		if (x.bad[0])
			warnx_("token %s failed its integrity check; not "
			       "exporting a damaged store", x.bad);
		else if (rc < 0)
			warnx_("%s", err);
		else
			warnx_("cannot write the bundle: %s",
			       bundle_writer_error(x.w)[0] ?
				       bundle_writer_error(x.w) :
				       "a store entry has a malformed key");
		bundle_writer_abort(x.w);
		return -1;
	}
	if (bundle_writer_finish(x.w, o->key, err, sizeof(err)) != 0) {
		warnx_("cannot write the bundle: %s", err);
		return -1;
	}
	o->n = x.n;
	return 0;
}

/* As the caller: they name the file, so they write it. Secret-free and
 * signed, but it shows every owner, token name and host rule: readable
 * by its owner only, as pam_apitoken-bundle(5) asks. */
static int export_report(tool *t, void *opts, int rc)
{
	export_opts *o = opts;
	export_out x = { t, o };

	if (rc != EXIT_OK)
		return rc;
	if (tool_write_out(o->out, 0600, write_bundle, &x) != 0)
		return EXIT_REFUSED;
	say("exported generation %llu: %lu token(s)",
	    (unsigned long long)o->meta.generation, o->n);
	return EXIT_OK;
}

static void export_cleanup(void *opts)
{
	EVP_PKEY_free(((export_opts *)opts)->key);
}

const command cmd_export = {
	.name = "export",
	.opts_size = sizeof(export_opts),
	.parse = export_parse,
	.transact = export_transact,
	.report = export_report,
	.cleanup = export_cleanup,
};
