/* Reading a whole small file (config, site key, a last-use record) into
 * memory, bounded, after checking what it is on the open descriptor. */
#ifndef APITOKEN_READFILE_H
#define APITOKEN_READFILE_H

#include <stdbool.h>
#include <stddef.h>

enum {
	/* trusted_open's checks (fileperm.h) at TRUST_WRITABLE_BY_OWNER_ONLY:
	 * a file that decides who gets in (the config). */
	READ_TRUSTED = 1u << 0,
	/* trusted_open's checks at TRUST_SECRET, and the contents are a
	 * secret: every copy is wiped before it is freed (the site key). */
	READ_SECRET = 1u << 1,
	/* Exactly one link: in a directory others may write (last-use
	 * records), a hard link to some other file is not ours to read. */
	READ_ONE_LINK = 1u << 2,
	/* No permission bits for group or others, checked on the open
	 * descriptor (EPERM): READ_SECRET lets group read a secret (how
	 * services share the site key), a signing key is its owner's alone. */
	READ_OWNER_ONLY = 1u << 3,
};

typedef struct file_data {
	char *data;  /* len bytes and a NUL after them */
	size_t len;
	size_t cap;  /* bytes allocated (what a secret's wipe covers) */
	bool secret;
} file_data;

/* Read all of path (relative to dirfd, or AT_FDCWD; READ_TRUSTED and
 * READ_SECRET check the path's directory too, so they take AT_FDCWD
 * only). Opened with O_NOFOLLOW|O_CLOEXEC|O_NOCTTY|O_NONBLOCK (a FIFO
 * cannot hang us) and always required to be a regular file. A file larger
 * than max bytes, or one that grows past max while being read, is refused
 * with EFBIG. Returns 0, or -1 with errno and a reason in err that reads
 * after the file's name ("is a symbolic link", "cannot read: ..."); on -1
 * out holds nothing to free. */
int read_file(int dirfd, const char *path, size_t max, unsigned flags,
	      file_data *out, char *err, size_t errlen);

/* The same checks into the caller's buf, without an allocation, for a
 * short file read often (a last-use record, on every login): up to
 * bufsz - 2 bytes of contents and a NUL after them, *len their number.
 * It reads until it has the size fstat reported, not until EOF, so the
 * common case is a single read(). The buffer is the caller's: with
 * READ_SECRET, so is wiping it. Returns 0, or -1 with errno and err as
 * read_file, and an empty string in buf. */
int read_file_buf(int dirfd, const char *path, unsigned flags, char *buf,
		  size_t bufsz, size_t *len, char *err, size_t errlen);

/* Free (wiping first if secret) and zero; a zeroed f is fine. */
void file_data_free(file_data *f);

#endif
