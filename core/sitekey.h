/* The site key: a random secret, kept outside the store, that keys both the
 * token digests and the record MACs. Without it a copy of the store is
 * useless to an attacker, and with it every record's integrity is checked. */
#ifndef APITOKEN_SITEKEY_H
#define APITOKEN_SITEKEY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "readfile.h"

#define SITE_KEY_LEN 32
#define MAC_LEN 32

typedef struct site_key site_key;

/* Read and check the key file (no symlink, regular, root's or ours, not
 * writable by group/others, not readable by others). Returns 0, or -1 with
 * errno and a reason in err. */
int site_key_load(const char *path, site_key **out, char *err, size_t errlen);

/* The same, and on success the very bytes the key was parsed from into
 * *text (file_data_free wipes them), for a caller that copies the key:
 * what it writes is what was checked, not a second read of path. */
int site_key_read(const char *path, site_key **out, file_data *text,
		  char *err, size_t errlen);

/* Write a new random key to path (O_EXCL: never overwrites), with mode and
 * group gid (or (gid_t)-1 to keep the default). Returns 0 or -1 (err). */
int site_key_create(const char *path, mode_t mode, gid_t gid, char *err,
		    size_t errlen);

void site_key_free(site_key *key);

/* HMAC-SHA-256 over domain (a NUL-terminated label that separates the
 * uses of the key) followed by its NUL, then a, then b. Returns 0 or -1. */
int site_key_mac(const site_key *key, const char *domain, const void *a,
		 size_t alen, const void *b, size_t blen,
		 uint8_t out[MAC_LEN]);

#endif
