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
	if (trusted_fd_check(fd, level, err, errlen) != 0) {
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
