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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "fleet.h"
#include "fleet_records.h"
#include "freshness.h"
#include "pointer_host.h"
#include "logsafe.h"
#include "secure.h"
#include "tokenadm.h"
#include "writeall.h"

/* A signed bundle's creation time may be this far ahead of our clock. */
#define CLOCK_SKEW FLEET_CLOCK_SKEW

/* A refusal: the reason on stderr and one syslog line beside the
 * "imported" one (fleet_refuse). */
#define refuse(t, ...) fleet_refuse((t), "import", __VA_ARGS__)

typedef struct import_opts {
	const char *file;  /* a path, or "-" */
	int in;            /* opened as the caller, in parse */
	bool allow_same;
	bool heartbeat;    /* the same generation, signed anew */
	const char *pointer_file; /* --pointer: the pointer naming FILE */
	int ptr_in;        /* opened as the caller, in parse */
	pointer ptr;       /* verified in transact */
	fleet_meta now_meta; /* what was installed, for report */
	unsigned long n;
	unsigned long removed;
	uint64_t delta_base; /* 0: a full bundle was installed */
} import_opts;

static int import_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "allow-same", no_argument, NULL, 's' },
		{ "pointer", required_argument, NULL, 'p' },
		{ 0 },
	};
	import_opts *o = opts;
	int c;

	(void)now;
	o->in = -1;
	o->ptr_in = -1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 's')
			o->allow_same = true;
		else if (c == 'p' && !o->pointer_file)
			o->pointer_file = optarg;
		else
			goto usage;
	}
	if (optind + 1 != argc)
		goto usage;
	if (o->pointer_file) {
		o->ptr_in = open(o->pointer_file,
				 O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (o->ptr_in < 0) {
			warnx_("cannot open %s: %s", o->pointer_file,
			       strerror(errno));
			return EXIT_REFUSED;
		}
	}
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
	warnx_("usage: import FILE|- [--allow-same] [--pointer LATEST]");
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

typedef struct import_ctx {
	tool *t;
	import_opts *o;
	store_txn *txn;
	fleet_meta old;
	unsigned long n;
	unsigned long removed; /* a delta's remove lines applied */
	/* The same generation signed anew: the authority's heartbeat. It
	 * renews the freshness record and rebuilds nothing. */
	bool heartbeat;
	bool same; /* refused as already installed, but fresh enough */
	int64_t created; /* the signed time that vouches, once checked */
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
	if (h->created > t->now + CLOCK_SKEW) {
		snprintf(c->why, sizeof(c->why), "created in the future");
		return 1;
	}
	/* A file a pointer names brings the host to the pointer's
	 * generation, and the pointer, signed later, vouches for its age. */
	int64_t created = h->created;
	if (c->o->pointer_file) {
		if (h->generation != c->o->ptr.generation) {
			snprintf(c->why, sizeof(c->why),
				 "the pointer announces generation %llu, the "
				 "bundle is of %llu",
				 (unsigned long long)c->o->ptr.generation,
				 (unsigned long long)h->generation);
			return 1;
		}
		created = c->o->ptr.created;
	}
	/* Age before generation: a mirror that froze serves the bundle this
	 * host already has, and "already installed" must not hide that the
	 * authority has said nothing for longer than max_bundle_age. */
	if (t->cfg.max_bundle_age && t->now - created > t->cfg.max_bundle_age) {
		char b[32];
		snprintf(c->why, sizeof(c->why),
			 "too old: created %s, max_bundle_age is %llds",
			 fmt_time(created, "?", b),
			 (long long)t->cfg.max_bundle_age);
		return 1;
	}
	c->created = created;
	/* A delta applies to exactly the generation it starts from: any
	 * other (older: a gap; newer: a replay) is refused, and the host's
	 * generation named, so a pull knows which delta (or the full
	 * bundle) to fetch instead. */
	if (h->base && !c->old.imported) {
		snprintf(c->why, sizeof(c->why),
			 "delta from generation %llu to %llu, but this host "
			 "has imported no full bundle yet (generation 0): "
			 "import the full bundle first",
			 (unsigned long long)h->base,
			 (unsigned long long)h->generation);
		return 1;
	}
	if (h->base && h->base != c->old.generation) {
		snprintf(c->why, sizeof(c->why),
			 "delta from generation %llu to %llu does not apply: "
			 "this host has generation %llu",
			 (unsigned long long)h->base,
			 (unsigned long long)h->generation,
			 (unsigned long long)c->old.generation);
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
		if (!h->base && h->created > c->old.created) {
			c->heartbeat = true;
			return 0;
		}
		c->same = true;
		snprintf(c->why, sizeof(c->why),
			 "stale generation %llu: already installed "
			 "(--allow-same re-installs it)",
			 (unsigned long long)h->generation);
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

	if (c->heartbeat)
		return 0; /* read to the end (the count), keep nothing */
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

/* A delta's remove line: the record goes; this host's own mark of it (if
 * any) stays, as fleet_local_carry keeps it on a full import. */
static int remove_record(void *ctx, const char id[12])
{
	import_ctx *c = ctx;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;
	char err[256];

	store_status st = store_get(store_txn_view(c->txn), id, TOKEN_ID_LEN,
				    buf, sizeof(buf), &len, err, sizeof(err));
	secure_wipe(buf, sizeof(buf));
	if (st == STORE_NOTFOUND)
		return 0; /* made and removed within the delta's range */
	if (st != STORE_OK || store_txn_delete(c->txn, id, TOKEN_ID_LEN) != 0) {
		snprintf(c->why, sizeof(c->why), "cannot remove token %.12s",
			 id);
		return 1;
	}
	c->removed++;
	return 0;
}

static int keep_header(void *ctx, const bundle_header *h)
{
	*(bundle_header *)ctx = *h;
	return 1; /* the header is all we want here */
}

static int no_remove(void *ctx, const char id[12])
{
	(void)ctx;
	(void)id;
	return 1;
}

/* The signed header of a verified file: full bundle or delta? Decides
 * how the new store starts (empty, or a copy of this one). Returns 0 or
 * -1 (reported). */
static int peek_header(const tool *t, int fd, bundle_header *h)
{
	char err[256];

	memset(h, 0, sizeof(*h));
	if (lseek(fd, 0, SEEK_SET) != 0 ||
	    (bundle_read_ex(fd, NULL, NULL, keep_header, NULL, no_remove, h,
			    err, sizeof(err)) != 0 &&
	     h->generation == 0)) {
		refuse(t, "%s", err);
		return -1;
	}
	return 0;
}

/* The one place a verified bundle has just been installed (and
 * committed): the log line, and whatever else a host keeps about its
 * last good bundle (its freshness, outside the store) goes here too. */
static void installed(tool *t, const bundle_header *h,
		      const bundle_proof *proof, const import_ctx *c)
{
	char by[LOGSAFE_MAX];

	if (h->base)
		syslog(LOG_NOTICE, "imported delta base=%llu generation=%llu "
				   "tokens=%lu removed=%lu signer=%s by=%s "
				   "uid=%u",
		       (unsigned long long)h->base,
		       (unsigned long long)h->generation, c->n, c->removed,
		       proof->signer, log_safe(t->user, by, sizeof(by)),
		       (unsigned)t->uid);
	else
		syslog(LOG_NOTICE, "imported generation=%llu tokens=%lu "
				   "signer=%s by=%s uid=%u",
		       (unsigned long long)h->generation, c->n, proof->signer,
		       log_safe(t->user, by, sizeof(by)), (unsigned)t->uid);
	/* The store is in; a host that cannot record it looks stale (and
	 * with stale_action = refuse, refuses tokens): said, not hidden. */
	host_note_fresh(t, c->created, h->generation);
}

/* --pointer: the pointer verified and held to this host, and the spooled
 * file one of those it names, by size and SHA-256 (a mirror cannot swap
 * one signed bundle for another). Returns 0 or -1 (reported). */
static int pointer_piece(tool *t, import_opts *o, int fd,
			 EVP_PKEY *const *keys, size_t nkeys)
{
	uint8_t sha[POINTER_SHA256_LEN];
	uint64_t size;

	if (host_pointer_load(t, o->ptr_in, keys, nkeys, &o->ptr) != 0 ||
	    host_file_sha256(fd, sha, &size) != 0)
		return -1;
	if (!pointer_find(&o->ptr, size, sha)) {
		refuse(t, "%s is none of the files the pointer names (size "
		       "%llu, SHA-256 differs)", o->file,
		       (unsigned long long)size);
		return -1;
	}
	return 0;
}

static int import_transact(tool *t, void *opts)
{
	import_opts *o = opts;
	EVP_PKEY *keys[CONFIG_TRUSTED_KEYS_MAX] = { 0 };
	size_t nkeys = 0;
	bundle_proof proof;
	bundle_header h, peek;
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
	if (tool_key(t) != 0 ||
	    fleet_load_trusted(t, "import", keys, &nkeys) != 0)
		goto out;
	fd = spool(t, o->in);
	if (fd < 0)
		goto out;
	if (o->pointer_file && pointer_piece(t, o, fd, keys, nkeys) != 0)
		goto out;
	/* Pass 1: nothing in the file is believed before this. */
	if (lseek(fd, 0, SEEK_SET) != 0 ||
	    bundle_verify_proof(fd, keys, nkeys, &proof, err, sizeof(err)) != 0) {
		refuse(t, "%s", err);
		goto out;
	}
	/* Signed: now the header may be read. A full bundle replaces every
	 * record (the new store starts empty); a delta changes a few (it
	 * starts as a copy of this one, and only the delta's records are
	 * checked and written). */
	if (peek_header(t, fd, &peek) != 0)
		goto out;
	/* Under the lock the live store cannot change: its metadata and
	 * this host's own revocations are read from the very file the new
	 * one replaces. */
	if ((peek.base ? tool_begin : tool_begin_empty)(t, &c.txn) != 0)
		goto out;
	t->reader = store_open(t->cfg.db_path, err, sizeof(err));
	if (!t->reader) {
		warnx_("%s", err);
		goto out;
	}
	if (fleet_meta_get(t, NULL, &c.old) != 0)
		goto out;
	if (lseek(fd, 0, SEEK_SET) != 0 ||
	    bundle_read_ex(fd, &proof, &h, check_header, install_record,
			   remove_record, &c, err, sizeof(err)) != 0) {
		/* Nothing new, but signed recently enough: still a sign of
		 * life (a host upgraded from before the record gets one). */
		if (c.same)
			host_note_fresh(t, c.created, c.old.generation);
		refuse(t, "%s", c.why[0] ? c.why : err);
		goto out;
	}
	if (c.heartbeat) {
		tool_abort(t, c.txn);
		c.txn = NULL;
		if (host_note_fresh(t, c.created, h.generation) != 0)
			goto out;
		syslog(LOG_INFO, "heartbeat generation=%llu created=%lld "
				 "signer=%s",
		       (unsigned long long)h.generation, (long long)h.created,
		       proof.signer);
		o->now_meta = c.old;
		o->heartbeat = true;
		rc = EXIT_OK;
		goto out;
	}
	/* Both passes read the same bytes (the proof says so), so this
	 * cannot differ from what chose the transaction's start; but a
	 * full bundle applied to a copy would keep records it lacks. */
	if (h.base != peek.base) {
		refuse(t, "changed since it was verified");
		goto out;
	}
	/* A delta's copy has this host's marks already. */
	if (!h.base && fleet_local_carry(t, c.txn) != 0)
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
	installed(t, &h, &proof, &c);
	o->now_meta = m;
	o->n = c.n;
	o->removed = c.removed;
	o->delta_base = h.base;
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
	if (rc == EXIT_OK && o->heartbeat)
		say("generation %llu unchanged: freshness renewed",
		    (unsigned long long)o->now_meta.generation);
	else if (rc == EXIT_OK && o->delta_base)
		say("applied the delta from generation %llu to %llu: %lu "
		    "token(s) changed, %lu removed",
		    (unsigned long long)o->delta_base,
		    (unsigned long long)o->now_meta.generation, o->n,
		    o->removed);
	else if (rc == EXIT_OK)
		say("installed generation %llu: %lu token(s)",
		    (unsigned long long)o->now_meta.generation, o->n);
	return rc;
}

static void import_cleanup(void *opts)
{
	import_opts *o = opts;

	if (o->in >= 0)
		close(o->in);
	if (o->ptr_in >= 0)
		close(o->ptr_in);
}

const command cmd_import = {
	.name = "import",
	.opts_size = sizeof(import_opts),
	.parse = import_parse,
	.transact = import_transact,
	.report = import_report,
	.cleanup = import_cleanup,
};
