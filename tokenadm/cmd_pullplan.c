/* tokenadm pull-plan LATEST: what an import-only host needs of a published
 * directory (tokenadm publish), given its signed pointer.
 *
 * The pointer is verified and held to this host (prefix, expiry,
 * max_bundle_age) before anything: a refusal fails the pull, loudly. Then
 *   - the pointer announces this host's generation: it is the authority's
 *     heartbeat; the freshness record is renewed (nothing else is
 *     written, the store is not touched) and nothing is printed;
 *   - it announces a newer one: one line per file worth fetching, best
 *     first, "NAME SIZE SHA256": the delta from this host's generation
 *     when one is on offer, then the full bundle (the fallback);
 *   - an older one: refused (a mirror serving an old pointer).
 * The pull fetches the first line's file and imports it with
 * `import --pointer LATEST FILE`, which checks its size and SHA-256. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fleet.h"
#include "pointer_host.h"
#include "secure.h"
#include "tokenadm.h"

typedef struct plan_opts {
	const char *file;
	int in;
	pointer p;
	fleet_meta meta;
	const pointer_file *pick[2];
	size_t n_pick;
} plan_opts;

static int plan_parse(int argc, char **argv, void *opts, int64_t now)
{
	plan_opts *o = opts;

	(void)now;
	o->in = -1;
	if (argc != 2 || argv[1][0] == '-') {
		warnx_("usage: pull-plan LATEST");
		return EXIT_USAGE;
	}
	o->file = argv[1];
	/* Opened with the caller's rights, as import opens its input. */
	o->in = open(o->file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (o->in < 0) {
		warnx_("cannot open %s: %s", o->file, strerror(errno));
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

static int plan_transact(tool *t, void *opts)
{
	plan_opts *o = opts;

	if (!t->admin) {
		warnx_("only administrators pull bundles");
		return EXIT_DENIED;
	}
	if (t->cfg.role != ROLE_IMPORT_ONLY) {
		warnx_("this host is the authority (role = authority): it "
		       "publishes, import-only hosts pull");
		return EXIT_DENIED;
	}
	EVP_PKEY *keys[CONFIG_TRUSTED_KEYS_MAX] = { 0 };
	size_t nkeys = 0;
	int loaded = fleet_load_trusted(t, "pointer", keys, &nkeys) == 0 &&
		     host_pointer_load(t, o->in, keys, nkeys, &o->p) == 0;
	for (size_t i = 0; i < nkeys; i++)
		EVP_PKEY_free(keys[i]);
	if (!loaded)
		return EXIT_REFUSED;
	if (tool_open_store(t) != 0 || fleet_meta_get(t, NULL, &o->meta) != 0)
		return EXIT_REFUSED;
	uint64_t have = o->meta.imported ? o->meta.generation : 0;
	if (have > o->p.generation) {
		warnx_("refused: the pointer announces generation %llu, this "
		       "host has %llu (a mirror serving an old pointer?)",
		       (unsigned long long)o->p.generation,
		       (unsigned long long)have);
		syslog(LOG_WARNING, "pointer refused: generation %llu, this "
				    "host has %llu",
		       (unsigned long long)o->p.generation,
		       (unsigned long long)have);
		return EXIT_REFUSED;
	}
	if (have == o->p.generation) {
		/* The heartbeat: nothing to fetch, the authority alive. */
		return host_note_fresh(t, o->p.created, have) == 0 ?
			       EXIT_OK : EXIT_REFUSED;
	}
	for (size_t i = 0; have && i < o->p.n_deltas; i++)
		if (o->p.deltas[i].base == have)
			o->pick[o->n_pick++] = &o->p.deltas[i];
	o->pick[o->n_pick++] = &o->p.full;
	return EXIT_OK;
}

static int plan_report(tool *t, void *opts, int rc)
{
	plan_opts *o = opts;

	(void)t;
	if (rc != EXIT_OK)
		return rc;
	for (size_t i = 0; i < o->n_pick; i++) {
		char h[2 * POINTER_SHA256_LEN + 1];
		secure_hex_encode(o->pick[i]->sha256, POINTER_SHA256_LEN, h);
		h[sizeof(h) - 1] = '\0';
		printf("%s %llu %s\n", o->pick[i]->name,
		       (unsigned long long)o->pick[i]->size, h);
	}
	if (o->n_pick == 0)
		say("generation %llu is current: freshness renewed",
		    (unsigned long long)o->p.generation);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_REFUSED;
}

static void plan_cleanup(void *opts)
{
	plan_opts *o = opts;

	if (o->in >= 0)
		close(o->in);
}

const command cmd_pull_plan = {
	.name = "pull-plan",
	.opts_size = sizeof(plan_opts),
	.parse = plan_parse,
	.transact = plan_transact,
	.report = plan_report,
	.cleanup = plan_cleanup,
};
