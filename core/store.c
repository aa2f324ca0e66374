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

#include "fileperm.h"

#define TMP_SUFFIX ".tmp."
#define LOCK_SUFFIX ".lock"
#define STORE_BLOCK_SIZE 4096

struct store_txn {
	GDBM_FILE db;
	int lockfd;
	char *path;
	char *tmppath;
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
static GDBM_FILE open_reader(const char *path, char *err, size_t errlen)
{
	char why[160];
	int fd = trusted_open(path, TRUST_WRITABLE_BY_OWNER_ONLY, why,
			      sizeof(why));
	if (fd < 0) {
		snprintf(err, errlen, "store %s %s", path, why);
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

static store_status fetch(GDBM_FILE db, const char *path, const char *id,
			  size_t idlen, uint8_t *buf, size_t bufsz,
			  size_t *len, char *err, size_t errlen)
{
	datum key = { (char *)id, (int)idlen };
	datum val = gdbm_fetch(db, key);

	if (!val.dptr) {
		if (gdbm_last_errno(db) == GDBM_ITEM_NOT_FOUND)
			return STORE_NOTFOUND;
		snprintf(err, errlen, "store %s: read: %s", path,
			 gdbm_reason(db));
		return STORE_ERROR;
	}
	store_status st = STORE_OK;
	if (val.dsize < 0 || (size_t)val.dsize > bufsz) {
		snprintf(err, errlen, "store %s: an entry has a bad size", path);
		st = STORE_ERROR;
	} else {
		memcpy(buf, val.dptr, (size_t)val.dsize);
		*len = (size_t)val.dsize;
	}
	/* A record holds digests: wipe GDBM's copy before freeing it. */
	if (val.dsize > 0)
		explicit_bzero(val.dptr, (size_t)val.dsize);
	free(val.dptr);
	return st;
}

store_status store_fetch(const char *path, const char *id, size_t idlen,
			 uint8_t *buf, size_t bufsz, size_t *len, char *err,
			 size_t errlen)
{
	GDBM_FILE db = open_reader(path, err, errlen);
	if (!db)
		return STORE_ERROR;
	store_status st = fetch(db, path, id, idlen, buf, bufsz, len, err,
				errlen);
	gdbm_close(db);
	return st;
}

struct store_reader {
	GDBM_FILE db;
	struct stat st;
	char *path;
};

store_reader *store_reader_open(const char *path, char *err, size_t errlen)
{
	store_reader *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->db = open_reader(path, err, errlen);
	r->path = strdup(path);
	if (!r->db || !r->path || fstat(gdbm_fdesc(r->db), &r->st) != 0) {
		if (r->db)
			gdbm_close(r->db);
		free(r->path);
		free(r);
		return NULL;
	}
	return r;
}

store_status store_reader_fetch(store_reader *r, const char *id, size_t idlen,
				uint8_t *buf, size_t bufsz, size_t *len,
				char *err, size_t errlen)
{
	return fetch(r->db, r->path, id, idlen, buf, bufsz, len, err, errlen);
}

bool store_reader_current(const store_reader *r, const char *path)
{
	struct stat now;

	/* A writer's rename gives the path a new inode; a chmod or chown
	 * changes ctime. Either way, reopen and check trust again. */
	return lstat(path, &now) == 0 && now.st_dev == r->st.st_dev &&
	       now.st_ino == r->st.st_ino &&
	       now.st_ctim.tv_sec == r->st.st_ctim.tv_sec &&
	       now.st_ctim.tv_nsec == r->st.st_ctim.tv_nsec;
}

void store_reader_close(store_reader *r)
{
	if (!r)
		return;
	gdbm_close(r->db);
	free(r->path);
	free(r);
}

static int walk(GDBM_FILE db, store_visit_fn visit, void *ctx, char *err,
		size_t errlen)
{
	datum key = gdbm_firstkey(db);
	int rc = 0;

	while (key.dptr) {
		if (key.dsize > 0 && key.dptr[0] == STORE_META_MARK) {
			/* The decoy or metadata, not a token: skip it. */
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
		free(val.dptr);
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

int store_reader_foreach(store_reader *r, store_visit_fn visit, void *ctx,
			 char *err, size_t errlen)
{
	return walk(r->db, visit, ctx, err, errlen);
}

int store_foreach(const char *path, store_visit_fn visit, void *ctx,
		  char *err, size_t errlen)
{
	GDBM_FILE db = open_reader(path, err, errlen);
	if (!db)
		return -1;
	int rc = walk(db, visit, ctx, err, errlen);
	gdbm_close(db);
	return rc;
}

/* fsync the directory holding path, so a rename in it survives a crash. */
static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -1;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
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
	char *stem = concat(basename(bcopy), TMP_SUFFIX);
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
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(to, buf + off, (size_t)(n - off));
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			off += w;
		}
	}
}

/* A fresh temporary file beside path with the given mode and group. */
static int make_tmp(const char *path, mode_t mode, gid_t gid, char **tmppath,
		    char *err, size_t errlen)
{
	char *tmpl = concat(path, TMP_SUFFIX "XXXXXX");
	if (!tmpl) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	int fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmpl,
			 strerror(errno));
		free(tmpl);
		return -1;
	}
	/* Never group- or world-writable, whatever the live file had. */
	mode &= 0755 & ~(mode_t)(S_IWGRP | S_IWOTH);
	if ((gid != (gid_t)-1 && fchown(fd, (uid_t)-1, gid) != 0) ||
	    fchmod(fd, mode) != 0) {
		snprintf(err, errlen, "cannot set mode of %s: %s", tmpl,
			 strerror(errno));
		close(fd);
		unlink(tmpl);
		free(tmpl);
		return -1;
	}
	*tmppath = tmpl;
	return fd;
}

static void txn_free(store_txn *txn, bool remove_tmp)
{
	if (txn->db)
		gdbm_close(txn->db);
	if (remove_tmp && txn->tmppath)
		unlink(txn->tmppath);
	if (txn->lockfd >= 0)
		close(txn->lockfd); /* releases the flock */
	free(txn->tmppath);
	free(txn->path);
	free(txn);
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
	int src = -1, tmp = -1;

	*out = NULL;
	store_txn *txn = calloc(1, sizeof(*txn));
	if (!txn || !(txn->path = strdup(path))) {
		free(txn);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
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
	tmp = make_tmp(path, st.st_mode & 07777, st.st_gid, &txn->tmppath, err,
		       errlen);
	if (tmp < 0)
		goto fail;
	if (!empty &&
	    (copy_fd(src, tmp) != 0 || lseek(tmp, 0, SEEK_SET) != 0)) {
		snprintf(err, errlen, "cannot copy %s: %s", path,
			 strerror(errno));
		goto fail;
	}
	close(src);
	src = -1;
	txn->db = gdbm_fd_open(tmp, txn->tmppath, empty ? STORE_BLOCK_SIZE : 0,
			       (empty ? GDBM_NEWDB : GDBM_WRITER) | GDBM_NOLOCK |
				       GDBM_NOMMAP | GDBM_CLOEXEC |
				       GDBM_CLOERROR,
			       NULL);
	tmp = -1; /* gdbm owns it now, or closed it */
	if (!txn->db) {
		snprintf(err, errlen, "store %s: %s", path, gdbm_reason(NULL));
		goto fail;
	}
	if (empty && put_decoy(txn->db) != 0) {
		snprintf(err, errlen, "store %s: %s", txn->tmppath,
			 gdbm_reason(txn->db));
		goto fail;
	}
	*out = txn;
	return 0;
fail:
	if (src >= 0)
		close(src);
	if (tmp >= 0)
		close(tmp);
	txn_free(txn, true);
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

store_status store_txn_fetch(store_txn *txn, const char *id, size_t idlen,
			     uint8_t *buf, size_t bufsz, size_t *len)
{
	char err[256];
	return fetch(txn->db, txn->tmppath, id, idlen, buf, bufsz, len, err,
		     sizeof(err));
}

int store_txn_put(store_txn *txn, const char *id, size_t idlen,
		  const uint8_t *val, size_t len)
{
	datum key = { (char *)id, (int)idlen };
	datum v = { (char *)val, (int)len };
	return gdbm_store(txn->db, key, v, GDBM_REPLACE) == 0 ? 0 : -1;
}

int store_txn_delete(store_txn *txn, const char *id, size_t idlen)
{
	datum key = { (char *)id, (int)idlen };
	return gdbm_delete(txn->db, key) == 0 ? 0 : -1;
}

int store_txn_foreach(store_txn *txn, store_visit_fn visit, void *ctx)
{
	char err[256];
	return walk(txn->db, visit, ctx, err, sizeof(err));
}

int store_txn_commit(store_txn *txn, char *err, size_t errlen)
{
	/* Durable first, visible second: the rename is the commit point. */
	if (gdbm_sync(txn->db) != 0 || fsync(gdbm_fdesc(txn->db)) != 0) {
		snprintf(err, errlen, "cannot sync %s: %s", txn->tmppath,
			 gdbm_reason(txn->db));
		goto fail;
	}
	if (gdbm_close(txn->db) != 0) {
		txn->db = NULL;
		snprintf(err, errlen, "cannot close %s", txn->tmppath);
		goto fail;
	}
	txn->db = NULL;
	if (rename(txn->tmppath, txn->path) != 0) {
		snprintf(err, errlen, "cannot replace %s: %s", txn->path,
			 strerror(errno));
		goto fail;
	}
	free(txn->tmppath);
	txn->tmppath = NULL;
	/* The rename was the commit: readers already see the new store. A
	 * failed directory fsync only weakens durability across a power
	 * cut, and reporting "nothing changed" now would be a lie. */
	(void)sync_dir(txn->path);
	txn_free(txn, false);
	return 0;
fail:
	txn_free(txn, true);
	return -1;
}

void store_txn_abort(store_txn *txn)
{
	if (txn)
		txn_free(txn, true);
}

int store_create(const char *path, mode_t mode, gid_t gid, char *err,
		 size_t errlen)
{
	char *tmppath = NULL;
	int rc = -1;

	int lockfd = take_lock(path, 5000, err, errlen);
	if (lockfd < 0)
		return -1;
	remove_leftovers(path);
	int fd = make_tmp(path, mode, gid, &tmppath, err, errlen);
	if (fd < 0)
		goto out;
	GDBM_FILE db = gdbm_fd_open(fd, tmppath, STORE_BLOCK_SIZE,
				    GDBM_NEWDB | GDBM_NOLOCK | GDBM_NOMMAP |
					    GDBM_CLOEXEC | GDBM_CLOERROR,
				    NULL);
	if (!db) {
		snprintf(err, errlen, "cannot create %s: %s", tmppath,
			 gdbm_reason(NULL));
		unlink(tmppath);
		goto out;
	}
	int ok = put_decoy(db) == 0 && gdbm_sync(db) == 0 &&
		 fsync(gdbm_fdesc(db)) == 0;
	ok = (gdbm_close(db) == 0) && ok;
	if (!ok) {
		snprintf(err, errlen, "cannot write %s", tmppath);
		unlink(tmppath);
		goto out;
	}
	/* Never replace an existing store: init on a live system must not
	 * wipe every token. */
	if (renameat2(AT_FDCWD, tmppath, AT_FDCWD, path, RENAME_NOREPLACE) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", path,
			 strerror(errno));
		unlink(tmppath);
		goto out;
	}
	sync_dir(path);
	rc = 0;
out:
	free(tmppath);
	close(lockfd);
	return rc;
}
