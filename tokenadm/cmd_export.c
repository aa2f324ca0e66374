/* tokenadm export: the whole store as one signed bundle for the fleet's
 * import-only hosts, or with --since only what changed since a generation
 * (pam_apitoken-bundle(5); the writing itself is fleet_write.c). Records go out exactly as the
 * store holds them: digests and metadata, never a secret or the site key. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet.h"
#include "fleet_records.h"
#include "fleet_write.h"
#include "secure.h"
#include "signkey.h"
#include "tokenadm.h"

typedef struct export_opts {
	const char *out;   /* a path, or "-" for stdout */
	bool delta;        /* --since given */
	uint64_t since;
	EVP_PKEY *key;     /* loaded while privileged */
	fleet_meta meta;
	fleet_written done;
	int why;           /* fleet_write_delta's result */
} export_opts;

static int export_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "since", required_argument, NULL, 's' },
		{ 0 },
	};
	export_opts *o = opts;
	int c;

	(void)now;
	optind = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'o') {
			o->out = optarg;
		} else if (c == 's') {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end ||
			    errno || v > (unsigned long long)INT64_MAX) {
				warnx_("--since: '%s' is not a generation "
				       "(a number from 0)", optarg);
				return EXIT_USAGE;
			}
			o->delta = true;
			o->since = v;
		} else {
			goto usage;
		}
	}
	if (optind == argc && o->out && *o->out)
		return EXIT_OK;
usage:
	warnx_("usage: export [--since GENERATION] --out FILE|-");
	return EXIT_USAGE;
}

static int export_transact(tool *t, void *opts)
{
	export_opts *o = opts;

	/* Lapses first, so that the bundle carries them to the hosts. */
	return fleet_write_prepare(t, "export", "exported", true, &o->meta,
				   &o->key);
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
	char err[256];

	o->why = o->delta ? fleet_write_delta(t, o->key, o->since, fd, &o->done,
					      err, sizeof(err)) :
			    fleet_write_full(t, o->key, fd, &o->done, err,
					     sizeof(err));
	if (o->why != 0) {
		warnx_("%s", err);
		return -1;
	}
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
	if (o->delta)
		say("exported the delta from generation %llu to %llu: %lu "
		    "token(s) changed, %lu removed",
		    (unsigned long long)o->done.base,
		    (unsigned long long)o->done.generation, o->done.records,
		    o->done.removed);
	else
		say("exported generation %llu: %lu token(s)",
		    (unsigned long long)o->done.generation, o->done.records);
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
