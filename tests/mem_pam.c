/* The module through the real libpam, for memory checkers.
 *
 * Run it under valgrind (scripts/valgrind-tests.sh) or ASan: every path a
 * login takes — accepted, refused (wrong secret, unknown id, another user's
 * token), not a token, a huge password, a token revoked between
 * authentication and the account check, several threads at once — goes
 * through pam_start_confdir ... pam_end, with the module kept loaded
 * (-z nodelete) and its process-wide cache in use. The results are checked
 * too, but the point is what the memory checker says.
 *
 * Environment: PAM_APITOKEN_SO, TOKENADM (else exit 77). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "mem_common.h"

static mt_env env;
static char good[128], other[128];

static int login(const char *service, const char *user, const char *pw,
		 const char *rhost, int *acct)
{
	th_conv answer = { .password = pw };
	struct pam_conv conv = { th_conversation, &answer };
	return mt_login(&env, service, user, &conv, rhost, acct);
}

/* Split "ptk_<id>_<secret><check>" at the underscores. */
static void token_id(const char *tok, char id[13])
{
	const char *p = strchr(tok, '_');
	memcpy(id, p + 1, 12);
	id[12] = '\0';
}

static void *thread_logins(void *arg)
{
	for (int i = 0; i < 5; i++) {
		int acct;
		int rc = login(MT_SERVICE, env.user, good, "192.0.2.1", &acct);
		CHECK(rc == PAM_SUCCESS && acct == PAM_SUCCESS,
		      "thread login %d: %d/%d", i, rc, acct);
		rc = login(MT_SERVICE, env.user, other, "192.0.2.1", NULL);
		CHECK(rc == PAM_AUTH_ERR, "thread refusal %d: %d", i, rc);
	}
	return arg;
}

static void revoked_between(void)
{
	char tok[128], id[13];
	pam_handle_t *h = NULL;

	if (mt_create_token(&env, env.user, "to-revoke", tok, sizeof(tok)) != 0) {
		CHECK(0, "create to-revoke");
		return;
	}
	token_id(tok, id);
	th_conv answer = { .password = tok };
	struct pam_conv conv = { th_conversation, &answer };
	CHECK(pam_start_confdir(MT_SERVICE, env.user, &conv, env.confdir, &h) ==
		      PAM_SUCCESS, "pam_start");
	int rc = pam_authenticate(h, PAM_SILENT);
	CHECK(rc == PAM_SUCCESS, "authenticate before revoke: %d", rc);
	char *argv[] = { env.tokenadm, "--config", env.conf, "revoke", id, NULL };
	CHECK(mt_run(argv, NULL, NULL, 0, (uid_t)-1, (gid_t)-1) == 0, "revoke");
	rc = pam_acct_mgmt(h, PAM_SILENT);
	CHECK(rc == PAM_ACCT_EXPIRED, "account check after revoke: %d", rc);
	pam_end(h, rc);
	memset(tok, 0, sizeof(tok));
}

int main(void)
{
	char id[13], wrong[128], unknown[128];
	int rc, acct;

	rc = mt_init(&env, false);
	if (rc != 0)
		return rc;
	if (mt_create_token(&env, env.user, "mem", good, sizeof(good)) != 0 ||
	    (env.other_user[0] &&
	     mt_create_token(&env, env.other_user, "other", other,
			     sizeof(other)) != 0)) {
		mt_cleanup(&env);
		return 1;
	}
	token_id(good, id);
	th_token_text(wrong, sizeof(wrong), "ptk", id,
		      "0123456789ABCDEFGHIJKLMNOPQRSTUV");
	th_token_text(unknown, sizeof(unknown), "ptk", "000000000000",
		      "0123456789ABCDEFGHIJKLMNOPQRSTUV");

	for (int i = 0; i < 3; i++) {
		rc = login(MT_SERVICE, env.user, good, NULL, &acct);
		CHECK(rc == PAM_SUCCESS && acct == PAM_SUCCESS,
		      "valid token: %d/%d", rc, acct);
	}
	rc = login(MT_SERVICE, env.user, wrong, "192.0.2.1", NULL);
	CHECK(rc == PAM_AUTH_ERR, "wrong secret: %d", rc);
	rc = login(MT_SERVICE, env.user, unknown, "192.0.2.1", NULL);
	CHECK(rc == PAM_AUTH_ERR, "unknown id: %d", rc);
	if (env.other_user[0]) {
		rc = login(MT_SERVICE, env.user, other, "192.0.2.1", NULL);
		CHECK(rc == PAM_AUTH_ERR, "another user's token: %d", rc);
	}
	/* Not a token: the module steps aside (IGNORE), pam_permit decides. */
	rc = login(MT_SERVICE_PW, env.user, "hunter2", "192.0.2.1", NULL);
	CHECK(rc == PAM_SUCCESS, "ordinary password not ignored: %d", rc);
	rc = login(MT_SERVICE, env.user, "hunter2", "192.0.2.1", NULL);
	CHECK(rc != PAM_SUCCESS, "ordinary password alone succeeded");
	char *huge = malloc(1 << 16);
	if (huge) {
		memset(huge, 'a', (1 << 16) - 1);
		huge[(1 << 16) - 1] = '\0';
		rc = login(MT_SERVICE_PW, env.user, huge, "not an address", NULL);
		CHECK(rc == PAM_SUCCESS, "huge password: %d", rc);
		free(huge);
	}
	/* Odd rhost and user: refused or ignored, never a crash or leak. */
	rc = login(MT_SERVICE, "no such user \n", good, "::ffff:10.0.0.1%eth0",
		   NULL);
	CHECK(rc != PAM_SUCCESS, "token of another account: %d", rc);

	revoked_between();

	pthread_t th[4];
	int started = 0;
	for (int i = 0; i < 4; i++)
		if (pthread_create(&th[i], NULL, thread_logins, NULL) == 0)
			started++;
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);

	memset(good, 0, sizeof(good));
	memset(other, 0, sizeof(other));
	mt_cleanup(&env);
	return th_summary("mem_pam: all logins behaved");
}
