/* Module tests: what goes wrong around the module, sections 7 (store and
 * key trouble, tampered records) and 8 (invalid configuration). See
 * test_module.c. */
#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "module_common.h"

/* Overwrite a file's bytes in place (same inode, mode and owner). */
static void rewrite_in_place(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	if (fd < 0 || !th_write_all(fd, data, len) || close(fd) != 0)
		die("cannot rewrite %s: %s", path, strerror(errno));
}

/* A whole binary file into a malloc'd buffer. */
static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *buf = (uint8_t *)th_read_file(path, len);

	if (!buf)
		die("cannot read %s: %s", path, strerror(errno));
	return buf;
}

/* A copy with the same mode. */
static void copy_file(const char *from, const char *to)
{
	size_t len;
	struct stat st;
	uint8_t *buf = slurp(from, &len);

	if (stat(from, &st) != 0)
		die("stat %s", from);
	if (th_write_file(to, buf, len, st.st_mode & 07777) != 0)
		die("cannot copy to %s", to);
	free(buf);
}

/* ------------------------------------------------------------------ */
/* 7. Store and key trouble                                             */

void test_faults(void)
{
	site s;
	profile p;
	token t;
	char moved[PATH_MAX + 16];
	size_t dblen, keylen;

	site_new(&s, "faults");
	profile_std(&p, &s, "faults", NULL, NULL);
	site_init(&s, &p, false);
	MINT(&t, p.conf, "--name", "faults", "--user", ME);

#define OK_AGAIN(what) \
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS, "7 %s undone: works again", what)
#define UNAVAIL(what) \
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_AUTHINFO_UNAVAIL, "7 %s", what)

	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS, "7 baseline");

	snprintf(moved, sizeof(moved), "%s.moved", s.db);
	rename(s.db, moved);
	UNAVAIL("store missing");
	EXPECT_AUTH(&p, "test", ME, "plain password", NULL, PAM_IGNORE,
		    "7 store missing: a plain password is still PAM_IGNORE");
	rename(moved, s.db);
	OK_AGAIN("store missing");

	snprintf(moved, sizeof(moved), "%s.moved", s.key);
	rename(s.key, moved);
	UNAVAIL("key missing");
	EXPECT_AUTH(&p, "test", ME, "plain password", NULL, PAM_IGNORE,
		    "7 key missing: a plain password is still PAM_IGNORE");
	rename(moved, s.key);
	OK_AGAIN("key missing");

	chmod(s.key, 0604);
	UNAVAIL("key readable by others (0604)");
	chmod(s.key, 0620);
	UNAVAIL("key writable by group (0620)");
	chmod(s.key, 0640);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "7 key 0640 (group read is how services are admitted)");
	chmod(s.key, 0600);
	if (!IS_ROOT) {
		chmod(s.key, 0000);
		UNAVAIL("key unreadable (0000, not root)");
		chmod(s.key, 0600);
		OK_AGAIN("key 0000");
	} else {
		th_skip("7 key mode 0000 (root reads it anyway)");
	}

	chmod(s.db, 0620);
	UNAVAIL("store writable by group (0620)");
	chmod(s.db, 0602);
	UNAVAIL("store writable by others (0602)");
	chmod(s.db, 0644);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "7 store 0644 (readable is fine)");
	chmod(s.db, 0600);
	OK_AGAIN("store modes");

	/* Symlinks. */
	snprintf(moved, sizeof(moved), "%s.real", s.db);
	rename(s.db, moved);
	if (symlink(moved, s.db) != 0)
		die("symlink: %s", strerror(errno));
	UNAVAIL("store is a symlink");
	unlink(s.db);
	rename(moved, s.db);
	OK_AGAIN("store symlink");

	snprintf(moved, sizeof(moved), "%s.real", s.key);
	rename(s.key, moved);
	if (symlink(moved, s.key) != 0)
		die("symlink: %s", strerror(errno));
	UNAVAIL("key is a symlink");
	unlink(s.key);
	rename(moved, s.key);
	OK_AGAIN("key symlink");

	/* Not a regular file. */
	snprintf(moved, sizeof(moved), "%s.real", s.db);
	rename(s.db, moved);
	mkdir(s.db, 0700);
	UNAVAIL("store is a directory");
	rmdir(s.db);
	if (mkfifo(s.db, 0600) == 0) {
		UNAVAIL("store is a FIFO (must not hang)");
		unlink(s.db);
	} else {
		th_skip("7 store is a FIFO (mkfifo: %s)", strerror(errno));
	}
	rename(moved, s.db);
	OK_AGAIN("store not a regular file");

	/* Corrupt store: garbage of the same size, same inode and mode. */
	uint8_t *db = slurp(s.db, &dblen);
	uint8_t *junk = malloc(dblen);
	if (!junk || getrandom(junk, dblen, 0) != (ssize_t)dblen)
		die("getrandom");
	rewrite_in_place(s.db, junk, dblen);
	UNAVAIL("store overwritten with random bytes");
	rewrite_in_place(s.db, "", 0);
	UNAVAIL("store truncated to 0 bytes");
	rewrite_in_place(s.db, db, dblen);
	OK_AGAIN("corrupt store");
	free(junk);
	free(db);

	/* Corrupt or replaced key, written in place right after a success
	 * (a cache keyed on size or whole-second mtimes would miss it). */
	uint8_t *key = slurp(s.key, &keylen);
	uint8_t *other = malloc(keylen);
	if (!other || getrandom(other, keylen, 0) != (ssize_t)keylen)
		die("getrandom");
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "7 key about to be replaced: works");
	rewrite_in_place(s.key, other, keylen);
	UNAVAIL("key replaced in place by another key of the same size");
	rewrite_in_place(s.key, key, keylen);
	OK_AGAIN("key replaced");
	rewrite_in_place(s.key, key, keylen > 5 ? 5 : keylen);
	UNAVAIL("key truncated to 5 bytes");
	rewrite_in_place(s.key, "", 0);
	UNAVAIL("key empty");
	rewrite_in_place(s.key, key, keylen);
	OK_AGAIN("key truncated");
	free(other);
	free(key);

	/* Owned by someone else (only root can give a file away). */
	if (IS_ROOT) {
		struct passwd *pw = getpwnam(OTHER);
		if (pw && chown(s.db, pw->pw_uid, (gid_t)-1) == 0) {
			UNAVAIL("store owned by another user");
			if (chown(s.db, 0, (gid_t)-1) != 0)
				perror("chown");
			OK_AGAIN("store owner");
		} else {
			th_skip("7 store owned by another user (cannot chown "
				"to %s)", OTHER);
		}
		if (pw && chown(s.key, pw->pw_uid, (gid_t)-1) == 0) {
			UNAVAIL("key owned by another user");
			if (chown(s.key, 0, (gid_t)-1) != 0)
				perror("chown");
			OK_AGAIN("key owner");
		} else {
			th_skip("7 key owned by another user (cannot chown "
				"to %s)", OTHER);
		}
	} else {
		th_skip("7 store/key owned by another user (needs root)");
	}

	/* 9. The account check of a session whose store went away. */
	sess ss;
	sess_open(&ss, p.alone, "test", ME, t.text, NULL);
	int a = sess_auth(&ss, 0);
	snprintf(moved, sizeof(moved), "%s.moved", s.db);
	rename(s.db, moved);
	int b = sess_acct(&ss, 0);
	rename(moved, s.db);
	sess_close(&ss, b);
	expect_code(a, PAM_SUCCESS, "9 auth before the store vanished");
	expect_code(b, PAM_AUTHINFO_UNAVAIL,
		    "9 pam_acct_mgmt with the store gone");
#undef OK_AGAIN
#undef UNAVAIL
}

/* ------------------------------------------------------------------ */
/* 7. Tampered records                                                  */

/* Apply f to the stored value of id (in place, through GDBM). */
typedef void (*value_fn)(uint8_t *val, size_t *len);

static void tamper(const char *db, const char *id, value_fn f)
{
	GDBM_FILE g = gdbm_open(db, 0, GDBM_WRITER | GDBM_NOMMAP, 0, NULL);
	if (!g)
		die("gdbm_open %s: %s", db, gdbm_strerror(gdbm_errno));
	datum k = { (char *)id, (int)strlen(id) };
	datum v = gdbm_fetch(g, k);
	if (!v.dptr)
		die("gdbm_fetch %s: not found", id);
	uint8_t buf[8192];
	size_t len = (size_t)v.dsize;
	if (len > sizeof(buf) - 64)
		die("record too big");
	memcpy(buf, v.dptr, len);
	free(v.dptr);
	f(buf, &len);
	datum nv = { (char *)buf, (int)len };
	if (gdbm_store(g, k, nv, GDBM_REPLACE) != 0)
		die("gdbm_store: %s", gdbm_strerror(gdbm_errno));
	gdbm_close(g);
}

static void swap_values(const char *db, const char *id1, const char *id2)
{
	GDBM_FILE g = gdbm_open(db, 0, GDBM_WRITER | GDBM_NOMMAP, 0, NULL);
	if (!g)
		die("gdbm_open %s: %s", db, gdbm_strerror(gdbm_errno));
	datum k1 = { (char *)id1, (int)strlen(id1) };
	datum k2 = { (char *)id2, (int)strlen(id2) };
	datum v1 = gdbm_fetch(g, k1), v2 = gdbm_fetch(g, k2);
	if (!v1.dptr || !v2.dptr)
		die("gdbm_fetch for swap");
	if (gdbm_store(g, k1, v2, GDBM_REPLACE) != 0 ||
	    gdbm_store(g, k2, v1, GDBM_REPLACE) != 0)
		die("gdbm_store for swap");
	free(v1.dptr);
	free(v2.dptr);
	gdbm_close(g);
}

/* Offsets from core/record.c's documented layout (a test may know it; if
 * the layout changes these still flip *some* bit and must be refused). */
static void flip_flags(uint8_t *v, size_t *len)
{
	if (*len > 8)
		v[8] ^= 0x01; /* the "revoked" bit */
}

static void clear_expiry(uint8_t *v, size_t *len)
{
	if (*len > 32)
		memset(v + 24, 0, 8); /* expires = 0: never */
}

static void flip_middle(uint8_t *v, size_t *len)
{
	v[*len / 2] ^= 0x10;
}

static void flip_last(uint8_t *v, size_t *len)
{
	v[*len - 1] ^= 0x80;
}

static void drop_last(uint8_t *v, size_t *len)
{
	(void)v;
	(*len)--;
}

static void append_byte(uint8_t *v, size_t *len)
{
	v[(*len)++] = 0;
}

void test_tamper(void)
{
	site s;
	profile p;
	token t, r, a, b;

	site_new(&s, "tamper");
	profile_std(&p, &s, "tamper", NULL, NULL);
	site_init(&s, &p, false);
	MINT(&t, p.conf, "--name", "victim", "--user", ME);
	MINT(&r, p.conf, "--name", "revoked", "--user", ME);
	MINT(&a, p.conf, "--name", "a", "--user", ME);
	MINT(&b, p.conf, "--name", "b", "--user", OTHER);
	ADMIN(p.conf, "revoke", r.id);

	EXPECT_AUTH(&p, "test", ME, r.text, NULL, PAM_AUTH_ERR,
		    "7 tamper baseline: revoked token refused");
	tamper(s.db, r.id, flip_flags);
	EXPECT_AUTH(&p, "test", ME, r.text, NULL, PAM_AUTHINFO_UNAVAIL,
		    "7 tampered record: revoked bit cleared");

	if (FAKETIME) {
		token e;
		MINT_FT(&e, p.conf, "-2d", "--name", "expired", "--user", ME,
			"--expires", "1d");
		EXPECT_AUTH(&p, "test", ME, e.text, NULL, PAM_AUTH_ERR,
			    "7 tamper baseline: expired token refused");
		tamper(s.db, e.id, clear_expiry);
		EXPECT_AUTH(&p, "test", ME, e.text, NULL, PAM_AUTHINFO_UNAVAIL,
			    "7 tampered record: expiry set to never");
	} else {
		th_skip("7 tampered expiry (no faketime)");
	}

	/* The rest on copies of a good record, one change each. */
	static const struct {
		const char *what;
		value_fn f;
	} changes[] = {
		{ "one bit flipped in the middle", flip_middle },
		{ "one bit flipped in the MAC", flip_last },
		{ "last byte cut off", drop_last },
		{ "one byte appended", append_byte },
	};
	char saved[PATH_MAX + 16];
	snprintf(saved, sizeof(saved), "%s.saved", s.db);
	copy_file(s.db, saved);
	for (size_t i = 0; i < sizeof(changes) / sizeof(changes[0]); i++) {
		tamper(s.db, t.id, changes[i].f);
		EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_AUTHINFO_UNAVAIL,
			    "7 tampered record: %s", changes[i].what);
		copy_file(saved, s.db);
		EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS,
			    "7 record restored after: %s", changes[i].what);
	}

	/* Swap two records: each id now holds the other's (valid) record. */
	EXPECT_AUTH(&p, "test", OTHER, b.text, NULL, PAM_SUCCESS,
		    "7 swap baseline: %s's token", OTHER);
	swap_values(s.db, a.id, b.id);
	EXPECT_AUTH(&p, "test", ME, a.text, NULL, PAM_AUTHINFO_UNAVAIL,
		    "7 records swapped between ids: token a");
	EXPECT_AUTH(&p, "test", OTHER, b.text, NULL, PAM_AUTHINFO_UNAVAIL,
		    "7 records swapped between ids: token b");
	EXPECT_AUTH(&p, "test", OTHER, a.text, NULL, PAM_AUTHINFO_UNAVAIL,
		    "7 records swapped: token a presented as %s", OTHER);
	copy_file(saved, s.db);
	EXPECT_AUTH(&p, "test", ME, a.text, NULL, PAM_SUCCESS,
		    "7 swap undone: token a works again");
	unlink(saved);
}

/* ------------------------------------------------------------------ */
/* 8. Invalid configuration                                             */

void test_bad_config(const site *s, const profile *good)
{
	token t;
	profile p;
	char text[8192], args[2 * PATH_MAX];

	MINT(&t, good->conf, "--name", "badconf", "--user", ME);
	EXPECT_AUTH(good, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "8 baseline with the good config");

	static const struct {
		const char *name, *extra;
	} bad[] = {
		{ "unknown key", "frobnicate = yes" },
		{ "bad value (allow_from 10.0.0.0/33)", "allow_from = 10.0.0.0/33" },
		{ "bad value (max_tokens_per_user = ten)", "max_tokens_per_user = ten" },
		{ "bad value (prefix with _)", "prefix = a_b" },
		{ "bad value (deny_services with /)", "deny_services = su/do" },
		{ "duplicate key", "admin_group = root" },
		{ "line without =", "allow_from" },
		{ "bad max_lifetime", "[group x]\nmax_lifetime = forever" },
		{ "unknown section", "[users]" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[32];
		snprintf(name, sizeof(name), "bad%zu", i);
		base_conf(s, text, sizeof(text), bad[i].extra);
		profile_conf(&p, s, name, text, NULL);
		EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SERVICE_ERR,
			    "8 config with %s", bad[i].name);
		EXPECT_AUTH(&p, "test", ME, "plain password", NULL,
			    PAM_SERVICE_ERR,
			    "8 config with %s, plain password", bad[i].name);
	}

	/* A config others may write would let them widen the rules. */
	base_conf(s, text, sizeof(text), NULL);
	profile_conf(&p, s, "gw", text, NULL);
	chmod(p.conf, 0664);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SERVICE_ERR,
		    "8 config writable by group (0664)");
	chmod(p.conf, 0644);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "8 same config at 0644 works");

	/* conf= that does not name a usable file. */
	snprintf(args, sizeof(args), "conf=%s/no-such.conf", s->dir);
	profile_args(&p, s, "missing-conf", args);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SERVICE_ERR,
		    "8 conf= names a missing file");
	profile_args(&p, s, "relative-conf", "conf=tests/pam_apitoken.conf");
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SERVICE_ERR,
		    "8 conf= relative path");
	profile_args(&p, s, "empty-conf", "conf=");
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SERVICE_ERR,
		    "8 conf= empty");
	snprintf(args, sizeof(args), "conf=%s db=store/tokens.db", good->conf);
	profile_args(&p, s, "relative-db", args);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SERVICE_ERR,
		    "8 db= relative path");
	snprintf(args, sizeof(args), "conf=%s", s->dir);
	profile_args(&p, s, "dir-conf", args);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SERVICE_ERR,
		    "8 conf= names a directory");

	/* db= overrides the config's store (positive case). */
	PATHF(text, "db = %s/elsewhere.db\nkey = %s\n", s->dir, s->key);
	snprintf(args, sizeof(args), "db=%s", s->db);
	profile_conf(&p, s, "db-override", text, args);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "10 db= overrides the config's db");
	profile_conf(&p, s, "db-nooverride", text, NULL);
	EXPECT_AUTH(&p, "test", ME, t.text, NULL, PAM_AUTHINFO_UNAVAIL,
		    "10 the same config without db= has no store");
}
