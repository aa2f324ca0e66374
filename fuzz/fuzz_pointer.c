/* pointer_verify and pointer_parse: the signed pointer of a published
 * directory comes from any web server or mirror (pam_apitoken-bundle(5),
 * POINTER).
 *
 * Input: a mode byte, then the file.
 *   mode & 1: the input is the signed part only; the harness appends a
 *             signature line made with the fixed test key
 *             (fuzz_bundle_key.h), so the field parser runs on
 *             "authentic" input;
 *   otherwise the file is used as it is.
 *
 * Checks: both return 0 or -1 with a non-empty printable reason; what
 * pointer_verify accepts, pointer_parse accepts with the same fields;
 * an accepted pointer keeps its invariants (generation >= 1, expires >
 * created, names valid and distinct, delta bases rising and below the
 * generation, at most POINTER_DELTAS_MAX); and pointer_write of what was
 * read, with the same key, gives back the very same bytes (one spelling
 * per pointer: Ed25519 signatures are deterministic). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "fuzz_bundle_key.h"
#include "fuzz_common.h"
#include "pointer.h"
#include "signkey.h"

#define CONTEXT "pam_apitoken pointer v1 signature"

static void printable(const char *s)
{
	FUZZ_CHECK(s[0] != '\0', "empty reason");
	for (const char *p = s; *p; p++)
		FUZZ_CHECK(*p >= 0x20 && *p <= 0x7e, "unprintable reason");
}

/* data + "signature ed25519 FPR SIG\n" signed with the test key. */
static char *sign(const uint8_t *data, size_t size, size_t *outlen)
{
	uint8_t msg[sizeof(CONTEXT) + 64], sig[64];
	unsigned int dlen = 0;
	size_t siglen = sizeof(sig);
	char fpr[65];
	EVP_PKEY *key = fuzz_bundle_key();
	char *out = malloc(size + 256);

	FUZZ_CHECK(out != NULL, "out of memory");
	memcpy(msg, CONTEXT, sizeof(CONTEXT));
	FUZZ_CHECK(EVP_Digest(data, size, msg + sizeof(CONTEXT), &dlen,
			      EVP_sha512(), NULL) == 1, "sha512");
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FUZZ_CHECK(ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
			   EVP_DigestSign(ctx, sig, &siglen, msg,
					  sizeof(msg)) == 1,
		   "sign");
	EVP_MD_CTX_free(ctx);
	FUZZ_CHECK(signkey_fingerprint(key, fpr) == 0, "fingerprint");
	memcpy(out, data, size);
	int n = snprintf(out + size, 256, "signature ed25519 %s ", fpr);
	size_t at = size + (size_t)n;
	at += (size_t)EVP_EncodeBlock((unsigned char *)out + at, sig, 64);
	out[at++] = '\n';
	*outlen = at;
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	pointer a, b;
	char err[256] = "", err2[256] = "";
	EVP_PKEY *trusted[] = { fuzz_bundle_key() };
	char *buf, *own = NULL;
	size_t len;

	if (size < 1 || size > 4 * POINTER_MAX_SIZE)
		return 0;
	if (data[0] & 1) {
		own = sign(data + 1, size - 1, &len);
		buf = own;
	} else {
		buf = (char *)data + 1;
		len = size - 1;
	}
	int v = pointer_verify(buf, len, trusted, 1, &a, err, sizeof(err));
	int p = pointer_parse(buf, len, &b, err2, sizeof(err2));
	FUZZ_CHECK(v == 0 || v == -1, "verify returned %d", v);
	FUZZ_CHECK(p == 0 || p == -1, "parse returned %d", p);
	if (v != 0)
		printable(err);
	if (p != 0)
		printable(err2);
	if (v == 0) {
		FUZZ_CHECK(p == 0, "verified but not parsed: %s", err2);
		FUZZ_CHECK(a.generation == b.generation &&
				   a.n_deltas == b.n_deltas &&
				   a.created == b.created &&
				   a.expires == b.expires,
			   "verify and parse disagree");
		FUZZ_CHECK(a.generation >= 1 && a.expires > a.created &&
				   a.n_deltas <= POINTER_DELTAS_MAX &&
				   pointer_name_valid(a.full.name) &&
				   a.full.size >= 1,
			   "invariants");
		for (size_t i = 0; i < a.n_deltas; i++) {
			FUZZ_CHECK(a.deltas[i].base >= 1 &&
					   a.deltas[i].base < a.generation &&
					   (i == 0 || a.deltas[i].base >
							      a.deltas[i - 1].base) &&
					   pointer_name_valid(a.deltas[i].name) &&
					   strcmp(a.deltas[i].name,
						  a.full.name) != 0,
				   "delta %zu invariants", i);
		}
		char *again = NULL;
		size_t alen = 0;
		FUZZ_CHECK(pointer_write(&a, fuzz_bundle_key(), &again, &alen,
					 err, sizeof(err)) == 0,
			   "cannot write back: %s", err);
		FUZZ_CHECK(alen == len && memcmp(again, buf, len) == 0,
			   "written back differs (two spellings)");
		free(again);
	}
	free(own);
	return 0;
}
