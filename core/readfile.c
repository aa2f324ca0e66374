#include "readfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileperm.h"
#include "secure.h"

static int too_big(size_t max, char *err, size_t errlen)
{
	snprintf(err, errlen, "is larger than %zu bytes", max);
	errno = EFBIG;
	return -1;
}

/* Open path and run the checks flags ask for, and that it holds at most
 * max bytes now. Returns the fd or -1. */
static int open_checked(int dirfd, const char *path, unsigned flags,
			size_t max, struct stat *st, char *err, size_t errlen)
{
	int fd;

	if (flags & (READ_TRUSTED | READ_SECRET)) {
		if (dirfd != AT_FDCWD) {
			snprintf(err, errlen, "cannot be checked here");
			errno = EINVAL;
			return -1;
		}
		fd = trusted_open(path, (flags & READ_SECRET) ? TRUST_SECRET :
					TRUST_WRITABLE_BY_OWNER_ONLY,
				  err, errlen);
		if (fd < 0)
			return -1;
	} else {
		fd = openat(dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
						 O_NOCTTY | O_NONBLOCK);
		if (fd < 0) {
			int e = errno;
			if (e == ELOOP)
				snprintf(err, errlen, "is a symbolic link");
			else
				snprintf(err, errlen, "cannot open: %s",
					 strerror(e));
			errno = e;
			return -1;
		}
	}
	int e = 0;
	if (fstat(fd, st) != 0) {
		e = errno;
		snprintf(err, errlen, "cannot stat: %s", strerror(e));
	} else if (!S_ISREG(st->st_mode)) {
		e = EINVAL;
		snprintf(err, errlen, "is not a regular file");
	} else if ((flags & READ_ONE_LINK) && st->st_nlink != 1) {
		e = EMLINK;
		snprintf(err, errlen, "has more than one link");
	} else if ((flags & READ_OWNER_ONLY) && (st->st_mode & 077) != 0) {
		e = EPERM;
		snprintf(err, errlen,
			 "is open to group or others (mode %04o): it must be "
			 "0600 or stricter",
			 (unsigned)(st->st_mode & 07777));
	}
	if (e) {
		close(fd);
		errno = e;
		return -1;
	}
	if (st->st_size < 0 || (uintmax_t)st->st_size > max) {
		close(fd);
		return too_big(max, err, errlen);
	}
	return fd;
}

/* Resize to n bytes. A secret is never left behind by realloc: it moves
 * to a fresh buffer and the old one is wiped. */
static int resize(file_data *f, size_t n)
{
	char *p;

	if (f->secret) {
		p = malloc(n);
		if (p && f->data) {
			memcpy(p, f->data, f->len);
			secure_free(f->data, f->cap);
		}
	} else {
		p = realloc(f->data, n);
	}
	if (!p)
		return -1;
	f->data = p;
	f->cap = n;
	return 0;
}

int read_file(int dirfd, const char *path, size_t max, unsigned flags,
	      file_data *out, char *err, size_t errlen)
{
	struct stat st;
	file_data f = { .secret = (flags & READ_SECRET) != 0 };

	memset(out, 0, sizeof(*out));
	/* Room for max + 2 bytes must not wrap. */
	if (max > SIZE_MAX / 2) {
		snprintf(err, errlen, "cannot be read: limit too large");
		errno = EINVAL;
		return -1;
	}
	int fd = open_checked(dirfd, path, flags, max, &st, err, errlen);
	if (fd < 0)
		return -1;
	/* The size may change under us: read until EOF, never more than max
	 * plus one byte (to notice a file that grew), and keep a byte for
	 * the NUL. */
	size_t cap = (size_t)st.st_size + 2;
	int e = 0;
	if (resize(&f, cap) != 0)
		e = ENOMEM;
	while (!e) {
		if (f.len + 1 >= f.cap) {
			if (f.cap > max + 1)
				break;
			cap = f.cap * 2 < max + 2 ? f.cap * 2 : max + 2;
			if (resize(&f, cap) != 0) {
				e = ENOMEM;
				break;
			}
		}
		ssize_t got = read(fd, f.data + f.len, f.cap - 1 - f.len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			e = errno;
		else if (got == 0)
			break;
		else
			f.len += (size_t)got;
	}
	close(fd);
	if (e) {
		file_data_free(&f);
		snprintf(err, errlen, "cannot read: %s", strerror(e));
		errno = e;
		return -1;
	}
	if (f.len > max) {
		file_data_free(&f);
		return too_big(max, err, errlen);
	}
	f.data[f.len] = '\0';
	*out = f;
	return 0;
}

int read_file_buf(int dirfd, const char *path, unsigned flags, char *buf,
		  size_t bufsz, size_t *len, char *err, size_t errlen)
{
	struct stat st;

	*len = 0;
	if (bufsz < 2) {
		snprintf(err, errlen, "cannot be read: buffer too small");
		errno = EINVAL;
		return -1;
	}
	/* One byte to notice a file that grew past max, one for the NUL. */
	size_t max = bufsz - 2;
	buf[0] = '\0';
	int fd = open_checked(dirfd, path, flags, max, &st, err, errlen);
	if (fd < 0)
		return -1;
	/* Usually one read: it stops once the size fstat saw is in, rather
	 * than pay a second call to see EOF (this is on the login path). A
	 * size of 0 proves nothing (procfs), so such a file is read to EOF. */
	size_t n = 0;
	int e = 0;
	while (n <= max) {
		ssize_t got = read(fd, buf + n, max + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			e = errno;
			break;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (st.st_size > 0 && n >= (size_t)st.st_size)
			break;
	}
	close(fd);
	if (e) {
		buf[0] = '\0';
		snprintf(err, errlen, "cannot read: %s", strerror(e));
		errno = e;
		return -1;
	}
	if (n > max) {
		buf[0] = '\0';
		return too_big(max, err, errlen);
	}
	buf[n] = '\0';
	*len = n;
	return 0;
}

void file_data_free(file_data *f)
{
	if (f->secret)
		secure_free(f->data, f->cap);
	else
		free(f->data);
	memset(f, 0, sizeof(*f));
}
