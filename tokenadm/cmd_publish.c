/* tokenadm publish DIR: the directory any web server (or rsync, or
 * Ansible) serves to the fleet's hosts (pam_apitoken-bundle(5), POINTER):
 *
 *   DIR/latest                 the signed pointer: generation, expiry, and
 *                              the files below with size and SHA-256
 *   DIR/full-G.bundle          the whole store at generation G
 *   DIR/delta-B-G.bundle       what changed from B to G, for recent B
 *
 * Order, so that a reader never sees a pointer naming a file that is not
 * there yet, or a file cut short: every bundle is written whole under a
 * temporary name and renamed; the pointer is renamed over the old one
 * last; only then are files no pointer names any more removed (the
 * previous pointer's files stay one round, for a reader that fetched it a
 * moment ago). Run again with nothing changed, it signs only a new pointer
 * (the heartbeat hosts take as proof that the authority is alive): a
 * million-token store is not rewritten every hour. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "duration.h"
#include "fleet.h"
#include "fleet_records.h"
#include "fleet_write.h"
#include "pointer_host.h"
#include "signkey.h"
#include "tokenadm.h"
#include "writeall.h"

#define DEFAULT_EXPIRES (86400)
#define DEFAULT_DELTAS 16
#define POINTER_NAME "latest"

typedef struct publish_opts {
	const char *dir;
	int64_t expires;  /* seconds a pointer stays valid */
	unsigned deltas;  /* how many recent bases get a delta */
	EVP_PKEY *key;    /* loaded while privileged */
	fleet_meta meta;
	pointer prev;     /* the pointer being replaced, if any (and ours) */
	bool have_prev;
	pointer next;
} publish_opts;

static int publish_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "expires", required_argument, NULL, 'e' },
		{ "deltas", required_argument, NULL, 'd' },
		{ 0 },
	};
	publish_opts *o = opts;
	char *end;
	int c;

	(void)now;
	o->expires = DEFAULT_EXPIRES;
	o->deltas = DEFAULT_DELTAS;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'e') {
			if (duration_parse(optarg, &o->expires) != 0)
				goto usage;
		} else if (c == 'd') {
			errno = 0;
			unsigned long v = strtoul(optarg, &end, 10);
			if (errno || *end || optarg[0] < '0' || optarg[0] > '9' ||
			    v > POINTER_DELTAS_MAX)
				goto usage;
			o->deltas = (unsigned)v;
		} else {
			goto usage;
		}
	}
	if (optind + 1 != argc)
		goto usage;
	o->dir = argv[optind];
	return EXIT_OK;
usage:
	warnx_("usage: publish DIR [--expires DURATION] [--deltas N (0..%d)]",
	       POINTER_DELTAS_MAX);
	return EXIT_USAGE;
}

static int publish_transact(tool *t, void *opts)
{
	publish_opts *o = opts;

	/* With the lapses noted: an issuer who left admin_group changes no
	 * record, so without it the generation would stay, the last
	 * publish's files would be reused and hosts would take the new
	 * pointer as a heartbeat, keeping the lapsed issuer's tokens alive. */
	return fleet_write_prepare(t, "publish", "published", true, &o->meta,
				   &o->key);
}

/* The previous pointer, if it is there and signed by our own key: which
 * files a reader may still be fetching, and which of them are already
 * this generation's. */
static void read_prev(int dirfd, publish_opts *o)
{
	char *buf = malloc(POINTER_MAX_SIZE + 1);
	char err[256];
	ssize_t n = -1;

	int fd = openat(dirfd, POINTER_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
						    O_NONBLOCK);
	if (buf && fd >= 0)
		n = read(fd, buf, POINTER_MAX_SIZE + 1);
	if (n > 0 && pointer_verify(buf, (size_t)n, &o->key, 1, &o->prev, err,
				    sizeof(err)) == 0)
		o->have_prev = true;
	if (fd >= 0)
		close(fd);
	free(buf);
}

/* The entry of the previous pointer named name, if that file is still
 * there with its size and was written at the current generation after
 * the store's last change (a restored backup may reach the same
 * generation number with other records: then it is written anew). */
static const pointer_file *reusable(int dirfd, const publish_opts *o,
				    const char *name)
{
	const pointer *p = &o->prev;
	const pointer_file *f = NULL;
	struct stat st;

	if (!o->have_prev || p->generation != o->meta.generation ||
	    p->created < o->meta.created)
		return NULL;
	if (strcmp(p->full.name, name) == 0)
		f = &p->full;
	for (size_t i = 0; !f && i < p->n_deltas; i++)
		if (strcmp(p->deltas[i].name, name) == 0)
			f = &p->deltas[i];
	if (!f || fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    !S_ISREG(st.st_mode) || (uint64_t)st.st_size != f->size)
		return NULL;
	return f;
}

/* Write one bundle (since 0: the full one) as name, or reuse it. Returns
 * 0 (*f filled), 1 (no delta from since: skipped) or -1 (reported). */
static int put_bundle(tool *t, publish_opts *o, int dirfd, gid_t gid,
		      uint64_t since, const char *name, pointer_file *f)
{
	atomic_file af;
	fleet_written w;
	char err[256] = "";
	const pointer_file *old = reusable(dirfd, o, name);

	memset(f, 0, sizeof(*f));
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->base = since;
	if (old) {
		f->size = old->size;
		memcpy(f->sha256, old->sha256, sizeof(f->sha256));
		return 0;
	}
	if (atomic_create(&af, dirfd, name, 0640, gid, 0, err,
			  sizeof(err)) != 0) {
		warnx_("%s/%s: %s", o->dir, name, err);
		return -1;
	}
	int rc = since ? fleet_write_delta(t, o->key, since, af.fd, &w, err,
					   sizeof(err))
		       : fleet_write_full(t, o->key, af.fd, &w, err,
					  sizeof(err));
	if (rc != 0) {
		atomic_abort(&af);
		if (rc > 0)
			return 1;
		warnx_("cannot write %s/%s: %s", o->dir, name, err);
		return -1;
	}
	if (w.generation != o->meta.generation) {
		atomic_abort(&af);
		warnx_("the store changed while publishing: run it again");
		return -1;
	}
	if (host_file_sha256(af.fd, f->sha256, &f->size) != 0 ||
	    atomic_commit(&af, err, sizeof(err)) != 0) {
		atomic_abort(&af);
		warnx_("cannot write %s/%s: %s", o->dir, name, err);
		return -1;
	}
	return 0;
}

static bool named(const pointer *p, const char *name)
{
	if (strcmp(p->full.name, name) == 0)
		return true;
	for (size_t i = 0; i < p->n_deltas; i++)
		if (strcmp(p->deltas[i].name, name) == 0)
			return true;
	return false;
}

/* Remove the bundles neither the new nor the previous pointer names.
 * Only names publish writes are touched: the directory may hold other
 * things (an index page, a robots.txt). */
static void prune(int dirfd, const publish_opts *o, unsigned *removed)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		const char *n = e->d_name;
		size_t len = strlen(n);
		bool ours = (strncmp(n, "full-", 5) == 0 ||
			     strncmp(n, "delta-", 6) == 0) &&
			    len > 7 && strcmp(n + len - 7, ".bundle") == 0 &&
			    strspn(n, "abcdefghijklmnopqrstuvwxyz0123456789-.") ==
				    len;
		if (!ours || named(&o->next, n) ||
		    (o->have_prev && named(&o->prev, n)))
			continue;
		if (unlinkat(dirfd, n, 0) == 0)
			(*removed)++;
	}
	closedir(d);
}

static int write_pointer(publish_opts *o, int dirfd, gid_t gid)
{
	atomic_file af;
	char err[256], *text = NULL;
	size_t len = 0;

	if (pointer_write(&o->next, o->key, &text, &len, err,
			  sizeof(err)) != 0) {
		warnx_("cannot sign the pointer: %s", err);
		return -1;
	}
	int rc = -1;
	if (atomic_create(&af, dirfd, POINTER_NAME, 0640, gid, 0, err,
			  sizeof(err)) != 0) {
		warnx_("%s/" POINTER_NAME ": %s", o->dir, err);
		goto out;
	}
	if (write_all(af.fd, text, len) != 0) {
		warnx_("%s/" POINTER_NAME ": %s", o->dir, strerror(errno));
		atomic_abort(&af);
		goto out;
	}
	/* Web servers' validators (Last-Modified, and the ETag nginx and
	 * Apache make of mtime and size) count whole seconds: a pointer
	 * replaced within the second of the last one, at the same size,
	 * would be answered 304 to a host that has the old one, and a
	 * revocation would wait for the next publish. Never the same
	 * second twice. */
	struct stat prev;
	struct timespec now;
	if (fstatat(dirfd, POINTER_NAME, &prev, AT_SYMLINK_NOFOLLOW) == 0 &&
	    clock_gettime(CLOCK_REALTIME, &now) == 0 &&
	    now.tv_sec <= prev.st_mtim.tv_sec) {
		struct timespec ts[2] = { { prev.st_mtim.tv_sec + 1, 0 },
					  { prev.st_mtim.tv_sec + 1, 0 } };
		if (futimens(af.fd, ts) != 0) {
			warnx_("%s/" POINTER_NAME ": cannot set its time: %s",
			       o->dir, strerror(errno));
			atomic_abort(&af);
			goto out;
		}
	}
	if (atomic_commit(&af, err, sizeof(err)) != 0) {
		warnx_("%s/" POINTER_NAME ": %s", o->dir, err);
		goto out;
	}
	rc = 0;
out:
	free(text);
	return rc;
}

/* As the caller (they name the directory), after the privilege is gone. */
static int publish_report(tool *t, void *opts, int rc)
{
	publish_opts *o = opts;
	struct stat st;
	char name[POINTER_NAME_MAX + 1], b[32];
	uint64_t g = o->meta.generation, floor = g, cur = g;
	unsigned removed = 0;

	if (rc != EXIT_OK)
		return rc;
	int dirfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0 || fstat(dirfd, &st) != 0) {
		warnx_("cannot open %s: %s", o->dir, strerror(errno));
		if (dirfd >= 0)
			close(dirfd);
		return EXIT_REFUSED;
	}
	/* Files take the directory's group, mode 0640: chgrp the directory
	 * to the web server's group and only it (and root) reads them. */
	gid_t gid = st.st_gid;
	rc = EXIT_REFUSED;
	read_prev(dirfd, o);
	pointer *p = &o->next;
	memset(p, 0, sizeof(*p));
	snprintf(p->prefix, sizeof(p->prefix), "%s", t->cfg.prefix);
	p->generation = g;
	p->created = t->now;
	p->expires = t->now + o->expires;
	snprintf(name, sizeof(name), "full-%llu.bundle", (unsigned long long)g);
	if (put_bundle(t, o, dirfd, gid, 0, name, &p->full) != 0)
		goto out;
	char err[256];
	if (o->deltas && fleet_delta_range(t, &floor, &cur, err,
					   sizeof(err)) != 0) {
		warnx_("%s", err);
		goto out;
	}
	uint64_t from = g > o->deltas ? g - o->deltas : 1;
	if (from < floor)
		from = floor;
	for (uint64_t b0 = from; o->deltas && b0 < g && cur == g; b0++) {
		snprintf(name, sizeof(name), "delta-%llu-%llu.bundle",
			 (unsigned long long)b0, (unsigned long long)g);
		int r = put_bundle(t, o, dirfd, gid, b0, name,
				   &p->deltas[p->n_deltas]);
		if (r < 0)
			goto out;
		if (r == 0)
			p->n_deltas++;
	}
	if (write_pointer(o, dirfd, gid) != 0)
		goto out;
	prune(dirfd, o, &removed);
	say("published generation %llu: %s (%llu bytes), %zu delta(s); "
	    "the pointer expires %s%s",
	    (unsigned long long)g, p->full.name,
	    (unsigned long long)p->full.size, p->n_deltas,
	    fmt_time(p->expires, "?", b), removed ? "; older files removed" :
						     "");
	rc = EXIT_OK;
out:
	close(dirfd);
	return rc;
}

static void publish_cleanup(void *opts)
{
	EVP_PKEY_free(((publish_opts *)opts)->key);
}

const command cmd_publish = {
	.name = "publish",
	.opts_size = sizeof(publish_opts),
	.parse = publish_parse,
	.transact = publish_transact,
	.report = publish_report,
	.cleanup = publish_cleanup,
};
