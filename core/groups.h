/* Group membership, for the [group] policy and admin_group. Reentrant NSS
 * calls only: the module runs in threaded hosts. */
#ifndef APITOKEN_GROUPS_H
#define APITOKEN_GROUPS_H

#include <stdint.h>

#include "config.h"

/* 1 if user is in group (primary or supplementary), 0 if not (or either
 * does not exist), -1 if NSS failed. */
int user_in_group(const char *user, const char *group);

/* The [group] sections user belongs to: 1 and the most generous
 * max_lifetime in *lifetime (LIFETIME_NEVER beats any duration), 0 if in
 * none, -1 on NSS failure. */
int user_allowed_lifetime(const apitoken_config *cfg, const char *user,
			  int64_t *lifetime);

#endif
