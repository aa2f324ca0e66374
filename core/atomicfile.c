#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secure.h"

#define TMP_RANDOM_BYTES 8

static void release(atomic_file *af, int unlink_tmp)
{
	int e = errno;

	if (af->fd >= 0)
		close(af->fd);
	if (unlink_tmp && af->tmppath)
		unlinkat(af->dirfd, af->tmppath + af->base, 0);
	if (af->dirfd >= 0)
		close(af->dirfd);
	free(af->path);
	free(af->tmppath);
	memset(af, 0, sizeof(*af));
	af->fd = af->dirfd = -1;
	errno = e;
}

/* The directory path names, as an fd: the temporary file is created, the
 * rename done and the directory synced all through it, so they happen in
 * one directory even if a path component is swapped meanwhile. */
static int open_parent(int dirfd, const char *path, size_t base)
{
	if (base == 0)
		return dirfd == AT_FDCWD ?
			       open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) :
			       fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
	if (base == 1)
		return openat(dirfd, "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *dir = strndup(path, base - 1);
	if (!dir)
		return -1;
	int fd = openat(dirfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	return fd;
}

static int set_up(atomic_file *af, mode_t mode, gid_t gid)
{
	struct stat st;

	/* O_EXCL made it, so it is ours alone: confirm rather than assume,
	 * as a shared directory is exactly where a surprise would hurt. */
	if (fstat(af->fd, &st) != 0)
		return -1;
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    st.st_uid != geteuid()) {
		errno = EPERM;
		return -1;
	}
	/* Group before mode: a chown may clear mode bits. Both through the
	 * fd, never the path (which could be swapped). */
	if (gid != (gid_t)-1 && fchown(af->fd, (uid_t)-1, gid) != 0)
		return -1;
	if (!(af->flags & ATOMIC_UMASK) && fchmod(af->fd, mode) != 0)
		return -1;
	return 0;
}

int atomic_create(atomic_file *af, int dirfd, const char *path, mode_t mode,
		  gid_t gid, unsigned flags, char *err, size_t errlen)
{
	unsigned char rnd[TMP_RANDOM_BYTES];
	const char *slash = strrchr(path, '/');
	size_t plen = strlen(path), ilen = strlen(ATOMIC_TMP_INFIX);

	memset(af, 0, sizeof(*af));
	af->fd = af->dirfd = -1;
	af->flags = flags;
	af->base = slash ? (size_t)(slash - path) + 1 : 0;
	/* Never group- or world-writable, never set-id, whatever the caller
	 * (or the live file it copies) had. */
	mode &= 0755;
	if (af->base == plen) {
		snprintf(err, errlen, "cannot create %s: not a file name", path);
		errno = EINVAL;
		return -1;
	}
	af->path = strdup(path);
	af->tmppath = malloc(plen + ilen + 2 * sizeof(rnd) + 1);
	if (!af->path || !af->tmppath) {
		snprintf(err, errlen, "out of memory");
		release(af, 0);
		errno = ENOMEM;
		return -1;
	}
	/* Random, so that threads and processes writing the same target
	 * never share a temporary file, and nobody can plant its name. */
	if (secure_random(rnd, sizeof(rnd)) != 0) {
		snprintf(err, errlen, "getrandom: %s", strerror(errno));
		release(af, 0);
		return -1;
	}
	char *p = af->tmppath;
	memcpy(p, path, plen);
	memcpy(p + plen, ATOMIC_TMP_INFIX, ilen);
	p += plen + ilen;
	secure_hex_encode(rnd, sizeof(rnd), p);
	p[2 * sizeof(rnd)] = '\0';

	af->dirfd = open_parent(dirfd, path, af->base);
	if (af->dirfd < 0) {
		snprintf(err, errlen, "cannot open the directory of %s: %s",
			 path, strerror(errno));
		release(af, 0);
		return -1;
	}
	af->fd = openat(af->dirfd, af->tmppath + af->base,
			O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			(flags & ATOMIC_UMASK) ? mode : 0600);
	if (af->fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", af->tmppath,
			 strerror(errno));
		release(af, 0);
		return -1;
	}
	if (set_up(af, mode, gid) != 0) {
		snprintf(err, errlen, "cannot set mode of %s: %s", af->tmppath,
			 strerror(errno));
		release(af, 1);
		return -1;
	}
	return 0;
}

int atomic_commit(atomic_file *af, char *err, size_t errlen)
{
	int sync = !(af->flags & ATOMIC_NO_SYNC);
	const char *tmp = af->tmppath + af->base, *name = af->path + af->base;

	/* Durable first, visible second. */
	int ok = !sync || fsync(af->fd) == 0;
	ok = close(af->fd) == 0 && ok;
	af->fd = -1;
	if (!ok) {
		snprintf(err, errlen, "cannot write %s: %s", af->tmppath,
			 strerror(errno));
		release(af, 1);
		return -1;
	}
	int rc = (af->flags & ATOMIC_NOREPLACE) ?
			 renameat2(af->dirfd, tmp, af->dirfd, name,
				   RENAME_NOREPLACE) :
			 renameat(af->dirfd, tmp, af->dirfd, name);
	if (rc != 0) {
		snprintf(err, errlen, "cannot %s %s: %s",
			 (af->flags & ATOMIC_NOREPLACE) ? "create" : "replace",
			 af->path, strerror(errno));
		release(af, 1);
		return -1;
	}
	/* The rename was the commit: a failed directory fsync only weakens
	 * durability across a power cut, and reporting "nothing changed"
	 * now would be a lie. */
	if (sync)
		(void)fsync(af->dirfd);
	release(af, 0);
	return 0;
}

void atomic_abort(atomic_file *af)
{
	release(af, 1);
}
