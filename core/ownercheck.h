/* Whose token is it, and who stands behind it? The checks record format 2
 * made possible (issue: review findings, parts 2 and 5):
 *  - the token is bound to its owner's uid, not only to a name: a name
 *    that now maps to another uid (an account deleted and made again, a
 *    host whose uid for the name differs) or to none is refused;
 *  - a token a member of admin_group who is not root issued for a service
 *    account lives only while its issuer is still in admin_group, and is
 *    never good for uid 0.
 * The name service is reached through an owner_lookup, so the decision can
 * be tested with any answer (tests/test_ownercheck.c); the module and
 * tokenadm use owner_lookup_nss. */
#ifndef APITOKEN_OWNERCHECK_H
#define APITOKEN_OWNERCHECK_H

#include <stdint.h>

#include "config.h"
#include "record.h"

typedef struct owner_lookup {
	/* The uid of user: 1 (found, *uid set), 0 (no such user), -1. */
	int (*uid_of)(void *ctx, const char *user, uint32_t *uid);
	/* Is the account uid in group: 1, 0 (not, or no such account or
	 * group), -1 (the name service failed). */
	int (*uid_in_group)(void *ctx, uint32_t uid, const char *group);
	void *ctx;
} owner_lookup;

extern const owner_lookup owner_lookup_nss;

/* 0 when rec passes; else -1 with *reason a static string (for the log,
 * list and verify). Makes no lookup for a record that needs none (uid
 * binding "name", no RECORD_ADMIN_ISSUED). */
int owner_check(const apitoken_config *cfg, const token_record *rec,
		const owner_lookup *lk, const char **reason);

/* The issuer of an RECORD_ADMIN_ISSUED token is still in admin_group:
 * 1, 0 (left it, gone, or no admin_group configured), -1 (cannot tell). */
int owner_issuer_standing(const apitoken_config *cfg, const token_record *rec,
			  const owner_lookup *lk);

#endif
