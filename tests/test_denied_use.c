/* Unit test of the login-time deny_services rule (core/authcheck.c): a
 * token that names a deny_services service (su, sudo, ...) opens it only
 * if root made it. tokenadm refuses to make such a token for anyone but
 * root, so this is what holds tokens made before that rule (or records
 * from elsewhere) to it: judged on the record at every login. */
#include <stdio.h>
#include <string.h>

#include "authcheck.h"
#include "config.h"
#include "record.h"

#include "harness.h"

#define NOW INT64_C(1767225600)

static void make(token_record *rec, const char *services, uint32_t creator)
{
	memset(rec, 0, sizeof(*rec));
	memcpy(rec->id, "AAAAAAAAAAAA", TOKEN_ID_LEN);
	snprintf(rec->user, sizeof(rec->user), "alice");
	snprintf(rec->name, sizeof(rec->name), "t");
	snprintf(rec->services, sizeof(rec->services), "%s", services);
	rec->creator_uid = creator;
	rec->owner_uid = RECORD_UID_UNKNOWN;
	rec->created = NOW - 60;
	rec->expires = NOW + 86400;
}

static auth_outcome check(const apitoken_config *cfg, const token_record *rec,
			  const char *service, auth_result *res)
{
	auth_request req = { .user = "alice", .service = service, .now = NOW };
	auth_secret matched = { 0 };

	memset(res, 0, sizeof(*res));
	auth_recheck_record(cfg, rec, &req, &matched, res);
	return res->outcome;
}

int main(void)
{
	apitoken_config cfg;
	token_record rec;
	auth_result res;

	if (config_defaults(&cfg) != 0) {
		fprintf(stderr, "config_defaults failed\n");
		return 1;
	}
	/* The name alone, so the test needs no account "alice" here: the
	 * rule under test is the service rule, not the uid binding. */
	cfg.uid_binding = UID_BINDING_NAME;

	make(&rec, "su", 1000);
	CHECK(check(&cfg, &rec, "su", &res) == AUTH_REFUSED &&
		      strstr(res.reason, "not made by root"),
	      "a token naming su, made by uid 1000, opened su: %d %s",
	      res.outcome, res.reason);
	make(&rec, "su", 0);
	CHECK(check(&cfg, &rec, "su", &res) == AUTH_ACCEPT,
	      "a token naming su, made by root, was refused for su: %s",
	      res.reason);
	make(&rec, "sudo myapi", 1000);
	CHECK(check(&cfg, &rec, "myapi", &res) == AUTH_ACCEPT,
	      "the same token's ordinary service was refused: %s", res.reason);
	CHECK(check(&cfg, &rec, "sudo", &res) == AUTH_REFUSED,
	      "a member-made token naming sudo opened sudo");
	/* Not named: a denied service stays closed to any token. */
	make(&rec, "", 0);
	CHECK(check(&cfg, &rec, "su", &res) == AUTH_REFUSED,
	      "a token naming no service opened su");
	/* The web sign-in is in the default list: no token opens it. */
	CHECK(check(&cfg, &rec, "apitoken-web", &res) == AUTH_REFUSED,
	      "a token opened apitoken-web");
	config_free(&cfg);
	return th_summary("denied_use: all tests passed");
}
