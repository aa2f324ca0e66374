#include "cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "secure.h"
#include "sitekey.h"
#include "store.h"

/* Different PAM services may name different configs; a handful is plenty.
 * Past that, lookups still work, only uncached. */
#define MAX_ENTRIES 8

typedef struct file_id {
	bool present;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
} file_id;

/* One config (and its key and store) as loaded at one moment. Immutable
 * once built; freed when no lease holds it and it is no longer current. */
struct cache_entry {
	int refs;
	bool current;
	char *conf_path;
	char *db_override;
	bool missing_ok;
	file_id conf_id, key_id;
	/* When the files were read: an id whose times are this close to it is
	 * "racy" (a same-size rewrite within one clock tick of the kernel's
	 * coarse timestamps would look unchanged), so it is read again. */
	struct timespec loaded;
	apitoken_config cfg;
	site_key *key;
	char key_error[256]; /* why key is NULL */
	/* The open store; guarded by the cache mutex, replaced when stale. */
	store_view *reader;
	pid_t reader_pid;
	uint64_t serial;     /* unique per entry, never reused */
	uint64_t reader_gen; /* bumped whenever reader is (re)opened */
};

/* The one piece of process-wide mutable state in the module, guarded by
 * lock, made fork-safe by the atfork handlers below. */
static struct {
	pthread_mutex_t lock;
	cache_entry *entries[MAX_ENTRIES];
	uint64_t next_serial;
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void before_fork(void)
{
	pthread_mutex_lock(&cache.lock);
}

static void after_fork_parent(void)
{
	pthread_mutex_unlock(&cache.lock);
}

static void after_fork_child(void)
{
	/* The handles stay (each notices the new pid and is reopened); the
	 * lock we took before the fork is released in the child too. */
	pthread_mutex_unlock(&cache.lock);
}

static void register_atfork(void)
{
	pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

static void identify(const char *path, file_id *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (lstat(path, &st) != 0)
		return;
	id->present = true;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtim = st.st_mtim;
	id->ctim = st.st_ctim;
}

static bool same_id(const file_id *a, const file_id *b)
{
	return a->present == b->present && a->dev == b->dev &&
	       a->ino == b->ino && a->size == b->size &&
	       a->mtim.tv_sec == b->mtim.tv_sec &&
	       a->mtim.tv_nsec == b->mtim.tv_nsec &&
	       a->ctim.tv_sec == b->ctim.tv_sec &&
	       a->ctim.tv_nsec == b->ctim.tv_nsec;
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void entry_free(cache_entry *e)
{
	if (!e)
		return;
	store_close(e->reader);
	site_key_free(e->key);
	config_free(&e->cfg);
	free(e->conf_path);
	free(e->db_override);
	free(e);
}

static void entry_unref(cache_entry *e)
{
	if (--e->refs == 0 && !e->current)
		entry_free(e);
}

/* Build a fresh entry. Config errors are logged by config_load. */
static cache_status entry_build(const char *conf_path, bool missing_ok,
				const char *db_override, config_log_fn log,
				void *logctx, cache_entry **out)
{
	cache_entry *e = calloc(1, sizeof(*e));

	*out = NULL;
	if (!e)
		return CACHE_NOMEM;
	e->conf_path = strdup(conf_path);
	e->db_override = db_override ? strdup(db_override) : NULL;
	e->missing_ok = missing_ok;
	if (!e->conf_path || (db_override && !e->db_override) ||
	    config_defaults(&e->cfg) != 0) {
		entry_free(e);
		return CACHE_NOMEM;
	}
	/* Identify before reading: if the file changes in between, the next
	 * use sees a different id and loads it again. */
	clock_gettime(CLOCK_REALTIME, &e->loaded);
	identify(conf_path, &e->conf_id);
	if (config_load(conf_path, missing_ok, &e->cfg, log, logctx) != 0) {
		entry_free(e);
		return CACHE_CONFIG_ERROR;
	}
	if (db_override) {
		free(e->cfg.db_path);
		e->cfg.db_path = strdup(db_override);
		if (!e->cfg.db_path) {
			entry_free(e);
			return CACHE_NOMEM;
		}
	}
	/* Bind zlib's crc32 now, with no secret about: its first call goes
	 * through the dynamic linker, which spills every vector register
	 * (and whatever token bytes they hold) onto the stack. */
	(void)crc32(0L, (const Bytef *)"", 0);
	identify(e->cfg.key_path, &e->key_id);
	/* A missing key is remembered with its reason (until the key file
	 * changes): ordinary passwords must still pass to the next module. */
	if (site_key_load(e->cfg.key_path, &e->key, e->key_error,
			  sizeof(e->key_error)) != 0)
		e->key = NULL;
	*out = e;
	return CACHE_OK;
}

/* Coarse kernel timestamps advance once a jiffy (at most 10 ms); allow
 * a wide margin. */
#define RACY_NS (50 * 1000 * 1000LL)

static long long ns(const struct timespec *t)
{
	return (long long)t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* Was id changed within a few clock ticks of loading? Then equal ids
 * prove nothing. ctime only: every change of content or mtime sets it to
 * the kernel's clock, whereas mtime can be set to the future (touch -d,
 * rsync -t) and would make the entry look racy for ever. */
static bool racy(const file_id *id, const struct timespec *loaded)
{
	return id->present && ns(&id->ctim) >= ns(loaded) - RACY_NS;
}

static bool entry_fresh(const cache_entry *e)
{
	file_id conf, key;

	identify(e->conf_path, &conf);
	identify(e->cfg.key_path, &key);
	return same_id(&conf, &e->conf_id) && same_id(&key, &e->key_id) &&
	       !racy(&e->conf_id, &e->loaded) && !racy(&e->key_id, &e->loaded);
}

static store_status cached_fetch(void *ctx, const char *id, uint8_t *buf,
				 size_t bufsz, size_t *len, char *err,
				 size_t errlen)
{
	cache_lease *lease = ctx;
	cache_entry *e = lease->entry;
	store_status st;

	pthread_mutex_lock(&cache.lock);
	if (e->reader && (e->reader_pid != getpid() ||
			  !store_current(e->reader, e->cfg.db_path))) {
		store_close(e->reader);
		e->reader = NULL;
	}
	if (!e->reader) {
		e->reader = store_open(e->cfg.db_path, err, errlen);
		e->reader_pid = getpid();
		e->reader_gen++;
	}
	st = e->reader ? store_get(e->reader, id, TOKEN_ID_LEN, buf, bufsz,
				   len, err, errlen) :
			 STORE_ERROR;
	/* Noted in the caller's own lease: nothing shared is written. */
	lease->fetched.serial = e->serial;
	lease->fetched.gen = st == STORE_OK ? e->reader_gen : 0;
	if (st == STORE_ERROR && e->reader) {
		/* Do not keep a handle that just failed. */
		store_close(e->reader);
		e->reader = NULL;
	}
	pthread_mutex_unlock(&cache.lock);
	return st;
}

bool cache_store_current(cache_lease *lease, const cache_store_id *id)
{
	cache_entry *e = lease->entry;
	bool same;

	if (!e || id->gen == 0 || id->serial != e->serial)
		return false;
	/* The same open file, and still the live one: a revoke since then
	 * renamed a new store into place and this is a miss. */
	pthread_mutex_lock(&cache.lock);
	same = e->reader && e->reader_gen == id->gen &&
	       e->reader_pid == getpid() &&
	       store_current(e->reader, e->cfg.db_path);
	pthread_mutex_unlock(&cache.lock);
	return same;
}

static void lease_from(cache_entry *e, cache_lease *lease)
{
	e->refs++;
	lease->entry = e;
	lease->cfg = &e->cfg;
	lease->src.key = e->key;
	lease->src.key_error = e->key_error;
	lease->src.fetch = cached_fetch;
	lease->src.ctx = lease;
}

cache_status cache_acquire(const char *conf_path, bool missing_ok,
			   const char *db_override, cache_lease *lease,
			   config_log_fn log, void *logctx)
{
	cache_entry *fresh = NULL;
	cache_status st;
	int slot = -1;

	memset(lease, 0, sizeof(*lease));
	pthread_once(&atfork_once, register_atfork);

	pthread_mutex_lock(&cache.lock);
	for (int i = 0; i < MAX_ENTRIES; i++) {
		cache_entry *e = cache.entries[i];
		if (!e) {
			if (slot < 0)
				slot = i;
			continue;
		}
		if (strcmp(e->conf_path, conf_path) != 0 ||
		    !same_str(e->db_override, db_override) ||
		    e->missing_ok != missing_ok)
			continue;
		if (entry_fresh(e)) {
			lease_from(e, lease);
			pthread_mutex_unlock(&cache.lock);
			return CACHE_OK;
		}
		/* Stale: retire it (leases keep it alive) and rebuild. */
		e->current = false;
		cache.entries[i] = NULL;
		if (e->refs == 0)
			entry_free(e);
		slot = i;
		break;
	}
	/* Building reads files; done under the lock so that a burst of
	 * logins after a config change loads it once, not once per thread. */
	st = entry_build(conf_path, missing_ok, db_override, log, logctx,
			 &fresh);
	if (st == CACHE_OK) {
		fresh->serial = ++cache.next_serial;
		fresh->current = slot >= 0;
		if (slot >= 0)
			cache.entries[slot] = fresh;
		lease_from(fresh, lease);
	}
	pthread_mutex_unlock(&cache.lock);
	return st;
}

void cache_release(cache_lease *lease)
{
	if (!lease->entry)
		return;
	pthread_mutex_lock(&cache.lock);
	entry_unref(lease->entry);
	pthread_mutex_unlock(&cache.lock);
	memset(lease, 0, sizeof(*lease));
}
