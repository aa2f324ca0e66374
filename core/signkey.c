#include "signkey.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "atomicfile.h"
#include "readfile.h"
#include "secure.h"

/* A PEM Ed25519 key is about 120 bytes: anything much larger is not one,
 * and the cap keeps a wrong path (a log file, a device) from being slurped. */
#define KEY_FILE_MAX 4096

static bool is_ed25519(const EVP_PKEY *k)
{
	return k && EVP_PKEY_is_a(k, "ED25519");
}

int signkey_fingerprint(EVP_PKEY *k, char out[65])
{
	unsigned char raw[32], md[32];
	size_t rawlen = sizeof(raw);
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (!is_ed25519(k) ||
	    EVP_PKEY_get_raw_public_key(k, raw, &rawlen) != 1 ||
	    rawlen != sizeof(raw) ||
	    EVP_Digest(raw, rawlen, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != sizeof(md)) {
		ERR_clear_error();
		return -1;
	}
	secure_hex_encode(md, sizeof(md), out);
	out[64] = '\0';
	return 0;
}

/* OpenSSL's default would prompt on the terminal for an encrypted key: a
 * key we load is never encrypted, so say there is no passphrase. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Read and check a key file. Returns 0 with *data filled, or -1. */
static int read_key_file(const char *path, const char *what, bool secret,
			 file_data *data, char *err, size_t errlen)
{
	char why[200];
	/* A private key: every check on the descriptor read from, so the
	 * mode checked is that of the bytes loaded. */
	unsigned flags = secret ? READ_SECRET | READ_OWNER_ONLY : READ_TRUSTED;

	if (read_file(AT_FDCWD, path, KEY_FILE_MAX, flags, data, why,
		      sizeof(why)) != 0) {
		int e = errno;
		snprintf(err, errlen, "%s %s %s", what, path,
			 e == EFBIG ? "is too large to be a key" : why);
		errno = e;
		return -1;
	}
	return 0;
}

/* keep: NULL, or where the text the key came from is handed over. */
static EVP_PKEY *load_key(const char *path, bool secret, file_data *keep,
			  char *err, size_t errlen)
{
	const char *what = secret ? "signing key" : "public key";
	file_data data = { 0 };
	EVP_PKEY *k = NULL;

	if (read_key_file(path, what, secret, &data, err, errlen) != 0)
		goto out;
	BIO *bio = BIO_new_mem_buf(data.data, (int)data.len);
	if (!bio) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	k = secret ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL)
		   : PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (!k) {
		snprintf(err, errlen, "%s %s is not a PEM %s key", what, path,
			 secret ? "unencrypted PKCS#8 private"
				: "SubjectPublicKeyInfo public");
		goto out;
	}
	if (!is_ed25519(k)) {
		snprintf(err, errlen, "%s %s is not an Ed25519 key", what, path);
		EVP_PKEY_free(k);
		k = NULL;
	}
	if (k && keep) {
		*keep = data;
		memset(&data, 0, sizeof(data));
	}
out:
	/* The PEM text of a private key is the key: read_file wipes it. */
	file_data_free(&data);
	ERR_clear_error();
	return k;
}

EVP_PKEY *signkey_load_private(const char *path, char *err, size_t errlen)
{
	return load_key(path, true, NULL, err, errlen);
}

EVP_PKEY *signkey_load_public(const char *path, char *err, size_t errlen)
{
	return load_key(path, false, NULL, err, errlen);
}

EVP_PKEY *signkey_read_public(const char *path, file_data *text, char *err,
			      size_t errlen)
{
	return load_key(path, false, text, err, errlen);
}

/* Start path anew (never over an existing file) with exactly mode and
 * the PEM in bio written; atomic_commit makes it appear. */
static int stage_pem(atomic_file *af, const char *path, mode_t mode,
		     BIO *bio, char *err, size_t errlen)
{
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);

	if (atomic_create(af, AT_FDCWD, path, mode, (gid_t)-1,
			  ATOMIC_NOREPLACE, err, errlen) != 0)
		return -1;
	if (len <= 0 || write(af->fd, data, (size_t)len) != (ssize_t)len) {
		snprintf(err, errlen, "write %s: %s", path,
			 len <= 0 ? "no key text" : strerror(errno));
		atomic_abort(af);
		return -1;
	}
	return 0;
}

int signkey_generate(const char *priv_path, const char *pub_path, char *err,
		     size_t errlen)
{
	EVP_PKEY *k = NULL;
	BIO *priv = NULL, *pub = NULL;
	atomic_file apriv, apub;
	int rc = -1;

	if (strcmp(priv_path, pub_path) == 0) {
		snprintf(err, errlen, "the private and the public key need "
				      "two different files");
		return -1;
	}
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	/* Secure-memory BIO: its buffer is cleared when it grows or is
	 * freed, so the PEM of the private key leaves no copy behind. */
	priv = BIO_new(BIO_s_secmem());
	pub = BIO_new(BIO_s_mem());
	if (!k || !priv || !pub ||
	    PEM_write_bio_PrivateKey(priv, k, NULL, NULL, 0, NULL, NULL) != 1 ||
	    PEM_write_bio_PUBKEY(pub, k) != 1) {
		snprintf(err, errlen, "cannot make an Ed25519 key");
		goto out;
	}
	/* Both staged before either appears, the public half first: an
	 * existing file at either name refuses the whole job, and no private
	 * key is ever left whose public half went nowhere. */
	struct stat st;
	if (lstat(priv_path, &st) == 0 || lstat(pub_path, &st) == 0) {
		snprintf(err, errlen, "%s already exists: not replaced",
			 lstat(priv_path, &st) == 0 ? priv_path : pub_path);
		goto out;
	}
	if (stage_pem(&apriv, priv_path, 0600, priv, err, errlen) != 0)
		goto out;
	if (stage_pem(&apub, pub_path, 0644, pub, err, errlen) != 0) {
		atomic_abort(&apriv);
		goto out;
	}
	if (atomic_commit(&apub, err, errlen) != 0) {
		atomic_abort(&apriv);
		goto out;
	}
	if (atomic_commit(&apriv, err, errlen) != 0) {
		unlink(pub_path);
		goto out;
	}
	rc = 0;
out:
	BIO_free(priv);
	BIO_free(pub);
	EVP_PKEY_free(k);
	ERR_clear_error();
	return rc;
}
