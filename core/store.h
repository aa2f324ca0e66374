/* The token store: a GDBM file that readers never lock and writers never
 * change in place.
 *
 * GDBM's own locking makes a login fail while an administrator writes
 * (pam_userdb's flaw), and its in-place writes are not crash-safe (a
 * writer killed mid-write can leave a torn file). So a writer takes a
 * separate lock file, copies the live store to a temporary file beside it,
 * changes the copy, syncs it and rename()s it over the live path. A reader
 * opens the live path without a lock (again, once store_current says it
 * was replaced) and sees the old file or the new one, whole. */
#ifndef APITOKEN_STORE_H
#define APITOKEN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum {
	STORE_OK = 0,
	STORE_NOTFOUND = 1,
	STORE_ERROR = -1, /* missing, unreadable, untrusted or corrupt */
} store_status;

/* The one way to read a store: a view, either of the live file
 * (store_open: kept open across lookups by the module's cache and by
 * tokenadm) or of a write transaction's private copy (store_txn_view).
 * Not thread-safe: the owner serialises use. */
typedef struct store_view store_view;

/* Open the live store at path, after fileperm.h's trust checks. Returns
 * NULL (err) if it is missing, unreadable, untrusted or corrupt. */
store_view *store_open(const char *path, char *err, size_t errlen);

/* Close a view store_open gave; NULL is fine. A transaction's view goes
 * with its transaction. */
void store_close(store_view *v);

/* Is path still the file this view has open (not replaced by a writer's
 * rename, not chmod'ed or chown'ed since)? For store_open's views. */
bool store_current(const store_view *v, const char *path);

/* Look up the value stored under id (idlen bytes, not NUL-terminated)
 * into buf; a value larger than bufsz is an error. */
store_status store_get(store_view *v, const char *id, size_t idlen,
		       uint8_t *buf, size_t bufsz, size_t *len, char *err,
		       size_t errlen);

/* Keys that start with this are the store's own (the decoy, and the
 * fleet's metadata that tokenadm keeps): '~' is not base62, so no token
 * id can name them. Walks skip them. */
#define STORE_META_MARK '~'

/* Called for each token entry (not the decoy or metadata); returning
 * non-zero stops the walk (and store_each returns that value). */
typedef int (*store_visit_fn)(void *ctx, const char *key, size_t keylen,
			      const uint8_t *val, size_t vallen);

/* Walk every entry. Returns 0, the visitor's non-zero value, or -1 (err). */
int store_each(store_view *v, store_visit_fn visit, void *ctx, char *err,
	       size_t errlen);
/* The same over the metadata entries (STORE_META_MARK keys but the
 * decoy), for tokenadm, which keeps fleet state there. */
int store_each_meta(store_view *v, store_visit_fn visit, void *ctx, char *err,
		    size_t errlen);

/* A filler entry under a key no token id can have ('~' is not base62),
 * the size of a typical record. A lookup of an unknown id also reads it,
 * so that refusing an unknown id costs about what refusing a wrong secret
 * does and timing tells little about which ids exist. */
#define STORE_DECOY_KEY "~decoy~~~~~~"
#define STORE_DECOY_LEN 256
/* Fetchers pass the key length of a token id for every lookup. */
_Static_assert(sizeof(STORE_DECOY_KEY) - 1 == 12,
	       "the decoy key has a token id's length");

/* Create a store at path, holding only the decoy, with mode and group (or
 * (gid_t)-1); fails if path exists. Returns 0 or -1 (err). */
int store_create(const char *path, mode_t mode, gid_t gid, char *err,
		 size_t errlen);

/* A write transaction on a private copy of the store. */
typedef struct store_txn store_txn;

/* Take the writers' lock (waiting up to timeout_ms), remove temporary files
 * a crashed writer left, and copy the live store. Returns 0 or -1 (err). */
int store_txn_begin(const char *path, int timeout_ms, store_txn **out,
		    char *err, size_t errlen);

/* The same, but the copy starts empty (only the decoy), with the live
 * store's mode and group: for an import that replaces every record. */
int store_txn_begin_empty(const char *path, int timeout_ms, store_txn **out,
			  char *err, size_t errlen);

/* The copy as it stands, changes included, for store_get and store_each. */
store_view *store_txn_view(store_txn *txn);

int store_txn_put(store_txn *txn, const char *id, size_t idlen,
		  const uint8_t *val, size_t len);
int store_txn_delete(store_txn *txn, const char *id, size_t idlen);

/* The token keys (STORE_CHANGED_KEY_LEN bytes, not starting with
 * STORE_META_MARK) put or deleted in txn so far, in order, a key perhaps
 * more than once: what the authority logs for its delta bundles. *keys
 * stays valid until the next put, delete, commit or abort. */
#define STORE_CHANGED_KEY_LEN 12
size_t store_txn_changed(const store_txn *txn,
			 const char (**keys)[STORE_CHANGED_KEY_LEN]);

/* Make the copy durable and put it in place atomically, then release the
 * lock. The txn is freed whatever the result. Returns 0 or -1 (err); on -1
 * the live store is unchanged. */
int store_txn_commit(store_txn *txn, char *err, size_t errlen);

/* Drop the copy and release the lock. NULL is fine. */
void store_txn_abort(store_txn *txn);

#endif
