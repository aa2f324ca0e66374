/* owner_check (core/ownercheck.c) with an injected name service: every
 * answer the real one can give (found with this or another uid, no such
 * user, a failure), on the authority and on an import-only host, for each
 * uid_binding. The real accounts are in test_permissions.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "ownercheck.h"
#include "record.h"

#include "harness.h"

typedef struct fake {
	int found;        /* what uid_of answers */
	uint32_t uid;
	int in_group;     /* what uid_in_group answers */
	int uid_calls, group_calls;
} fake;

static int fake_uid_of(void *ctx, const char *user, uint32_t *uid)
{
	fake *f = ctx;
	(void)user;
	f->uid_calls++;
	if (f->found == 1)
		*uid = f->uid;
	return f->found;
}

static int fake_in_group(void *ctx, uint32_t uid, const char *group)
{
	fake *f = ctx;
	(void)uid;
	(void)group;
	f->group_calls++;
	return f->in_group;
}

static int run(const apitoken_config *cfg, const token_record *rec, fake *f,
	       const char **why)
{
	owner_lookup lk = { fake_uid_of, fake_in_group, f };
	*why = "";
	return owner_check(cfg, rec, &lk, why);
}

int main(void)
{
	apitoken_config cfg;
	token_record rec;
	const char *why;

	if (config_defaults(&cfg) != 0)
		return 1;
	cfg.admin_group = strdup("admins");
	memset(&rec, 0, sizeof(rec));
	strcpy(rec.user, "alice");
	rec.owner_uid = 1000;
	rec.creator_uid = 1000;
	rec.version = RECORD_VERSION_MAX;

	/* uid binding (local, the default) */
	fake f = { 1, 1000, 1, 0, 0 };
	CHECK(run(&cfg, &rec, &f, &why) == 0, "same uid refused: %s", why);
	f.uid = 1001;
	CHECK(run(&cfg, &rec, &f, &why) != 0 && strstr(why, "another uid"),
	      "another uid accepted (%s)", why);
	f.found = 0;
	CHECK(run(&cfg, &rec, &f, &why) != 0 &&
		      strcmp(why, "owner account no longer exists") == 0,
	      "no account accepted (%s)", why);
	f.found = -1;
	CHECK(run(&cfg, &rec, &f, &why) != 0 && strstr(why, "lookup failed"),
	      "NSS failure accepted (%s)", why);
	f = (fake){ 1, 1000, 1, 0, 0 };
	rec.owner_uid = RECORD_UID_UNKNOWN;
	CHECK(run(&cfg, &rec, &f, &why) != 0 && strstr(why, "not bound"),
	      "unbound accepted (%s)", why);
	rec.version = RECORD_VERSION_V1;
	CHECK(run(&cfg, &rec, &f, &why) != 0 && strstr(why, "tokenadm init"),
	      "format 1 unbound: %s", why);
	/* (uid_t)-1 as the name's uid still does not match "unknown" */
	f.uid = RECORD_UID_UNKNOWN;
	CHECK(run(&cfg, &rec, &f, &why) != 0, "uid -1 matched unknown");
	rec.version = RECORD_VERSION_MAX;
	rec.owner_uid = 1000;
	f = (fake){ 1, 1000, 1, 0, 0 };

	/* uid_binding = authority compares the same field (what the bundle
	 * carried); name turns it off and makes no lookup at all */
	cfg.uid_binding = UID_BINDING_AUTHORITY;
	f.uid = 1001;
	CHECK(run(&cfg, &rec, &f, &why) != 0, "authority: another uid accepted");
	cfg.uid_binding = UID_BINDING_NAME;
	f.uid_calls = 0;
	CHECK(run(&cfg, &rec, &f, &why) == 0 && f.uid_calls == 0,
	      "name: refused or looked up (%d calls)", f.uid_calls);
	cfg.uid_binding = UID_BINDING_LOCAL;

	/* an administrator's (not root's) token for a service account */
	f = (fake){ 1, 1000, 1, 0, 0 };
	rec.flags = RECORD_ADMIN_ISSUED;
	rec.creator_uid = 2000;
	CHECK(run(&cfg, &rec, &f, &why) == 0, "issuer in group refused: %s", why);
	f.in_group = 0;
	CHECK(run(&cfg, &rec, &f, &why) != 0 && strstr(why, "issuer"),
	      "issuer left, accepted (%s)", why);
	f.in_group = -1;
	CHECK(run(&cfg, &rec, &f, &why) != 0, "issuer lookup failure accepted");
	free(cfg.admin_group);
	cfg.admin_group = NULL;
	f.in_group = 1;
	CHECK(run(&cfg, &rec, &f, &why) != 0, "no admin_group: issuer accepted");
	cfg.admin_group = strdup("admins");
	/* never uid 0: by the name's uid now, or the bound one */
	f.uid = 0;
	rec.owner_uid = 0;
	CHECK(run(&cfg, &rec, &f, &why) != 0 && strstr(why, "uid 0"),
	      "admin-issued root token accepted (%s)", why);
	cfg.uid_binding = UID_BINDING_NAME;
	CHECK(run(&cfg, &rec, &f, &why) != 0 && strstr(why, "uid 0"),
	      "admin-issued root token accepted without uid binding");
	cfg.uid_binding = UID_BINDING_LOCAL;
	rec.owner_uid = 1000;
	f.uid = 1000;

	/* an import-only host: the issuer is the authority's to judge */
	cfg.role = ROLE_IMPORT_ONLY;
	f.in_group = 0;
	f.group_calls = 0;
	CHECK(run(&cfg, &rec, &f, &why) == 0 && f.group_calls == 0,
	      "host judged the issuer itself (%s)", why);
	rec.flags |= RECORD_ISSUER_LAPSED;
	CHECK(run(&cfg, &rec, &f, &why) != 0 && strstr(why, "issuer"),
	      "host accepted a lapsed issuer's token");
	cfg.uid_binding = UID_BINDING_NAME;
	CHECK(run(&cfg, &rec, &f, &why) != 0, "lapse ignored without binding");

	config_free(&cfg);
	return th_summary("test_ownercheck: all passed");
}
