/* tokenadm status: this host's place in the fleet, for people and for
 * monitoring (--json): role, store generation, last import, keys. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "freshness.h"
#include "signkey.h"
#include "tokenadm.h"

typedef struct key_info {
	const char *path;
	char fpr[BUNDLE_FPR_LEN + 1]; /* "" when it cannot be read */
	char err[160];
} key_info;

typedef struct status_opts {
	bool json;
	fleet_meta meta;
	key_info trusted[CONFIG_TRUSTED_KEYS_MAX];
	size_t n_trusted;
	key_info signing; /* the authority's public half */
	char *signing_pub;
	freshness fresh;  /* import-only: the authority's last word */
	int fresh_rc;     /* freshness_read: 0, 1 none, -1 unreadable */
	bool stale;
	char stale_why[300];
} status_opts;

static int status_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	status_opts *o = opts;
	int c;

	(void)now;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'j')
			goto usage;
		o->json = true;
	}
	if (optind == argc)
		return EXIT_OK;
usage:
	warnx_("usage: status [--json]");
	return EXIT_USAGE;
}

static void read_key(key_info *k, const char *path)
{
	EVP_PKEY *pk = signkey_load_public(path, k->err, sizeof(k->err));

	k->path = path;
	if (pk && signkey_fingerprint(pk, k->fpr) != 0)
		snprintf(k->err, sizeof(k->err), "not an Ed25519 key");
	EVP_PKEY_free(pk);
}

static int status_transact(tool *t, void *opts)
{
	status_opts *o = opts;

	/* The generation and its times show when tokens change (a revocation
	 * in progress, an import): store activity, for those who manage the
	 * store. Everyone may see the host's role and its keys. */
	if (t->admin && (tool_open_store(t) != 0 ||
			 fleet_meta_get(t, NULL, &o->meta) != 0))
		return EXIT_REFUSED;
	if (t->cfg.role == ROLE_IMPORT_ONLY) {
		char err[256];
		o->fresh_rc = freshness_read(t->cfg.db_path, &o->fresh, err,
					     sizeof(err));
		if (o->fresh_rc < 0) {
			/* What the module does with it: fail closed. */
			o->stale = t->cfg.max_bundle_age > 0;
			snprintf(o->stale_why, sizeof(o->stale_why), "%s", err);
		} else {
			o->stale = freshness_stale(&t->cfg, &o->fresh,
						   o->fresh_rc == 0, t->now,
						   o->stale_why,
						   sizeof(o->stale_why));
		}
	}
	for (size_t i = 0; i < t->cfg.n_trusted_keys; i++)
		read_key(&o->trusted[o->n_trusted++], t->cfg.trusted_keys[i]);
	if (t->cfg.role == ROLE_AUTHORITY) {
		o->signing_pub = fleet_signing_pub_path(&t->cfg);
		if (!o->signing_pub) {
			warnx_("out of memory");
			return EXIT_REFUSED;
		}
		read_key(&o->signing, o->signing_pub);
	}
	return EXIT_OK;
}

static void json_key(const key_info *k)
{
	fputs("{\"path\":", stdout);
	json_string(k->path);
	fputs(",\"fingerprint\":", stdout);
	if (k->fpr[0])
		json_string(k->fpr);
	else
		fputs("null", stdout);
	fputs(",\"error\":", stdout);
	if (k->fpr[0])
		fputs("null", stdout);
	else
		json_string(k->err);
	putchar('}');
}

static void text_key(const char *label, const key_info *k)
{
	printf("%-20s %s  %s\n", label, k->fpr[0] ? k->fpr : "(unreadable)",
	       k->fpr[0] ? k->path : k->err);
}

static int status_report(tool *t, void *opts, int rc)
{
	status_opts *o = opts;
	bool host = t->cfg.role == ROLE_IMPORT_ONLY;
	char b[32];

	if (rc != EXIT_OK)
		return rc;
	if (o->json) {
		printf("{\"role\":\"%s\",\"admin\":%s,\"generation\":",
		       host ? "import-only" : "authority",
		       t->admin ? "true" : "false");
		/* null for those who may not see store activity. */
		if (t->admin)
			printf("%llu", (unsigned long long)o->meta.generation);
		else
			fputs("null", stdout);
		fputs(",\"created\":", stdout);
		json_time(o->meta.created);
		fputs(",\"last_import\":", stdout);
		json_time(o->meta.imported);
		fputs(",\"signer\":", stdout);
		if (o->meta.signer[0])
			json_string(o->meta.signer);
		else
			fputs("null", stdout);
		fputs(",\"fresh_as_of\":", stdout);
		json_time(o->fresh_rc == 0 ? o->fresh.seen : 0);
		fputs(",\"max_bundle_age\":", stdout);
		if (t->cfg.max_bundle_age)
			printf("%lld", (long long)t->cfg.max_bundle_age);
		else
			fputs("null", stdout);
		printf(",\"stale_action\":\"%s\",\"stale\":%s,"
		       "\"stale_reason\":",
		       t->cfg.stale_refuse ? "refuse" : "warn",
		       o->stale ? "true" : "false");
		if (o->stale)
			json_string(o->stale_why);
		else
			fputs("null", stdout);
		fputs(",\"trusted_keys\":[", stdout);
		for (size_t i = 0; i < o->n_trusted; i++) {
			if (i)
				putchar(',');
			json_key(&o->trusted[i]);
		}
		fputs("],\"signing_key\":", stdout);
		if (o->signing.path)
			json_key(&o->signing);
		else
			fputs("null", stdout);
		fputs(",\"store\":", stdout);
		json_string(t->cfg.db_path);
		puts("}");
		return EXIT_OK;
	}
	printf("%-20s %s\n", "role:", host ? "import-only" : "authority");
	printf("%-20s %s\n", "store:", t->cfg.db_path);
	if (t->admin)
		printf("%-20s %llu\n", "generation:",
		       (unsigned long long)o->meta.generation);
	else
		printf("%-20s %s\n", "generation:", "(administrators only)");
	if (host && t->admin) {
		printf("%-20s %s\n", "last import:",
		       fmt_time(o->meta.imported, "never", b));
		printf("%-20s %s\n", "bundle created:",
		       fmt_time(o->meta.created, "-", b));
		printf("%-20s %s\n", "signed by:",
		       o->meta.signer[0] ? o->meta.signer : "-");
		printf("%-20s %s\n", "fresh as of:",
		       fmt_time(o->fresh_rc == 0 ? o->fresh.seen : 0, "-", b));
	}
	/* Whether this host may be serving revoked tokens is everyone's
	 * business (it is not store activity). */
	if (host && o->stale)
		printf("%-20s %s%s\n", "STALE:", o->stale_why,
		       t->cfg.stale_refuse ? "; tokens are refused "
					     "(stale_action = refuse)"
					   : "");
	if (!host) {
		if (t->admin)
			printf("%-20s %s\n", "last change:",
			       fmt_time(o->meta.created, "-", b));
		text_key("signing key:", &o->signing);
	}
	for (size_t i = 0; i < o->n_trusted; i++)
		text_key("trusted key:", &o->trusted[i]);
	return EXIT_OK;
}

static void status_cleanup(void *opts)
{
	free(((status_opts *)opts)->signing_pub);
}

const command cmd_status = {
	.name = "status",
	.opts_size = sizeof(status_opts),
	.parse = status_parse,
	.transact = status_transact,
	.report = status_report,
	.cleanup = status_cleanup,
};
