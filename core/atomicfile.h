/* Writing a file whole or not at all: a temporary file beside the target,
 * made durable, then renamed over it.
 *
 * Every file the project writes (site key, store, last-use records) is
 * written this way, so that a reader sees the old file or the new one,
 * never half of either, and a crash or a full disk never leaves a short
 * file under the real name that every later run would refuse. */
#ifndef APITOKEN_ATOMICFILE_H
#define APITOKEN_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

/* A temporary file is named <target>.tmp.<16 random hex digits>. The
 * store's writers remove a crashed writer's debris by this prefix. */
#define ATOMIC_TMP_INFIX ".tmp."

enum {
	/* Fail (EEXIST) rather than replace an existing target: the site
	 * key and a new store must never overwrite what is there. */
	ATOMIC_NOREPLACE = 1u << 0,
	/* No fsync of the file or its directory: for best-effort records
	 * written during a login (last use), which must not wait for the
	 * disk. A crash may lose such a write, never tear it. */
	ATOMIC_NO_SYNC = 1u << 1,
	/* The process umask filters mode, as it does open(2)'s, instead of
	 * the mode being set exactly. */
	ATOMIC_UMASK = 1u << 2,
};

typedef struct atomic_file {
	int fd;         /* the temporary file, open read-write: write here */
	int dirfd;      /* the directory both names live in */
	unsigned flags;
	size_t base;    /* where the last component starts in both paths */
	char *path;     /* the target as the caller named it (messages) */
	char *tmppath;  /* the temporary file, named the same way */
} atomic_file;

/* Create a fresh temporary file for path (relative to dirfd, or to the
 * working directory with AT_FDCWD): a random name, O_EXCL|O_NOFOLLOW so a
 * name planted in advance (a symlink, a hard link to a file we may write)
 * makes us give up rather than write through it. Its group is set to gid
 * unless (gid_t)-1, then its mode to mode (never more than 0755: no
 * group or other write, no set-id bits), all on the open fd before the
 * caller writes a byte. Returns 0, or -1 with errno and a reason in err;
 * on -1 nothing is left behind. */
int atomic_create(atomic_file *af, int dirfd, const char *path, mode_t mode,
		  gid_t gid, unsigned flags, char *err, size_t errlen);

/* fsync the file, close it, rename it over the target (or beside nothing,
 * with ATOMIC_NOREPLACE) and fsync the directory. The rename is the
 * commit: a later failure to sync the directory is not reported, since
 * readers already see the new file. Returns 0, or -1 with errno and err,
 * the temporary file removed and the target untouched. Either way af is
 * finished with. */
int atomic_commit(atomic_file *af, char *err, size_t errlen);

/* Close and remove the temporary file; the target is untouched. Harmless
 * on an af that atomic_create failed on or that is finished with. */
void atomic_abort(atomic_file *af);

#endif
