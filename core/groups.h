/* Users and group membership, for the [group] policy and admin_group.
 * Reentrant NSS calls only: the module runs in threaded hosts. */
#ifndef APITOKEN_GROUPS_H
#define APITOKEN_GROUPS_H

#include <pwd.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

/* The passwd entry of name, or of uid when name is NULL, its strings kept
 * in *buf (NULL, or a buffer an earlier call left): a heap buffer grown as
 * NSS needs, since no fixed size suits every NSS source. The caller frees
 * it, found or not. Returns 1 (found), 0 (no such user) or -1 (NSS
 * failed, no memory). */
int lookup_user(const char *name, uid_t uid, struct passwd *pw, char **buf);

/* 1 if user is in group (primary or supplementary), 0 if not (or either
 * does not exist), -1 if NSS failed. */
int user_in_group(const char *user, const char *group);

/* The same for an account already looked up (pw from lookup_user), so a
 * caller that has its entry does not ask NSS for it again. */
int passwd_in_group(const struct passwd *pw, const char *group);

/* The [group] sections user belongs to: 1 and the most generous
 * max_lifetime in *lifetime (LIFETIME_NEVER beats any duration), 0 if in
 * none, -1 on NSS failure. */
int user_allowed_lifetime(const apitoken_config *cfg, const char *user,
			  int64_t *lifetime);

#endif
