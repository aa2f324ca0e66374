/* The signed pointer of a published directory (see pointer.h). */
#include "pointer.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "secure.h"
#include "signkey.h"

#define MAGIC "pam_apitoken-pointer 1"
#define LINE_MAX_LEN 512 /* the longest line, its "\n" included */
#define WORDS_MAX 6
#define ED25519_SIG_LEN 64
#define SIG_B64_LEN 88
/* Not the bundle's label: a signature over a bundle can never pass for
 * one over a pointer, nor the other way round. */
static const char SIG_CONTEXT[] = "pam_apitoken pointer v1 signature";
#define SIG_CONTEXT_LEN sizeof(SIG_CONTEXT) /* with the NUL */

static void fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int pointer_name_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > POINTER_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return 0;
	}
	return 1;
}

/* A decimal spelled one way only, 0 .. INT64_MAX. */
static int number(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s || (s[0] == '0' && s[1]))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case too: one spelling */
}

static int hex32(const char *s, uint8_t out[POINTER_SHA256_LEN])
{
	if (strlen(s) != 2 * POINTER_SHA256_LEN)
		return -1;
	for (size_t i = 0; i < POINTER_SHA256_LEN; i++) {
		int hi = hex_value(s[2 * i]), lo = hex_value(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* Split line (NUL-terminated copy) at single spaces. Returns the number
 * of words, or -1 for an empty word (two spaces, a space at either end)
 * or too many. */
static int split(char *line, char *w[WORDS_MAX])
{
	int n = 0;
	char *s = line;

	for (;;) {
		char *sp = strchr(s, ' ');
		if (sp == s || *s == '\0' || n == WORDS_MAX)
			return -1;
		w[n++] = s;
		if (!sp)
			return n;
		*sp = '\0';
		s = sp + 1;
	}
}

/* Framing: at most POINTER_MAX_SIZE bytes of printable ASCII lines, each
 * ending in "\n" and at most LINE_MAX_LEN long. *sig_at: where the last
 * line starts. Returns 0 or -1 (err). */
static int framing(const char *buf, size_t len, size_t *sig_at, char *err,
		   size_t errlen)
{
	size_t line = 1, start = 0, last = 0;

	if (len > POINTER_MAX_SIZE) {
		fail(err, errlen, "malformed at line 1: larger than %d bytes",
		     POINTER_MAX_SIZE);
		return -1;
	}
	if (len == 0 || buf[len - 1] != '\n') {
		fail(err, errlen, "truncated");
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '\n') {
			if (i + 1 - start > LINE_MAX_LEN) {
				fail(err, errlen, "malformed at line %zu: line "
				     "too long", line);
				return -1;
			}
			last = start;
			start = i + 1;
			line++;
		} else if (c < 0x20 || c > 0x7e) {
			fail(err, errlen, "malformed at line %zu: byte 0x%02x",
			     line, c);
			return -1;
		}
	}
	*sig_at = last;
	return 0;
}

/* "signature ed25519 FPR SIG": the fingerprint and the raw signature. */
static int parse_sig_line(const char *s, size_t n,
			  char fpr[BUNDLE_FPR_LEN + 1],
			  uint8_t sig[ED25519_SIG_LEN])
{
	char copy[LINE_MAX_LEN + 1], *w[WORDS_MAX];
	unsigned char raw[SIG_B64_LEN];
	char again[SIG_B64_LEN + 1];

	if (n == 0 || n > LINE_MAX_LEN)
		return -1;
	memcpy(copy, s, n - 1); /* without its "\n" */
	copy[n - 1] = '\0';
	if (split(copy, w) != 4 || strcmp(w[0], "signature") != 0 ||
	    strcmp(w[1], "ed25519") != 0 || strlen(w[2]) != BUNDLE_FPR_LEN ||
	    strspn(w[2], "0123456789abcdef") != BUNDLE_FPR_LEN ||
	    strlen(w[3]) != SIG_B64_LEN)
		return -1;
	/* 88 characters decode to 66 bytes, 2 of them padding; only the
	 * canonical spelling (what encoding the 64 gives back) counts. */
	if (EVP_DecodeBlock(raw, (const unsigned char *)w[3], SIG_B64_LEN) != 66)
		return -1;
	if (EVP_EncodeBlock((unsigned char *)again, raw, ED25519_SIG_LEN) !=
		    SIG_B64_LEN ||
	    memcmp(again, w[3], SIG_B64_LEN) != 0)
		return -1;
	memcpy(fpr, w[2], BUNDLE_FPR_LEN + 1);
	memcpy(sig, raw, ED25519_SIG_LEN);
	return 0;
}

static int parse_file(char **w, int nw, bool delta, pointer_file *f)
{
	int i = delta ? 2 : 1;

	memset(f, 0, sizeof(*f));
	if (nw != (delta ? 5 : 4))
		return -1;
	if (delta && (number(w[1], &f->base) != 0 || f->base == 0))
		return -1;
	if (!pointer_name_valid(w[i]) ||
	    number(w[i + 1], &f->size) != 0 || f->size == 0 ||
	    hex32(w[i + 2], f->sha256) != 0)
		return -1;
	memcpy(f->name, w[i], strlen(w[i]) + 1);
	return 0;
}

/* The fields of the signed part buf[0..len) into p. */
static int parse_fields(const char *buf, size_t len, pointer *p, char *err,
			size_t errlen)
{
	char line[LINE_MAX_LEN + 1], *w[WORDS_MAX];
	size_t at = 0, lineno = 0;
	uint64_t v;

	memset(p, 0, sizeof(*p));
	while (at < len) {
		const char *nl = memchr(buf + at, '\n', len - at);
		size_t n = (size_t)(nl - (buf + at));
		lineno++;
		if (n >= sizeof(line))
			goto bad;
		memcpy(line, buf + at, n);
		line[n] = '\0';
		at += n + 1;
		int nw = split(line, w);
		if (nw < 0)
			goto bad;
		switch (lineno) {
		case 1:
			if (nw != 2 || strcmp(w[0], "pam_apitoken-pointer") != 0)
				goto bad;
			if (strcmp(w[1], "1") != 0) {
				fail(err, errlen, "line 1: pointer format %s "
				     "is newer than this tokenadm reads (1): "
				     "upgrade pam_apitoken on this host",
				     w[1]);
				return -1;
			}
			continue;
		case 2:
			if (nw != 2 || strcmp(w[0], "prefix") != 0 ||
			    strlen(w[1]) > 16 ||
			    strspn(w[1], "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					 "abcdefghijklmnopqrstuvwxyz") !=
				    strlen(w[1]))
				goto bad;
			memcpy(p->prefix, w[1], strlen(w[1]) + 1);
			continue;
		case 3:
			if (nw != 2 || strcmp(w[0], "generation") != 0 ||
			    number(w[1], &p->generation) != 0 ||
			    p->generation == 0)
				goto bad;
			continue;
		case 4:
			if (nw != 2 || strcmp(w[0], "created") != 0 ||
			    number(w[1], &v) != 0)
				goto bad;
			p->created = (int64_t)v;
			continue;
		case 5:
			if (nw != 2 || strcmp(w[0], "expires") != 0 ||
			    number(w[1], &v) != 0 ||
			    (int64_t)v <= p->created)
				goto bad;
			p->expires = (int64_t)v;
			continue;
		case 6:
			if (strcmp(w[0], "full") != 0 ||
			    parse_file(w, nw, false, &p->full) != 0)
				goto bad;
			continue;
		default:
			break;
		}
		if (p->n_deltas == POINTER_DELTAS_MAX ||
		    strcmp(w[0], "delta") != 0)
			goto bad;
		pointer_file *d = &p->deltas[p->n_deltas];
		if (parse_file(w, nw, true, d) != 0 ||
		    d->base >= p->generation ||
		    (p->n_deltas && d->base <= p->deltas[p->n_deltas - 1].base) ||
		    strcmp(d->name, p->full.name) == 0)
			goto bad;
		for (size_t i = 0; i < p->n_deltas; i++)
			if (strcmp(p->deltas[i].name, d->name) == 0)
				goto bad;
		p->n_deltas++;
	}
	if (lineno < 6) {
		lineno++;
		goto bad;
	}
	return 0;
bad:
	fail(err, errlen, "line %zu: malformed", lineno);
	return -1;
}

static int digest_of(const char *buf, size_t len,
		     uint8_t msg[SIG_CONTEXT_LEN + BUNDLE_DIGEST_LEN])
{
	unsigned int dlen = 0;

	memcpy(msg, SIG_CONTEXT, SIG_CONTEXT_LEN);
	return EVP_Digest(buf, len, msg + SIG_CONTEXT_LEN, &dlen, EVP_sha512(),
			  NULL) == 1 && dlen == BUNDLE_DIGEST_LEN ? 0 : -1;
}

/* The first steps of parse and verify: *p cleared, the framing checked
 * and the signature line (at *sig_at) read into fpr and sig. */
static int split_signed(const char *buf, size_t len, pointer *p,
			size_t *sig_at, char fpr[BUNDLE_FPR_LEN + 1],
			uint8_t sig[ED25519_SIG_LEN], char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (framing(buf, len, sig_at, err, errlen) != 0)
		return -1;
	if (parse_sig_line(buf + *sig_at, len - *sig_at, fpr, sig) != 0) {
		fail(err, errlen, "truncated");
		return -1;
	}
	return 0;
}

/* The last step of both: the fields before the signature line into *p,
 * and who signed it. */
static int fill(const char *buf, size_t sig_at,
		const char fpr[BUNDLE_FPR_LEN + 1], pointer *p, char *err,
		size_t errlen)
{
	if (parse_fields(buf, sig_at, p, err, errlen) != 0)
		return -1;
	memcpy(p->signer, fpr, BUNDLE_FPR_LEN + 1);
	return 0;
}

int pointer_parse(const char *buf, size_t len, pointer *p, char *err,
		  size_t errlen)
{
	char fpr[BUNDLE_FPR_LEN + 1];
	uint8_t sig[ED25519_SIG_LEN];
	size_t sig_at;

	if (split_signed(buf, len, p, &sig_at, fpr, sig, err, errlen) != 0)
		return -1;
	return fill(buf, sig_at, fpr, p, err, errlen);
}

int pointer_verify(const char *buf, size_t len, EVP_PKEY *const *trusted,
		   size_t n_trusted, pointer *p, char *err, size_t errlen)
{
	char fpr[BUNDLE_FPR_LEN + 1], kf[BUNDLE_FPR_LEN + 1];
	uint8_t sig[ED25519_SIG_LEN];
	uint8_t msg[SIG_CONTEXT_LEN + BUNDLE_DIGEST_LEN];
	EVP_PKEY *key = NULL;
	size_t sig_at;

	if (split_signed(buf, len, p, &sig_at, fpr, sig, err, errlen) != 0)
		return -1;
	for (size_t i = 0; i < n_trusted && !key; i++)
		if (trusted[i] && signkey_fingerprint(trusted[i], kf) == 0 &&
		    strcmp(kf, fpr) == 0)
			key = trusted[i];
	if (!key) {
		fail(err, errlen, "unknown key %s", fpr);
		return -1;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int good = ctx && digest_of(buf, sig_at, msg) == 0 &&
		   EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
		   EVP_DigestVerify(ctx, sig, sizeof(sig), msg,
				    sizeof(msg)) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	if (!good) {
		fail(err, errlen, "bad signature");
		return -1;
	}
	/* Only now is anything in it believed. */
	return fill(buf, sig_at, fpr, p, err, errlen);
}

static int put_file(char *buf, size_t cap, size_t *at, const char *kind,
		    const pointer_file *f)
{
	char hex[2 * POINTER_SHA256_LEN + 1], base[24] = "";
	int n;

	secure_hex_encode(f->sha256, POINTER_SHA256_LEN, hex);
	hex[sizeof(hex) - 1] = '\0';
	if (f->base)
		snprintf(base, sizeof(base), "%llu ",
			 (unsigned long long)f->base);
	n = snprintf(buf + *at, cap - *at, "%s %s%s %llu %s\n", kind, base,
		     f->name, (unsigned long long)f->size, hex);
	if (n < 0 || (size_t)n >= cap - *at)
		return -1;
	*at += (size_t)n;
	return 0;
}

int pointer_write(const pointer *p, EVP_PKEY *key, char **out,
		  size_t *outlen, char *err, size_t errlen)
{
	char *buf = malloc(POINTER_MAX_SIZE + 1);
	uint8_t msg[SIG_CONTEXT_LEN + BUNDLE_DIGEST_LEN], sig[ED25519_SIG_LEN];
	char fpr[BUNDLE_FPR_LEN + 1];
	size_t at = 0, siglen = sizeof(sig);
	pointer check;

	*out = NULL;
	if (!buf) {
		fail(err, errlen, "out of memory");
		return -1;
	}
	int n = snprintf(buf, POINTER_MAX_SIZE,
			 MAGIC "\nprefix %s\ngeneration %llu\ncreated %lld\n"
			       "expires %lld\n",
			 p->prefix, (unsigned long long)p->generation,
			 (long long)p->created, (long long)p->expires);
	if (n < 0 || n >= POINTER_MAX_SIZE)
		goto invalid;
	at = (size_t)n;
	if (put_file(buf, POINTER_MAX_SIZE, &at, "full", &p->full) != 0)
		goto invalid;
	for (size_t i = 0; i < p->n_deltas && i < POINTER_DELTAS_MAX; i++)
		if (p->deltas[i].base == 0 ||
		    put_file(buf, POINTER_MAX_SIZE, &at, "delta",
			     &p->deltas[i]) != 0)
			goto invalid;
	/* What is written is what a reader takes: one parser decides. */
	if (parse_fields(buf, at, &check, err, errlen) != 0 ||
	    check.n_deltas != p->n_deltas)
		goto invalid;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int good = ctx && signkey_fingerprint(key, fpr) == 0 &&
		   digest_of(buf, at, msg) == 0 &&
		   EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
		   EVP_DigestSign(ctx, sig, &siglen, msg, sizeof(msg)) == 1 &&
		   siglen == sizeof(sig);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	if (!good) {
		fail(err, errlen, "cannot sign the pointer (not an Ed25519 "
		     "private key?)");
		free(buf);
		return -1;
	}
	n = snprintf(buf + at, POINTER_MAX_SIZE + 1 - at,
		     "signature ed25519 %s ", fpr);
	if (n < 0 || at + (size_t)n + SIG_B64_LEN + 2 > POINTER_MAX_SIZE)
		goto invalid;
	at += (size_t)n;
	at += (size_t)EVP_EncodeBlock((unsigned char *)buf + at, sig,
				      sizeof(sig));
	buf[at++] = '\n';
	*out = buf;
	*outlen = at;
	return 0;
invalid:
	fail(err, errlen, "invalid pointer fields");
	free(buf);
	return -1;
}

const pointer_file *pointer_find(const pointer *p, uint64_t size,
				 const uint8_t sha256[POINTER_SHA256_LEN])
{
	if (p->full.size == size &&
	    memcmp(p->full.sha256, sha256, POINTER_SHA256_LEN) == 0)
		return &p->full;
	for (size_t i = 0; i < p->n_deltas; i++)
		if (p->deltas[i].size == size &&
		    memcmp(p->deltas[i].sha256, sha256, POINTER_SHA256_LEN) == 0)
			return &p->deltas[i];
	return NULL;
}
