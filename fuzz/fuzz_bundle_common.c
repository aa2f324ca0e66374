/* The harness shared by fuzz_bundle and fuzz_delta (fuzz_bundle_common.h).
 * Every check here was in both targets; those that only a delta reader can
 * meet (the base, remove lines) are gated by deltas. */
#include "fuzz_bundle_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_bundle_key.h"
#include "fuzz_common.h"
#include "record.h"
#include "signkey.h"

#define CONTEXT "pam_apitoken bundle v1 signature"

typedef fuzz_bundle_rec rec;
typedef fuzz_bundle_seen seen;

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	void *q = realloc(p, c * elem);
	if (!q)
		FUZZ_FAIL("out of memory");
	*cap = c;
	return q;
}

int fuzz_bundle_on_header(void *ctx, const bundle_header *h)
{
	seen *s = ctx;

	s->headers++;
	s->header_first = s->n == 0;
	s->h = *h;
	FUZZ_CHECK(token_prefix_valid(h->prefix), "prefix %s", h->prefix);
	FUZZ_CHECK(h->generation >= 1 && h->generation <= (uint64_t)INT64_MAX,
		   "generation %llu", (unsigned long long)h->generation);
	if (s->deltas)
		FUZZ_CHECK(h->base < h->generation, "base %llu",
			   (unsigned long long)h->base);
	FUZZ_CHECK(h->created >= 0, "created %lld", (long long)h->created);
	return s->stop_header ? 1 : 0;
}

int fuzz_bundle_visit(void *ctx, const char id[12], const uint8_t *val,
		      size_t len)
{
	seen *s = ctx;
	char text[TOKEN_ID_LEN + 1];

	memcpy(text, id, TOKEN_ID_LEN);
	text[TOKEN_ID_LEN] = '\0';
	FUZZ_CHECK(token_id_valid(text), "visited a bad id");
	FUZZ_CHECK(len >= 1 && len <= RECORD_ENCODED_MAX, "length %zu", len);
	FUZZ_CHECK(s->headers == 1, "record before the header");
	s->recs = grow(s->recs, &s->cap, s->n + 1, sizeof(*s->recs));
	s->data = grow(s->data, &s->dcap, s->dlen + len, 1);
	memcpy(s->recs[s->n].id, id, TOKEN_ID_LEN);
	s->recs[s->n].off = s->dlen;
	s->recs[s->n].len = len;
	memcpy(s->data + s->dlen, val, len);
	s->dlen += len;
	s->n++;
	return s->stop_record ? 1 : 0;
}

int fuzz_bundle_on_remove(void *ctx, const char id[12])
{
	seen *s = ctx;
	char text[TOKEN_ID_LEN + 1];

	memcpy(text, id, TOKEN_ID_LEN);
	text[TOKEN_ID_LEN] = '\0';
	FUZZ_CHECK(token_id_valid(text), "removed a bad id");
	FUZZ_CHECK(s->headers == 1 && s->h.base != 0,
		   "a remove line outside a delta");
	s->recs = grow(s->recs, &s->cap, s->n + 1, sizeof(*s->recs));
	memcpy(s->recs[s->n].id, id, TOKEN_ID_LEN);
	s->recs[s->n].off = s->dlen;
	s->recs[s->n].len = 0;
	s->n++;
	s->removes++;
	return s->stop_record ? 1 : 0;
}

void fuzz_bundle_seen_like(seen *s, const seen *like)
{
	memset(s, 0, sizeof(*s));
	s->deltas = like->deltas;
	s->stop_header = like->stop_header;
	s->stop_record = like->stop_record;
}

void fuzz_bundle_seen_free(seen *s)
{
	free(s->recs);
	free(s->data);
	memset(s, 0, sizeof(*s));
}

static int cmp_ids(const void *a, const void *b)
{
	return memcmp(((const rec *)a)->id, ((const rec *)b)->id, TOKEN_ID_LEN);
}

static int memfd_with(const char *name, const void *data, size_t len)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	const char *p = data;

	if (fd < 0)
		FUZZ_FAIL("memfd_create failed");
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n <= 0)
			FUZZ_FAIL("write to memfd failed");
		p += n;
		len -= (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) != 0)
		FUZZ_FAIL("lseek");
	return fd;
}

static uint8_t *fd_contents(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	if (end < 0 || lseek(fd, 0, SEEK_SET) != 0)
		FUZZ_FAIL("lseek");
	uint8_t *buf = malloc((size_t)end + 1);
	if (!buf || read(fd, buf, (size_t)end) != end)
		FUZZ_FAIL("read back");
	*len = (size_t)end;
	return buf;
}

/* body + a signature line over it made with the test key, the way the
 * man page describes it (written here independently of bundle.c). */
static uint8_t *sign_body(const uint8_t *body, size_t blen, size_t *outlen)
{
	EVP_PKEY *key = fuzz_bundle_key();
	unsigned char digest[64], sig[64], msg[sizeof(CONTEXT) + 64];
	char fpr[65], b64[100];
	unsigned int dl = 0;
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (signkey_fingerprint(key, fpr) != 0 ||
	    EVP_Digest(body, blen, digest, &dl, EVP_sha512(), NULL) != 1)
		FUZZ_FAIL("digest");
	memcpy(msg, CONTEXT, sizeof(CONTEXT));
	memcpy(msg + sizeof(CONTEXT), digest, 64);
	if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)) != 1)
		FUZZ_FAIL("sign");
	EVP_MD_CTX_free(ctx);
	EVP_EncodeBlock((unsigned char *)b64, sig, 64);
	uint8_t *out = malloc(blen + 200);
	if (!out)
		FUZZ_FAIL("out of memory");
	if (blen)
		memcpy(out, body, blen);
	int n = snprintf((char *)out + blen, 200, "signature ed25519 %s %s\n",
			 fpr, b64);
	*outlen = blen + (size_t)n;
	return out;
}

static bool starts_with(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static void check_verify_err(const char *err)
{
	FUZZ_CHECK(err[0] && fuzz_printable(err), "verify reason \"%s\"", err);
	FUZZ_CHECK(strcmp(err, "truncated") == 0 ||
			   strcmp(err, "bad signature") == 0 ||
			   starts_with(err, "unknown key ") ||
			   starts_with(err, "malformed at line "),
		   "undocumented verify reason \"%s\"", err);
	if (starts_with(err, "unknown key ")) {
		const char *f = err + 12;
		FUZZ_CHECK(strlen(f) == 64 && strspn(f, "0123456789abcdef") == 64,
			   "unknown key names \"%s\"", f);
	}
}

/* Write the records (and removes) back with the same header; the result's
 * signed part must equal the input's. Returns the new bundle. */
static uint8_t *rewrite(const char *name, const seen *s, size_t *outlen)
{
	char err[256];
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd < 0)
		FUZZ_FAIL("memfd_create");
	bundle_writer *w = bundle_writer_open(fd, &s->h, err, sizeof(err));
	FUZZ_CHECK(w != NULL, "writer refused an accepted header: %s", err);
	for (size_t i = 0; i < s->n; i++)
		FUZZ_CHECK((s->recs[i].len ?
				    bundle_writer_record(w, s->recs[i].id,
							 s->data + s->recs[i].off,
							 s->recs[i].len) :
				    bundle_writer_remove(w, s->recs[i].id)) == 0,
			   "writer refused an accepted line: %s",
			   bundle_writer_error(w));
	FUZZ_CHECK(bundle_writer_finish(w, fuzz_bundle_key(), err,
					sizeof(err)) == 0,
		   "finish: %s", err);
	uint8_t *out = fd_contents(fd, outlen);
	close(fd);
	return out;
}

int fuzz_bundle_run(const fuzz_bundle_target *t, const uint8_t *data,
		    size_t size)
{
	EVP_PKEY *trusted[] = { fuzz_bundle_key() };
	char verr[256], rerr[256], fpr[65];
	bundle_proof proof;
	bundle_header h;

	if (size < 1)
		return 0;
	uint8_t mode = data[0];
	size_t flen = size - 1;
	uint8_t *file;
	if (mode & 1) {
		file = sign_body(data + 1, flen, &flen);
	} else {
		file = malloc(flen ? flen : 1);
		if (!file)
			FUZZ_FAIL("out of memory");
		if (flen)
			memcpy(file, data + 1, flen);
	}
	int fd = memfd_with(t->name, file, flen);

	/* Pass 1. */
	verr[0] = '\0';
	int vrc = bundle_verify_proof(fd, trusted, 1, &proof, verr,
				      sizeof(verr));
	FUZZ_CHECK(vrc == 0 || vrc == -1, "verify rc %d", vrc);
	if (vrc != 0)
		check_verify_err(verr);
	if (signkey_fingerprint(trusted[0], fpr) != 0)
		FUZZ_FAIL("fingerprint");
	if (vrc == 0)
		FUZZ_CHECK(strcmp(proof.signer, fpr) == 0, "proof signer");

	/* Pass 2, straight on the input. */
	seen s;
	memset(&s, 0, sizeof(s));
	s.deltas = t->deltas;
	s.stop_header = (mode & 2) != 0;
	s.stop_record = (mode & 4) != 0;
	lseek(fd, 0, SEEK_SET);
	rerr[0] = '\0';
	memset(&h, 0xa5, sizeof(h));
	int rrc = t->read(fd, NULL, &h, &s, rerr, sizeof(rerr));
	if (fuzz_verbose())
		fprintf(stderr, "%s (mode %u): verify %s; read %s, %zu records\n",
			t->name, (unsigned)(mode & 7), vrc ? verr : "ok",
			rrc ? rerr : "ok", s.n);
	FUZZ_CHECK(rrc == 0 || rrc == -1, "read rc %d", rrc);
	FUZZ_CHECK(s.headers <= 1, "on_header called %d times", s.headers);
	if (s.headers)
		FUZZ_CHECK(s.header_first && strcmp(h.prefix, s.h.prefix) == 0 &&
				   h.generation == s.h.generation &&
				   h.created == s.h.created &&
				   (!t->deltas || h.base == s.h.base),
			   "h_out differs from what on_header saw");
	if (s.stop_header)
		FUZZ_CHECK(s.n == 0, "records after on_header stopped");
	if (s.stop_record)
		FUZZ_CHECK(s.n <= 1, "lines after visit stopped");
	if ((s.stop_header && s.headers) || (s.stop_record && s.n))
		FUZZ_CHECK(rrc == -1 && strstr(rerr, ": stopped by the caller"),
			   "a stopping callback did not stop: %s", rerr);
	if (rrc != 0) {
		FUZZ_CHECK(starts_with(rerr, "line ") && fuzz_printable(rerr),
			   "read reason \"%s\"", rerr);
	} else {
		FUZZ_CHECK(s.headers == 1, "accepted without a header");
		FUZZ_CHECK(vrc == 0 || strcmp(verr, "bad signature") == 0 ||
				   starts_with(verr, "unknown key "),
			   "pass 2 accepted what pass 1 called \"%s\"", verr);
		/* Unique ids. */
		rec *sorted = malloc((s.n ? s.n : 1) * sizeof(*sorted));
		if (!sorted)
			FUZZ_FAIL("out of memory");
		if (s.n)
			memcpy(sorted, s.recs, s.n * sizeof(*sorted));
		qsort(sorted, s.n, sizeof(*sorted), cmp_ids);
		for (size_t i = 1; i < s.n; i++)
			FUZZ_CHECK(cmp_ids(&sorted[i - 1], &sorted[i]) != 0,
				   "duplicate id accepted");
		free(sorted);
	}

	/* Pass 2 held to pass 1's proof: the same answer. */
	if (vrc == 0) {
		seen s2;
		fuzz_bundle_seen_like(&s2, &s);
		lseek(fd, 0, SEEK_SET);
		char e2[256];
		int rc2 = t->read(fd, &proof, NULL, &s2, e2, sizeof(e2));
		FUZZ_CHECK(rc2 == rrc && s2.n == s.n,
			   "with the proof: %d (%s), without: %d (%s)", rc2,
			   rc2 ? e2 : "ok", rrc, rrc ? rerr : "ok");
		fuzz_bundle_seen_free(&s2);
	}

	if (t->extra)
		t->extra(fd, &s, rrc);

	/* One spelling: the accepted records written back give the same
	 * signed bytes, and read back the same. */
	if (rrc == 0) {
		size_t olen;
		char oname[64];
		snprintf(oname, sizeof(oname), "%s_out", t->name);
		uint8_t *out = rewrite(oname, &s, &olen);
		const uint8_t *sig = memmem(file, flen, "\nsignature ", 11);
		FUZZ_CHECK(sig != NULL, "accepted without a signature line");
		size_t body = (size_t)(sig - file) + 1;
		FUZZ_CHECK(olen > body && memcmp(out, file, body) == 0,
			   "written back differently");
		if (vrc == 0)
			FUZZ_CHECK(olen == flen && memcmp(out, file, flen) == 0,
				   "signed with the test key, written back "
				   "with another signature line");
		int ofd = memfd_with(t->name, out, olen);
		FUZZ_CHECK(bundle_verify(ofd, trusted, 1, verr, sizeof(verr)) == 0,
			   "written back, refused: %s", verr);
		seen s3;
		memset(&s3, 0, sizeof(s3));
		s3.deltas = t->deltas;
		lseek(ofd, 0, SEEK_SET);
		FUZZ_CHECK(t->read(ofd, NULL, NULL, &s3, rerr, sizeof(rerr)) == 0 &&
				   s3.n == s.n && s3.dlen == s.dlen &&
				   (s.dlen == 0 ||
				    memcmp(s3.data, s.data, s.dlen) == 0),
			   "written back, read differently: %s", rerr);
		for (size_t i = 0; i < s.n; i++)
			FUZZ_CHECK(memcmp(s3.recs[i].id, s.recs[i].id,
					  TOKEN_ID_LEN) == 0 &&
					   s3.recs[i].len == s.recs[i].len,
				   "record %zu differs", i);
		fuzz_bundle_seen_free(&s3);
		close(ofd);
		free(out);
	}
	fuzz_bundle_seen_free(&s);
	close(fd);
	free(file);
	return 0;
}
