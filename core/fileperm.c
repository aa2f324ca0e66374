#include "fileperm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int trusted_fd_check(int fd, trust_level level, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "cannot stat: %m");
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "is a directory");
		errno = EISDIR;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "is not a regular file");
		errno = EINVAL;
		return -1;
	}
	/* Root's files, or our own (tests and private stores run unprivileged).
	 * Anyone else could rewrite it between our checks and our reads. */
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "is owned by uid %u, not root",
			 (unsigned)st.st_uid);
		errno = EPERM;
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "is writable by group or others (mode %04o)",
			 (unsigned)(st.st_mode & 07777));
		errno = EPERM;
		return -1;
	}
	if (level == TRUST_SECRET && (st.st_mode & S_IROTH)) {
		snprintf(err, errlen, "is readable by others (mode %04o)",
			 (unsigned)(st.st_mode & 07777));
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* The directory holding path: whoever may write there may replace the
 * file with one of their own between two opens, or squat on the name
 * before it exists. It must belong to root (or us) and be writable by
 * nobody else, unless it is sticky (like /tmp: others cannot rename or
 * delete our files there). */
static int parent_trusted(const char *path, char *err, size_t errlen)
{
	char dir[4096];
	struct stat st;
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	else {
		snprintf(err, errlen, "has too long a directory name");
		errno = ENAMETOOLONG;
		return -1;
	}
	if (stat(dir, &st) != 0) {
		snprintf(err, errlen, "cannot stat its directory: %s",
			 strerror(errno));
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen, "is in a directory owned by uid %u",
			 (unsigned)st.st_uid);
		errno = EPERM;
		return -1;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
		snprintf(err, errlen,
			 "is in a directory writable by group or others");
		errno = EPERM;
		return -1;
	}
	return 0;
}

int trusted_open(const char *path, trust_level level, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
				    O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			snprintf(err, errlen, "is a symbolic link");
		else
			snprintf(err, errlen, "cannot open: %s", strerror(e));
		errno = e;
		return -1;
	}
	if (trusted_fd_check(fd, level, err, errlen) != 0 ||
	    parent_trusted(path, err, errlen) != 0) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	/* Regular file confirmed: ordinary blocking reads from here on. */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
		int e = errno;
		snprintf(err, errlen, "fcntl: %s", strerror(e));
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}
