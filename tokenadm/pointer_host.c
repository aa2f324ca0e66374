/* An import-only host and the pointer (see pointer_host.h). */
#include "pointer_host.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fleet.h"
#include "freshness.h"

/* Loud: a frozen mirror must be seen (fleet_refuse). */
#define refuse(t, ...) fleet_refuse((t), "pointer", __VA_ARGS__)

static int read_small(int fd, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;

	while (n < cap) {
		ssize_t got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*len = n;
	return 0;
}

int host_pointer_load(tool *t, int fd, EVP_PKEY *const *keys, size_t nkeys,
		      pointer *p)
{
	size_t len = 0;
	char err[256], b[32];
	char *buf = malloc(POINTER_MAX_SIZE + 1);
	int rc = -1;

	if (!buf) {
		warnx_("out of memory");
		return -1;
	}
	if (read_small(fd, buf, POINTER_MAX_SIZE + 1, &len) != 0) {
		refuse(t, "pointer: read: %s", strerror(errno));
		goto out;
	}
	if (pointer_verify(buf, len, keys, nkeys, p, err, sizeof(err)) != 0) {
		refuse(t, "pointer: %s", err);
		goto out;
	}
	if (strcmp(p->prefix, t->cfg.prefix) != 0) {
		refuse(t, "pointer for prefix %s, this host's is %s",
		       p->prefix, t->cfg.prefix);
		goto out;
	}
	if (p->created > t->now + FLEET_CLOCK_SKEW) {
		refuse(t, "pointer created in the future");
		goto out;
	}
	/* TUF's rule for its timestamp file: past its expiry the authority
	 * no longer stands behind it, whoever still serves it. */
	if (p->expires < t->now) {
		refuse(t, "pointer expired %s (generation %llu): the authority "
		       "has not republished, or the mirror is frozen",
		       fmt_time(p->expires, "?", b),
		       (unsigned long long)p->generation);
		goto out;
	}
	if (t->cfg.max_bundle_age && t->now - p->created > t->cfg.max_bundle_age) {
		refuse(t, "pointer too old: created %s, max_bundle_age is "
		       "%llds", fmt_time(p->created, "?", b),
		       (long long)t->cfg.max_bundle_age);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}

int host_note_fresh(const tool *t, int64_t seen, uint64_t gen)
{
	freshness f;
	char err[256];

	int have = freshness_read(t->cfg.db_path, &f, err, sizeof(err));
	if (have == 0 && f.generation == gen && f.seen >= seen)
		return 0;
	f.seen = seen;
	f.generation = gen;
	if (freshness_write(t->cfg.db_path, &f, err, sizeof(err)) != 0) {
		warnx_("cannot record the authority's freshness: %s", err);
		syslog(LOG_WARNING, "cannot record freshness: %s", err);
		return -1;
	}
	return 0;
}

int host_file_sha256(int fd, uint8_t sha[POINTER_SHA256_LEN], uint64_t *size)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char buf[65536];
	unsigned int dlen = 0;
	uint64_t n = 0;
	int rc = -1;

	if (!ctx || lseek(fd, 0, SEEK_SET) != 0 ||
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	for (;;) {
		ssize_t got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			goto out;
		if (got == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)got) != 1)
			goto out;
		n += (uint64_t)got;
	}
	if (EVP_DigestFinal_ex(ctx, sha, &dlen) == 1 &&
	    dlen == POINTER_SHA256_LEN) {
		*size = n;
		rc = 0;
	}
out:
	if (rc != 0)
		warnx_("cannot hash the bundle: %s", strerror(errno));
	EVP_MD_CTX_free(ctx);
	return rc;
}
