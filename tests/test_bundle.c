/* Unit tests for core/bundle.c and core/signkey.c: the signed fleet
 * bundle and its Ed25519 keys.
 *
 * The test signs some bundles itself, with its own reading of the format
 * of man pam_apitoken-bundle(5) (SHA-512 of the text before the signature
 * line, the context label, Ed25519, base64): the writer must produce those
 * same bytes, and bundles that are validly signed but wrong inside reach
 * the checks of pass 2 that a signature check would otherwise hide. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "bundle.h"
#include "record.h"
#include "signkey.h"

#include "harness.h"

/* The format, written down again here rather than taken from bundle.c. */
#define CONTEXT "pam_apitoken bundle v1 signature"
#define HEADER                                                              \
	"pam_apitoken-bundle 1\nprefix ptk\ngeneration 42\n"                 \
	"created 1796583600\n"

static char dir[64];
static EVP_PKEY *priv1, *priv2, *pub1, *pub2;
static char fpr1[65], fpr2[65];

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void die(const char *what)
{
	fprintf(stderr, "test_bundle: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* A memfd holding exactly data, positioned at 0. */
static int fd_with(const void *data, size_t len)
{
	int fd = memfd_create("bundle", MFD_CLOEXEC);

	if (fd < 0)
		die("memfd_create");
	if (!th_write_all(fd, data, len))
		die("write");
	if (lseek(fd, 0, SEEK_SET) != 0)
		die("lseek");
	return fd;
}

/* The whole content of fd (malloc'd, NUL-terminated). */
static char *slurp(int fd, size_t *len)
{
	struct stat st;

	if (fstat(fd, &st) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		die("fstat");
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size)
		die("read");
	buf[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return buf;
}

/* ---- test data --------------------------------------------------------- */

static void make_id(uint64_t i, char id[TOKEN_ID_LEN])
{
	static const char digits[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	/* Spread out, so neighbours do not share a prefix; still unique. */
	uint64_t v = i * UINT64_C(0x9e3779b97f4a7c15) + 12345;
	for (int k = TOKEN_ID_LEN - 1; k >= 0; k--) {
		id[k] = digits[v % 62];
		v /= 62;
	}
}

/* Record i: fixed_len bytes, or (fixed_len 0) 1..RECORD_ENCODED_MAX bytes
 * with both extremes among the first records. */
static size_t make_val(uint64_t i, size_t fixed_len, uint8_t *val)
{
	size_t len = fixed_len ? fixed_len
		     : i == 0  ? RECORD_ENCODED_MAX
		     : i == 1  ? 1
			       : 1 + (size_t)((i * 2654435761u) %
					      RECORD_ENCODED_MAX);
	uint64_t x = i * 0x2545F4914F6CDD1DULL + 1;
	for (size_t k = 0; k < len; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		val[k] = (uint8_t)x;
	}
	return len;
}

static bundle_header header(uint64_t generation)
{
	bundle_header h;

	memset(&h, 0, sizeof(h));
	strcpy(h.prefix, "ptk");
	h.generation = generation;
	h.created = INT64_C(1796583600);
	return h;
}

/* Write a bundle of n records to fd with key. Returns 0 or -1. */
static int write_bundle(int fd, uint64_t generation, uint64_t n,
			size_t fixed_len, EVP_PKEY *key)
{
	bundle_header h = header(generation);
	char err[256], id[TOKEN_ID_LEN];
	uint8_t val[RECORD_ENCODED_MAX];

	bundle_writer *w = bundle_writer_open(fd, &h, err, sizeof(err));
	if (!w) {
		fprintf(stderr, "writer_open: %s\n", err);
		return -1;
	}
	for (uint64_t i = 0; i < n; i++) {
		make_id(i, id);
		size_t len = make_val(i, fixed_len, val);
		if (bundle_writer_record(w, id, val, len) != 0) {
			fprintf(stderr, "record %llu: %s\n",
				(unsigned long long)i, bundle_writer_error(w));
			bundle_writer_abort(w);
			return -1;
		}
	}
	if (bundle_writer_finish(w, key, err, sizeof(err)) != 0) {
		fprintf(stderr, "finish: %s\n", err);
		return -1;
	}
	return 0;
}

/* A small bundle (two short records) in a malloc'd buffer. */
static char *small_bundle(EVP_PKEY *key, uint64_t generation, size_t *len)
{
	int fd = memfd_create("small", MFD_CLOEXEC);
	if (fd < 0 || write_bundle(fd, generation, 2, 5, key) != 0)
		die("small bundle");
	char *buf = slurp(fd, len);
	close(fd);
	return buf;
}

/* The test's own signer: body + "signature ed25519 FPR SIG\n". */
static char *sign_text(const char *body, size_t blen, EVP_PKEY *key,
		       size_t *outlen)
{
	unsigned char raw[32], fmd[32], digest[64], sig[64];
	unsigned char msg[sizeof(CONTEXT) + 64];
	char fpr[65], b64[100];
	size_t rawlen = sizeof(raw), siglen = sizeof(sig);
	unsigned int l1 = 0, l2 = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (EVP_PKEY_get_raw_public_key(key, raw, &rawlen) != 1 ||
	    EVP_Digest(raw, rawlen, fmd, &l1, EVP_sha256(), NULL) != 1 ||
	    EVP_Digest(body, blen, digest, &l2, EVP_sha512(), NULL) != 1)
		die("digest");
	for (int i = 0; i < 32; i++)
		sprintf(fpr + 2 * i, "%02x", fmd[i]);
	memcpy(msg, CONTEXT, sizeof(CONTEXT)); /* with its NUL */
	memcpy(msg + sizeof(CONTEXT), digest, 64);
	if (!ctx || EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)) != 1)
		die("sign");
	EVP_MD_CTX_free(ctx);
	EVP_EncodeBlock((unsigned char *)b64, sig, 64);
	size_t cap = blen + 200;
	char *out = malloc(cap);
	if (!out)
		die("malloc");
	memcpy(out, body, blen);
	int n = snprintf(out + blen, cap - blen, "signature ed25519 %s %s\n",
			 fpr, b64);
	*outlen = blen + (size_t)n;
	return out;
}

/* ---- running the two passes -------------------------------------------- */

typedef struct visit_ctx {
	uint64_t n;            /* records seen */
	size_t fixed_len;      /* as written (check mode) */
	bool check;            /* compare with make_id/make_val */
	bool mismatch;
	int headers;           /* on_header calls */
	uint64_t generation;   /* as on_header saw it */
	uint64_t min_generation; /* on_header refuses below this */
	bool header_before_records;
} visit_ctx;

static int on_header(void *vctx, const bundle_header *h)
{
	visit_ctx *c = vctx;

	c->headers++;
	c->generation = h->generation;
	c->header_before_records = c->n == 0;
	return h->generation < c->min_generation ? 1 : 0;
}

static int visit(void *vctx, const char id[12], const uint8_t *val,
		 size_t len)
{
	visit_ctx *c = vctx;
	char want_id[TOKEN_ID_LEN];
	uint8_t want[RECORD_ENCODED_MAX];

	if (len == 0 || len > RECORD_ENCODED_MAX)
		c->mismatch = true;
	if (c->check) {
		make_id(c->n, want_id);
		size_t wlen = make_val(c->n, c->fixed_len, want);
		if (memcmp(id, want_id, TOKEN_ID_LEN) != 0 || wlen != len ||
		    memcmp(val, want, len) != 0)
			c->mismatch = true;
	}
	c->n++;
	return 0;
}

static int verify_buf(const char *buf, size_t len, EVP_PKEY *const *keys,
		      size_t nkeys, char *err, size_t errlen)
{
	int fd = fd_with(buf, len);
	err[0] = '\0';
	int rc = bundle_verify(fd, keys, nkeys, err, errlen);
	close(fd);
	return rc;
}

static int read_buf(const char *buf, size_t len, visit_ctx *c, char *err,
		    size_t errlen)
{
	int fd = fd_with(buf, len);
	bundle_header h;
	err[0] = '\0';
	int rc = bundle_read(fd, &h, on_header, visit, c, err, errlen);
	close(fd);
	return rc;
}

/* Round trip of n records through a file: write, verify, read. */
static void roundtrip(uint64_t n, size_t fixed_len, const char *where)
{
	char err[256];
	int fd;

	if (where) {
		fd = open(where, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			die(where);
	} else {
		fd = memfd_create("roundtrip", MFD_CLOEXEC);
	}
	CHECK(write_bundle(fd, 42, n, fixed_len, priv1) == 0,
	      "write %llu records", (unsigned long long)n);
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek");
	EVP_PKEY *trusted[] = { pub1 };
	bundle_proof proof;
	CHECK(bundle_verify_proof(fd, trusted, 1, &proof, err, sizeof(err)) == 0,
	      "verify %llu records: %s", (unsigned long long)n, err);
	CHECK(strcmp(proof.signer, fpr1) == 0, "proof signer %s", proof.signer);
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek");
	visit_ctx c = { .check = true, .fixed_len = fixed_len };
	bundle_header h;
	CHECK(bundle_read_checked(fd, &proof, &h, on_header, visit, &c, err,
				  sizeof(err)) == 0,
	      "read %llu records: %s", (unsigned long long)n, err);
	CHECK(c.n == n, "visited %llu of %llu", (unsigned long long)c.n,
	      (unsigned long long)n);
	CHECK(!c.mismatch, "a record came back different");
	CHECK(c.headers == 1 && c.generation == 42 && c.header_before_records,
	      "on_header: %d calls, generation %llu", c.headers,
	      (unsigned long long)c.generation);
	CHECK(strcmp(h.prefix, "ptk") == 0 && h.generation == 42 &&
		      h.created == INT64_C(1796583600),
	      "header back: %s %llu %lld", h.prefix,
	      (unsigned long long)h.generation, (long long)h.created);
	close(fd);
	if (where)
		unlink(where);
}

static void test_roundtrip(void)
{
	roundtrip(0, 0, NULL);
	roundtrip(1, 0, NULL);
	roundtrip(10000, 0, NULL);

	/* An empty bundle is exactly this (and the test's signer agrees
	 * with the writer byte for byte: Ed25519 is deterministic). */
	size_t len, mine_len;
	int fd = memfd_create("empty", MFD_CLOEXEC);
	CHECK(write_bundle(fd, 42, 0, 0, priv1) == 0, "write empty");
	char *buf = slurp(fd, &len);
	close(fd);
	char *mine = sign_text(HEADER "count 0\n", strlen(HEADER "count 0\n"),
			       priv1, &mine_len);
	CHECK(len == mine_len && memcmp(buf, mine, len) == 0,
	      "writer output differs from the documented format:\n%s\n%s",
	      buf, mine);
	free(buf);
	free(mine);

	/* Two records: their lines as documented (base64 with padding). */
	buf = small_bundle(priv1, 42, &len);
	char id0[13] = { 0 }, id1[13] = { 0 }, body[512];
	uint8_t v[8];
	make_id(0, id0);
	make_id(1, id1);
	make_val(0, 5, v);
	char b0[16], b1[16];
	EVP_EncodeBlock((unsigned char *)b0, v, 5);
	make_val(1, 5, v);
	EVP_EncodeBlock((unsigned char *)b1, v, 5);
	snprintf(body, sizeof(body),
		 HEADER "record %s %s\nrecord %s %s\ncount 2\n", id0, b0, id1,
		 b1);
	mine = sign_text(body, strlen(body), priv1, &mine_len);
	CHECK(len == mine_len && memcmp(buf, mine, len) == 0,
	      "two-record bundle differs from the documented format:\n%s\n%s",
	      buf, mine);
	free(buf);
	free(mine);
}

/* A million records in a file: the writer and both passes stream. */
static void test_million(void)
{
	char path[128];
	struct rusage ru;

	th_path(path, sizeof(path), dir, "million.bundle");
	roundtrip(1000000, 32, path);
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		printf("1,000,000 records: peak RSS %ld MB\n",
		       ru.ru_maxrss / 1024);
	/* The ids (12 bytes, table at most 3/4 full: 24 MB here) and fixed
	 * buffers; nothing that grows with the 65 MB file. Sanitizers keep
	 * shadow memory of their own, so the bound is for plain builds. */
	const char *san = getenv("PTK_SANITIZED");
	if (!san || !san[0])
		CHECK(ru.ru_maxrss < 96 * 1024,
		      "peak RSS %ld kB: something holds the bundle",
		      ru.ru_maxrss);
}

/* ---- refusals ---------------------------------------------------------- */

static bool pass1_reason(const char *err)
{
	return strcmp(err, "bad signature") == 0 ||
	       starts_with(err, "unknown key ") ||
	       starts_with(err, "malformed at line ") ||
	       strcmp(err, "truncated") == 0;
}

static void test_flip_every_byte(void)
{
	size_t len;
	char *good = small_bundle(priv1, 42, &len);
	char err[256];
	EVP_PKEY *trusted[] = { pub1 };
	static const unsigned char masks[] = { 0x01, 0x02, 0x20, 0x40, 0x80 };
	int accepted = 0, weird = 0, badsig = 0, framing = 0, unknown = 0;
	size_t sig_start = (size_t)(strstr(good, "signature ") - good);

	CHECK(verify_buf(good, len, trusted, 1, err, sizeof(err)) == 0,
	      "the unflipped bundle: %s", err);
	for (size_t pos = 0; pos < len; pos++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			good[pos] ^= (char)masks[m];
			int rc = verify_buf(good, len, trusted, 1, err,
					    sizeof(err));
			unsigned char now = (unsigned char)good[pos];
			good[pos] ^= (char)masks[m];
			if (rc == 0) {
				accepted++;
				fprintf(stderr, "accepted: byte %zu ^ 0x%02x\n",
					pos, masks[m]);
				continue;
			}
			if (!pass1_reason(err)) {
				weird++;
				fprintf(stderr, "odd reason at %zu: %s\n", pos,
					err);
			}
			if (strcmp(err, "bad signature") == 0)
				badsig++;
			else if (starts_with(err, "unknown key"))
				unknown++;
			else
				framing++;
			/* Inside the signed text, a flip that leaves a
			 * printable byte and does not touch a line end can
			 * only be caught by the signature. */
			if (pos < sig_start && good[pos] != '\n' &&
			    now >= 0x20 && now < 0x7f)
				CHECK(strcmp(err, "bad signature") == 0,
				      "byte %zu ^ 0x%02x: %s", pos, masks[m],
				      err);
		}
	}
	CHECK(accepted == 0, "%d flipped bundles accepted", accepted);
	CHECK(weird == 0, "%d refusals with an undocumented reason", weird);
	CHECK(badsig > 0 && framing > 0 && unknown > 0,
	      "every kind of refusal seen: %d %d %d", badsig, framing, unknown);
	free(good);
}

static void test_truncation(void)
{
	size_t len;
	char *good = small_bundle(priv1, 42, &len);
	char err[256];
	EVP_PKEY *trusted[] = { pub1 };
	int boundaries = 0;

	for (size_t cut = 0; cut < len; cut++) {
		if (cut > 0 && good[cut - 1] == '\n')
			boundaries++;
		CHECK(verify_buf(good, cut, trusted, 1, err, sizeof(err)) != 0 &&
			      strcmp(err, "truncated") == 0,
		      "cut at %zu of %zu: %s", cut, len, err);
		visit_ctx c = { 0 };
		CHECK(read_buf(good, cut, &c, err, sizeof(err)) != 0 &&
			      starts_with(err, "line "),
		      "read of a cut at %zu: %s", cut, err);
	}
	CHECK(boundaries == 7, "%d line boundaries", boundaries);
	free(good);
}

static void test_keys_trusted(void)
{
	size_t len1, len2;
	char *b1 = small_bundle(priv1, 42, &len1);
	char *b2 = small_bundle(priv2, 43, &len2);
	char err[256], want[128];

	/* Unknown key: signed by 2, only 1 trusted. */
	EVP_PKEY *only1[] = { pub1 };
	CHECK(verify_buf(b2, len2, only1, 1, err, sizeof(err)) != 0, "key 2");
	snprintf(want, sizeof(want), "unknown key %s", fpr2);
	CHECK(strcmp(err, want) == 0, "unknown key: %s", err);
	CHECK(verify_buf(b1, len1, NULL, 0, err, sizeof(err)) != 0 &&
		      starts_with(err, "unknown key "),
	      "no trusted keys: %s", err);

	/* Wrong key: signed by 2 but naming key 1. */
	char *p = strstr(b2, fpr2);
	CHECK(p != NULL, "fingerprint in the signature line");
	if (p) {
		memcpy(p, fpr1, 64);
		CHECK(verify_buf(b2, len2, only1, 1, err, sizeof(err)) != 0 &&
			      strcmp(err, "bad signature") == 0,
		      "wrong key: %s", err);
		memcpy(p, fpr2, 64);
	}

	/* Rollover: both trusted, in either order; each bundle verifies. */
	EVP_PKEY *both[] = { pub1, pub2 }, *both_r[] = { pub2, pub1 };
	CHECK(verify_buf(b1, len1, both, 2, err, sizeof(err)) == 0, "1 of 1,2: %s", err);
	CHECK(verify_buf(b2, len2, both, 2, err, sizeof(err)) == 0, "2 of 1,2: %s", err);
	CHECK(verify_buf(b1, len1, both_r, 2, err, sizeof(err)) == 0, "1 of 2,1: %s", err);
	CHECK(verify_buf(b2, len2, both_r, 2, err, sizeof(err)) == 0, "2 of 2,1: %s", err);
	/* A private key works as a trusted key too (its public half). */
	EVP_PKEY *as_priv[] = { priv1 };
	CHECK(verify_buf(b1, len1, as_priv, 1, err, sizeof(err)) == 0,
	      "private key as trusted: %s", err);

	/* A trusted key that is not Ed25519 is an error, not a skip. */
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *mixed[] = { pub1, ec };
	CHECK(ec && verify_buf(b1, len1, mixed, 2, err, sizeof(err)) != 0 &&
		      strcmp(err, "trusted key 2 is not an Ed25519 key") == 0,
	      "EC key trusted: %s", err);

	/* The generation reaches on_header before any record; refusing it
	 * (replay of an older bundle) stops the read. */
	visit_ctx c = { .min_generation = 43 };
	CHECK(read_buf(b1, len1, &c, err, sizeof(err)) != 0 &&
		      strcmp(err, "line 4: stopped by the caller") == 0,
	      "stale generation: %s", err);
	CHECK(c.headers == 1 && c.generation == 42 && c.n == 0,
	      "on_header saw %llu, %llu records visited",
	      (unsigned long long)c.generation, (unsigned long long)c.n);
	visit_ctx c2 = { .min_generation = 43 };
	CHECK(read_buf(b2, len2, &c2, err, sizeof(err)) == 0 && c2.n == 2 &&
		      c2.generation == 43,
	      "current generation: %s", err);

	/* The proof of pass 1 holds pass 2 to the same file. */
	int fd1 = fd_with(b1, len1), fd2 = fd_with(b2, len2);
	bundle_proof proof;
	CHECK(bundle_verify_proof(fd1, both, 2, &proof, err, sizeof(err)) == 0,
	      "proof: %s", err);
	bundle_header h;
	CHECK(bundle_read_checked(fd2, &proof, &h, NULL, NULL, NULL, err,
				  sizeof(err)) != 0 &&
		      strcmp(err, "changed since it was verified") == 0,
	      "another file after verify: %s", err);
	lseek(fd1, 0, SEEK_SET);
	CHECK(bundle_read_checked(fd1, &proof, &h, NULL, NULL, NULL, err,
				  sizeof(err)) == 0,
	      "the verified file: %s", err);
	lseek(fd1, 0, SEEK_SET);
	proof.signer[0] = proof.signer[0] == 'a' ? 'b' : 'a';
	CHECK(bundle_read_checked(fd1, &proof, &h, NULL, NULL, NULL, err,
				  sizeof(err)) != 0,
	      "another signer after verify");
	close(fd1);
	close(fd2);
	EVP_PKEY_free(ec);
	free(b1);
	free(b2);
}

/* Framing faults: verify's reason, then read's. */
static void framing_case(const char *name, const char *buf, size_t len,
			 const char *verify_err, const char *read_err)
{
	char err[256];
	EVP_PKEY *trusted[] = { pub1 };

	CHECK(verify_buf(buf, len, trusted, 1, err, sizeof(err)) != 0 &&
		      starts_with(err, verify_err),
	      "%s: verify said \"%s\", want \"%s\"", name, err, verify_err);
	visit_ctx c = { 0 };
	CHECK(read_buf(buf, len, &c, err, sizeof(err)) != 0 &&
		      starts_with(err, read_err),
	      "%s: read said \"%s\", want \"%s\"", name, err, read_err);
}

static void test_framing(void)
{
	size_t len;
	char *good = small_bundle(priv1, 42, &len);
	char *buf = malloc(2 * len + 64);
	char *rec = strstr(good, "\nrecord ") + 1; /* line 5 */
	size_t roff = (size_t)(rec - good) + 10;

	memcpy(buf, good, len);
	buf[roff] = '\0';
	framing_case("NUL", buf, len, "malformed at line 5: NUL byte",
		     "line 5: NUL byte");
	buf[roff] = (char)0xc3;
	framing_case("non-ASCII", buf, len,
		     "malformed at line 5: byte that is not ASCII",
		     "line 5: byte that is not ASCII");
	buf[roff] = '\t';
	framing_case("tab", buf, len, "malformed at line 5: control",
		     "line 5: control");

	/* CRLF line ends. */
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (good[i] == '\n')
			buf[o++] = '\r';
		buf[o++] = good[i];
	}
	framing_case("CRLF", buf, o, "malformed at line 1: carriage return",
		     "line 1: carriage return");

	/* No final newline. */
	framing_case("no final newline", good, len - 1, "truncated",
		     "line 8: truncated");

	/* Trailing data after the signature: a line, part of one, or a
	 * second signature line. */
	memcpy(buf, good, len);
	memcpy(buf + len, "garbage\n", 8);
	framing_case("garbage line", buf, len + 8,
		     "malformed at line 9: data after the signature line",
		     "line 9: data after the signature line");
	framing_case("garbage bytes", buf, len + 3,
		     "malformed at line 9: data after the signature line",
		     "line 9: data after the signature line");
	buf[len] = '\n';
	framing_case("empty line", buf, len + 1,
		     "malformed at line 9: data after the signature line",
		     "line 9: data after the signature line");
	const char *sig = strstr(good, "signature ");
	size_t slen = len - (size_t)(sig - good);
	memcpy(buf + len, sig, slen);
	framing_case("two signatures", buf, len + slen,
		     "malformed at line 9: data after the signature line",
		     "line 9: data after the signature line");

	/* The signature line's own syntax. */
	size_t soff = (size_t)(sig - good);
	memcpy(buf, good, len);
	buf[soff + 18] = (char)(buf[soff + 18] >= 'a' ? 'A' : 'F');
	framing_case("uppercase fingerprint", buf, len,
		     "malformed at line 8: key fingerprint",
		     "line 8: key fingerprint");
	memcpy(buf, good, len);
	memcpy(buf + soff + 10, "ed448  ", 7);
	framing_case("other algorithm", buf, len,
		     "malformed at line 8: unsupported signature algorithm",
		     "line 8: unsupported signature algorithm");
	memcpy(buf, good, len);
	/* The last base64 digit before "==" carries 4 unused bits. */
	buf[len - 4] = (char)(buf[len - 4] + 1); /* A Q g w: B R h x */
	framing_case("non-canonical signature", buf, len,
		     "malformed at line 8: signature is not canonical",
		     "line 8: signature is not canonical");
	framing_case("empty file", "", 0, "truncated", "line 1: unexpected end");
	framing_case("signature only", "signature\n", 10,
		     "malformed at line 1: malformed signature line",
		     "line 1: signature line where the header belongs");

	/* Line length: 8192 bytes with its "\n" is the most; the 10 MB
	 * line is refused after reading no more than that of it. */
	size_t big = 10u << 20;
	char *huge = malloc(big + 64);
	if (!huge)
		die("malloc");
	o = (size_t)sprintf(huge, "pam_apitoken-bundle 1\nprefix ");
	memset(huge + o, 'a', big);
	o += big;
	huge[o++] = '\n';
	framing_case("10 MB line", huge, o,
		     "malformed at line 2: longer than 8192 bytes",
		     "line 2: longer than 8192 bytes");
	o = (size_t)sprintf(huge, "pam_apitoken-bundle 1\n");
	size_t line = 8193; /* 8192 bytes and "\n" */
	memset(huge + o, 'a', line - 1);
	huge[o + line - 1] = '\n';
	framing_case("8193-byte line", huge, o + line,
		     "malformed at line 2: longer than 8192 bytes",
		     "line 2: longer than 8192 bytes");
	line = 8192;
	memset(huge + o, 'a', line - 1);
	huge[o + line - 1] = '\n';
	framing_case("8192-byte line", huge, o + line, "truncated",
		     "line 2: expected \"prefix\"");
	free(huge);
	free(buf);
	free(good);
}

/* Validly signed bundles that are wrong inside: pass 1 accepts them (it
 * parses nothing), pass 2 refuses each with its reason. */
static void signed_case(const char *name, const char *body, const char *want)
{
	size_t len;
	char *buf = sign_text(body, strlen(body), priv1, &len);
	char err[256];
	EVP_PKEY *trusted[] = { pub1 };

	CHECK(verify_buf(buf, len, trusted, 1, err, sizeof(err)) == 0,
	      "%s: verify: %s", name, err);
	visit_ctx c = { 0 };
	int rc = read_buf(buf, len, &c, err, sizeof(err));
	if (want)
		CHECK(rc != 0 && strcmp(err, want) == 0,
		      "%s: read said \"%s\", want \"%s\"", name, err, want);
	else
		CHECK(rc == 0, "%s: read: %s", name, err);
	free(buf);
}

static void test_signed_content(void)
{
	signed_case("valid", HEADER "record AAAAAAAAAAAB AQID\ncount 1\n", NULL);
	signed_case("duplicate id",
		    HEADER "record AAAAAAAAAAAB AQID\nrecord AAAAAAAAAAAC AQID\n"
			   "record AAAAAAAAAAAB AQIE\ncount 3\n",
		    "line 7: duplicate id AAAAAAAAAAAB");
	signed_case("bad base64", HEADER "record AAAAAAAAAAAB AQI*\ncount 1\n",
		    "line 5: bad base64");
	signed_case("unpadded base64", HEADER "record AAAAAAAAAAAB AQI\ncount 1\n",
		    "line 5: bad base64");
	signed_case("padding inside", HEADER "record AAAAAAAAAAAB AQ==AQID\ncount 1\n",
		    "line 5: bad base64");
	signed_case("non-canonical base64",
		    HEADER "record AAAAAAAAAAAB AQJ=\ncount 1\n",
		    "line 5: bad base64");
	signed_case("canonical two bytes",
		    HEADER "record AAAAAAAAAAAB AQI=\ncount 1\n", NULL);
	signed_case("empty record", HEADER "record AAAAAAAAAAAB \ncount 1\n",
		    "line 5: empty record");
	signed_case("bad id", HEADER "record AAAAAAAAAA-B AQID\ncount 1\n",
		    "line 5: malformed id (12 letters and digits)");
	signed_case("short id", HEADER "record AAAAA AQID\ncount 1\n",
		    "line 5: malformed record line");
	signed_case("count mismatch", HEADER "record AAAAAAAAAAAB AQID\ncount 2\n",
		    "line 6: count 2 but 1 records");
	signed_case("count low", HEADER "record AAAAAAAAAAAB AQID\ncount 0\n",
		    "line 6: count 0 but 1 records");
	signed_case("count 01", HEADER "record AAAAAAAAAAAB AQID\ncount 01\n",
		    "line 6: count must be a decimal number without leading zeros");
	signed_case("no count", HEADER "record AAAAAAAAAAAB AQID\n",
		    "line 6: missing \"count\" before the signature");
	signed_case("record after count",
		    HEADER "count 0\nrecord AAAAAAAAAAAB AQID\n",
		    "line 6: expected \"signature\"");
	signed_case("blank line", HEADER "\ncount 0\n",
		    "line 5: expected \"record\" or \"count\"");
	signed_case("unknown keyword", HEADER "comment hello\ncount 0\n",
		    "line 5: expected \"record\" or \"count\"");
	signed_case("header again", HEADER "generation 43\ncount 0\n",
		    "line 5: duplicate \"generation\"");
	signed_case("a delta to a full-bundle reader",
		    "pam_apitoken-bundle 2 (delta): upgrade pam_apitoken\nprefix ptk\ngeneration 2\n"
		    "created 0\nbase 1\ncount 0\n",
		    "line 1: a delta bundle, where a full bundle is expected");
	signed_case("a newer version",
		    "pam_apitoken-bundle 3\nprefix ptk\ngeneration 1\n"
		    "created 0\ncount 0\n",
		    "line 1: bundle format version 3 is newer than this host "
		    "reads (1 and 2): upgrade pam_apitoken on this host");
	signed_case("a newer version with words after it",
		    "pam_apitoken-bundle 17 (whatever it is)\nprefix ptk\n"
		    "generation 1\ncreated 0\ncount 0\n",
		    "line 1: bundle format version 17 is newer than this host "
		    "reads (1 and 2): upgrade pam_apitoken on this host");
	signed_case("version 2 without its words",
		    "pam_apitoken-bundle 2\nprefix ptk\ngeneration 2\n"
		    "created 0\nbase 1\ncount 0\n",
		    "line 1: unsupported bundle version \"2\"");
	signed_case("wrong version",
		    "pam_apitoken-bundle 02\nprefix ptk\ngeneration 1\n"
		    "created 0\ncount 0\n",
		    "line 1: unsupported bundle version \"02\"");
	signed_case("not a bundle", "hello\n",
		    "line 1: not a pam_apitoken bundle");
	signed_case("no prefix",
		    "pam_apitoken-bundle 1\ngeneration 1\ncreated 0\ncount 0\n",
		    "line 2: expected \"prefix\"");
	signed_case("duplicate prefix",
		    "pam_apitoken-bundle 1\nprefix ptk\nprefix ptk\n"
		    "generation 1\ncreated 0\ncount 0\n",
		    "line 3: duplicate \"prefix\"");
	signed_case("header order",
		    "pam_apitoken-bundle 1\nprefix ptk\ncreated 0\n"
		    "generation 1\ncount 0\n",
		    "line 3: expected \"generation\"");
	signed_case("no header", "pam_apitoken-bundle 1\ncount 0\n",
		    "line 2: expected \"prefix\"");
	const char *gen_err = "line 3: generation must be a decimal number "
			      "from 1 to 2^63-1 without leading zeros";
	static const char *const bad_gens[] = {
		"0", "042", "-1", "+1", "1 ", " 1", "", "9223372036854775808",
		"18446744073709551616", "1e3", "0x10",
	};
	for (size_t i = 0; i < sizeof(bad_gens) / sizeof(bad_gens[0]); i++) {
		char body[256];
		snprintf(body, sizeof(body),
			 "pam_apitoken-bundle 1\nprefix ptk\ngeneration %s\n"
			 "created 0\ncount 0\n", bad_gens[i]);
		signed_case(bad_gens[i], body, gen_err);
	}
	signed_case("largest generation",
		    "pam_apitoken-bundle 1\nprefix ptk\n"
		    "generation 9223372036854775807\ncreated 0\ncount 0\n",
		    NULL);
	signed_case("negative created",
		    "pam_apitoken-bundle 1\nprefix ptk\ngeneration 1\n"
		    "created -1\ncount 0\n",
		    "line 4: created must be a decimal number from 0 to "
		    "2^63-1 without leading zeros");
	signed_case("long prefix",
		    "pam_apitoken-bundle 1\nprefix abcdefghijklmnopq\n"
		    "generation 1\ncreated 0\ncount 0\n",
		    "line 2: prefix must be 1 to 16 letters and digits");
	signed_case("longest prefix",
		    "pam_apitoken-bundle 1\nprefix abcdefghijklmnop\n"
		    "generation 1\ncreated 0\ncount 0\n",
		    NULL);
	signed_case("prefix underscore",
		    "pam_apitoken-bundle 1\nprefix pt_k\n"
		    "generation 1\ncreated 0\ncount 0\n",
		    "line 2: prefix must be 1 to 16 letters and digits");

	/* Record size: 4096 bytes is the most. */
	static char body[BUNDLE_LINE_MAX + 256];
	uint8_t val[RECORD_ENCODED_MAX + 3];
	memset(val, 0x5a, sizeof(val));
	for (size_t n = RECORD_ENCODED_MAX; n <= RECORD_ENCODED_MAX + 3; n++) {
		size_t o = (size_t)sprintf(body, HEADER "record AAAAAAAAAAAB ");
		o += (size_t)EVP_EncodeBlock((unsigned char *)body + o, val,
					     (int)n);
		sprintf(body + o, "\ncount 1\n");
		signed_case("record size", body,
			    n == RECORD_ENCODED_MAX
				    ? NULL
				    : "line 5: record longer than 4096 bytes");
	}
}

static void test_writer_refuses(void)
{
	char err[256];
	int fd = memfd_create("w", MFD_CLOEXEC);
	bundle_header h = header(1);

	h.generation = 0;
	CHECK(!bundle_writer_open(fd, &h, err, sizeof(err)), "generation 0");
	h.generation = (uint64_t)INT64_MAX + 1;
	CHECK(!bundle_writer_open(fd, &h, err, sizeof(err)), "generation 2^63");
	h = header(1);
	h.created = -1;
	CHECK(!bundle_writer_open(fd, &h, err, sizeof(err)), "created -1");
	h = header(1);
	strcpy(h.prefix, "a_b");
	CHECK(!bundle_writer_open(fd, &h, err, sizeof(err)), "prefix a_b");
	h.prefix[0] = '\0';
	CHECK(!bundle_writer_open(fd, &h, err, sizeof(err)), "empty prefix");
	memset(h.prefix, 'a', sizeof(h.prefix)); /* no NUL */
	CHECK(!bundle_writer_open(fd, &h, err, sizeof(err)), "unterminated prefix");
	struct stat st;
	CHECK(fstat(fd, &st) == 0 && st.st_size == 0,
	      "a refused header wrote something");

	h = header(1);
	static const struct {
		const char *id;
		size_t len;
		const char *err;
	} bad[] = {
		{ "AAAAAAAAAA-B", 3, "malformed id" },
		{ "AAAAAAAAAAAB", 0, "length 0" },
		{ "AAAAAAAAAAAB", RECORD_ENCODED_MAX + 1, "length 4097" },
		{ "AAAAAAAAAAAA", 3, "duplicate id" },
	};
	uint8_t val[RECORD_ENCODED_MAX + 1] = { 1, 2, 3 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		bundle_writer *w = bundle_writer_open(fd, &h, err, sizeof(err));
		CHECK(w != NULL, "open: %s", err);
		if (!w)
			continue;
		CHECK(bundle_writer_record(w, "AAAAAAAAAAAA", val, 3) == 0,
		      "first record");
		CHECK(strcmp(bundle_writer_error(w), "") == 0, "no error yet");
		CHECK(bundle_writer_record(w, bad[i].id, val, bad[i].len) != 0,
		      "bad record %zu accepted", i);
		CHECK(strstr(bundle_writer_error(w), bad[i].err) != NULL,
		      "record %zu: %s", i, bundle_writer_error(w));
		/* Sticky: a good record after a bad one fails too. */
		CHECK(bundle_writer_record(w, "AAAAAAAAAAAZ", val, 3) != 0,
		      "record after an error");
		CHECK(bundle_writer_finish(w, priv1, err, sizeof(err)) != 0 &&
			      strstr(err, bad[i].err) != NULL,
		      "finish after an error: %s", err);
	}

	/* Keys that cannot sign. */
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *cant[] = { NULL, pub1, ec };
	for (size_t i = 0; i < 3; i++) {
		bundle_writer *w = bundle_writer_open(fd, &h, err, sizeof(err));
		CHECK(w && bundle_writer_finish(w, cant[i], err, sizeof(err)) != 0,
		      "signed with key %zu", i);
	}
	EVP_PKEY_free(ec);
	bundle_writer_abort(NULL);
	bundle_writer_abort(bundle_writer_open(fd, &h, err, sizeof(err)));
	close(fd);

	/* A descriptor that cannot be written. */
	int rd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(!bundle_writer_open(rd, &h, err, sizeof(err)) &&
		      strstr(err, "write") != NULL,
	      "read-only fd: %s", err);
	close(rd);
}

/* ---- key files --------------------------------------------------------- */

static mode_t file_mode(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? st.st_mode & 07777 : (mode_t)-1;
}

static void test_keyfiles(void)
{
	char priv[128], pub[128], p2[128], q2[128], err[256];
	char fa[65], fb[65];

	th_path(priv, sizeof(priv), dir, "sign.key");
	th_path(pub, sizeof(pub), dir, "sign.pub");
	/* The modes are exact whatever the umask. */
	mode_t old = umask(0077);
	CHECK(signkey_generate(priv, pub, err, sizeof(err)) == 0, "generate: %s", err);
	umask(old);
	CHECK(file_mode(priv) == 0600, "private mode %04o", (unsigned)file_mode(priv));
	CHECK(file_mode(pub) == 0644, "public mode %04o", (unsigned)file_mode(pub));

	EVP_PKEY *k = signkey_load_private(priv, err, sizeof(err));
	EVP_PKEY *p = signkey_load_public(pub, err, sizeof(err));
	CHECK(k && p, "reload: %s", err);
	CHECK(k && p && signkey_fingerprint(k, fa) == 0 &&
		      signkey_fingerprint(p, fb) == 0 && strcmp(fa, fb) == 0,
	      "fingerprints of the two halves differ");
	/* The files are what the man page says: PKCS#8 and SPKI PEM. */
	size_t len;
	int fd = open(priv, O_RDONLY | O_CLOEXEC);
	char *text = slurp(fd, &len);
	close(fd);
	CHECK(starts_with(text, "-----BEGIN PRIVATE KEY-----\n"), "private PEM");
	free(text);
	fd = open(pub, O_RDONLY | O_CLOEXEC);
	text = slurp(fd, &len);
	close(fd);
	CHECK(starts_with(text, "-----BEGIN PUBLIC KEY-----\n"), "public PEM");
	free(text);
	/* A generated key signs bundles that its public half verifies. */
	if (k && p) {
		int bfd = memfd_create("gen", MFD_CLOEXEC);
		char e2[256];
		CHECK(write_bundle(bfd, 7, 3, 0, k) == 0, "sign with loaded key");
		lseek(bfd, 0, SEEK_SET);
		EVP_PKEY *t[] = { p };
		CHECK(bundle_verify(bfd, t, 1, e2, sizeof(e2)) == 0,
		      "verify with loaded key: %s", e2);
		close(bfd);
	}

	/* Never replaces an existing file, and leaves nothing half made. */
	CHECK(signkey_generate(priv, pub, err, sizeof(err)) != 0 &&
		      strstr(err, "already exists") != NULL,
	      "overwrite: %s", err);
	EVP_PKEY *again = signkey_load_private(priv, err, sizeof(err));
	CHECK(again && EVP_PKEY_eq(again, k) == 1, "key changed by a refused generate");
	EVP_PKEY_free(again);
	th_path(q2, sizeof(q2), dir, "new.pub");
	CHECK(signkey_generate(priv, q2, err, sizeof(err)) != 0, "private exists");
	CHECK(access(q2, F_OK) != 0, "public file left behind");
	th_path(p2, sizeof(p2), dir, "new.key");
	CHECK(signkey_generate(p2, pub, err, sizeof(err)) != 0, "public exists");
	CHECK(access(p2, F_OK) != 0, "private file left behind");
	CHECK(signkey_generate(p2, p2, err, sizeof(err)) != 0 &&
		      access(p2, F_OK) != 0,
	      "one file for both");
	/* Not through a symbolic link either. */
	char link[128];
	th_path(link, sizeof(link), dir, "link.key");
	CHECK(symlink(p2, link) == 0, "symlink");
	CHECK(signkey_generate(link, q2, err, sizeof(err)) != 0 &&
		      access(p2, F_OK) != 0 && access(q2, F_OK) != 0,
	      "generate through a dangling symlink");
	CHECK(signkey_load_private(link, err, sizeof(err)) == NULL, "load via symlink");
	unlink(link);
	CHECK(symlink(priv, link) == 0, "symlink");
	CHECK(signkey_load_private(link, err, sizeof(err)) == NULL &&
		      strstr(err, "symbolic link") != NULL,
	      "load via symlink: %s", err);
	unlink(link);

	/* The private key is for its owner alone. */
	static const mode_t bad_modes[] = { 0640, 0604, 0620, 0610, 0601, 0660 };
	for (size_t i = 0; i < sizeof(bad_modes) / sizeof(bad_modes[0]); i++) {
		chmod(priv, bad_modes[i]);
		EVP_PKEY *x = signkey_load_private(priv, err, sizeof(err));
		CHECK(!x, "private key with mode %04o loaded",
		      (unsigned)bad_modes[i]);
		EVP_PKEY_free(x);
	}
	chmod(priv, 0640);
	EVP_PKEY *x = signkey_load_private(priv, err, sizeof(err));
	CHECK(!x && strstr(err, "group or others") != NULL, "0640: %s", err);
	EVP_PKEY_free(x);
	chmod(priv, 0400);
	x = signkey_load_private(priv, err, sizeof(err));
	CHECK(x != NULL, "0400 refused: %s", err);
	EVP_PKEY_free(x);
	chmod(priv, 0600);
	/* Anyone may read the public key; nobody else may write it. */
	chmod(pub, 0664);
	x = signkey_load_public(pub, err, sizeof(err));
	CHECK(!x, "group-writable public key loaded");
	EVP_PKEY_free(x);
	chmod(pub, 0644);
	/* Owned by someone else (only root can set that up). */
	if (geteuid() == 0) {
		CHECK(chown(priv, 1, 1) == 0, "chown");
		x = signkey_load_private(priv, err, sizeof(err));
		CHECK(!x && strstr(err, "owned by uid 1") != NULL,
		      "foreign owner: %s", err);
		EVP_PKEY_free(x);
		CHECK(chown(priv, 0, 0) == 0, "chown back");
	}

	/* The wrong kind of file. */
	CHECK(!signkey_load_public(priv, err, sizeof(err)), "private as public");
	CHECK(!signkey_load_private(pub, err, sizeof(err)), "public as private");
	char other[128];
	th_path(other, sizeof(other), dir, "ec.key");
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	FILE *f = fopen(other, "w");
	CHECK(ec && f && PEM_write_PrivateKey(f, ec, NULL, NULL, 0, NULL, NULL) == 1,
	      "write EC key");
	if (f)
		fclose(f);
	chmod(other, 0600);
	x = signkey_load_private(other, err, sizeof(err));
	CHECK(!x && strstr(err, "not an Ed25519 key") != NULL, "EC key: %s", err);
	EVP_PKEY_free(x);
	char fec[65];
	CHECK(signkey_fingerprint(ec, fec) != 0, "fingerprint of an EC key");
	EVP_PKEY_free(ec);
	unlink(other);
	/* An encrypted key is refused without asking for a passphrase. */
	f = fopen(other, "w");
	CHECK(f && PEM_write_PKCS8PrivateKey(f, k, EVP_aes_256_cbc(), NULL, 0,
					     NULL, (void *)"secret") == 1,
	      "write encrypted key");
	if (f)
		fclose(f);
	chmod(other, 0600);
	x = signkey_load_private(other, err, sizeof(err));
	CHECK(!x && strstr(err, "unencrypted PKCS#8") != NULL,
	      "encrypted key: %s", err);
	EVP_PKEY_free(x);
	unlink(other);
	/* Garbage, emptiness, a huge file. */
	fd = open(other, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	close(fd);
	CHECK(!signkey_load_private(other, err, sizeof(err)), "empty key file");
	fd = open(other, O_WRONLY | O_TRUNC | O_CLOEXEC);
	char junk[8192];
	memset(junk, 'x', sizeof(junk));
	if (!th_write_all(fd, junk, sizeof(junk)))
		die("write");
	close(fd);
	CHECK(!signkey_load_private(other, err, sizeof(err)) &&
		      strstr(err, "too large") != NULL,
	      "huge key file: %s", err);
	unlink(other);
	CHECK(!signkey_load_public(other, err, sizeof(err)) &&
		      strstr(err, "cannot open") != NULL,
	      "missing file: %s", err);

	EVP_PKEY_free(k);
	EVP_PKEY_free(p);
	unlink(priv);
	unlink(pub);
}

/* The man page's recipe for checking a bundle by hand with openssl(1):
 * a second, outside reading of the signature format. */
static void test_openssl_cli(void)
{
	char priv[128], pub[128], path[128], cmd[2048], err[256], fpr[65];

	if (system("command -v openssl >/dev/null 2>&1 && "
		   "command -v base64 >/dev/null 2>&1") != 0) {
		th_skip("openssl(1) recipe: no openssl or base64 command");
		return;
	}
	th_path(priv, sizeof(priv), dir, "cli.key");
	th_path(pub, sizeof(pub), dir, "signing.pub");
	th_path(path, sizeof(path), dir, "bundle");
	CHECK(signkey_generate(priv, pub, err, sizeof(err)) == 0, "generate: %s", err);
	EVP_PKEY *k = signkey_load_private(priv, err, sizeof(err));
	CHECK(k != NULL && signkey_fingerprint(k, fpr) == 0, "load: %s", err);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	CHECK(fd >= 0 && k && write_bundle(fd, 5, 3, 0, k) == 0, "write");
	static const char recipe[] =
		"sed '$d' bundle | openssl dgst -sha512 -binary > digest && "
		"{ printf 'pam_apitoken bundle v1 signature\\0'; cat digest; } "
		"> message && "
		"tail -n 1 bundle | cut -d ' ' -f 4 | base64 -d > signature && "
		"openssl pkeyutl -verify -pubin -inkey signing.pub -rawin "
		"-in message -sigfile signature >/dev/null";
	snprintf(cmd, sizeof(cmd), "cd '%s' && %s", dir, recipe);
	CHECK(system(cmd) == 0, "openssl does not verify the bundle");
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && test \"$(openssl pkey -pubin -in signing.pub "
		 "-outform DER | tail -c 32 | sha256sum | cut -c 1-64)\" = %s",
		 dir, fpr);
	CHECK(system(cmd) == 0, "openssl's fingerprint is not %s", fpr);
	/* And it is the signature that passed: one changed byte fails. */
	if (fd >= 0 && pwrite(fd, "3", 1, 38) == 1) {
		snprintf(cmd, sizeof(cmd), "cd '%s' && ! { %s; } 2>/dev/null",
			 dir, recipe);
		CHECK(system(cmd) == 0, "openssl verifies a changed bundle");
	}
	if (fd >= 0)
		close(fd);
	EVP_PKEY_free(k);
	static const char *const made[] = { "cli.key", "signing.pub", "bundle",
					    "digest", "message", "signature" };
	for (size_t i = 0; i < sizeof(made) / sizeof(made[0]); i++) {
		th_path(path, sizeof(path), dir, made[i]);
		unlink(path);
	}
}

static void setup_keys(void)
{
	char a[128], b[128], c[128], d[128], err[256];

	th_path(a, sizeof(a), dir, "k1.key");
	th_path(b, sizeof(b), dir, "k1.pub");
	th_path(c, sizeof(c), dir, "k2.key");
	th_path(d, sizeof(d), dir, "k2.pub");
	if (signkey_generate(a, b, err, sizeof(err)) != 0 ||
	    signkey_generate(c, d, err, sizeof(err)) != 0) {
		fprintf(stderr, "test_bundle: %s\n", err);
		exit(2);
	}
	priv1 = signkey_load_private(a, err, sizeof(err));
	pub1 = signkey_load_public(b, err, sizeof(err));
	priv2 = signkey_load_private(c, err, sizeof(err));
	pub2 = signkey_load_public(d, err, sizeof(err));
	if (!priv1 || !pub1 || !priv2 || !pub2 ||
	    signkey_fingerprint(pub1, fpr1) != 0 ||
	    signkey_fingerprint(pub2, fpr2) != 0) {
		fprintf(stderr, "test_bundle: loading the keys: %s\n", err);
		exit(2);
	}
	unlink(a);
	unlink(b);
	unlink(c);
	unlink(d);
}

/* ---- deltas (format 2) -------------------------------------------------- */

typedef struct delta_seen {
	bundle_header h;
	int records, removes;
	char last_remove[TOKEN_ID_LEN];
} delta_seen;

static int d_header(void *ctx, const bundle_header *h)
{
	((delta_seen *)ctx)->h = *h;
	return 0;
}

static int d_record(void *ctx, const char id[12], const uint8_t *val,
		    size_t len)
{
	(void)id;
	(void)val;
	(void)len;
	((delta_seen *)ctx)->records++;
	return 0;
}

static int d_remove(void *ctx, const char id[12])
{
	delta_seen *d = ctx;

	d->removes++;
	memcpy(d->last_remove, id, TOKEN_ID_LEN);
	return 0;
}

static int read_delta(const char *buf, size_t len, delta_seen *d, char *err,
		      size_t errlen)
{
	int fd = fd_with(buf, len);
	memset(d, 0, sizeof(*d));
	err[0] = '\0';
	int rc = bundle_read_ex(fd, NULL, NULL, d_header, d_record, d_remove, d,
				err, errlen);
	close(fd);
	return rc;
}

static void delta_case(const char *name, const char *body, const char *want)
{
	size_t len;
	char *buf = sign_text(body, strlen(body), priv1, &len);
	char err[256];
	delta_seen d;

	int rc = read_delta(buf, len, &d, err, sizeof(err));
	if (want)
		CHECK(rc != 0 && strcmp(err, want) == 0,
		      "%s: read said \"%s\", want \"%s\"", name, err, want);
	else
		CHECK(rc == 0, "%s: read: %s", name, err);
	free(buf);
}

#define DHEAD "pam_apitoken-bundle 2 (delta): upgrade pam_apitoken\nprefix ptk\ngeneration 43\n" \
	      "created 1796583600\nbase 42\n"

static void test_delta(void)
{
	/* The writer: base and remove lines, read back by bundle_read_ex. */
	int fd = memfd_create("delta", MFD_CLOEXEC);
	bundle_header h = header(43);
	char err[256], id[TOKEN_ID_LEN], id2[TOKEN_ID_LEN];
	uint8_t val[RECORD_ENCODED_MAX];
	h.base = 42;
	bundle_writer *w = bundle_writer_open(fd, &h, err, sizeof(err));
	CHECK(w != NULL, "delta writer: %s", err);
	make_id(1, id);
	make_id(2, id2);
	size_t vlen = make_val(1, 5, val);
	CHECK(bundle_writer_record(w, id, val, vlen) == 0 &&
		      bundle_writer_remove(w, id2) == 0,
	      "delta writer: record and remove");
	CHECK(bundle_writer_remove(w, id) != 0 &&
		      strstr(bundle_writer_error(w), "duplicate"),
	      "delta writer: an id both kept and removed is refused");
	bundle_writer_abort(w);
	close(fd);

	fd = memfd_create("delta", MFD_CLOEXEC);
	w = bundle_writer_open(fd, &h, err, sizeof(err));
	CHECK(w && bundle_writer_record(w, id, val, vlen) == 0 &&
		      bundle_writer_remove(w, id2) == 0 &&
		      bundle_writer_finish(w, priv1, err, sizeof(err)) == 0,
	      "delta written: %s", err);
	size_t len;
	char *buf = slurp(fd, &len);
	close(fd);
	CHECK(starts_with(buf, DHEAD), "the delta's signed header: %.80s", buf);
	EVP_PKEY *trusted[] = { pub1 };
	CHECK(verify_buf(buf, len, trusted, 1, err, sizeof(err)) == 0,
	      "the delta verifies: %s", err);
	delta_seen d;
	CHECK(read_delta(buf, len, &d, err, sizeof(err)) == 0 &&
		      d.h.base == 42 && d.h.generation == 43 &&
		      d.records == 1 && d.removes == 1 &&
		      memcmp(d.last_remove, id2, TOKEN_ID_LEN) == 0,
	      "the delta reads back: %s", err);
	visit_ctx vc = { 0 };
	CHECK(read_buf(buf, len, &vc, err, sizeof(err)) != 0 &&
		      strstr(err, "a delta bundle, where a full bundle"),
	      "bundle_read (full only) refuses the delta: %s", err);
	free(buf);

	/* A full bundle writer refuses remove lines; base >= generation. */
	fd = memfd_create("full", MFD_CLOEXEC);
	h.base = 0;
	w = bundle_writer_open(fd, &h, err, sizeof(err));
	CHECK(w && bundle_writer_remove(w, id2) != 0,
	      "a full bundle has no remove lines");
	bundle_writer_abort(w);
	h.base = 43;
	CHECK(bundle_writer_open(fd, &h, err, sizeof(err)) == NULL,
	      "a delta's base below its generation");
	close(fd);

	delta_case("valid delta", DHEAD "record AAAAAAAAAAAB AQID\n"
		   "remove AAAAAAAAAAAC\ncount 2\n", NULL);
	delta_case("full bundle through the delta reader",
		   HEADER "record AAAAAAAAAAAB AQID\ncount 1\n", NULL);
	delta_case("no base",
		   "pam_apitoken-bundle 2 (delta): upgrade pam_apitoken\nprefix ptk\ngeneration 43\n"
		   "created 0\ncount 0\n",
		   "line 5: expected \"base\"");
	delta_case("base equal to the generation",
		   "pam_apitoken-bundle 2 (delta): upgrade pam_apitoken\nprefix ptk\ngeneration 43\n"
		   "created 0\nbase 43\ncount 0\n",
		   "line 5: base must be a decimal number from 1 to the "
		   "generation minus one, without leading zeros");
	delta_case("base 0",
		   "pam_apitoken-bundle 2 (delta): upgrade pam_apitoken\nprefix ptk\ngeneration 43\n"
		   "created 0\nbase 0\ncount 0\n",
		   "line 5: base must be a decimal number from 1 to the "
		   "generation minus one, without leading zeros");
	delta_case("remove in a full bundle",
		   HEADER "remove AAAAAAAAAAAB\ncount 1\n",
		   "line 5: expected \"record\" or \"count\"");
	delta_case("record and remove of one id",
		   DHEAD "record AAAAAAAAAAAB AQID\nremove AAAAAAAAAAAB\n"
		   "count 2\n", "line 7: duplicate id AAAAAAAAAAAB");
	delta_case("malformed remove",
		   DHEAD "remove AAAAAAAAAAA\ncount 1\n",
		   "line 6: malformed remove line");
	delta_case("remove with a value",
		   DHEAD "remove AAAAAAAAAAAB AQID\ncount 1\n",
		   "line 6: malformed remove line");
	delta_case("count counts removes",
		   DHEAD "remove AAAAAAAAAAAB\ncount 0\n",
		   "line 7: count 0 but 1 records");
	delta_case("base twice",
		   DHEAD "base 42\ncount 0\n", "line 6: duplicate \"base\"");
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_bundle.XXXXXX");
	if (!mkdtemp(dir))
		die("mkdtemp");
	setup_keys();

	test_roundtrip();
	test_flip_every_byte();
	test_truncation();
	test_keys_trusted();
	test_framing();
	test_signed_content();
	test_delta();
	test_writer_refuses();
	test_keyfiles();
	test_openssl_cli();
	test_million();

	EVP_PKEY_free(priv1);
	EVP_PKEY_free(priv2);
	EVP_PKEY_free(pub1);
	EVP_PKEY_free(pub2);
	rmdir(dir);
	return th_summary("ok");
}
