#include "store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <libgen.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "fileperm.h"
#include "writeall.h"

#define LOCK_SUFFIX ".lock"
#define STORE_BLOCK_SIZE 4096

/* A view of one store file. A transaction embeds one over its copy. */
struct store_view {
	GDBM_FILE db;
	struct stat st; /* the file as opened (store_current) */
	char *path;     /* for messages */
};

struct store_txn {
	store_view view; /* db on a dup of tmp.fd; path: the live store */
	int lockfd;
	atomic_file tmp;
	/* The token keys put or deleted, for the authority's change log
	 * (store_txn_changed); repeats are possible. */
	char (*changed)[STORE_CHANGED_KEY_LEN];
	size_t n_changed, cap_changed;
};

static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);
	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb);
		s[la + lb] = '\0';
	}
	return s;
}

static const char *gdbm_reason(GDBM_FILE db)
{
	return db ? gdbm_db_strerror(db) : gdbm_strerror(gdbm_errno);
}

/* Open the live store for reading: our own trust checks on the fd first,
 * then GDBM on that fd without locks (writers never touch this file) and
 * without mmap (a truncated file must give an error, not SIGBUS). */
static GDBM_FILE open_reader(const char *path, struct stat *st, char *err,
			     size_t errlen)
{
	char why[160];
	int fd = trusted_open(path, TRUST_WRITABLE_BY_OWNER_ONLY, why,
			      sizeof(why));
	if (fd < 0) {
		snprintf(err, errlen, "store %s %s", path, why);
		return NULL;
	}
	if (fstat(fd, st) != 0) {
		snprintf(err, errlen, "store %s: %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	GDBM_FILE db = gdbm_fd_open(fd, path, 0,
				    GDBM_READER | GDBM_NOLOCK | GDBM_NOMMAP |
					    GDBM_CLOEXEC | GDBM_CLOERROR,
				    NULL);
	if (!db)
		snprintf(err, errlen, "store %s: %s", path, gdbm_reason(NULL));
	return db;
}

store_view *store_open(const char *path, char *err, size_t errlen)
{
	store_view *v = calloc(1, sizeof(*v));
	if (!v || !(v->path = strdup(path))) {
		free(v);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	v->db = open_reader(path, &v->st, err, errlen);
	if (!v->db) {
		free(v->path);
		free(v);
		return NULL;
	}
	return v;
}

/* A value is a record, which holds digests: wipe GDBM's copy of it before
 * freeing it. */
static void free_value(datum val)
{
	if (val.dptr && val.dsize > 0)
		explicit_bzero(val.dptr, (size_t)val.dsize);
	free(val.dptr);
}

store_status store_get(store_view *v, const char *id, size_t idlen,
		       uint8_t *buf, size_t bufsz, size_t *len, char *err,
		       size_t errlen)
{
	datum key = { (char *)id, (int)idlen };
	datum val = gdbm_fetch(v->db, key);

	if (!val.dptr) {
		if (gdbm_last_errno(v->db) == GDBM_ITEM_NOT_FOUND)
			return STORE_NOTFOUND;
		snprintf(err, errlen, "store %s: read: %s", v->path,
			 gdbm_reason(v->db));
		return STORE_ERROR;
	}
	store_status st = STORE_OK;
	if (val.dsize < 0 || (size_t)val.dsize > bufsz) {
		snprintf(err, errlen, "store %s: an entry has a bad size",
			 v->path);
		st = STORE_ERROR;
	} else {
		memcpy(buf, val.dptr, (size_t)val.dsize);
		*len = (size_t)val.dsize;
	}
	free_value(val);
	return st;
}

bool store_current(const store_view *v, const char *path)
{
	struct stat now;

	/* A writer's rename gives the path a new inode; a chmod or chown
	 * changes ctime. Either way, reopen and check trust again. */
	return lstat(path, &now) == 0 && now.st_dev == v->st.st_dev &&
	       now.st_ino == v->st.st_ino &&
	       now.st_ctim.tv_sec == v->st.st_ctim.tv_sec &&
	       now.st_ctim.tv_nsec == v->st.st_ctim.tv_nsec;
}

void store_close(store_view *v)
{
	if (!v)
		return;
	gdbm_close(v->db);
	free(v->path);
	free(v);
}

/* Walk the token entries (meta false) or the metadata (meta true, the
 * decoy excepted). */
static int walk(store_view *v, bool meta, store_visit_fn visit, void *ctx,
		char *err, size_t errlen)
{
	GDBM_FILE db = v->db;
	datum key = gdbm_firstkey(db);
	int rc = 0;

	while (key.dptr) {
		bool is_meta = key.dsize > 0 && key.dptr[0] == STORE_META_MARK;
		bool is_decoy = key.dsize == sizeof(STORE_DECOY_KEY) - 1 &&
				memcmp(key.dptr, STORE_DECOY_KEY, key.dsize) == 0;
		if (is_meta != meta || is_decoy) {
			/* Not an entry anyone asked for: skip it. */
			datum next = gdbm_nextkey(db, key);
			free(key.dptr);
			key = next;
			continue;
		}
		datum val = gdbm_fetch(db, key);
		if (!val.dptr) {
			snprintf(err, errlen, "store read: %s", gdbm_reason(db));
			free(key.dptr);
			return -1;
		}
		rc = visit(ctx, key.dptr, (size_t)key.dsize,
			   (const uint8_t *)val.dptr, (size_t)val.dsize);
		free_value(val);
		if (rc != 0) {
			free(key.dptr);
			return rc;
		}
		datum next = gdbm_nextkey(db, key);
		free(key.dptr);
		key = next;
	}
	if (gdbm_last_errno(db) != GDBM_ITEM_NOT_FOUND &&
	    gdbm_last_errno(db) != GDBM_NO_ERROR) {
		snprintf(err, errlen, "store walk: %s", gdbm_reason(db));
		return -1;
	}
	return 0;
}

int store_each(store_view *v, store_visit_fn visit, void *ctx, char *err,
	       size_t errlen)
{
	return walk(v, false, visit, ctx, err, errlen);
}

int store_each_meta(store_view *v, store_visit_fn visit, void *ctx, char *err,
		    size_t errlen)
{
	return walk(v, true, visit, ctx, err, errlen);
}

store_view *store_txn_view(store_txn *txn)
{
	return &txn->view;
}

/* Writers serialise on path.lock. flock is released by the kernel when a
 * writer dies, so a kill -9 can never leave the store locked. */
static int take_lock(const char *path, int timeout_ms, char *err,
		     size_t errlen)
{
	char *lockpath = concat(path, LOCK_SUFFIX);
	if (!lockpath) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int fd = open(lockpath, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", lockpath,
			 strerror(errno));
		free(lockpath);
		return -1;
	}
	/* A lock file someone else planted (in a sticky shared directory,
	 * say) would let them hold every writer off: only ours or root's. */
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    (st.st_uid != 0 && st.st_uid != geteuid())) {
		snprintf(err, errlen, "%s is not a lock file of ours", lockpath);
		close(fd);
		free(lockpath);
		return -1;
	}
	for (int waited = 0;; waited += 10) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			break;
		if ((errno != EWOULDBLOCK && errno != EINTR) ||
		    waited >= timeout_ms) {
			snprintf(err, errlen, "cannot lock %s: %s", lockpath,
				 errno == EWOULDBLOCK ?
					 "another tokenadm is writing" :
					 strerror(errno));
			close(fd);
			free(lockpath);
			return -1;
		}
		nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
	}
	free(lockpath);
	return fd;
}

/* Under the lock no other writer exists, so any path.tmp.* is debris from
 * a writer that crashed: remove it. */
static void remove_leftovers(const char *path)
{
	char *dcopy = strdup(path), *bcopy = strdup(path);
	if (!dcopy || !bcopy)
		goto out;
	const char *dir = dirname(dcopy);
	char *stem = concat(basename(bcopy), ATOMIC_TMP_INFIX);
	if (!stem)
		goto out;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		free(stem);
		goto out;
	}
	struct dirent *e;
	size_t sl = strlen(stem);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, stem, sl) == 0)
			unlinkat(dfd, e->d_name, 0);
	closedir(d);
	free(stem);
out:
	free(dcopy);
	free(bcopy);
}

static int copy_fd(int from, int to)
{
	/* A reflink copy costs nothing where the filesystem has it. */
	if (ioctl(to, FICLONE, from) == 0)
		return 0;
	for (;;) {
		ssize_t n = copy_file_range(from, NULL, to, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL &&
		    errno != EOPNOTSUPP)
			return -1;
		break;
	}
	char buf[65536];
	for (;;) {
		ssize_t n = read(from, buf, sizeof(buf));
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (write_all(to, buf, (size_t)n) != 0)
			return -1;
	}
}

static void txn_free(store_txn *txn)
{
	if (txn->view.db)
		gdbm_close(txn->view.db);
	atomic_abort(&txn->tmp); /* nothing once committed */
	if (txn->lockfd >= 0)
		close(txn->lockfd); /* releases the flock */
	free(txn->view.path);
	free(txn->changed);
	free(txn);
}

/* GDBM on a duplicate of the temporary file's fd: gdbm_close closes its
 * own, and atomic_commit still has the file to sync and rename. */
static GDBM_FILE open_tmp(atomic_file *tmp, int block, int flags)
{
	int fd = fcntl(tmp->fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	return gdbm_fd_open(fd, tmp->tmppath, block,
			    flags | GDBM_NOLOCK | GDBM_NOMMAP | GDBM_CLOEXEC |
				    GDBM_CLOERROR,
			    NULL);
}

static int put_decoy(GDBM_FILE db)
{
	/* Shaped like a record (magic first); its MAC never fits. */
	uint8_t decoy[STORE_DECOY_LEN] = { 'P', 'T', 'K', 'R' };
	datum dk = { (char *)STORE_DECOY_KEY, (int)strlen(STORE_DECOY_KEY) };
	datum dv = { (char *)decoy, (int)sizeof(decoy) };
	return gdbm_store(db, dk, dv, GDBM_REPLACE) == 0 ? 0 : -1;
}

static int txn_begin(const char *path, int timeout_ms, bool empty,
		     store_txn **out, char *err, size_t errlen)
{
	char why[160];
	struct stat st;
	int src = -1;

	*out = NULL;
	store_txn *txn = calloc(1, sizeof(*txn));
	if (!txn || !(txn->view.path = strdup(path))) {
		free(txn);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	txn->tmp.fd = txn->tmp.dirfd = -1;
	txn->lockfd = take_lock(path, timeout_ms, err, errlen);
	if (txn->lockfd < 0)
		goto fail;
	remove_leftovers(path);

	src = trusted_open(path, TRUST_WRITABLE_BY_OWNER_ONLY, why, sizeof(why));
	if (src < 0) {
		snprintf(err, errlen, "store %s %s", path, why);
		goto fail;
	}
	if (fstat(src, &st) != 0) {
		snprintf(err, errlen, "store %s: %s", path, strerror(errno));
		goto fail;
	}
	if (atomic_create(&txn->tmp, AT_FDCWD, path, st.st_mode & 07777,
			  st.st_gid, 0, err, errlen) != 0)
		goto fail;
	if (!empty && (copy_fd(src, txn->tmp.fd) != 0 ||
		       lseek(txn->tmp.fd, 0, SEEK_SET) != 0)) {
		snprintf(err, errlen, "cannot copy %s: %s", path,
			 strerror(errno));
		goto fail;
	}
	close(src);
	src = -1;
	txn->view.db = empty ? open_tmp(&txn->tmp, STORE_BLOCK_SIZE, GDBM_NEWDB) :
			       open_tmp(&txn->tmp, 0, GDBM_WRITER);
	if (!txn->view.db) {
		snprintf(err, errlen, "store %s: %s", path, gdbm_reason(NULL));
		goto fail;
	}
	if (empty && put_decoy(txn->view.db) != 0) {
		snprintf(err, errlen, "store %s: %s", txn->tmp.tmppath,
			 gdbm_reason(txn->view.db));
		goto fail;
	}
	*out = txn;
	return 0;
fail:
	if (src >= 0)
		close(src);
	txn_free(txn);
	return -1;
}

int store_txn_begin(const char *path, int timeout_ms, store_txn **out,
		    char *err, size_t errlen)
{
	return txn_begin(path, timeout_ms, false, out, err, errlen);
}

int store_txn_begin_empty(const char *path, int timeout_ms, store_txn **out,
			  char *err, size_t errlen)
{
	return txn_begin(path, timeout_ms, true, out, err, errlen);
}

/* Note a token key as changed. A change that cannot be noted fails the
 * put or delete: a change missing from the log would be missing from
 * every delta written from it. */
static int note_change(store_txn *txn, const char *id, size_t idlen)
{
	if (idlen != STORE_CHANGED_KEY_LEN || id[0] == STORE_META_MARK)
		return 0;
	if (txn->n_changed == txn->cap_changed) {
		size_t cap = txn->cap_changed ? txn->cap_changed * 2 : 64;
		void *p = reallocarray(txn->changed, cap,
				       sizeof(*txn->changed));
		if (!p)
			return -1;
		txn->changed = p;
		txn->cap_changed = cap;
	}
	memcpy(txn->changed[txn->n_changed++], id, STORE_CHANGED_KEY_LEN);
	return 0;
}

size_t store_txn_changed(const store_txn *txn,
			 const char (**keys)[STORE_CHANGED_KEY_LEN])
{
	*keys = (const char(*)[STORE_CHANGED_KEY_LEN])txn->changed;
	return txn->n_changed;
}

int store_txn_put(store_txn *txn, const char *id, size_t idlen,
		  const uint8_t *val, size_t len)
{
	datum key = { (char *)id, (int)idlen };
	datum v = { (char *)val, (int)len };
	if (note_change(txn, id, idlen) != 0)
		return -1;
	return gdbm_store(txn->view.db, key, v, GDBM_REPLACE) == 0 ? 0 : -1;
}

int store_txn_delete(store_txn *txn, const char *id, size_t idlen)
{
	datum key = { (char *)id, (int)idlen };
	if (note_change(txn, id, idlen) != 0)
		return -1;
	return gdbm_delete(txn->view.db, key) == 0 ? 0 : -1;
}

int store_txn_commit(store_txn *txn, char *err, size_t errlen)
{
	/* Everything GDBM holds goes to the file before atomic_commit makes
	 * it durable and renames it: the rename is the commit point. */
	if (gdbm_sync(txn->view.db) != 0) {
		snprintf(err, errlen, "cannot sync %s: %s", txn->tmp.tmppath,
			 gdbm_reason(txn->view.db));
		goto fail;
	}
	int closed = gdbm_close(txn->view.db);
	txn->view.db = NULL;
	if (closed != 0) {
		snprintf(err, errlen, "cannot close %s", txn->tmp.tmppath);
		goto fail;
	}
	int rc = atomic_commit(&txn->tmp, err, errlen);
	txn_free(txn);
	return rc;
fail:
	txn_free(txn);
	return -1;
}

void store_txn_abort(store_txn *txn)
{
	if (txn)
		txn_free(txn);
}

int store_create(const char *path, mode_t mode, gid_t gid, char *err,
		 size_t errlen)
{
	atomic_file tmp;
	int rc = -1;

	int lockfd = take_lock(path, 5000, err, errlen);
	if (lockfd < 0)
		return -1;
	remove_leftovers(path);
	/* Never replace an existing store: init on a live system must not
	 * wipe every token. */
	if (atomic_create(&tmp, AT_FDCWD, path, mode, gid, ATOMIC_NOREPLACE,
			  err, errlen) != 0)
		goto out;
	GDBM_FILE db = open_tmp(&tmp, STORE_BLOCK_SIZE, GDBM_NEWDB);
	if (!db) {
		snprintf(err, errlen, "cannot create %s: %s", tmp.tmppath,
			 gdbm_reason(NULL));
		atomic_abort(&tmp);
		goto out;
	}
	int ok = put_decoy(db) == 0 && gdbm_sync(db) == 0;
	ok = (gdbm_close(db) == 0) && ok;
	if (!ok) {
		snprintf(err, errlen, "cannot write %s", tmp.tmppath);
		atomic_abort(&tmp);
		goto out;
	}
	rc = atomic_commit(&tmp, err, errlen);
out:
	close(lockfd);
	return rc;
}
