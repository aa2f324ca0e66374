/* Deciding whether a file may be trusted before reading it.
 *
 * The store, the site key and the config decide who gets in, so each is
 * opened without following symlinks and checked on the open descriptor
 * (no check-then-open race) before a byte of it is believed. */
#ifndef APITOKEN_FILEPERM_H
#define APITOKEN_FILEPERM_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
	TRUST_WRITABLE_BY_OWNER_ONLY = 0, /* store, config: no g+w, o+w */
	TRUST_SECRET = 1,                 /* key: also no o+r (group read is
					     how services are admitted) */
} trust_level;

/* Open path read-only with O_NOFOLLOW|O_CLOEXEC|O_NOCTTY|O_NONBLOCK (so a
 * FIFO cannot hang us; the flag is cleared again) and check: a regular
 * file, owned by root or the effective uid, no group/other write, and for
 * TRUST_SECRET no other-read; and its directory owned by root or the
 * effective uid and not writable by group or others unless sticky. Returns the fd, or -1 with errno set
 * (ELOOP for a symlink, EISDIR/EINVAL for a non-regular file, EPERM for bad
 * owner or mode) and a human reason in err. */
int trusted_open(const char *path, trust_level level, char *err,
		 size_t errlen);

/* The same checks on an already open fd. Returns 0 or -1 (errno, err). */
int trusted_fd_check(int fd, trust_level level, char *err, size_t errlen);

#endif
