#include "ownercheck.h"

#include <stdlib.h>
#include <string.h>

#include "groups.h"

static int nss_uid_of(void *ctx, const char *user, uint32_t *uid)
{
	struct passwd pw;
	char *buf = NULL;

	(void)ctx;
	int r = lookup_user(user, 0, &pw, &buf);
	if (r == 1)
		*uid = (uint32_t)pw.pw_uid;
	free(buf);
	return r;
}

static int nss_uid_in_group(void *ctx, uint32_t uid, const char *group)
{
	struct passwd pw;
	char *buf = NULL;

	(void)ctx;
	int r = lookup_user(NULL, (uid_t)uid, &pw, &buf);
	if (r == 1)
		r = passwd_in_group(&pw, group);
	free(buf);
	return r;
}

const owner_lookup owner_lookup_nss = { nss_uid_of, nss_uid_in_group, NULL };

int owner_issuer_standing(const apitoken_config *cfg, const token_record *rec,
			  const owner_lookup *lk)
{
	if (!cfg->admin_group)
		return 0;
	return lk->uid_in_group(lk->ctx, rec->creator_uid, cfg->admin_group);
}

int owner_check(const apitoken_config *cfg, const token_record *rec,
		const owner_lookup *lk, const char **reason)
{
	uint32_t uid = RECORD_UID_UNKNOWN;
	int found = 0;

	/* The authority's judgement, carried by the bundle: an import-only
	 * host cannot see the authority's admin_group. */
	if (rec->flags & RECORD_ISSUER_LAPSED) {
		*reason = "its issuer is no longer in admin_group";
		return -1;
	}
	if (cfg->uid_binding != UID_BINDING_NAME ||
	    (rec->flags & RECORD_ADMIN_ISSUED)) {
		found = lk->uid_of(lk->ctx, rec->user, &uid);
		if (found < 0) {
			*reason = "owner account lookup failed";
			return -1;
		}
	}
	if (cfg->uid_binding != UID_BINDING_NAME) {
		if (rec->owner_uid == RECORD_UID_UNKNOWN) {
			*reason = rec->version == RECORD_VERSION_V1 ?
					  "not bound to an account yet (a "
					  "format-1 record: tokenadm init "
					  "upgrades the store)" :
					  "not bound to an account (the owner "
					  "had none when it was bound)";
			return -1;
		}
		if (found == 0) {
			*reason = "owner account no longer exists";
			return -1;
		}
		if (uid != rec->owner_uid) {
			*reason = "owner name now belongs to another uid than "
				  "the token's (account made again?)";
			return -1;
		}
	}
	if (rec->flags & RECORD_ADMIN_ISSUED) {
		/* Never root, whatever the name says now or said then. */
		if ((found == 1 && uid == 0) || rec->owner_uid == 0) {
			*reason = "issued for uid 0 by an administrator who is "
				  "not root";
			return -1;
		}
		/* On an import-only host the authority judged the issuer
		 * (RECORD_ISSUER_LAPSED above); here nobody can. */
		if (cfg->role == ROLE_AUTHORITY) {
			int standing = owner_issuer_standing(cfg, rec, lk);
			if (standing < 0) {
				*reason = "issuer's group membership lookup "
					  "failed";
				return -1;
			}
			if (standing == 0) {
				*reason = "its issuer is no longer in "
					  "admin_group";
				return -1;
			}
		}
	}
	return 0;
}
