/* tokenadm init --signing and --import-only: the keys and the config lines
 * that make a host the fleet's authority or one of its import-only hosts
 * (pam_apitoken-bundle(5)). Runs as root, in init's transact step. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomicfile.h"
#include "init_fleet.h"
#include "readfile.h"
#include "secure.h"
#include "signkey.h"
#include "writeall.h"

#define CONF_FILE_MAX (1024 * 1024)

/* Do a and b hold the same key? Compared by what they compute, since the
 * key itself never leaves sitekey.c. */
static bool same_site_key(const site_key *a, const site_key *b)
{
	uint8_t x[MAC_LEN], y[MAC_LEN];
	static const char probe[] = "pam_apitoken site key comparison";

	bool same = site_key_mac(a, "compare", probe, sizeof(probe), "", 0, x) == 0 &&
		    site_key_mac(b, "compare", probe, sizeof(probe), "", 0, y) == 0 &&
		    secure_equal(x, y, MAC_LEN);
	secure_wipe(x, sizeof(x));
	secure_wipe(y, sizeof(y));
	return same;
}

int init_install_site_key(tool *t, const char *src, mode_t mode, gid_t gid)
{
	site_key *given = NULL, *have = NULL;
	file_data data = { 0 };
	atomic_file af;
	char err[256];
	int rc = EXIT_REFUSED;

	/* The authority's key, held to the rules of any site key; data keeps
	 * the bytes checked, so that they are what gets installed. */
	if (site_key_read(src, &given, &data, err, sizeof(err)) != 0) {
		warnx_("--site-key: %s", err);
		return EXIT_REFUSED;
	}
	struct stat st;
	if (lstat(t->cfg.key_path, &st) == 0) {
		if (site_key_load(t->cfg.key_path, &have, err, sizeof(err)) != 0) {
			warnx_("%s", err);
			goto out;
		}
		/* Replacing a site key would make every record here fail its
		 * integrity check: never silently. */
		if (!same_site_key(given, have)) {
			warnx_("a different site key is already installed at %s; "
			       "refusing to replace it", t->cfg.key_path);
			goto out;
		}
		say("site key %s already installed; kept", t->cfg.key_path);
		rc = EXIT_OK;
		goto out;
	}
	if (atomic_create(&af, AT_FDCWD, t->cfg.key_path, mode, gid,
			  ATOMIC_NOREPLACE, err, sizeof(err)) != 0) {
		warnx_("%s", err);
		goto out;
	}
	if (write_all(af.fd, data.data, data.len) != 0) {
		warnx_("cannot write %s: %s", t->cfg.key_path, strerror(errno));
		atomic_abort(&af);
		goto out;
	}
	if (atomic_commit(&af, err, sizeof(err)) != 0) {
		warnx_("%s", err);
		goto out;
	}
	say("installed the site key as %s", t->cfg.key_path);
	rc = EXIT_OK;
out:
	file_data_free(&data);
	site_key_free(given);
	site_key_free(have);
	return rc;
}

/* Where a trusted key of fingerprint fpr goes: beside the site key, named
 * by its full fingerprint (as tokenadm(8) says), so that a second key (a
 * rollover) lands beside the first instead of over it. NULL: no memory. */
static char *trusted_key_path(const tool *t, const char *fpr)
{
	char *copy = strdup(t->cfg.key_path);
	if (!copy)
		return NULL;
	const char *dir = dirname(copy);
	int n = snprintf(NULL, 0, "%s/pam_apitoken.trusted-%s.pub", dir, fpr);
	char *path = n < 0 ? NULL : malloc((size_t)n + 1);
	if (path)
		snprintf(path, (size_t)n + 1, "%s/pam_apitoken.trusted-%s.pub",
			 dir, fpr);
	free(copy);
	return path;
}

/* The configured trusted_key that is the key of fingerprint fpr, or NULL. */
static const char *configured_key(const tool *t, const char *fpr)
{
	for (size_t i = 0; i < t->cfg.n_trusted_keys; i++) {
		char other[BUNDLE_FPR_LEN + 1], err[256];
		EVP_PKEY *o = signkey_load_public(t->cfg.trusted_keys[i], err,
						  sizeof(err));
		bool same = o && signkey_fingerprint(o, other) == 0 &&
			    strcmp(other, fpr) == 0;
		EVP_PKEY_free(o);
		if (same)
			return t->cfg.trusted_keys[i];
	}
	return NULL;
}

/* Write data as a new file at dest, never over an existing one (as the
 * site key): a file already there is kept if it is the key of fingerprint
 * fpr (an earlier run that stopped before the config was changed), else
 * refused. Returns EXIT_OK or EXIT_REFUSED (reported). */
static int write_trusted_key(const char *dest, const char *fpr,
			     const file_data *data)
{
	char err[256], have[BUNDLE_FPR_LEN + 1];
	atomic_file af;
	struct stat st;

	if (lstat(dest, &st) == 0) {
		EVP_PKEY *o = signkey_load_public(dest, err, sizeof(err));
		bool same = o && signkey_fingerprint(o, have) == 0 &&
			    strcmp(have, fpr) == 0;
		EVP_PKEY_free(o);
		if (!same) {
			warnx_("%s already exists and is not the key %s; "
			       "refusing to replace it", dest, fpr);
			return EXIT_REFUSED;
		}
		say("trusted key %s already at %s; kept", fpr, dest);
		return EXIT_OK;
	}
	if (atomic_create(&af, AT_FDCWD, dest, 0644, (gid_t)-1,
			  ATOMIC_NOREPLACE, err, sizeof(err)) != 0) {
		warnx_("%s", err);
		return EXIT_REFUSED;
	}
	if (write_all(af.fd, data->data, data->len) != 0 ||
	    atomic_commit(&af, err, sizeof(err)) != 0) {
		warnx_("cannot write %s", dest);
		atomic_abort(&af);
		return EXIT_REFUSED;
	}
	say("installed trusted key %s as %s", fpr, dest);
	return EXIT_OK;
}

int init_install_trusted_key(tool *t, const char *src, char **dest)
{
	char err[256], fpr[BUNDLE_FPR_LEN + 1];
	file_data data = { 0 };
	int rc = EXIT_REFUSED;

	*dest = NULL;
	/* data: the bytes checked, which are what gets installed. */
	EVP_PKEY *k = signkey_read_public(src, &data, err, sizeof(err));
	if (!k) {
		warnx_("--trusted-key: %s", err);
		return EXIT_REFUSED;
	}
	if (signkey_fingerprint(k, fpr) != 0) {
		warnx_("--trusted-key %s: not an Ed25519 key", src);
		goto out;
	}
	const char *have = configured_key(t, fpr);
	if (have) {
		say("trusted key %s already trusted as %s; kept", fpr, have);
		rc = EXIT_OK;
		goto out;
	}
	*dest = trusted_key_path(t, fpr);
	if (!*dest) {
		warnx_("out of memory");
		goto out;
	}
	rc = write_trusted_key(*dest, fpr, &data);
	if (rc != EXIT_OK) {
		free(*dest);
		*dest = NULL;
	}
out:
	file_data_free(&data);
	EVP_PKEY_free(k);
	return rc;
}

int init_mark_import_only(tool *t, const char *trusted_dest)
{
	file_data data = { 0 };
	atomic_file af;
	char err[256], add[PATH_MAX + 64] = "";
	int rc = EXIT_REFUSED;

	int w = snprintf(add, sizeof(add), "%s%s%s%s",
			 t->cfg.role_set ? "" : "role = import-only\n",
			 trusted_dest ? "trusted_key = " : "",
			 trusted_dest ? trusted_dest : "",
			 trusted_dest ? "\n" : "");
	if (w < 0 || (size_t)w >= sizeof(add)) {
		warnx_("trusted key path too long");
		return EXIT_REFUSED;
	}
	if (!add[0])
		return EXIT_OK;
	struct stat st;
	bool exists = lstat(t->conf_path, &st) == 0;
	if (exists && read_file(AT_FDCWD, t->conf_path, CONF_FILE_MAX,
				READ_TRUSTED, &data, err, sizeof(err)) != 0) {
		warnx_("%s %s", t->conf_path, err);
		return EXIT_REFUSED;
	}
	/* Global keys go before the first [group] section. */
	size_t at = 0;
	const char *text = exists ? data.data : "";
	size_t len = exists ? data.len : 0;
	while (at < len) {
		size_t i = at;
		while (i < len && (text[i] == ' ' || text[i] == '\t'))
			i++;
		if (i < len && text[i] == '[')
			break;
		const char *nl = memchr(text + at, '\n', len - at);
		at = nl ? (size_t)(nl - text) + 1 : len;
	}
	if (atomic_create(&af, AT_FDCWD, t->conf_path, 0644, (gid_t)-1, 0, err,
			  sizeof(err)) != 0) {
		warnx_("%s", err);
		goto out;
	}
	/* A file without a final newline gets one before our lines. */
	bool need_nl = at > 0 && text[at - 1] != '\n';
	size_t n = strlen(add);
	if (write_all(af.fd, text, at) != 0 ||
	    (need_nl && write_all(af.fd, "\n", 1) != 0) ||
	    write_all(af.fd, add, n) != 0 ||
	    write_all(af.fd, text + at, len - at) != 0) {
		warnx_("cannot write %s: %s", t->conf_path, strerror(errno));
		atomic_abort(&af);
		goto out;
	}
	if (atomic_commit(&af, err, sizeof(err)) != 0) {
		warnx_("%s", err);
		goto out;
	}
	say("%s: added %s", t->conf_path,
	    t->cfg.role_set ? "the trusted key" : "role = import-only");
	rc = EXIT_OK;
out:
	file_data_free(&data);
	return rc;
}

int init_signing_key(tool *t)
{
	char err[256], fpr[BUNDLE_FPR_LEN + 1];
	char *pub = fleet_signing_pub_path(&t->cfg);
	struct stat st;
	int rc = EXIT_REFUSED;

	if (!pub) {
		warnx_("out of memory");
		return EXIT_REFUSED;
	}
	if (lstat(t->cfg.signing_key, &st) == 0) {
		say("signing key %s already exists; kept", t->cfg.signing_key);
		rc = EXIT_OK;
		goto out;
	}
	if (signkey_generate(t->cfg.signing_key, pub, err, sizeof(err)) != 0) {
		warnx_("%s", err);
		goto out;
	}
	EVP_PKEY *k = signkey_load_public(pub, err, sizeof(err));
	if (k && signkey_fingerprint(k, fpr) == 0)
		say("created signing key %s (public half %s, fingerprint %s)",
		    t->cfg.signing_key, pub, fpr);
	EVP_PKEY_free(k);
	rc = EXIT_OK;
out:
	free(pub);
	return rc;
}
