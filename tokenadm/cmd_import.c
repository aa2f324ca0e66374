/* tokenadm import: install an authority's signed bundle on an import-only
 * host (pam_apitoken-bundle(5)).
 *
 * Order matters: the input is copied into a private file first (so that
 * both passes read bytes no one else can change), the signature is checked
 * before any field is believed, and only then is a new store built aside,
 * under the writers' lock, and renamed into place. Any refusal leaves the
 * live store as it was, byte for byte. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fleet.h"
#include "fleet_records.h"
#include "logsafe.h"
#include "secure.h"
#include "signkey.h"
#include "tokenadm.h"
#include "writeall.h"

/* A signed bundle's creation time may be this far ahead of our clock. */
#define CLOCK_SKEW 86400

/* A refusal: the reason on stderr (the push sees it) and one syslog line
 * beside the "imported" one (the host's log monitoring sees it). The
 * reason may quote the bundle, so it goes through log_safe. */
static void refuse(const tool *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void refuse(const tool *t, const char *fmt, ...)
{
	char why[256], safe[256], by[LOGSAFE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	warnx_("refused: %s", why);
	syslog(LOG_WARNING, "import refused: %s by=%s uid=%u",
	       log_safe(why, safe, sizeof(safe)),
	       log_safe(t->user, by, sizeof(by)), (unsigned)t->uid);
}

typedef struct import_opts {
	const char *file;  /* a path, or "-" */
	int in;            /* opened as the caller, in parse */
	bool allow_same;
	fleet_meta now_meta; /* what was installed, for report */
	unsigned long n;
} import_opts;

static int import_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "allow-same", no_argument, NULL, 's' },
		{ 0 },
	};
	import_opts *o = opts;
	int c;

	(void)now;
	o->in = -1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 's')
			goto usage;
		o->allow_same = true;
	}
	if (optind + 1 != argc)
		goto usage;
	o->file = argv[optind];
	/* The one file a parse step opens: the caller's input, with the
	 * caller's rights, so a privileged import reads nothing they could
	 * not. */
	if (strcmp(o->file, "-") == 0) {
		o->in = dup(STDIN_FILENO);
		if (o->in < 0) {
			warnx_("cannot read standard input: %s",
			       strerror(errno));
			return EXIT_REFUSED;
		}
	} else {
		o->in = open(o->file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (o->in < 0) {
			warnx_("cannot open %s: %s", o->file, strerror(errno));
			return EXIT_REFUSED;
		}
	}
	return EXIT_OK;
usage:
	warnx_("usage: import FILE|- [--allow-same]");
	return EXIT_USAGE;
}

/* Copy the input into an unnamed file beside the store (root's, on the
 * store's file system, never in memory). Returns its fd or -1. */
static int spool(const tool *t, int in)
{
	char *copy = strdup(t->cfg.db_path);
	if (!copy)
		return -1;
	int fd = open(dirname(copy), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	free(copy);
	if (fd < 0) {
		warnx_("cannot make a private copy of the bundle: %s",
		       strerror(errno));
		return -1;
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			refuse(t, "read: %s", strerror(errno));
			close(fd);
			return -1;
		}
		if (write_all(fd, buf, (size_t)n) != 0) {
			warnx_("cannot copy the bundle: %s", strerror(errno));
			close(fd);
			return -1;
		}
	}
	return fd;
}

static int load_trusted(const tool *t, EVP_PKEY **keys, size_t *n)
{
	char err[256];

	*n = 0;
	if (t->cfg.n_trusted_keys == 0) {
		refuse(t, "no trusted_key in the configuration");
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

typedef struct import_ctx {
	tool *t;
	import_opts *o;
	store_txn *txn;
	fleet_meta old;
	unsigned long n;
	char why[256]; /* a callback's reason for stopping */
} import_ctx;

static int check_header(void *ctx, const bundle_header *h)
{
	import_ctx *c = ctx;
	const tool *t = c->t;

	if (strcmp(h->prefix, t->cfg.prefix) != 0) {
		snprintf(c->why, sizeof(c->why),
			 "bundle for prefix %s, this host's is %s", h->prefix,
			 t->cfg.prefix);
		return 1;
	}
	/* Rollback: an old bundle would bring revoked tokens back. */
	if (c->old.imported && h->generation < c->old.generation) {
		snprintf(c->why, sizeof(c->why),
			 "stale generation %llu (this host has %llu)",
			 (unsigned long long)h->generation,
			 (unsigned long long)c->old.generation);
		return 1;
	}
	if (c->old.imported && h->generation == c->old.generation &&
	    !c->o->allow_same) {
		snprintf(c->why, sizeof(c->why),
			 "stale generation %llu: already installed "
			 "(--allow-same re-installs it)",
			 (unsigned long long)h->generation);
		return 1;
	}
	if (h->created > t->now + CLOCK_SKEW) {
		snprintf(c->why, sizeof(c->why), "created in the future");
		return 1;
	}
	if (t->cfg.max_bundle_age && t->now - h->created > t->cfg.max_bundle_age) {
		char b[32];
		snprintf(c->why, sizeof(c->why),
			 "too old: created %s, max_bundle_age is %llds",
			 fmt_time(h->created, "?", b),
			 (long long)t->cfg.max_bundle_age);
		return 1;
	}
	return 0;
}

static int install_record(void *ctx, const char id[12], const uint8_t *val,
			  size_t len)
{
	import_ctx *c = ctx;
	token_record rec;
	char sid[TOKEN_ID_LEN + 1];
	int rc = 1;

	memcpy(sid, id, TOKEN_ID_LEN);
	sid[TOKEN_ID_LEN] = '\0';
	/* Signed by the authority, but is it of this site? A record keyed
	 * with another site key would never verify at login: say so now. */
	int drc = record_decode(sid, val, len, c->t->key, &rec);
	if (drc == RECORD_ERR_NEWER) {
		snprintf(c->why, sizeof(c->why),
			 "token %s is in record format %u, newer than this "
			 "host reads: upgrade pam_apitoken here (or set "
			 "bundle_format lower on the authority)",
			 sid, record_peek_version(val, len));
		goto out;
	}
	if (drc != 0) {
		snprintf(c->why, sizeof(c->why),
			 "token %s fails its integrity check (a bundle of "
			 "another site key?)", sid);
		goto out;
	}
	/* uid_binding = local: bound to this host's uid (fleet_records.h). */
	int bound = fleet_record_for_import(c->t, &rec);
	if (bound < 0) {
		snprintf(c->why, sizeof(c->why),
			 "cannot read this host's binding of token %s", sid);
		goto out;
	}
	local_override lo = fleet_local_get(c->t, NULL, sid);
	if (lo == LOCAL_UNKNOWN) {
		snprintf(c->why, sizeof(c->why),
			 "cannot read this host's own changes to token %s", sid);
		goto out;
	}
	if (lo == LOCAL_NONE && !bound) {
		if (store_txn_put(c->txn, sid, TOKEN_ID_LEN, val, len) != 0)
			goto write_failed;
	} else if (lo == LOCAL_NONE) {
		if (tool_put_record(c->t, c->txn, &rec) != 0)
			goto write_failed;
	} else {
		/* This host's emergency measure wins over the bundle. */
		if (lo == LOCAL_REVOKED) {
			rec.flags |= RECORD_REVOKED;
			rec.prev_until = 0;
			memset(rec.prev_digest, 0, sizeof(rec.prev_digest));
		} else {
			rec.flags |= RECORD_DISABLED;
		}
		/* The mark itself is carried over by fleet_local_carry. */
		if (tool_put_record(c->t, c->txn, &rec) != 0)
			goto write_failed;
	}
	c->n++;
	rc = 0;
	goto out;
write_failed:
	snprintf(c->why, sizeof(c->why), "cannot write token %s", sid);
out:
	secure_wipe(&rec, sizeof(rec));
	return rc;
}

static int import_transact(tool *t, void *opts)
{
	import_opts *o = opts;
	EVP_PKEY *keys[CONFIG_TRUSTED_KEYS_MAX] = { 0 };
	size_t nkeys = 0;
	bundle_proof proof;
	bundle_header h;
	char err[256];
	int fd = -1, rc = EXIT_REFUSED;
	import_ctx c = { .t = t, .o = o };

	if (!t->admin) {
		warnx_("only administrators import bundles");
		return EXIT_DENIED;
	}
	if (t->cfg.role != ROLE_IMPORT_ONLY) {
		warnx_("this host is the authority (role = authority): it "
		       "exports bundles, import-only hosts import them");
		return EXIT_DENIED;
	}
	if (tool_key(t) != 0 || load_trusted(t, keys, &nkeys) != 0)
		goto out;
	fd = spool(t, o->in);
	if (fd < 0)
		goto out;
	/* Pass 1: nothing in the file is believed before this. */
	if (lseek(fd, 0, SEEK_SET) != 0 ||
	    bundle_verify_proof(fd, keys, nkeys, &proof, err, sizeof(err)) != 0) {
		refuse(t, "%s", err);
		goto out;
	}
	/* Under the lock the live store cannot change: its metadata and
	 * this host's own revocations are read from the very file the new
	 * one replaces. */
	if (tool_begin_empty(t, &c.txn) != 0)
		goto out;
	t->reader = store_open(t->cfg.db_path, err, sizeof(err));
	if (!t->reader) {
		warnx_("%s", err);
		goto out;
	}
	if (fleet_meta_get(t, NULL, &c.old) != 0)
		goto out;
	if (lseek(fd, 0, SEEK_SET) != 0 ||
	    bundle_read_checked(fd, &proof, &h, check_header, install_record,
				&c, err, sizeof(err)) != 0) {
		refuse(t, "%s", c.why[0] ? c.why : err);
		goto out;
	}
	if (fleet_local_carry(t, c.txn) != 0)
		goto out;
	fleet_meta m = { .generation = h.generation, .created = h.created,
			 .imported = t->now };
	memcpy(m.signer, proof.signer, sizeof(m.signer));
	if (fleet_meta_put(c.txn, &m) != 0)
		goto out;
	int committed = tool_commit(t, c.txn);
	c.txn = NULL;
	if (committed != 0)
		goto out;
	char by[LOGSAFE_MAX];
	syslog(LOG_NOTICE, "imported generation=%llu tokens=%lu signer=%s "
			   "by=%s uid=%u",
	       (unsigned long long)h.generation, c.n, proof.signer,
	       log_safe(t->user, by, sizeof(by)), (unsigned)t->uid);
	o->now_meta = m;
	o->n = c.n;
	rc = EXIT_OK;
out:
	tool_abort(t, c.txn);
	if (fd >= 0)
		close(fd);
	for (size_t i = 0; i < nkeys; i++)
		EVP_PKEY_free(keys[i]);
	return rc;
}

static int import_report(tool *t, void *opts, int rc)
{
	import_opts *o = opts;

	(void)t;
	if (rc == EXIT_OK)
		say("installed generation %llu: %lu token(s)",
		    (unsigned long long)o->now_meta.generation, o->n);
	return rc;
}

static void import_cleanup(void *opts)
{
	import_opts *o = opts;

	if (o->in >= 0)
		close(o->in);
}

const command cmd_import = {
	.name = "import",
	.opts_size = sizeof(import_opts),
	.parse = import_parse,
	.transact = import_transact,
	.report = import_report,
	.cleanup = import_cleanup,
};
