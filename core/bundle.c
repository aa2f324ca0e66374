#include "bundle.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>

#include "record.h"
#include "secure.h"
#include "signkey.h"
#include "token.h"
#include "writeall.h"

/* The text of the format (man pam_apitoken-bundle(5)). */
#define MAGIC "pam_apitoken-bundle 1"
/* A delta's first line says what it is after the version: hosts of the
 * releases before deltas quote up to 32 characters of it in their refusal
 * ('unsupported bundle version "2 (delta): upgrade pam_apitoken"'), so
 * even they tell their operator what to do. */
#define MAGIC_DELTA "pam_apitoken-bundle 2 (delta): upgrade pam_apitoken"
#define MAGIC_NAME "pam_apitoken-bundle "
#define SIG_ALG "ed25519"
#define ED25519_SIG_LEN 64
#define SIG_B64_LEN 88 /* 64 bytes, padded */
/* What is signed: this label, its NUL, then the SHA-512 of every byte
 * before the signature line. The label keeps a signature over a bundle
 * from meaning anything else the same key might ever sign; the digest
 * lets both sides stream, since OpenSSL 3.0's Ed25519 needs the whole
 * message at once (no Ed25519ph). */
static const char SIG_CONTEXT[] = "pam_apitoken bundle v1 signature";
#define SIG_CONTEXT_LEN sizeof(SIG_CONTEXT) /* with the NUL */
#define SIG_MSG_LEN (SIG_CONTEXT_LEN + BUNDLE_DIGEST_LEN)

/* Base64 of RECORD_ENCODED_MAX bytes. */
#define RECORD_B64_MAX (((RECORD_ENCODED_MAX) + 2) / 3 * 4)
#define RECORD_LINE_FIXED (sizeof("record ") - 1 + TOKEN_ID_LEN + 1)

_Static_assert(RECORD_LINE_FIXED + RECORD_B64_MAX + 1 <= BUNDLE_LINE_MAX,
	       "the longest record line must fit in a bundle line");
_Static_assert(BUNDLE_RECORDS_MAX < (1u << 30), "id table size");

#define IO_CHUNK 65536
#define STR_(x) #x
#define STR(x) STR_(x)

/* ---- small codecs ------------------------------------------------------ */

static const char b64_digits[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];
		out[o++] = b64_digits[v >> 18];
		out[o++] = b64_digits[(v >> 12) & 63];
		out[o++] = b64_digits[(v >> 6) & 63];
		out[o++] = b64_digits[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64_digits[v >> 18];
		out[o++] = b64_digits[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64_digits[v >> 18];
		out[o++] = b64_digits[(v >> 12) & 63];
		out[o++] = b64_digits[(v >> 6) & 63];
		out[o++] = '=';
	}
	return o;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode padded RFC 4648 base64, accepting only the one spelling
 * b64_encode gives (padding present, unused bits zero): otherwise two
 * different files would carry the same record, and a flipped bit in the
 * padding of a signature would go unnoticed. Returns the length, -1 for
 * bad base64, -2 if it decodes to more than cap bytes. */
static long b64_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	if (n == 0 || n % 4 != 0)
		return -1;
	size_t pad = s[n - 1] != '=' ? 0 : s[n - 2] != '=' ? 1 : 2;
	size_t len = n / 4 * 3 - pad;
	if (len > cap)
		return -2;
	size_t o = 0;
	for (size_t i = 0; i < n; i += 4) {
		bool last = i + 4 == n;
		int v[4];
		for (size_t j = 0; j < 4; j++) {
			if (last && j >= 4 - pad) {
				v[j] = 0;
				continue;
			}
			v[j] = b64_value((unsigned char)s[i + j]);
			if (v[j] < 0)
				return -1;
		}
		uint32_t q = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 |
			     (uint32_t)v[2] << 6 | (uint32_t)v[3];
		out[o++] = (uint8_t)(q >> 16);
		if (!(last && pad == 2))
			out[o++] = (uint8_t)(q >> 8);
		if (!(last && pad >= 1))
			out[o++] = (uint8_t)q;
		if (last && pad == 1 && (v[2] & 3) != 0)
			return -1;
		if (last && pad == 2 && (v[1] & 15) != 0)
			return -1;
	}
	return (long)o;
}

/* A decimal number spelled one way only: digits, no sign, no leading zero
 * (but "0" itself), at most 2^63-1. Returns 0 or -1. */
static int parse_decimal(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 19 || (s[0] == '0' && n > 1))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static bool is_base62(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z');
}

static bool id_valid(const char *id)
{
	for (size_t i = 0; i < TOKEN_ID_LEN; i++)
		if (!is_base62((unsigned char)id[i]))
			return false;
	return true;
}

/* ---- the set of ids seen ----------------------------------------------- */

/* Open addressing over 12-byte ids. An id never holds a NUL, so a slot
 * starting with one is empty. The hash is SipHash-2-4 under a random key:
 * whoever chooses the ids cannot make every one collide. */
typedef struct idset {
	char (*slot)[TOKEN_ID_LEN];
	size_t cap, n;
	uint64_t k0, k1;
} idset;

#define ROTL64(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL64(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL64(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL64(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL64(v[2], 32);
}

static uint64_t sip_id(uint64_t k0, uint64_t k1, const char *id)
{
	const unsigned char *p = (const unsigned char *)id;
	uint64_t v[4] = { k0 ^ UINT64_C(0x736f6d6570736575),
			  k1 ^ UINT64_C(0x646f72616e646f6d),
			  k0 ^ UINT64_C(0x6c7967656e657261),
			  k1 ^ UINT64_C(0x7465646279746573) };
	uint64_t m = 0, b = (uint64_t)TOKEN_ID_LEN << 56;

	for (int i = 0; i < 8; i++)
		m |= (uint64_t)p[i] << (8 * i);
	for (int i = 0; i < 4; i++)
		b |= (uint64_t)p[8 + i] << (8 * i);
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
	v[3] ^= b;
	sip_round(v);
	sip_round(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static int idset_init(idset *s)
{
	uint64_t k[2];

	memset(s, 0, sizeof(*s));
	if (secure_random(k, sizeof(k)) != 0)
		return -1;
	s->k0 = k[0];
	s->k1 = k[1];
	return 0;
}

static void idset_free(idset *s)
{
	free(s->slot);
	memset(s, 0, sizeof(*s));
}

static size_t idset_find(const idset *s, const char *id)
{
	size_t mask = s->cap - 1;
	size_t i = (size_t)sip_id(s->k0, s->k1, id) & mask;

	while (s->slot[i][0] && memcmp(s->slot[i], id, TOKEN_ID_LEN) != 0)
		i = (i + 1) & mask;
	return i;
}

static int idset_grow(idset *s)
{
	size_t cap = s->cap ? s->cap * 2 : 1024;
	idset bigger = *s;

	bigger.cap = cap;
	bigger.slot = calloc(cap, sizeof(*bigger.slot));
	if (!bigger.slot)
		return -1;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slot[i][0])
			memcpy(bigger.slot[idset_find(&bigger, s->slot[i])],
			       s->slot[i], TOKEN_ID_LEN);
	free(s->slot);
	*s = bigger;
	return 0;
}

/* Returns 1 if added, 0 if already there, -1 out of memory. */
static int idset_add(idset *s, const char *id)
{
	/* At most 3/4 full, so a probe stays short. */
	if ((s->n + 1) * 4 > s->cap * 3 && idset_grow(s) != 0)
		return -1;
	size_t i = idset_find(s, id);
	if (s->slot[i][0])
		return 0;
	memcpy(s->slot[i], id, TOKEN_ID_LEN);
	s->n++;
	return 1;
}

/* ---- the writer -------------------------------------------------------- */

struct bundle_writer {
	int fd;
	EVP_MD_CTX *sha;
	idset ids;
	uint64_t count;
	bool delta;
	bool failed;
	char err[256];
	size_t olen;
	char out[IO_CHUNK];
	char line[BUNDLE_LINE_MAX];
};

static void w_fail(bundle_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void w_fail(bundle_writer *w, const char *fmt, ...)
{
	va_list ap;

	if (w->failed)
		return;
	w->failed = true;
	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
}

static int w_flush(bundle_writer *w)
{
	if (w->failed)
		return -1;
	if (w->olen && write_all(w->fd, w->out, w->olen) != 0) {
		w_fail(w, "write: %s", strerror(errno));
		return -1;
	}
	w->olen = 0;
	return 0;
}

/* Append to the output; signed text is also hashed. */
static int w_put(bundle_writer *w, const char *p, size_t n, bool signed_part)
{
	if (w->failed)
		return -1;
	if (signed_part && EVP_DigestUpdate(w->sha, p, n) != 1) {
		w_fail(w, "SHA-512 failed");
		return -1;
	}
	while (n > 0) {
		if (w->olen == sizeof(w->out) && w_flush(w) != 0)
			return -1;
		size_t k = sizeof(w->out) - w->olen;
		if (k > n)
			k = n;
		memcpy(w->out + w->olen, p, k);
		w->olen += k;
		p += k;
		n -= k;
	}
	return 0;
}

static void writer_free(bundle_writer *w)
{
	if (!w)
		return;
	EVP_MD_CTX_free(w->sha);
	idset_free(&w->ids);
	free(w);
}

bundle_writer *bundle_writer_open(int fd, const bundle_header *h, char *err,
				  size_t errlen)
{
	char text[128];

	if (!h || strnlen(h->prefix, sizeof(h->prefix)) == sizeof(h->prefix) ||
	    !token_prefix_valid(h->prefix)) {
		snprintf(err, errlen, "bundle: invalid token prefix");
		return NULL;
	}
	if (h->generation == 0 || h->generation > (uint64_t)INT64_MAX) {
		snprintf(err, errlen, "bundle: generation must be 1 to 2^63-1");
		return NULL;
	}
	if (h->created < 0) {
		snprintf(err, errlen, "bundle: negative creation time");
		return NULL;
	}
	if (h->base >= h->generation) {
		snprintf(err, errlen, "bundle: a delta's base must be below its "
				      "generation");
		return NULL;
	}
	bundle_writer *w = calloc(1, sizeof(*w));
	if (!w) {
		snprintf(err, errlen, "bundle: out of memory");
		return NULL;
	}
	w->fd = fd;
	w->delta = h->base != 0;
	w->sha = EVP_MD_CTX_new();
	if (!w->sha || EVP_DigestInit_ex(w->sha, EVP_sha512(), NULL) != 1) {
		snprintf(err, errlen, "bundle: cannot set up SHA-512");
		writer_free(w);
		ERR_clear_error();
		return NULL;
	}
	/* The id table's hash is keyed with random bytes. */
	if (idset_init(&w->ids) != 0) {
		snprintf(err, errlen, "bundle: cannot get random bytes: %s",
			 strerror(errno));
		writer_free(w);
		return NULL;
	}
	int n = w->delta ?
			snprintf(text, sizeof(text),
				 MAGIC_DELTA "\nprefix %s\ngeneration %llu\n"
					     "created %lld\nbase %llu\n",
				 h->prefix, (unsigned long long)h->generation,
				 (long long)h->created,
				 (unsigned long long)h->base) :
			snprintf(text, sizeof(text),
				 MAGIC "\nprefix %s\ngeneration %llu\n"
				       "created %lld\n",
				 h->prefix, (unsigned long long)h->generation,
				 (long long)h->created);
	if (n <= 0 || (size_t)n >= sizeof(text) ||
	    w_put(w, text, (size_t)n, true) != 0 || w_flush(w) != 0) {
		snprintf(err, errlen, "bundle: %s",
			 w->failed ? w->err : "header too long");
		writer_free(w);
		return NULL;
	}
	return w;
}

const char *bundle_writer_error(const bundle_writer *w)
{
	return w->failed ? w->err : "";
}

/* The checks a record and a remove line share. Returns 0 or -1. */
static int w_new_id(bundle_writer *w, const char id[12])
{
	if (w->failed)
		return -1;
	if (!id_valid(id)) {
		w_fail(w, "record %llu: malformed id",
		       (unsigned long long)w->count + 1);
		return -1;
	}
	if (w->count >= BUNDLE_RECORDS_MAX) {
		w_fail(w, "more than %u records", BUNDLE_RECORDS_MAX);
		return -1;
	}
	/* Every importer would refuse a duplicate: refuse it here first. */
	int added = idset_add(&w->ids, id);
	if (added <= 0) {
		if (added == 0)
			w_fail(w, "record %.12s: duplicate id", id);
		else
			w_fail(w, "out of memory");
		return -1;
	}
	return 0;
}

int bundle_writer_remove(bundle_writer *w, const char id[12])
{
	char line[sizeof("remove ") + TOKEN_ID_LEN];

	if (!w->failed && !w->delta)
		w_fail(w, "a remove line in a full bundle");
	if (w_new_id(w, id) != 0)
		return -1;
	memcpy(line, "remove ", 7);
	memcpy(line + 7, id, TOKEN_ID_LEN);
	line[7 + TOKEN_ID_LEN] = '\n';
	if (w_put(w, line, sizeof(line), true) != 0)
		return -1;
	w->count++;
	return 0;
}

int bundle_writer_record(bundle_writer *w, const char id[12],
			 const uint8_t *val, size_t len)
{
	if (w->failed)
		return -1;
	if (len == 0 || len > RECORD_ENCODED_MAX || !val) {
		w_fail(w, "record %.12s: length %zu not 1 to %d", id, len,
		       RECORD_ENCODED_MAX);
		return -1;
	}
	if (w_new_id(w, id) != 0)
		return -1;
	memcpy(w->line, "record ", 7);
	memcpy(w->line + 7, id, TOKEN_ID_LEN);
	w->line[RECORD_LINE_FIXED - 1] = ' ';
	size_t n = RECORD_LINE_FIXED + b64_encode(val, len,
						  w->line + RECORD_LINE_FIXED);
	w->line[n++] = '\n';
	if (w_put(w, w->line, n, true) != 0)
		return -1;
	w->count++;
	return 0;
}

void bundle_writer_abort(bundle_writer *w)
{
	writer_free(w);
}

/* Sign context || digest. Returns 0 or -1. */
static int sign_digest(EVP_PKEY *key, const uint8_t digest[BUNDLE_DIGEST_LEN],
		       uint8_t sig[ED25519_SIG_LEN])
{
	uint8_t msg[SIG_MSG_LEN];
	size_t siglen = ED25519_SIG_LEN;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;

	memcpy(msg, SIG_CONTEXT, SIG_CONTEXT_LEN);
	memcpy(msg + SIG_CONTEXT_LEN, digest, BUNDLE_DIGEST_LEN);
	/* NULL digest: Ed25519 hashes the message itself (PureEdDSA). */
	if (ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)) == 1 &&
	    siglen == ED25519_SIG_LEN)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int bundle_writer_finish(bundle_writer *w, EVP_PKEY *signing_key, char *err,
			 size_t errlen)
{
	char text[64 + BUNDLE_FPR_LEN + SIG_B64_LEN];
	uint8_t digest[BUNDLE_DIGEST_LEN], sig[ED25519_SIG_LEN];
	unsigned int dlen = 0;
	char fpr[BUNDLE_FPR_LEN + 1];
	int rc = -1;

	if (!w) {
		snprintf(err, errlen, "bundle: no writer");
		return -1;
	}
	int n = snprintf(text, sizeof(text), "count %llu\n",
			 (unsigned long long)w->count);
	if (w_put(w, text, (size_t)n, true) != 0)
		goto out;
	if (!signing_key || signkey_fingerprint(signing_key, fpr) != 0) {
		w_fail(w, "the signing key is not an Ed25519 key");
		goto out;
	}
	if (EVP_DigestFinal_ex(w->sha, digest, &dlen) != 1 ||
	    dlen != BUNDLE_DIGEST_LEN) {
		w_fail(w, "SHA-512 failed");
		goto out;
	}
	if (sign_digest(signing_key, digest, sig) != 0) {
		w_fail(w, "cannot sign with the key %s (not a private key?)",
		       fpr);
		goto out;
	}
	n = snprintf(text, sizeof(text), "signature " SIG_ALG " %s ", fpr);
	size_t len = (size_t)n + b64_encode(sig, sizeof(sig), text + n);
	text[len++] = '\n';
	if (w_put(w, text, len, false) != 0 || w_flush(w) != 0)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		snprintf(err, errlen, "bundle: %s", w->err);
	writer_free(w);
	return rc;
}

/* ---- reading lines ----------------------------------------------------- */

enum lr_result {
	LR_LINE = 1,
	LR_EOF = 0,     /* clean end: the last line ended with "\n" */
	LR_IO = -1,     /* read(2) failed, errno set */
	LR_LONG = -2,   /* longer than BUNDLE_LINE_MAX */
	LR_BYTE = -3,   /* not printable ASCII (NUL, CR, tab, >= 0x7f...) */
	LR_PARTIAL = -4 /* the file ends inside a line */
};

typedef struct line_reader {
	int fd;
	bool eof;
	size_t rpos, rlen;
	unsigned long long lineno; /* of the line returned (or refused) */
	size_t len;                /* of line, without the "\n" */
	unsigned char bad;         /* the byte LR_BYTE refused */
	char line[BUNDLE_LINE_MAX]; /* the line and a NUL */
	unsigned char rbuf[IO_CHUNK];
} line_reader;

static line_reader *lr_new(int fd)
{
	line_reader *r = malloc(sizeof(*r));

	if (!r)
		return NULL;
	r->fd = fd;
	r->eof = false;
	r->rpos = r->rlen = 0;
	r->lineno = 0;
	r->len = 0;
	r->bad = 0;
	r->line[0] = '\0';
	return r;
}

static bool byte_ok(unsigned char c)
{
	return c >= 0x20 && c <= 0x7e;
}

/* The next line, checked for length and bytes before anything looks at
 * it. Memory stays bounded whatever the file holds: a 10 MB line is
 * refused once BUNDLE_LINE_MAX bytes of it have been seen. */
static enum lr_result lr_next(line_reader *r)
{
	r->len = 0;
	r->lineno++;
	for (;;) {
		if (r->rpos == r->rlen) {
			if (r->eof)
				return r->len ? LR_PARTIAL : LR_EOF;
			ssize_t n = read(r->fd, r->rbuf, sizeof(r->rbuf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return LR_IO;
			if (n == 0)
				r->eof = true;
			r->rpos = 0;
			r->rlen = (size_t)n;
			continue;
		}
		const unsigned char *p = r->rbuf + r->rpos;
		size_t avail = r->rlen - r->rpos;
		const unsigned char *nl = memchr(p, '\n', avail);
		size_t take = nl ? (size_t)(nl - p) : avail;
		size_t room = BUNDLE_LINE_MAX - 1 - r->len;
		bool too_long = take > room;
		if (too_long)
			take = room;
		for (size_t i = 0; i < take; i++)
			if (!byte_ok(p[i])) {
				r->bad = p[i];
				return LR_BYTE;
			}
		if (too_long)
			return LR_LONG;
		memcpy(r->line + r->len, p, take);
		r->len += take;
		r->rpos += take;
		if (nl) {
			r->rpos++;
			r->line[r->len] = '\0';
			return LR_LINE;
		}
	}
}

static const char *byte_reason(unsigned char c)
{
	if (c == 0)
		return "NUL byte";
	if (c == '\r')
		return "carriage return (CRLF line end?)";
	if (c >= 0x80)
		return "byte that is not ASCII";
	return "control character";
}

/* Is this line the signature line (first word "signature")? */
static bool is_signature_line(const line_reader *r)
{
	return strncmp(r->line, "signature", 9) == 0 &&
	       (r->line[9] == ' ' || r->line[9] == '\0');
}

/* "signature ed25519 <fpr> <base64 of 64 bytes>", nothing else. Returns
 * NULL or the reason. */
static const char *parse_signature_line(const line_reader *r,
					char fpr[BUNDLE_FPR_LEN + 1],
					uint8_t sig[ED25519_SIG_LEN])
{
	static const char head[] = "signature " SIG_ALG " ";
	const size_t hl = sizeof(head) - 1;
	const char *s = r->line;

	if (strncmp(s, head, hl) != 0)
		return strncmp(s, "signature ", 10) == 0 &&
				       strchr(s + 10, ' ') != NULL
			       ? "unsupported signature algorithm"
			       : "malformed signature line";
	if (r->len != hl + BUNDLE_FPR_LEN + 1 + SIG_B64_LEN ||
	    s[hl + BUNDLE_FPR_LEN] != ' ')
		return "malformed signature line";
	for (size_t i = 0; i < BUNDLE_FPR_LEN; i++) {
		char c = s[hl + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return "key fingerprint is not 64 lowercase hex digits";
	}
	memcpy(fpr, s + hl, BUNDLE_FPR_LEN);
	fpr[BUNDLE_FPR_LEN] = '\0';
	if (b64_decode(s + hl + BUNDLE_FPR_LEN + 1, SIG_B64_LEN, sig,
		       ED25519_SIG_LEN) != ED25519_SIG_LEN)
		return "signature is not canonical base64 of 64 bytes";
	return NULL;
}

/* ---- pass 1: framing and signature ------------------------------------- */

static int verify_sig(EVP_PKEY *key, const uint8_t digest[BUNDLE_DIGEST_LEN],
		      const uint8_t sig[ED25519_SIG_LEN])
{
	uint8_t msg[SIG_MSG_LEN];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int rc = -1;

	memcpy(msg, SIG_CONTEXT, SIG_CONTEXT_LEN);
	memcpy(msg + SIG_CONTEXT_LEN, digest, BUNDLE_DIGEST_LEN);
	if (ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
	    EVP_DigestVerify(ctx, sig, ED25519_SIG_LEN, msg, sizeof(msg)) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

int bundle_verify_proof(int fd, EVP_PKEY *const *trusted, size_t n_trusted,
			bundle_proof *proof, char *err, size_t errlen)
{
	char fpr[BUNDLE_FPR_LEN + 1], kfpr[BUNDLE_FPR_LEN + 1];
	uint8_t sig[ED25519_SIG_LEN], digest[BUNDLE_DIGEST_LEN];
	unsigned int dlen = 0;
	bool have_sig = false;
	int rc = -1;

	if (proof)
		memset(proof, 0, sizeof(*proof));
	if (n_trusted && !trusted) {
		snprintf(err, errlen, "no trusted keys");
		return -1;
	}
	line_reader *r = lr_new(fd);
	EVP_MD_CTX *sha = EVP_MD_CTX_new();
	if (!r || !sha || EVP_DigestInit_ex(sha, EVP_sha512(), NULL) != 1) {
		snprintf(err, errlen, "cannot set up SHA-512");
		goto out;
	}
	for (;;) {
		enum lr_result lr = lr_next(r);
		if (lr == LR_EOF && have_sig)
			break;
		/* Whatever follows the signature, complete line or not. */
		if (have_sig && lr != LR_IO) {
			snprintf(err, errlen,
				 "malformed at line %llu: data after the "
				 "signature line", r->lineno);
			goto out;
		}
		if (lr == LR_EOF || lr == LR_PARTIAL) {
			snprintf(err, errlen, "truncated");
			goto out;
		}
		if (lr == LR_IO) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			goto out;
		}
		if (lr == LR_LONG) {
			snprintf(err, errlen,
				 "malformed at line %llu: longer than %d bytes",
				 r->lineno, BUNDLE_LINE_MAX);
			goto out;
		}
		if (lr == LR_BYTE) {
			snprintf(err, errlen, "malformed at line %llu: %s",
				 r->lineno, byte_reason(r->bad));
			goto out;
		}
		if (is_signature_line(r)) {
			const char *why = parse_signature_line(r, fpr, sig);
			if (why) {
				snprintf(err, errlen,
					 "malformed at line %llu: %s",
					 r->lineno, why);
				goto out;
			}
			have_sig = true;
			continue;
		}
		r->line[r->len] = '\n';
		if (EVP_DigestUpdate(sha, r->line, r->len + 1) != 1) {
			snprintf(err, errlen, "SHA-512 failed");
			goto out;
		}
	}
	if (EVP_DigestFinal_ex(sha, digest, &dlen) != 1 ||
	    dlen != BUNDLE_DIGEST_LEN) {
		snprintf(err, errlen, "SHA-512 failed");
		goto out;
	}
	EVP_PKEY *key = NULL;
	for (size_t i = 0; i < n_trusted; i++) {
		if (signkey_fingerprint(trusted[i], kfpr) != 0) {
			snprintf(err, errlen, "trusted key %zu is not an "
					      "Ed25519 key", i + 1);
			goto out;
		}
		if (!key && strcmp(kfpr, fpr) == 0)
			key = trusted[i];
	}
	if (!key) {
		snprintf(err, errlen, "unknown key %s", fpr);
		goto out;
	}
	if (verify_sig(key, digest, sig) != 0) {
		snprintf(err, errlen, "bad signature");
		goto out;
	}
	if (proof) {
		memcpy(proof->digest, digest, sizeof(digest));
		memcpy(proof->signer, fpr, sizeof(fpr));
	}
	rc = 0;
out:
	EVP_MD_CTX_free(sha);
	free(r);
	ERR_clear_error();
	return rc;
}

int bundle_verify(int fd, EVP_PKEY *const *trusted, size_t n_trusted,
		  char *err, size_t errlen)
{
	return bundle_verify_proof(fd, trusted, n_trusted, NULL, err, errlen);
}

/* ---- pass 2: the content ----------------------------------------------- */

/* The value of "keyword value" on line r, or NULL if the line's keyword
 * is not kw. */
static const char *value_of(const line_reader *r, const char *kw)
{
	size_t n = strlen(kw);

	if (r->len > n && strncmp(r->line, kw, n) == 0 && r->line[n] == ' ')
		return r->line + n + 1;
	return NULL;
}

static bool keyword_is(const line_reader *r, const char *kw)
{
	size_t n = strlen(kw);

	return strncmp(r->line, kw, n) == 0 &&
	       (r->line[n] == ' ' || r->line[n] == '\0');
}

/* A delta (format 2) has one more: "base". */
static const char *const header_keys[] = { "prefix", "generation", "created",
					   "base" };
#define N_HEADER_KEYS_FULL 3
#define N_HEADER_KEYS_DELTA 4
/* "count " before the number. */
#define COUNT_KW_LEN (sizeof("count ") - 1)

/* Parse header line i (0: prefix, 1: generation, 2: created, 3: base)
 * into h.
 * Returns NULL or the reason (in why). */
static const char *parse_header_line(const line_reader *r, size_t i,
				     bundle_header *h, char *why,
				     size_t whylen)
{
	const char *v = value_of(r, header_keys[i]);
	uint64_t num;

	if (!v) {
		for (size_t j = 0; j < i; j++)
			if (keyword_is(r, header_keys[j])) {
				snprintf(why, whylen, "duplicate \"%s\"",
					 header_keys[j]);
				return why;
			}
		snprintf(why, whylen, "expected \"%s\"", header_keys[i]);
		return why;
	}
	size_t vlen = r->len - (size_t)(v - r->line);
	switch (i) {
	case 0:
		if (vlen > TOKEN_PREFIX_MAX || !token_prefix_valid(v))
			return "prefix must be 1 to 16 letters and digits";
		memcpy(h->prefix, v, vlen + 1);
		return NULL;
	case 1:
		if (parse_decimal(v, vlen, &num) != 0 || num == 0)
			return "generation must be a decimal number from 1 "
			       "to 2^63-1 without leading zeros";
		h->generation = num;
		return NULL;
	case 2:
		if (parse_decimal(v, vlen, &num) != 0)
			return "created must be a decimal number from 0 "
			       "to 2^63-1 without leading zeros";
		h->created = (int64_t)num;
		return NULL;
	default:
		if (parse_decimal(v, vlen, &num) != 0 || num == 0 ||
		    num >= h->generation)
			return "base must be a decimal number from 1 to the "
			       "generation minus one, without leading zeros";
		h->base = num;
		return NULL;
	}
}

/* "record <id> <base64>": fills id and val. Returns the length, or 0 with
 * the reason in *why. */
static size_t parse_record_line(const line_reader *r, char id[TOKEN_ID_LEN],
				uint8_t val[RECORD_ENCODED_MAX],
				const char **why)
{
	const char *v = value_of(r, "record");

	if (!v || r->len < RECORD_LINE_FIXED || v[TOKEN_ID_LEN] != ' ') {
		*why = "malformed record line";
		return 0;
	}
	if (!id_valid(v)) {
		*why = "malformed id (12 letters and digits)";
		return 0;
	}
	memcpy(id, v, TOKEN_ID_LEN);
	const char *b = v + TOKEN_ID_LEN + 1;
	size_t blen = r->len - RECORD_LINE_FIXED;
	if (blen == 0) {
		*why = "empty record";
		return 0;
	}
	long n = b64_decode(b, blen, val, RECORD_ENCODED_MAX);
	if (n == -2) {
		*why = "record longer than " STR(RECORD_ENCODED_MAX) " bytes";
		return 0;
	}
	if (n <= 0) {
		*why = "bad base64";
		return 0;
	}
	return (size_t)n;
}

enum read_state { S_MAGIC, S_HEADER, S_BODY, S_SIGNATURE, S_END };

/* "pam_apitoken-bundle N[ anything]": is N a version above the ones read
 * here? Then this host is older than the authority, and must be told so
 * in words an operator acts on, not "not a bundle". */
static bool newer_version(const char *v)
{
	size_t n = strspn(v, "0123456789");
	uint64_t ver;

	return (v[n] == '\0' || v[n] == ' ') &&
	       parse_decimal(v, n, &ver) == 0 && ver > BUNDLE_VERSION_DELTA;
}

/* "remove <id>": fills id. Returns NULL or the reason. */
static const char *parse_remove_line(const line_reader *r,
				     char id[TOKEN_ID_LEN])
{
	const char *v = value_of(r, "remove");

	if (!v || r->len != sizeof("remove ") - 1 + TOKEN_ID_LEN)
		return "malformed remove line";
	if (!id_valid(v))
		return "malformed id (12 letters and digits)";
	memcpy(id, v, TOKEN_ID_LEN);
	return NULL;
}

int bundle_read_checked(int fd, const bundle_proof *proof,
			bundle_header *h_out,
			int (*on_header)(void *ctx, const bundle_header *h),
			bundle_record_fn visit, void *ctx, char *err,
			size_t errlen)
{
	return bundle_read_ex(fd, proof, h_out, on_header, visit, NULL, ctx,
			      err, errlen);
}

int bundle_read_ex(int fd, const bundle_proof *proof, bundle_header *h_out,
		   int (*on_header)(void *ctx, const bundle_header *h),
		   bundle_record_fn visit, bundle_remove_fn on_remove,
		   void *ctx, char *err, size_t errlen)
{
	size_t n_header_keys = N_HEADER_KEYS_FULL;
	bundle_header h;
	char why[128], fpr[BUNDLE_FPR_LEN + 1], id[TOKEN_ID_LEN];
	uint8_t sig[ED25519_SIG_LEN], digest[BUNDLE_DIGEST_LEN];
	uint8_t val[RECORD_ENCODED_MAX];
	enum read_state st = S_MAGIC;
	size_t header_i = 0;
	uint64_t records = 0;
	unsigned int dlen = 0;
	idset ids;
	EVP_MD_CTX *sha = NULL;
	int rc = -1;

	memset(&h, 0, sizeof(h));
	if (h_out)
		memset(h_out, 0, sizeof(*h_out));
	line_reader *r = lr_new(fd);
	if (idset_init(&ids) != 0 || !r) {
		snprintf(err, errlen, "cannot set up the reader");
		goto out;
	}
	if (proof) {
		sha = EVP_MD_CTX_new();
		if (!sha || EVP_DigestInit_ex(sha, EVP_sha512(), NULL) != 1) {
			snprintf(err, errlen, "cannot set up SHA-512");
			goto out;
		}
	}
#define FAIL(...)                                                    \
	do {                                                         \
		int off_ = snprintf(err, errlen, "line %llu: ",      \
				    r->lineno);                      \
		if (off_ > 0 && (size_t)off_ < errlen)               \
			snprintf(err + off_, errlen - (size_t)off_,  \
				 __VA_ARGS__);                       \
		goto out;                                            \
	} while (0)
	for (;;) {
		enum lr_result lr = lr_next(r);
		if (st == S_END && lr != LR_EOF && lr != LR_IO)
			FAIL("data after the signature line");
		if (lr == LR_EOF) {
			if (st == S_END)
				break;
			FAIL("unexpected end of file (%s)",
			     st == S_SIGNATURE ? "no signature line"
					       : "truncated");
		}
		if (lr == LR_PARTIAL)
			FAIL("truncated (no newline at the end)");
		if (lr == LR_IO)
			FAIL("read: %s", strerror(errno));
		if (lr == LR_LONG)
			FAIL("longer than %d bytes", BUNDLE_LINE_MAX);
		if (lr == LR_BYTE)
			FAIL("%s", byte_reason(r->bad));

		if (st == S_SIGNATURE || is_signature_line(r)) {
			if (!is_signature_line(r))
				FAIL("expected \"signature\"");
			if (st == S_BODY)
				FAIL("missing \"count\" before the signature");
			if (st != S_SIGNATURE)
				FAIL("signature line where the header belongs");
			const char *bad = parse_signature_line(r, fpr, sig);
			if (bad)
				FAIL("%s", bad);
			st = S_END;
			continue;
		}
		/* Hashed as pass 1 hashed it: every byte before the
		 * signature line. */
		if (sha) {
			r->line[r->len] = '\n';
			if (EVP_DigestUpdate(sha, r->line, r->len + 1) != 1)
				FAIL("SHA-512 failed");
			r->line[r->len] = '\0';
		}
		switch (st) {
		case S_MAGIC:
			if (strcmp(r->line, MAGIC) == 0) {
				st = S_HEADER;
				break;
			}
			if (strcmp(r->line, MAGIC_DELTA) == 0) {
				/* Refused here, before any header line, by
				 * a caller that would drop its removes. */
				if (!on_remove)
					FAIL("a delta bundle, where a full "
					     "bundle is expected");
				n_header_keys = N_HEADER_KEYS_DELTA;
				st = S_HEADER;
				break;
			}
			if (strncmp(r->line, MAGIC_NAME,
				    sizeof(MAGIC_NAME) - 1) == 0 &&
			    newer_version(r->line + sizeof(MAGIC_NAME) - 1))
				FAIL("bundle format version %.*s is newer "
				     "than this host reads (%d and %d): "
				     "upgrade pam_apitoken on this host",
				     (int)strspn(r->line + sizeof(MAGIC_NAME) - 1,
						 "0123456789"),
				     r->line + sizeof(MAGIC_NAME) - 1,
				     BUNDLE_VERSION_FULL, BUNDLE_VERSION_DELTA);
			if (strncmp(r->line, MAGIC_NAME,
				    sizeof(MAGIC_NAME) - 1) == 0)
				FAIL("unsupported bundle version \"%.32s\"",
				     r->line + sizeof(MAGIC_NAME) - 1);
			FAIL("not a pam_apitoken bundle");
		case S_HEADER: {
			const char *bad = parse_header_line(r, header_i, &h,
							    why, sizeof(why));
			if (bad)
				FAIL("%s", bad);
			if (++header_i < n_header_keys)
				break;
			st = S_BODY;
			if (h_out)
				*h_out = h;
			/* Before any record: the caller may refuse a
			 * stale generation or another site's prefix. */
			if (on_header && on_header(ctx, &h) != 0)
				FAIL("stopped by the caller");
			break;
		}
		case S_BODY: {
			if (keyword_is(r, "count")) {
				const char *v = value_of(r, "count");
				uint64_t n;
				if (!v || parse_decimal(v, r->len - COUNT_KW_LEN,
							&n) != 0)
					FAIL("count must be a decimal number "
					     "without leading zeros");
				if (n != records)
					FAIL("count %llu but %llu records",
					     (unsigned long long)n,
					     (unsigned long long)records);
				st = S_SIGNATURE;
				break;
			}
			bool remove = n_header_keys == N_HEADER_KEYS_DELTA &&
				      keyword_is(r, "remove");
			if (!remove && !keyword_is(r, "record")) {
				for (size_t j = 0; j < n_header_keys; j++)
					if (keyword_is(r, header_keys[j]))
						FAIL("duplicate \"%s\"",
						     header_keys[j]);
				FAIL("expected \"record\"%s or \"count\"",
				     n_header_keys == N_HEADER_KEYS_DELTA ?
					     ", \"remove\"" : "");
			}
			const char *bad = NULL;
			size_t len = 0;
			if (remove)
				bad = parse_remove_line(r, id);
			else
				len = parse_record_line(r, id, val, &bad);
			if (bad)
				FAIL("%s", bad);
			if (records >= BUNDLE_RECORDS_MAX)
				FAIL("more than %u records",
				     BUNDLE_RECORDS_MAX);
			int added = idset_add(&ids, id);
			if (added < 0)
				FAIL("out of memory");
			if (added == 0)
				FAIL("duplicate id %.12s", id);
			records++;
			if (remove ? on_remove(ctx, id) != 0 :
				     visit && visit(ctx, id, val, len) != 0)
				FAIL("stopped by the caller");
			break;
		}
		default:
			FAIL("internal error");
		}
	}
	if (proof) {
		if (EVP_DigestFinal_ex(sha, digest, &dlen) != 1 ||
		    dlen != BUNDLE_DIGEST_LEN)
			FAIL("SHA-512 failed");
		if (memcmp(digest, proof->digest, sizeof(digest)) != 0 ||
		    strcmp(fpr, proof->signer) != 0) {
			/* The whole file, not one line of it. */
			snprintf(err, errlen, "changed since it was verified");
			goto out;
		}
	}
#undef FAIL
	rc = 0;
out:
	EVP_MD_CTX_free(sha);
	idset_free(&ids);
	free(r);
	ERR_clear_error();
	return rc;
}

int bundle_read(int fd, bundle_header *h_out,
		int (*on_header)(void *ctx, const bundle_header *h),
		bundle_record_fn visit, void *ctx, char *err, size_t errlen)
{
	return bundle_read_checked(fd, NULL, h_out, on_header, visit, ctx, err,
				   errlen);
}
