/* Unit tests for core/store.c: the copy-and-rename GDBM store.
 *
 * Each test works in its own file of a fresh mkdtemp directory. Lock
 * contention and crashes are simulated with forked children. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"

#include "harness.h"

static char dir[64];

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A fresh store named name, mode 0600. */
static void new_store(char *path, size_t len, const char *name)
{
	char err[256] = "";
	th_path(path, len, dir, name);
	if (store_create(path, 0600, (gid_t)-1, err, sizeof(err)) != 0) {
		fprintf(stderr, "FAIL: store_create %s: %s\n", path, err);
		exit(1);
	}
}

/* One lookup and one walk on a freshly opened view: every call opens the
 * live file again, so trust checks and replacements are seen at once. */
static store_status fetch_once(const char *path, const char *id, size_t idlen,
			       uint8_t *buf, size_t bufsz, size_t *len,
			       char *err, size_t errlen)
{
	store_view *v = store_open(path, err, errlen);
	if (!v)
		return STORE_ERROR;
	store_status st = store_get(v, id, idlen, buf, bufsz, len, err, errlen);
	store_close(v);
	return st;
}

static int each_once(const char *path, store_visit_fn visit, void *ctx,
		     char *err, size_t errlen)
{
	store_view *v = store_open(path, err, errlen);
	if (!v)
		return -1;
	int rc = store_each(v, visit, ctx, err, errlen);
	store_close(v);
	return rc;
}

/* A lookup in a transaction's copy (whose errors the tests do not read). */
static store_status txn_get(store_txn *txn, const char *id, size_t idlen,
			    uint8_t *buf, size_t bufsz, size_t *len)
{
	char err[256];
	return store_get(store_txn_view(txn), id, idlen, buf, bufsz, len, err,
			 sizeof(err));
}

static store_status get(const char *path, const char *key, char *out,
			size_t outlen)
{
	uint8_t buf[4096];
	size_t len = 0;
	char err[256] = "";
	store_status st = fetch_once(path, key, strlen(key), buf, sizeof(buf),
				     &len, err, sizeof(err));
	if (st == STORE_OK) {
		if (len >= outlen)
			len = outlen - 1;
		memcpy(out, buf, len);
		out[len] = '\0';
	} else {
		out[0] = '\0';
		if (st == STORE_ERROR && !err[0]) {
			th_count.fail++;
			fprintf(stderr, "FAIL: STORE_ERROR without a reason\n");
		}
	}
	return st;
}

static bool has(const char *path, const char *key, const char *want)
{
	char v[4096];
	return get(path, key, v, sizeof(v)) == STORE_OK && strcmp(v, want) == 0;
}

static int put(store_txn *txn, const char *key, const char *val)
{
	return store_txn_put(txn, key, strlen(key), (const uint8_t *)val,
			     strlen(val));
}

static int count_visit(void *ctx, const char *key, size_t keylen,
		       const uint8_t *val, size_t vallen)
{
	(void)key;
	(void)keylen;
	(void)val;
	(void)vallen;
	(*(int *)ctx)++;
	return 0;
}

static void test_create(void)
{
	char path[128], err[256];
	struct stat st;

	new_store(path, sizeof(path), "create.db");
	CHECK(stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		      (st.st_mode & 07777) == 0600,
	      "created store mode %o", (unsigned)(st.st_mode & 07777));
	char v[64];
	CHECK(get(path, "nothing", v, sizeof(v)) == STORE_NOTFOUND,
	      "fresh store: lookup is not NOTFOUND");
	/* never replaces an existing store */
	store_txn *txn = NULL;
	CHECK(store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0, "begin");
	if (txn) {
		put(txn, "k", "v");
		CHECK(store_txn_commit(txn, err, sizeof(err)) == 0, "commit");
	}
	CHECK(store_create(path, 0600, (gid_t)-1, err, sizeof(err)) != 0,
	      "store_create over an existing store succeeded");
	CHECK(has(path, "k", "v"), "store_create wiped an existing store");
	CHECK(th_count_tmp(path) == 0, "store_create left a temp file");
	/* A store in a missing directory: error, no crash. */
	char bad[160];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/x.db", dir);
	CHECK(store_create(bad, 0600, (gid_t)-1, err, sizeof(err)) != 0,
	      "store_create in a missing directory succeeded");
}

static void test_txn_basic(void)
{
	char path[128], err[256] = "";
	store_txn *txn = NULL;
	uint8_t buf[64];
	size_t len = 0;

	new_store(path, sizeof(path), "basic.db");
	CHECK(store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0 && txn,
	      "begin: %s", err);
	if (!txn)
		return;
	CHECK(put(txn, "alpha", "one") == 0, "put alpha");
	CHECK(put(txn, "beta", "two") == 0, "put beta");
	CHECK(put(txn, "gamma", "three") == 0, "put gamma");
	CHECK(txn_get(txn, "alpha", 5, buf, sizeof(buf), &len) == STORE_OK &&
		      len == 3 && memcmp(buf, "one", 3) == 0,
	      "txn sees its own put");
	CHECK(txn_get(txn, "zeta", 4, buf, sizeof(buf), &len) ==
		      STORE_NOTFOUND,
	      "txn fetch of a missing key");
	CHECK(put(txn, "alpha", "uno") == 0, "replace alpha");
	CHECK(txn_get(txn, "alpha", 5, buf, sizeof(buf), &len) == STORE_OK &&
		      len == 3 && memcmp(buf, "uno", 3) == 0,
	      "txn sees its replacement");
	CHECK(store_txn_delete(txn, "gamma", 5) == 0, "delete gamma");
	CHECK(txn_get(txn, "gamma", 5, buf, sizeof(buf), &len) ==
		      STORE_NOTFOUND,
	      "deleted key still in the txn");
	CHECK(store_txn_delete(txn, "nosuch", 6) != 0, "delete of a missing key");
	/* a buffer too small for the value is an error, not a truncation */
	CHECK(txn_get(txn, "alpha", 5, buf, 2, &len) == STORE_ERROR,
	      "txn fetch into a too-small buffer");
	/* not visible before the commit */
	char v[64];
	CHECK(get(path, "alpha", v, sizeof(v)) == STORE_NOTFOUND,
	      "uncommitted put visible to readers");
	CHECK(th_count_tmp(path) == 1, "txn has %zu temp files, want 1",
	      th_count_tmp(path));
	CHECK(store_txn_commit(txn, err, sizeof(err)) == 0, "commit: %s", err);
	CHECK(has(path, "alpha", "uno"), "committed alpha");
	CHECK(has(path, "beta", "two"), "committed beta");
	CHECK(get(path, "gamma", v, sizeof(v)) == STORE_NOTFOUND,
	      "deleted gamma after commit");
	CHECK(th_count_tmp(path) == 0, "commit left %zu temp files",
	      th_count_tmp(path));
	/* a lookup into a buffer too small: error */
	{
		size_t l = 0;
		CHECK(fetch_once(path, "alpha", 5, buf, 2, &l, err, sizeof(err)) ==
			      STORE_ERROR,
		      "store_get into a too-small buffer");
	}
	/* binary keys and values (NUL inside) */
	txn = NULL;
	CHECK(store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0, "begin 2");
	if (txn) {
		static const uint8_t bval[] = { 0, 1, 2, 0, 255 };
		CHECK(store_txn_put(txn, "a\0b", 3, bval, sizeof(bval)) == 0,
		      "binary put");
		CHECK(store_txn_commit(txn, err, sizeof(err)) == 0, "commit 2");
		CHECK(fetch_once(path, "a\0b", 3, buf, sizeof(buf), &len, err,
				  sizeof(err)) == STORE_OK &&
			      len == sizeof(bval) &&
			      memcmp(buf, bval, len) == 0,
		      "binary round trip");
		CHECK(fetch_once(path, "a", 1, buf, sizeof(buf), &len, err,
				  sizeof(err)) == STORE_NOTFOUND,
		      "key prefix matched");
	}
	/* the commit replaced the file (rename), not written in place */
	{
		struct stat s1, s2;
		stat(path, &s1);
		txn = NULL;
		if (store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0) {
			put(txn, "delta", "four");
			store_txn_commit(txn, err, sizeof(err));
		}
		stat(path, &s2);
		CHECK(s1.st_ino != s2.st_ino,
		      "commit wrote the live file in place (same inode)");
		CHECK(has(path, "delta", "four") && has(path, "alpha", "uno"),
		      "after a second commit");
	}
}

static void test_abort(void)
{
	char path[128], err[256] = "", v[64];
	store_txn *txn = NULL;
	struct stat s1, s2;

	new_store(path, sizeof(path), "abort.db");
	if (store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0) {
		put(txn, "keep", "yes");
		store_txn_commit(txn, err, sizeof(err));
	}
	CHECK(stat(path, &s1) == 0, "stat");
	txn = NULL;
	CHECK(store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0, "begin");
	if (txn) {
		put(txn, "new", "value");
		put(txn, "keep", "changed");
		CHECK(store_txn_delete(txn, "keep", 4) == 0, "delete in txn");
		store_txn_abort(txn);
	}
	CHECK(has(path, "keep", "yes"), "abort changed an existing key");
	CHECK(get(path, "new", v, sizeof(v)) == STORE_NOTFOUND,
	      "abort committed a put");
	CHECK(stat(path, &s2) == 0 && s1.st_ino == s2.st_ino &&
		      s1.st_size == s2.st_size &&
		      s1.st_mtim.tv_sec == s2.st_mtim.tv_sec &&
		      s1.st_mtim.tv_nsec == s2.st_mtim.tv_nsec,
	      "abort touched the live file");
	CHECK(th_count_tmp(path) == 0, "abort left %zu temp files",
	      th_count_tmp(path));
	store_txn_abort(NULL); /* documented as fine */
	/* after an abort the lock is free again at once */
	txn = NULL;
	int64_t t0 = now_ms();
	CHECK(store_txn_begin(path, 0, &txn, err, sizeof(err)) == 0,
	      "begin after abort: %s", err);
	CHECK(now_ms() - t0 < 1000, "begin after abort waited");
	store_txn_abort(txn);
}

static void test_lock_timeout(void)
{
	char path[128], err[256] = "";
	store_txn *txn = NULL;

	new_store(path, sizeof(path), "lock.db");
	CHECK(store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0 && txn,
	      "begin: %s", err);
	if (!txn)
		return;
	put(txn, "held", "1");

	/* A second writer in a child: must give up after ~200 ms with an
	 * error. Exit codes: 0 timed out properly, 1 got the lock, 2 error
	 * text missing, 3 gave up too early, 4 waited far too long. */
	pid_t pid = fork();
	if (pid == 0) {
		store_txn *t2 = NULL;
		char e2[256] = "";
		int64_t t0 = now_ms();
		int rc = store_txn_begin(path, 200, &t2, e2, sizeof(e2));
		int64_t took = now_ms() - t0;
		if (rc == 0 || t2) {
			store_txn_abort(t2);
			_exit(1);
		}
		if (!e2[0])
			_exit(2);
		if (took < 150)
			_exit(3);
		if (took > 5000)
			_exit(4);
		_exit(0);
	}
	int status = 0;
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid, "fork/wait");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "second writer while one is open: child status %d (1 got the "
	      "lock, 2 no reason, 3 too early, 4 too late)",
	      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	/* Also in the same process (a second open of the lock file). */
	{
		store_txn *t3 = NULL;
		char e3[256] = "";
		CHECK(store_txn_begin(path, 50, &t3, e3, sizeof(e3)) != 0 && !t3,
		      "second txn in the same process got the lock");
		store_txn_abort(t3);
	}
	/* The held txn is undisturbed by the failed attempts. */
	CHECK(store_txn_commit(txn, err, sizeof(err)) == 0, "commit: %s", err);
	CHECK(has(path, "held", "1"), "held txn lost its put");

	/* A waiting writer gets the lock once the holder finishes. */
	/* (The child is forked before the parent locks: a child forked
	 * while holding the lock would inherit the lock's open file
	 * description and keep it locked after the parent's close.) */
	int go[2];
	if (pipe(go) != 0)
		abort();
	pid = fork();
	if (pid == 0) {
		store_txn *t2 = NULL;
		char e2[256], c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		if (store_txn_begin(path, 5000, &t2, e2, sizeof(e2)) != 0)
			_exit(1);
		put(t2, "child", "2");
		_exit(store_txn_commit(t2, e2, sizeof(e2)) == 0 ? 0 : 2);
	}
	close(go[0]);
	txn = NULL;
	CHECK(store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0, "begin");
	if (write(go[1], "g", 1) != 1)
		abort();
	close(go[1]);
	usleep(200 * 1000);
	if (txn) {
		put(txn, "parent", "1");
		CHECK(store_txn_commit(txn, err, sizeof(err)) == 0, "commit");
	}
	status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "waiting writer failed: %d", status);
	CHECK(has(path, "parent", "1") && has(path, "child", "2"),
	      "serialised writers lost an update");
}

static void test_leftovers(void)
{
	char path[128], err[256] = "", f[200], other[200];
	store_txn *txn = NULL;

	new_store(path, sizeof(path), "left.db");
	const char *names[] = { ".tmp.abc123", ".tmp.XXXXXX", ".tmp." };
	for (size_t i = 0; i < 3; i++) {
		snprintf(f, sizeof(f), "%s%s", path, names[i]);
		int fd = open(f, O_WRONLY | O_CREAT, 0600);
		CHECK(fd >= 0 && write(fd, "junk", 4) == 4, "make %s", f);
		if (fd >= 0)
			close(fd);
	}
	/* Not leftovers of this store: must survive. */
	snprintf(other, sizeof(other), "%s/other.db.tmp.abc123", dir);
	int fd = open(other, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	char near[200];
	snprintf(near, sizeof(near), "%s.tmpx", path);
	fd = open(near, O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);

	CHECK(th_count_tmp(path) == 3, "setup: %zu leftovers",
	      th_count_tmp(path));
	CHECK(store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0,
	      "begin: %s", err);
	/* while open, only the txn's own temp file exists */
	CHECK(th_count_tmp(path) == 1, "leftovers not removed by txn_begin: %zu "
	      "temp files", th_count_tmp(path));
	for (size_t i = 0; i < 3; i++) {
		snprintf(f, sizeof(f), "%s%s", path, names[i]);
		CHECK(access(f, F_OK) != 0, "leftover %s survived", f);
	}
	CHECK(access(other, F_OK) == 0, "another store's temp file removed");
	CHECK(access(near, F_OK) == 0, "%s removed", near);
	store_txn_abort(txn);
	CHECK(th_count_tmp(path) == 0, "temp files after abort");

	/* A writer that dies mid-transaction (kill -9 stand-in: _exit
	 * without commit or abort) leaves the store readable and unchanged,
	 * the lock free and its temp file for the next writer to remove. */
	txn = NULL;
	if (store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0) {
		put(txn, "committed", "yes");
		store_txn_commit(txn, err, sizeof(err));
	}
	pid_t pid = fork();
	if (pid == 0) {
		store_txn *t2 = NULL;
		char e2[256];
		if (store_txn_begin(path, 1000, &t2, e2, sizeof(e2)) != 0)
			_exit(1);
		put(t2, "committed", "no");
		put(t2, "uncommitted", "x");
		raise(SIGKILL);
		_exit(2);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	      "crashing writer did not die as planned (%d)", status);
	CHECK(has(path, "committed", "yes"), "crashed writer changed the store");
	char v[64];
	CHECK(get(path, "uncommitted", v, sizeof(v)) == STORE_NOTFOUND,
	      "crashed writer's put visible");
	CHECK(th_count_tmp(path) == 1, "crashed writer left %zu temp files (want 1)",
	      th_count_tmp(path));
	txn = NULL;
	int64_t t0 = now_ms();
	CHECK(store_txn_begin(path, 0, &txn, err, sizeof(err)) == 0,
	      "lock not free after a writer crashed: %s", err);
	CHECK(now_ms() - t0 < 1000, "begin after crash waited");
	CHECK(th_count_tmp(path) == 1, "crashed writer's temp file not removed");
	store_txn_abort(txn);
}

static void test_readers_during_write(void)
{
	char path[128], err[256] = "";
	store_txn *txn = NULL;

	new_store(path, sizeof(path), "rw.db");
	if (store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0) {
		put(txn, "k", "old");
		store_txn_commit(txn, err, sizeof(err));
	}
	txn = NULL;
	CHECK(store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0, "begin");
	if (!txn)
		return;
	put(txn, "k", "new");
	put(txn, "k2", "added");
	CHECK(has(path, "k", "old"), "reader during write: not the old value");
	char v[64];
	CHECK(get(path, "k2", v, sizeof(v)) == STORE_NOTFOUND,
	      "reader during write sees an uncommitted key");
	/* from another process too (readers take no lock at all) */
	pid_t pid = fork();
	if (pid == 0)
		_exit(has(path, "k", "old") ? 0 : 1);
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "reader in another process failed during a write");
	/* store_each works while the writer is open */
	{
		int n = 0;
		CHECK(each_once(path, count_visit, &n, err, sizeof(err)) == 0 &&
			      n == 1,
		      "walk during a write: %d entries (want the 1 committed)", n);
	}
	CHECK(store_txn_commit(txn, err, sizeof(err)) == 0, "commit");
	CHECK(has(path, "k", "new"), "reader after commit: not the new value");
	CHECK(has(path, "k2", "added"), "reader after commit: key missing");

	/* A reader hammering the store in a child sees only "old..."/"new..."
	 * values, never an error, while the parent commits 20 times. */
	pid = fork();
	if (pid == 0) {
		int errors = 0, wrong = 0;
		int64_t end = now_ms() + 1500;
		while (now_ms() < end) {
			char w[64];
			if (get(path, "k", w, sizeof(w)) != STORE_OK)
				errors++;
			else if (strcmp(w, "new") != 0 && w[0] != 'v')
				wrong++;
		}
		_exit((errors ? 1 : 0) | (wrong ? 2 : 0));
	}
	for (int i = 0; i < 20; i++) {
		char val[16];
		snprintf(val, sizeof(val), "v%d", i);
		txn = NULL;
		if (store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0) {
			put(txn, "k", val);
			store_txn_commit(txn, err, sizeof(err));
		}
		if (i == 0)
			usleep(1000); /* let the child start */
	}
	status = 0;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "during 20 commits a reader %s",
	      WIFEXITED(status) ? (WEXITSTATUS(status) == 1 ? "got errors" :
				   WEXITSTATUS(status) == 2 ? "saw wrong values" :
				   "got errors and wrong values") :
				  "crashed");
	CHECK(has(path, "k", "v19"), "last commit lost");
}

static void test_bad_files(void)
{
	char path[128], good[128], err[256];
	uint8_t buf[64];
	size_t len;

	new_store(good, sizeof(good), "good.db");
	{
		store_txn *txn = NULL;
		if (store_txn_begin(good, 1000, &txn, err, sizeof(err)) == 0) {
			put(txn, "k", "v");
			store_txn_commit(txn, err, sizeof(err));
		}
	}
	CHECK(has(good, "k", "v"), "control: good store");

#define BAD(p, what)                                                           \
	do {                                                                   \
		err[0] = '\0';                                                 \
		store_status st_ = fetch_once(p, "k", 1, buf, sizeof(buf),     \
					      &len, err, sizeof(err));         \
		CHECK(st_ == STORE_ERROR, "%s: store_get gave %d", what,       \
		      (int)st_);                                               \
		CHECK(err[0] != '\0', "%s: no error text", what);              \
		int n_ = 0;                                                    \
		CHECK(each_once(p, count_visit, &n_, err, sizeof(err)) == -1,  \
		      "%s: store_each did not fail", what);                    \
	} while (0)

	th_path(path, sizeof(path), dir, "missing.db");
	BAD(path, "missing file");

	th_path(path, sizeof(path), dir, "empty.db");
	if (th_replace_file(path, "", 0, 0600) != 0)
		abort();
	BAD(path, "zero-length file");

	th_path(path, sizeof(path), dir, "garbage.db");
	{
		uint8_t junk[8192];
		for (size_t i = 0; i < sizeof(junk); i++)
			junk[i] = (uint8_t)(i * 131 + 7);
		if (th_replace_file(path, junk, sizeof(junk), 0600) != 0)
			abort();
	}
	BAD(path, "garbage file");

	th_path(path, sizeof(path), dir, "text.db");
	if (th_replace_file(path, "k = v\n", 6, 0600) != 0)
		abort();
	BAD(path, "small text file");

	th_path(path, sizeof(path), dir, "dir.db");
	mkdir(path, 0700);
	BAD(path, "directory");

	th_path(path, sizeof(path), dir, "link.db");
	CHECK(symlink(good, path) == 0, "symlink");
	BAD(path, "symlink to a good store");

	/* group- and other-writable copies of the good store */
	{
		static const mode_t modes[] = { 0620, 0660, 0602, 0606, 0666 };
		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
			char cmd[512], what[64];
			th_path(path, sizeof(path), dir, "writable.db");
			unlink(path);
			snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", good, path);
			CHECK(system(cmd) == 0, "cp");
			chmod(path, modes[i]);
			snprintf(what, sizeof(what), "mode %04o store",
				 (unsigned)modes[i]);
			BAD(path, what);
			/* and a writer refuses it too */
			store_txn *txn = NULL;
			CHECK(store_txn_begin(path, 100, &txn, err, sizeof(err)) != 0,
			      "txn_begin on a %s", what);
			store_txn_abort(txn);
		}
		/* control: 0640 and 0644 copies are fine */
		chmod(path, 0640);
		CHECK(has(path, "k", "v"), "mode 0640 store refused");
		chmod(path, 0644);
		CHECK(has(path, "k", "v"), "mode 0644 store refused");
	}
	if (geteuid() == 0) {
		char cmd[512];
		th_path(path, sizeof(path), dir, "foreign.db");
		snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", good, path);
		CHECK(system(cmd) == 0, "cp");
		CHECK(chown(path, 65534, (gid_t)-1) == 0, "chown");
		BAD(path, "store owned by uid 65534");
	}

	/* a FIFO must not hang the reader */
	th_path(path, sizeof(path), dir, "fifo.db");
	CHECK(mkfifo(path, 0600) == 0, "mkfifo");
	th_alarm_in(3);
	BAD(path, "FIFO");
	alarm(0);
	CHECK(!th_alarmed, "store_open blocked on a FIFO");

	/* a truncated store: no crash; never a wrong value */
	{
		char big[128];
		new_store(big, sizeof(big), "trunc.db");
		store_txn *txn = NULL;
		if (store_txn_begin(big, 1000, &txn, err, sizeof(err)) == 0) {
			for (int i = 0; i < 300; i++) {
				char k[16], v[16];
				snprintf(k, sizeof(k), "key%d", i);
				snprintf(v, sizeof(v), "val%d", i);
				put(txn, k, v);
			}
			store_txn_commit(txn, err, sizeof(err));
		}
		struct stat st;
		stat(big, &st);
		for (off_t cut = 1; cut < st.st_size; cut = cut * 2 + 13) {
			char cmd[512];
			th_path(path, sizeof(path), dir, "cut.db");
			unlink(path);
			snprintf(cmd, sizeof(cmd), "head -c %lld '%s' > '%s'",
				 (long long)cut, big, path);
			CHECK(system(cmd) == 0, "head");
			chmod(path, 0600);
			int wrong = 0;
			for (int i = 0; i < 300; i += 7) {
				char k[16], want[16], v[64];
				snprintf(k, sizeof(k), "key%d", i);
				snprintf(want, sizeof(want), "val%d", i);
				if (get(path, k, v, sizeof(v)) == STORE_OK &&
				    strcmp(v, want) != 0)
					wrong++;
			}
			CHECK(wrong == 0, "store cut at %lld returned %d wrong "
			      "values", (long long)cut, wrong);
		}
	}
#undef BAD
}

typedef struct {
	int n;
	int bad;
	unsigned char seen[100];
} walk_ctx;

static int visit(void *ctx, const char *key, size_t keylen,
		 const uint8_t *val, size_t vallen)
{
	walk_ctx *w = ctx;
	char k[32], v[32], want[32];
	int i;

	w->n++;
	if (keylen >= sizeof(k) || vallen >= sizeof(v)) {
		w->bad++;
		return 0;
	}
	memcpy(k, key, keylen);
	k[keylen] = '\0';
	memcpy(v, val, vallen);
	v[vallen] = '\0';
	if (sscanf(k, "key%d", &i) != 1 || i < 0 || i >= 100) {
		w->bad++;
		return 0;
	}
	snprintf(want, sizeof(want), "value-%d", i);
	if (strcmp(v, want) != 0)
		w->bad++;
	w->seen[i]++;
	return 0;
}

static int stop_at_5(void *ctx, const char *key, size_t keylen,
		     const uint8_t *val, size_t vallen)
{
	(void)key;
	(void)keylen;
	(void)val;
	(void)vallen;
	return ++*(int *)ctx == 5 ? 42 : 0;
}

static void test_foreach(void)
{
	char path[128], err[256] = "";
	store_txn *txn = NULL;

	new_store(path, sizeof(path), "walk.db");
	{
		int n = 0;
		CHECK(each_once(path, count_visit, &n, err, sizeof(err)) == 0 &&
			      n == 0,
		      "empty store walk: %d entries", n);
	}
	CHECK(store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0, "begin");
	if (!txn)
		return;
	for (int i = 0; i < 100; i++) {
		char k[16], v[16];
		snprintf(k, sizeof(k), "key%d", i);
		snprintf(v, sizeof(v), "value-%d", i);
		put(txn, k, v);
	}
	/* walking inside the txn sees the uncommitted entries */
	walk_ctx w;
	memset(&w, 0, sizeof(w));
	CHECK(store_each(store_txn_view(txn), visit, &w, err, sizeof(err)) ==
			      0 &&
		      w.n == 100 && w.bad == 0,
	      "txn walk: %d entries, %d bad", w.n, w.bad);
	store_txn_delete(txn, "key50", 5);
	CHECK(store_txn_commit(txn, err, sizeof(err)) == 0, "commit");

	memset(&w, 0, sizeof(w));
	CHECK(each_once(path, visit, &w, err, sizeof(err)) == 0, "walk: %s",
	      err);
	CHECK(w.n == 99 && w.bad == 0, "walk: %d entries, %d bad", w.n, w.bad);
	for (int i = 0; i < 100; i++)
		CHECK(w.seen[i] == (i == 50 ? 0 : 1), "key%d seen %d times", i,
		      w.seen[i]);
	int n = 0;
	CHECK(each_once(path, stop_at_5, &n, err, sizeof(err)) == 42 && n == 5,
	      "visitor's non-zero return does not stop the walk (n=%d)", n);
}

static void test_mode_group(void)
{
	char path[128], err[256] = "";
	struct stat st;
	gid_t gid = getegid();

	/* As root use another group (daemon, gid 1) so keeping it means
	 * something; otherwise our own primary group. */
	if (geteuid() == 0) {
		struct group *g = getgrnam("daemon");
		gid = g ? g->gr_gid : 1;
	}
	th_path(path, sizeof(path), dir, "mode.db");
	CHECK(store_create(path, 0640, gid, err, sizeof(err)) == 0,
	      "store_create 0640: %s", err);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640 &&
		      st.st_gid == gid,
	      "created: mode %o gid %u", (unsigned)(st.st_mode & 07777),
	      (unsigned)st.st_gid);
	for (int i = 0; i < 3; i++) {
		store_txn *txn = NULL;
		CHECK(store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0,
		      "begin %d: %s", i, err);
		if (!txn)
			continue;
		char k[8];
		snprintf(k, sizeof(k), "k%d", i);
		put(txn, k, "v");
		CHECK(store_txn_commit(txn, err, sizeof(err)) == 0, "commit");
		CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0640 &&
			      st.st_gid == gid,
		      "after commit %d: mode %o gid %u", i,
		      (unsigned)(st.st_mode & 07777), (unsigned)st.st_gid);
	}
	CHECK(has(path, "k2", "v"), "commits");
	/* a store chmod'ed to 0644 keeps 0644 */
	chmod(path, 0644);
	store_txn *txn = NULL;
	if (store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0) {
		put(txn, "k9", "v");
		store_txn_commit(txn, err, sizeof(err));
	}
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0644,
	      "0644 became %o", (unsigned)(st.st_mode & 07777));
	/* a 0600 store stays 0600 */
	char p2[128];
	new_store(p2, sizeof(p2), "mode600.db");
	txn = NULL;
	if (store_txn_begin(p2, 1000, &txn, err, sizeof(err)) == 0) {
		put(txn, "a", "b");
		store_txn_commit(txn, err, sizeof(err));
	}
	CHECK(stat(p2, &st) == 0 && (st.st_mode & 07777) == 0600,
	      "0600 became %o", (unsigned)(st.st_mode & 07777));
}

static void test_many(void)
{
	char path[128], err[256] = "";
	store_txn *txn = NULL;
	int64_t t0 = now_ms();

	new_store(path, sizeof(path), "many.db");
	CHECK(store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0, "begin");
	if (!txn)
		return;
	int putfail = 0;
	for (int i = 0; i < 2000; i++) {
		char k[16], v[300];
		snprintf(k, sizeof(k), "id%010d", i);
		snprintf(v, sizeof(v), "%0*d", 10 + i % 250, i);
		if (put(txn, k, v) != 0)
			putfail++;
	}
	CHECK(putfail == 0, "%d puts failed", putfail);
	CHECK(store_txn_commit(txn, err, sizeof(err)) == 0, "commit: %s", err);
	int missing = 0;
	for (int i = 0; i < 2000; i++) {
		char k[16], v[300];
		snprintf(k, sizeof(k), "id%010d", i);
		snprintf(v, sizeof(v), "%0*d", 10 + i % 250, i);
		if (!has(path, k, v) && missing++ < 3)
			CHECK(0, "%s missing or wrong", k);
	}
	CHECK(missing == 0, "%d of 2000 entries did not come back", missing);
	int n = 0;
	each_once(path, count_visit, &n, err, sizeof(err));
	CHECK(n == 2000, "walk found %d of 2000", n);
	/* and a second transaction copies all of them */
	txn = NULL;
	if (store_txn_begin(path, 1000, &txn, err, sizeof(err)) == 0) {
		put(txn, "extra", "1");
		store_txn_commit(txn, err, sizeof(err));
	}
	n = 0;
	each_once(path, count_visit, &n, err, sizeof(err));
	CHECK(n == 2001, "after a second txn: %d of 2001", n);
	CHECK(now_ms() - t0 < 20000, "2000 entries took %lld ms",
	      (long long)(now_ms() - t0));
}

int main(void)
{
	snprintf(dir, sizeof(dir), "%s", "/tmp/test_store.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_create();
	test_txn_basic();
	test_abort();
	test_lock_timeout();
	test_leftovers();
	test_readers_during_write();
	test_bad_files();
	test_foreach();
	test_mode_group();
	test_many();
	th_rm_rf(dir);
	return th_summary("test_store: all passed");
}
