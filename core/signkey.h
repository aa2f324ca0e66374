/* The Ed25519 key pair that signs fleet bundles (core/bundle.h).
 *
 * The private key stays on the authority host, in a PEM PKCS#8 file only
 * its owner may read; each import-only host holds the public key (PEM
 * SubjectPublicKeyInfo) and believes only bundles it verifies. A key is
 * named by its fingerprint, the SHA-256 of the raw 32-byte public key in
 * lowercase hex, which the bundle's signature line carries so that a host
 * trusting the old and the new key during a rollover picks the right one. */
#ifndef APITOKEN_SIGNKEY_H
#define APITOKEN_SIGNKEY_H

#include <stddef.h>

#include <openssl/evp.h>

#include "readfile.h"

/* Make a new key pair: the private key in priv_path (mode 0600), the
 * public key in pub_path (mode 0644), both created new (an existing file
 * or a symbolic link at either path is refused, never replaced) and
 * fsync'd with their directories. Returns 0, or -1 with a reason in err;
 * on failure neither file is left behind. */
int signkey_generate(const char *priv_path, const char *pub_path, char *err,
		     size_t errlen);

/* Load an Ed25519 private key. The file must be a regular file (not a
 * symbolic link) owned by root or the effective uid, with no permission
 * bits for group or others, in a directory only its owner may write; an
 * encrypted key is refused (nothing would ever prompt for it). Returns the
 * key (EVP_PKEY_free it), or NULL with a reason in err. */
EVP_PKEY *signkey_load_private(const char *path, char *err, size_t errlen);

/* Load an Ed25519 public key. Anyone may read it, but as a trust anchor it
 * is held to the store's rule: owned by root or the effective uid, not
 * writable by group or others, no symbolic link. Returns the key or NULL
 * with a reason in err. */
EVP_PKEY *signkey_load_public(const char *path, char *err, size_t errlen);

/* The same, and on success the PEM text the key was parsed from into
 * *text (file_data_free it), for a caller that installs a copy: what it
 * writes is what was checked, not a second read of path. */
EVP_PKEY *signkey_read_public(const char *path, file_data *text, char *err,
			      size_t errlen);

/* The fingerprint of an Ed25519 key (public or private) into out: 64
 * lowercase hex digits and a NUL. Returns 0, or -1 for another kind of
 * key. */
int signkey_fingerprint(EVP_PKEY *k, char out[65]);

#endif
