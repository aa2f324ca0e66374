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

#include "fileperm.h"
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
	static const char hex[] = "0123456789abcdef";
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
	for (size_t i = 0; i < sizeof(md); i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
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

/* Read all of fd (at most cap bytes; more is an error). Returns the length
 * or -1. */
static ssize_t read_small(int fd, char *buf, size_t cap)
{
	size_t got = 0;

	for (;;) {
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return (ssize_t)got;
		got += (size_t)n;
		if (got == cap) {
			/* Full: one more byte tells "exactly cap" from
			 * "longer"; a valid key is far below cap anyway. */
			errno = EFBIG;
			return -1;
		}
	}
}

/* Open, check and read a key file into buf. Returns the length or -1. */
static ssize_t read_key_file(const char *path, const char *what,
			     bool secret, char *buf, size_t cap, char *err,
			     size_t errlen)
{
	char why[200];
	struct stat st;

	int fd = trusted_open(path, secret ? TRUST_SECRET
					   : TRUST_WRITABLE_BY_OWNER_ONLY,
			      why, sizeof(why));
	if (fd < 0) {
		snprintf(err, errlen, "%s %s %s", what, path, why);
		return -1;
	}
	/* trusted_open lets group read a secret (how services share the
	 * site key); a signing key is for its owner alone. */
	if (secret && (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0)) {
		snprintf(err, errlen,
			 "%s %s is open to group or others (mode %04o): "
			 "it must be 0600 or stricter",
			 what, path, (unsigned)(st.st_mode & 07777));
		close(fd);
		errno = EPERM;
		return -1;
	}
	ssize_t n = read_small(fd, buf, cap);
	int e = errno;
	close(fd);
	if (n < 0) {
		if (e == EFBIG)
			snprintf(err, errlen, "%s %s is too large to be a key",
				 what, path);
		else
			snprintf(err, errlen, "%s %s: read: %s", what, path,
				 strerror(e));
		errno = e;
		return -1;
	}
	return n;
}

static EVP_PKEY *load_key(const char *path, bool secret, char *err,
			  size_t errlen)
{
	const char *what = secret ? "signing key" : "public key";
	char buf[KEY_FILE_MAX];
	EVP_PKEY *k = NULL;

	ssize_t n = read_key_file(path, what, secret, buf, sizeof(buf), err,
				  errlen);
	if (n < 0)
		goto out;
	BIO *bio = BIO_new_mem_buf(buf, (int)n);
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
out:
	/* The PEM text of a private key is the key. */
	secure_wipe(buf, sizeof(buf));
	ERR_clear_error();
	return k;
}

EVP_PKEY *signkey_load_private(const char *path, char *err, size_t errlen)
{
	return load_key(path, true, err, errlen);
}

EVP_PKEY *signkey_load_public(const char *path, char *err, size_t errlen)
{
	return load_key(path, false, err, errlen);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fsync the directory holding path, so the new name survives a crash. */
static int sync_parent(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else
		return -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* Create path anew with exactly mode (whatever the umask). */
static int create_new(const char *path, mode_t mode, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				    O_CLOEXEC | O_NOCTTY, mode);
	if (fd < 0) {
		if (errno == EEXIST)
			snprintf(err, errlen, "%s already exists: not replaced",
				 path);
		else
			snprintf(err, errlen, "cannot create %s: %s", path,
				 strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) != 0) {
		snprintf(err, errlen, "chmod %s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

/* Write the PEM in bio to fd, fsync and close it. */
static int put_pem(int fd, BIO *bio, const char *path, char *err,
		   size_t errlen)
{
	char *data = NULL;
	long len = BIO_get_mem_data(bio, &data);

	if (len <= 0 || write_all(fd, data, (size_t)len) != 0 ||
	    fsync(fd) != 0) {
		snprintf(err, errlen, "write %s: %s", path,
			 len <= 0 ? "no key text" : strerror(errno));
		close(fd);
		return -1;
	}
	if (close(fd) != 0) {
		snprintf(err, errlen, "close %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int signkey_generate(const char *priv_path, const char *pub_path, char *err,
		     size_t errlen)
{
	EVP_PKEY *k = NULL;
	BIO *priv = NULL, *pub = NULL;
	int fd_priv = -1, fd_pub = -1;
	bool made_priv = false, made_pub = false;
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
	/* Both names claimed before either is written: an existing public
	 * key refuses the whole job rather than leaving a private key whose
	 * public half went nowhere. */
	fd_priv = create_new(priv_path, 0600, err, errlen);
	if (fd_priv < 0)
		goto out;
	made_priv = true;
	fd_pub = create_new(pub_path, 0644, err, errlen);
	if (fd_pub < 0)
		goto out;
	made_pub = true;
	int r1 = put_pem(fd_priv, priv, priv_path, err, errlen);
	fd_priv = -1;
	if (r1 != 0)
		goto out;
	int r2 = put_pem(fd_pub, pub, pub_path, err, errlen);
	fd_pub = -1;
	if (r2 != 0)
		goto out;
	if (sync_parent(priv_path) != 0 || sync_parent(pub_path) != 0) {
		snprintf(err, errlen, "fsync of the key directory: %s",
			 strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd_priv >= 0)
		close(fd_priv);
	if (fd_pub >= 0)
		close(fd_pub);
	if (rc != 0) {
		if (made_priv)
			unlink(priv_path);
		if (made_pub)
			unlink(pub_path);
	}
	BIO_free(priv);
	BIO_free(pub);
	EVP_PKEY_free(k);
	ERR_clear_error();
	return rc;
}
