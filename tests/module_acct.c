/* Module tests: sections 9 (account management), 10 (options) and 11
 * (warn=DURATION). See test_module.c. */
#include <stdio.h>
#include <string.h>

#include <pthread.h>

#include "module_common.h"

/* ------------------------------------------------------------------ */
/* 9. Account management                                                */

typedef struct acct_call {
	sess *s;
	int rc;
} acct_call;

static void *acct_thread(void *arg)
{
	acct_call *c = arg;
	c->rc = sess_acct(c->s, 0);
	return NULL;
}

/* pam_acct_mgmt on another thread than pam_authenticate ran on, as a
 * threaded host may do: what authentication verified rides on the handle. */
static int acct_elsewhere(sess *s)
{
	acct_call c = { s, -1 };
	pthread_t th;

	if (pthread_create(&th, NULL, acct_thread, &c) != 0)
		die("pthread_create");
	pthread_join(th, NULL);
	return c.rc;
}

void test_acct(const profile *p)
{
	token t, d;
	sess s;
	int a, b;

	MINT(&t, p->conf, "--name", "acct", "--user", ME);
	sess_open(&s, p->alone, "test", ME, t.text, NULL);
	a = sess_auth(&s, 0);
	b = sess_acct(&s, 0);
	expect_code(a, PAM_SUCCESS, "9 auth");
	expect_code(b, PAM_SUCCESS, "9 acct before revocation");
	ADMIN(p->conf, "revoke", t.id);
	b = sess_acct(&s, 0);
	sess_close(&s, b);
	expect_code(b, PAM_ACCT_EXPIRED, "9 acct on the same handle after revoke");

	token x;
	MINT(&x, p->conf, "--name", "acct-thread", "--user", ME);
	sess_open(&s, p->alone, "test", ME, x.text, NULL);
	a = sess_auth(&s, 0);
	b = acct_elsewhere(&s);
	expect_code(a, PAM_SUCCESS, "9 auth, then acct on another thread");
	expect_code(b, PAM_SUCCESS, "9 acct on another thread than auth");
	ADMIN(p->conf, "revoke", x.id);
	b = acct_elsewhere(&s);
	sess_close(&s, b);
	expect_code(b, PAM_ACCT_EXPIRED,
		    "9 acct on another thread after revoke");

	/* A rotation between authentication and the account check: a
	 * session on the replaced secret ends, one on a secret still valid
	 * (the current one, now in its grace) goes on. */
	token r, r2;
	MINT(&r, p->conf, "--name", "acct-rotate", "--user", ME);
	sess_open(&s, p->alone, "test", ME, r.text, NULL);
	a = sess_auth(&s, 0);
	rotate(&r2, p->conf, NULL, r.id, NULL);
	b = sess_acct(&s, 0);
	sess_close(&s, b);
	expect_code(a, PAM_SUCCESS, "9 auth, then rotate without grace");
	expect_code(b, PAM_ACCT_EXPIRED,
		    "9 acct after the secret was replaced (no grace)");
	token g1, g2;
	MINT(&g1, p->conf, "--name", "acct-grace", "--user", ME);
	sess_open(&s, p->alone, "test", ME, g1.text, NULL);
	a = sess_auth(&s, 0);
	rotate(&g2, p->conf, NULL, g1.id, "1h");
	b = sess_acct(&s, 0);
	sess_close(&s, b);
	expect_code(b, PAM_SUCCESS,
		    "9 acct after rotate --grace 1h: the old secret is still good");

	MINT(&d, p->conf, "--name", "acct-disable", "--user", ME);
	sess_open(&s, p->alone, "test", ME, d.text, NULL);
	a = sess_auth(&s, 0);
	ADMIN(p->conf, "disable", d.id);
	b = sess_acct(&s, 0);
	sess_close(&s, b);
	expect_code(a, PAM_SUCCESS, "9 auth (to be disabled)");
	expect_code(b, PAM_ACCT_EXPIRED, "9 acct after disable");
	ADMIN(p->conf, "enable", d.id);

	/* No token authentication on this handle: PAM_IGNORE. */
	sess_open(&s, p->alone, "test", ME, "x", NULL);
	b = sess_acct(&s, 0);
	sess_close(&s, b);
	expect_code(b, PAM_PERM_DENIED,
		    "9 acct alone without auth (stack of only PAM_IGNORE)");
	sess_open(&s, p->probe, "test", ME, "x", NULL);
	b = sess_acct(&s, 0);
	sess_close(&s, b);
	expect_code(b, PAM_SUCCESS,
		    "9 acct without auth, then pam_permit: module said "
		    "PAM_IGNORE");

	/* After a plain-password login. */
	auth_acct(p, "test", ME, "not a token", NULL, &a, &b);
	expect_code(a, PAM_IGNORE, "9 plain password auth");
	expect_code(b, PAM_IGNORE, "9 acct after a plain-password auth");

	/* A failed attempt after a success on the same handle: the account
	 * check must not see the earlier success. (An application cannot
	 * change PAM_AUTHTOK, so the second attempt fails on the host.) */
	token g;
	MINT(&g, p->conf, "--name", "acct-reauth", "--user", ME, "--allow-from",
	     "10.0.0.0/8");
	sess_open(&s, p->probe, "test", ME, g.text, "10.1.1.1");
	a = sess_auth(&s, 0);
	pam_set_item(s.h, PAM_RHOST, "11.0.0.1");
	int a2 = sess_auth(&s, 0);
	b = sess_acct(&s, 0);
	sess_close(&s, b);
	expect_code(a, PAM_SUCCESS, "9 first auth on a handle");
	expect_code(a2, PAM_AUTH_ERR, "9 second auth, now from a refused host");
	expect_code(b, PAM_SUCCESS,
		    "9 acct after the failed second auth, then pam_permit: the "
		    "module said PAM_IGNORE (the first success did not outlive "
		    "the second attempt)");

	/* acct after a refused token: nothing to re-check. */
	char buf[256], secret[40];
	random_b62(secret, 32);
	craft(buf, sizeof(buf), "ptk", g.id, secret);
	auth_acct(p, "test", ME, buf, NULL, &a, &b);
	expect_code(a, PAM_AUTH_ERR, "9 wrong secret auth");
	expect_code(b, PAM_IGNORE, "9 acct after a refused token");
}

/* ------------------------------------------------------------------ */
/* 10. Options                                                          */

void test_options(const site *s, const profile *p)
{
	token t;
	profile q;
	char args[2 * PATH_MAX], text[4 * PATH_MAX];
	sess ss;
	int rc;

	MINT(&t, p->conf, "--name", "options", "--user", ME);

	snprintf(args, sizeof(args), "conf=%s debug", p->conf);
	profile_args(&q, s, "opt-debug", args);
	EXPECT_AUTH(&q, "test", ME, t.text, NULL, PAM_SUCCESS, "10 debug: token");
	EXPECT_AUTH(&q, "test", ME, "password", NULL, PAM_IGNORE,
		    "10 debug: plain password");

	snprintf(args, sizeof(args), "frobnicate conf=%s nonsense=1", p->conf);
	profile_args(&q, s, "opt-unknown", args);
	EXPECT_AUTH(&q, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "10 unknown options ignored: token works");
	EXPECT_AUTH(&q, "test", ME, "password", NULL, PAM_IGNORE,
		    "10 unknown options ignored: plain password");

	snprintf(args, sizeof(args), "conf=%s warn=bogus", p->conf);
	profile_args(&q, s, "opt-badwarn", args);
	EXPECT_AUTH(&q, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "10 warn=bogus: ignored, token still works");

	/* use_first_pass / try_first_pass / use_authtok: an earlier module
	 * (this one, under a config with another prefix, so it says
	 * PAM_IGNORE) prompts and sets PAM_AUTHTOK; PAM_AUTHTOK cannot be
	 * set by an application. */
	profile acme;
	char acmeconf[8192];
	base_conf(s, acmeconf, sizeof(acmeconf), "prefix = acme");
	profile_conf(&acme, s, "opt-acme", acmeconf, NULL);
	static const char *const passopts[] = { "use_first_pass",
		"try_first_pass", "use_authtok" };
	for (int i = 0; i < 3; i++) {
		char name[32];
		snprintf(name, sizeof(name), "pre-%s", passopts[i]);
		snprintf(text, sizeof(text),
			 "auth optional %s %s\n"
			 "auth required %s %s %s\n",
			 MOD, acme.args, MOD, p->args, passopts[i]);
		write_service(p->stacks, name, text);
		sess_open(&ss, p->stacks, name, ME, t.text, NULL);
		rc = sess_auth(&ss, 0);
		expect_code(rc, PAM_SUCCESS,
			    "10 %s: token from an earlier module's prompt",
			    passopts[i]);
		th_check(ss.cs.prompts == 1,
			 "10 %s: one prompt for the whole stack (got %d)",
			 passopts[i], ss.cs.prompts);
		sess_close(&ss, rc);

		snprintf(name, sizeof(name), "alone-%s", passopts[i]);
		snprintf(text, sizeof(text), "auth required %s %s %s\n", MOD,
			 p->args, passopts[i]);
		write_service(p->stacks, name, text);
		sess_open(&ss, p->stacks, name, ME, t.text, NULL);
		rc = sess_auth(&ss, 0);
		if (i == 0) {
			th_check(rc != PAM_SUCCESS && ss.cs.prompts == 0,
				 "10 use_first_pass with no earlier password: "
				 "no prompt, not accepted (%s, %d prompts)",
				 th_pam_name(rc), ss.cs.prompts);
		} else {
			th_check(rc == PAM_SUCCESS && ss.cs.prompts == 1,
				 "10 %s with no earlier password: prompts once "
				 "and accepts (%s, %d prompts)", passopts[i],
				 th_pam_name(rc), ss.cs.prompts);
		}
		sess_close(&ss, rc);
	}

	/* An application cannot normally preset PAM_AUTHTOK (libpam keeps
	 * it for modules); if this libpam allows it, use_first_pass must
	 * take it without a prompt. */
	sess_open(&ss, p->stacks, "alone-use_first_pass", ME, "unused", NULL);
	rc = pam_set_item(ss.h, PAM_AUTHTOK, t.text);
	if (rc == PAM_SUCCESS) {
		int a = sess_auth(&ss, 0);
		th_check(a == PAM_SUCCESS && ss.cs.prompts == 0,
			 "10 use_first_pass with PAM_AUTHTOK set by the "
			 "application: accepted without a prompt (%s, %d "
			 "prompts)", th_pam_name(a), ss.cs.prompts);
	} else {
		printf("# note: libpam refuses pam_set_item(PAM_AUTHTOK) from "
		       "an application (%s); use_first_pass was tested with an "
		       "earlier module setting it\n", th_pam_name(rc));
	}
	sess_close(&ss, PAM_SUCCESS);

	/* A conversation that fails: passed through, never success. */
	sess_open(&ss, p->alone, "test", ME, t.text, NULL);
	ss.cs.mode = TH_CONV_ERR;
	rc = sess_auth(&ss, 0);
	sess_close(&ss, rc);
	th_check(rc != PAM_SUCCESS && rc != PAM_PERM_DENIED,
		 "10 conversation failure: an error, not success or "
		 "ignore (%s)", th_pam_name(rc));
}

/* ------------------------------------------------------------------ */
/* 11. warn=DURATION                                                    */

void test_warn(const site *s, const profile *p)
{
	token soon, later, never;
	profile w;
	char args[2 * PATH_MAX];
	sess ss;
	int a, b;

	MINT(&soon, p->conf, "--name", "soon", "--user", ME, "--expires", "3d");
	MINT(&later, p->conf, "--name", "later", "--user", ME, "--expires", "30d");
	MINT(&never, p->conf, "--name", "never", "--user", ME, "--expires",
	     "never");
	snprintf(args, sizeof(args), "conf=%s warn=7d", p->conf);
	profile_args(&w, s, "warn", args);

	sess_open(&ss, w.alone, "test", ME, soon.text, NULL);
	a = sess_auth(&ss, 0);
	int msgs_after_auth = ss.cs.messages;
	b = sess_acct(&ss, 0);
	expect_code(a, PAM_SUCCESS, "11 warn=7d, token expires in 3d: auth");
	expect_code(b, PAM_SUCCESS, "11 warn=7d, token expires in 3d: acct");
	th_check(msgs_after_auth == 0, "11 no message during pam_authenticate");
	th_check(ss.cs.messages == 1 && strstr(ss.cs.last_msg, soon.id),
		 "11 acct sends one PAM_TEXT_INFO naming the token (got "
		 "%d: \"%s\")", ss.cs.messages, ss.cs.last_msg);
	th_check(strstr(ss.cs.last_msg, soon.text + 17) == NULL,
		 "11 the warning does not contain the secret");
	sess_close(&ss, b);

	sess_open(&ss, w.alone, "test", ME, soon.text, NULL);
	a = sess_auth(&ss, PAM_SILENT);
	b = sess_acct(&ss, PAM_SILENT);
	th_check(a == PAM_SUCCESS && b == PAM_SUCCESS && ss.cs.messages == 0,
		 "11 PAM_SILENT: no warning (auth %s, acct %s, %d messages)",
		 th_pam_name(a), th_pam_name(b), ss.cs.messages);
	sess_close(&ss, b);

	sess_open(&ss, w.alone, "test", ME, later.text, NULL);
	a = sess_auth(&ss, 0);
	b = sess_acct(&ss, 0);
	th_check(a == PAM_SUCCESS && b == PAM_SUCCESS && ss.cs.messages == 0,
		 "11 token expiring after the window: no warning (%d messages)",
		 ss.cs.messages);
	sess_close(&ss, b);

	sess_open(&ss, w.alone, "test", ME, never.text, NULL);
	a = sess_auth(&ss, 0);
	b = sess_acct(&ss, 0);
	th_check(a == PAM_SUCCESS && b == PAM_SUCCESS && ss.cs.messages == 0,
		 "11 token that never expires: no warning (%d messages)",
		 ss.cs.messages);
	sess_close(&ss, b);

	/* Without warn= there is never a message. */
	sess_open(&ss, p->alone, "test", ME, soon.text, NULL);
	a = sess_auth(&ss, 0);
	b = sess_acct(&ss, 0);
	th_check(a == PAM_SUCCESS && b == PAM_SUCCESS && ss.cs.messages == 0,
		 "11 no warn= option: no warning (%d messages)",
		 ss.cs.messages);
	sess_close(&ss, b);
}
