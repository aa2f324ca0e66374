#include "sitekey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "atomicfile.h"
#include "readfile.h"
#include "secure.h"

/* On disk: one line, "ptkkey1:" and 64 lowercase hex digits. Text so that
 * an administrator can back it up and see it is not empty; a version tag so
 * a later format can be told apart. */
#define KEY_TAG "ptkkey1:"
#define KEY_FILE_LEN (sizeof(KEY_TAG) - 1 + 2 * SITE_KEY_LEN + 1)

struct site_key {
	EVP_MAC *mac;
	/* Keyed once; every MAC works on a duplicate, so one loaded key can
	 * serve several threads without a lock. */
	EVP_MAC_CTX *keyed;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_key_file(const char *text, size_t len, uint8_t raw[SITE_KEY_LEN])
{
	size_t tag = sizeof(KEY_TAG) - 1;

	if (len != KEY_FILE_LEN || memcmp(text, KEY_TAG, tag) != 0 ||
	    text[len - 1] != '\n')
		return -1;
	for (size_t i = 0; i < SITE_KEY_LEN; i++) {
		int hi = hexval(text[tag + 2 * i]);
		int lo = hexval(text[tag + 2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		raw[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

static site_key *key_from_raw(const uint8_t raw[SITE_KEY_LEN])
{
	site_key *key = calloc(1, sizeof(*key));
	if (!key)
		return NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						 (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	key->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!key->mac)
		goto fail;
	key->keyed = EVP_MAC_CTX_new(key->mac);
	if (!key->keyed || !EVP_MAC_init(key->keyed, raw, SITE_KEY_LEN, params))
		goto fail;
	return key;
fail:
	site_key_free(key);
	return NULL;
}

int site_key_load(const char *path, site_key **out, char *err, size_t errlen)
{
	return site_key_read(path, out, NULL, err, errlen);
}

int site_key_read(const char *path, site_key **out, file_data *keep,
		  char *err, size_t errlen)
{
	uint8_t raw[SITE_KEY_LEN];
	char why[160];
	file_data text;
	int rc = -1;

	*out = NULL;
	if (read_file(AT_FDCWD, path, KEY_FILE_LEN, READ_SECRET, &text, why,
		      sizeof(why)) != 0) {
		if (errno == EFBIG) {
			snprintf(err, errlen, "site key %s is malformed", path);
			errno = EINVAL;
		} else {
			int e = errno;
			snprintf(err, errlen, "site key %s %s", path, why);
			errno = e;
		}
		return -1;
	}
	if (parse_key_file(text.data, text.len, raw) != 0) {
		snprintf(err, errlen, "site key %s is malformed", path);
		errno = EINVAL;
		goto out;
	}
	*out = key_from_raw(raw);
	if (!*out) {
		snprintf(err, errlen, "cannot set up HMAC-SHA-256");
		errno = ENOMEM;
		goto out;
	}
	rc = 0;
	if (keep) {
		*keep = text; /* handed over, wiped by the caller's free */
		memset(&text, 0, sizeof(text));
	}
out:
	file_data_free(&text);
	secure_wipe(raw, sizeof(raw));
	return rc;
}

int site_key_create(const char *path, mode_t mode, gid_t gid, char *err,
		    size_t errlen)
{
	uint8_t raw[SITE_KEY_LEN];
	char text[KEY_FILE_LEN];
	size_t tag = sizeof(KEY_TAG) - 1;
	atomic_file af;
	int rc = -1;

	if (secure_random(raw, sizeof(raw)) != 0) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		return -1;
	}
	memcpy(text, KEY_TAG, tag);
	secure_hex_encode(raw, SITE_KEY_LEN, text + tag);
	text[KEY_FILE_LEN - 1] = '\n';

	/* Written whole, then linked into place only if nothing is there: a
	 * crash or a full disk never leaves a short key that every later run
	 * would refuse, and an existing key is never replaced. Mode and group
	 * are set before any secret byte is written. */
	if (atomic_create(&af, AT_FDCWD, path, mode, gid, ATOMIC_NOREPLACE, err,
			  errlen) != 0)
		goto out;
	if (write(af.fd, text, sizeof(text)) != (ssize_t)sizeof(text)) {
		snprintf(err, errlen, "cannot write %s: %s", af.tmppath,
			 strerror(errno));
		atomic_abort(&af);
		goto out;
	}
	if (atomic_commit(&af, err, errlen) != 0)
		goto out;
	rc = 0;
out:
	secure_wipe(raw, sizeof(raw));
	secure_wipe(text, sizeof(text));
	return rc;
}

void site_key_free(site_key *key)
{
	if (!key)
		return;
	EVP_MAC_CTX_free(key->keyed); /* OpenSSL cleanses the HMAC key */
	EVP_MAC_free(key->mac);
	free(key);
}

int site_key_mac(const site_key *key, const char *domain, const void *a,
		 size_t alen, const void *b, size_t blen, uint8_t out[MAC_LEN])
{
	size_t outlen = 0;
	int ok = 0;

	EVP_MAC_CTX *ctx = EVP_MAC_CTX_dup(key->keyed);
	if (!ctx)
		return -1;
	ok = EVP_MAC_update(ctx, (const unsigned char *)domain,
			    strlen(domain) + 1) &&
	     (alen == 0 || EVP_MAC_update(ctx, a, alen)) &&
	     (blen == 0 || EVP_MAC_update(ctx, b, blen)) &&
	     EVP_MAC_final(ctx, out, &outlen, MAC_LEN) && outlen == MAC_LEN;
	EVP_MAC_CTX_free(ctx);
	return ok ? 0 : -1;
}
