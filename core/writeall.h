/* Writing a whole buffer to a descriptor. */
#ifndef APITOKEN_WRITEALL_H
#define APITOKEN_WRITEALL_H

#include <stddef.h>

/* Write all n bytes of p to fd, going on after a short write or EINTR
 * (a pipe or a full disk may take fewer bytes than asked). Returns 0, or
 * -1 with errno (EIO for a write that took nothing). */
int write_all(int fd, const void *p, size_t n);

#endif
