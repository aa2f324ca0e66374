/* The module's process-wide cache (the module's alone: tokenadm opens
 * what it needs per run): parsed config, loaded site key and an
 * open store handle, reused across logins.
 *
 * Every pam_start/pam_end pair would otherwise parse the config, read the
 * key, fetch the HMAC algorithm and open the store again: that would be
 * most of a login's cost. The module is linked -z nodelete so this outlives
 * pam_end. Freshness is checked on every use: a config or key whose inode,
 * size, mtime or ctime changed is reloaded (and its ownership and mode
 * checked again), a store replaced by tokenadm's rename is reopened, and a
 * forked child never uses its parent's handles. One mutex guards it all;
 * what a caller holds (a lease) is immutable and reference-counted. */
#ifndef APITOKEN_CACHE_H
#define APITOKEN_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "authcheck.h"
#include "config.h"

typedef struct cache_entry cache_entry;

/* Which store file a fetch read: the entry, and which of its successive
 * open handles (gen 0: none, or the fetch failed). */
typedef struct cache_store_id {
	uint64_t serial, gen;
} cache_store_id;

typedef struct cache_lease {
	const apitoken_config *cfg; /* valid until cache_release */
	record_source src;          /* its key and a cached store lookup */
	cache_entry *entry;
	cache_store_id fetched;     /* what this lease's last fetch read */
} cache_lease;

typedef enum {
	CACHE_OK = 0,
	CACHE_CONFIG_ERROR, /* logged through log(); PAM_SERVICE_ERR */
	CACHE_NOMEM,
} cache_status;

/* Lease the config at conf_path (missing_ok as for config_load), with
 * db_override (NULL: the config's db), and its key. A key that cannot be
 * loaded is not an error here: lease->src.key is NULL and src.key_error
 * says why, for the engine to report only if a token needs it. */
cache_status cache_acquire(const char *conf_path, bool missing_ok,
			   const char *db_override, cache_lease *lease,
			   config_log_fn log, void *logctx);

void cache_release(cache_lease *lease);

/* Is the store file that id names still the live store, open in this
 * process, for this lease's entry? Then a record read from it then is
 * what a fetch now would return: nothing renamed a new store into place.
 * The lease must not have moved since cache_acquire (src.ctx points at
 * it). */
bool cache_store_current(cache_lease *lease, const cache_store_id *id);

#endif
