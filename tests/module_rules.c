/* Module tests: the rules a token and the config set, sections 3 (group),
 * 4 (rotation), 5 (hosts) and 6 (services). See test_module.c. */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module_common.h"

/* ------------------------------------------------------------------ */
/* 3 (group). Owner no longer allowed to hold tokens                   */
/* (pam_apitoken.conf(5), GROUP SECTIONS)                              */

/* A token its owner minted for themselves (group-bound), through configs
 * without admin_group but the one that says so: what lets it in is the
 * owner's group, never their being an administrator. */
static void bound_cases(const site *s, const char *owner,
			const char *owner_group, const token *t)
{
	char in_text[8192], gone_text[8192], adm_text[8192], none_text[8192];
	profile in, gone, adm, none;

	PATHF(in_text, "db = %s\nkey = %s\n[group %s]\nmax_lifetime = never\n",
	      s->db, s->key, owner_group);
	PATHF(gone_text, "db = %s\nkey = %s\n[group ptk-no-such-group-x]\n"
	      "max_lifetime = never\n", s->db, s->key);
	PATHF(adm_text, "db = %s\nkey = %s\nadmin_group = %s\n"
	      "[group ptk-no-such-group-x]\nmax_lifetime = never\n",
	      s->db, s->key, owner_group);
	PATHF(none_text, "db = %s\nkey = %s\n", s->db, s->key);
	profile_conf(&in, s, "bound-in", in_text, NULL);
	profile_conf(&gone, s, "bound-gone", gone_text, NULL);
	profile_conf(&adm, s, "bound-adm", adm_text, NULL);
	profile_conf(&none, s, "bound-none", none_text, NULL);

	EXPECT_AUTH(&in, "test", owner, t->text, NULL, PAM_SUCCESS,
		    "3 group-bound token while its owner (no administrator) "
		    "is in the group");
	EXPECT_AUTH(&none, "test", owner, t->text, NULL, PAM_SUCCESS,
		    "3 no [group] sections at all: group check off");
	EXPECT_AUTH(&gone, "test", owner, t->text, NULL, PAM_AUTH_ERR,
		    "3 owner no longer in any allowed group: refused");
	EXPECT_AUTH(&adm, "test", owner, t->text, NULL, PAM_SUCCESS,
		    "3 an administrator's own token lives while they are one");
	sess ss;
	sess_open(&ss, in.alone, "test", owner, t->text, NULL);
	int a1 = sess_auth(&ss, 0);
	must_write(in.conf, 0644, gone_text);
	int b1 = sess_acct(&ss, 0);
	must_write(in.conf, 0644, in_text);
	sess_close(&ss, b1);
	expect_code(a1, PAM_SUCCESS, "9 group-bound token: auth");
	expect_code(b1, PAM_ACCT_EXPIRED,
		    "9 owner left the allowed groups before pam_acct_mgmt");
	EXPECT_AUTH(&in, "test", owner, t->text, NULL, PAM_SUCCESS,
		    "3 group restored: the token works again");
}

void test_groups(const site *s)
{
	profile in, out;
	char extra[512];
	token t, svc;

	snprintf(extra, sizeof(extra), "[group %s]\nmax_lifetime = never\n",
		 MYGROUP);
	profile_std(&in, s, "grp-in", extra, NULL);
	profile_std(&out, s, "grp-out",
		    "[group ptk-no-such-group-x]\nmax_lifetime = never\n", NULL);

	/* Minted by the owner for themselves while in an allowed group. */
	MINT(&t, in.conf, "--name", "bound");
	if (!IS_ROOT) {
		bound_cases(s, ME, MYGROUP, &t);
	} else {
		/* Root is always an administrator: its own tokens are never
		 * bound. */
		EXPECT_AUTH(&out, "test", ME, t.text, NULL, PAM_SUCCESS,
			    "3 root's own token is not bound to groups");
		/* A bound token is minted by another user for themselves:
		 * tokenadm runs as OTHER on a site of OTHER's, which goes
		 * back to root (whom the module trusts) before the logins. */
		struct passwd *pw = getpwnam(OTHER);
		struct group *gr = pw ? getgrgid(pw->pw_gid) : NULL;
		if (!gr)
			die("no primary group for %s", OTHER);
		char og[256], text[8192], out_buf[512];
		snprintf(og, sizeof(og), "%s", gr->gr_name);
		site b;
		profile mint;
		token tb;
		site_new(&b, "grp-bound");
		PATHF(text, "db = %s\nkey = %s\n[group %s]\nmax_lifetime = never\n",
		      b.db, b.key, og);
		profile_conf(&mint, &b, "bound-mint", text, NULL);
		site_give(&b, OTHER);
		int rc = tokenadm_as(OTHER, mint.conf, out_buf, sizeof(out_buf),
				     (const char *const[]){ "init", NULL });
		if (rc == 0)
			rc = tokenadm_as(OTHER, mint.conf, out_buf, sizeof(out_buf),
					 (const char *const[]){ "create", "--name",
								"bound", NULL });
		if (rc != 0 || !parse_token(out_buf, "ptk", &tb)) {
			show_errlog();
			die("tokenadm init/create as %s: exit %d", OTHER, rc);
		}
		site_give(&b, NULL);
		bound_cases(&b, OTHER, og, &tb);
	}
	int a, b;
	/* A token an administrator issued for another account is not subject
	 * to the group check. */
	MINT(&svc, in.conf, "--name", "svc", "--user", OTHER);
	auth_acct(&out, "test", OTHER, svc.text, NULL, &a, &b);
	expect_code(a, PAM_SUCCESS,
		    "3 admin-issued token for another account ignores groups");
	expect_code(b, PAM_SUCCESS,
		    "3 ... and its account check passes");
}

/* ------------------------------------------------------------------ */
/* 4. Rotation                                                          */

void test_rotation(const profile *p)
{
	token t, n;

	MINT(&t, p->conf, "--name", "rotate", "--user", ME);
	rotate(&n, p->conf, NULL, t.id, "1h");
	th_check(strcmp(n.id, t.id) == 0 && strcmp(n.text, t.text) != 0,
		 "4 rotate keeps the id, changes the secret");
	EXPECT_AUTH(p, "test", ME, n.text, NULL, PAM_SUCCESS,
		    "4 new secret works after rotate --grace 1h");
	EXPECT_AUTH(p, "test", ME, t.text, NULL, PAM_SUCCESS,
		    "4 old secret works within the grace period");

	token t0, n0;
	MINT(&t0, p->conf, "--name", "rotate0", "--user", ME);
	char out[512];
	int rc = TA(p->conf, NULL, out, sizeof(out), "rotate", t0.id);
	if (th_check(rc == 0 && parse_token(out, "ptk", &n0),
		     "4 rotate without --grace")) {
		EXPECT_AUTH(p, "test", ME, n0.text, NULL, PAM_SUCCESS,
			    "4 no grace: new secret works");
		EXPECT_AUTH(p, "test", ME, t0.text, NULL, PAM_AUTH_ERR,
			    "4 no grace: old secret refused at once");
	}

	/* Revocation ends the grace too. */
	token t1, n1;
	MINT(&t1, p->conf, "--name", "rotate-revoke", "--user", ME);
	rotate(&n1, p->conf, NULL, t1.id, "1h");
	ADMIN(p->conf, "revoke", t1.id);
	EXPECT_AUTH(p, "test", ME, t1.text, NULL, PAM_AUTH_ERR,
		    "4 revoked during grace: old secret refused");
	EXPECT_AUTH(p, "test", ME, n1.text, NULL, PAM_AUTH_ERR,
		    "4 revoked during grace: new secret refused");

	if (!FAKETIME) {
		th_skip("4 grace over (no faketime)");
		return;
	}
	token t2, n2;
	MINT_FT(&t2, p->conf, "-3h", "--name", "rotate-past", "--user", ME);
	rotate(&n2, p->conf, "-2h", t2.id, "1h");
	EXPECT_AUTH(p, "test", ME, t2.text, NULL, PAM_AUTH_ERR,
		    "4 rotated 2h ago with 1h grace: old secret refused");
	EXPECT_AUTH(p, "test", ME, n2.text, NULL, PAM_SUCCESS,
		    "4 rotated 2h ago with 1h grace: new secret works");
}

/* ------------------------------------------------------------------ */
/* 5. Host rules                                                        */

void test_hosts(const site *s, const profile *p)
{
	token a, l, d, six, none, ld;

	MINT(&a, p->conf, "--name", "net10", "--user", ME, "--allow-from",
	     "10.0.0.0/8");
	EXPECT_AUTH(p, "test", ME, a.text, "10.1.2.3", PAM_SUCCESS,
		    "5 allow 10/8: 10.1.2.3");
	EXPECT_AUTH(p, "test", ME, a.text, "11.0.0.1", PAM_AUTH_ERR,
		    "5 allow 10/8: 11.0.0.1");
	EXPECT_AUTH(p, "test", ME, a.text, NULL, PAM_AUTH_ERR,
		    "5 allow 10/8: no PAM_RHOST");
	EXPECT_AUTH(p, "test", ME, a.text, "", PAM_AUTH_ERR,
		    "5 allow 10/8: empty PAM_RHOST");
	EXPECT_AUTH(p, "test", ME, a.text, "example.com", PAM_AUTH_ERR,
		    "5 allow 10/8: hostname example.com");
	EXPECT_AUTH(p, "test", ME, a.text, "10.1.2.3.example.com", PAM_AUTH_ERR,
		    "5 allow 10/8: hostname 10.1.2.3.example.com");
	EXPECT_AUTH(p, "test", ME, a.text, "10.1.2.3 ", PAM_AUTH_ERR,
		    "5 allow 10/8: '10.1.2.3 ' (garbage)");
	EXPECT_AUTH(p, "test", ME, a.text, "10.1.2", PAM_AUTH_ERR,
		    "5 allow 10/8: '10.1.2' (garbage)");
	EXPECT_AUTH(p, "test", ME, a.text, "::ffff:10.1.2.3", PAM_SUCCESS,
		    "5 allow 10/8: ::ffff:10.1.2.3 matched as IPv4");
	EXPECT_AUTH(p, "test", ME, a.text, "::ffff:11.0.0.1", PAM_AUTH_ERR,
		    "5 allow 10/8: ::ffff:11.0.0.1");
	EXPECT_AUTH(p, "test", ME, a.text, "fe80::1%eth0", PAM_AUTH_ERR,
		    "5 allow 10/8: fe80::1%%eth0 (zone id)");

	MINT(&l, p->conf, "--name", "local", "--user", ME, "--allow-from",
	     "local");
	EXPECT_AUTH(p, "test", ME, l.text, NULL, PAM_SUCCESS,
		    "5 allow local: no PAM_RHOST");
	EXPECT_AUTH(p, "test", ME, l.text, "127.0.0.1", PAM_AUTH_ERR,
		    "5 allow local: 127.0.0.1 is remote");

	MINT(&ld, p->conf, "--name", "local-or-10", "--user", ME,
	     "--allow-from", "local", "--allow-from", "10.0.0.0/8");
	EXPECT_AUTH(p, "test", ME, ld.text, NULL, PAM_SUCCESS,
		    "5 allow local+10/8: no PAM_RHOST");
	EXPECT_AUTH(p, "test", ME, ld.text, "10.9.9.9", PAM_SUCCESS,
		    "5 allow local+10/8: 10.9.9.9");
	EXPECT_AUTH(p, "test", ME, ld.text, "192.0.2.1", PAM_AUTH_ERR,
		    "5 allow local+10/8: 192.0.2.1");

	MINT(&d, p->conf, "--name", "deny", "--user", ME, "--deny-from",
	     "10.66.0.0/16", "--deny-from", "2001:db8:66::/48");
	EXPECT_AUTH(p, "test", ME, d.text, "10.66.1.1", PAM_AUTH_ERR,
		    "5 deny 10.66/16: 10.66.1.1");
	EXPECT_AUTH(p, "test", ME, d.text, "::ffff:10.66.1.1", PAM_AUTH_ERR,
		    "5 deny 10.66/16: ::ffff:10.66.1.1");
	EXPECT_AUTH(p, "test", ME, d.text, "10.67.1.1", PAM_SUCCESS,
		    "5 deny 10.66/16 only: 10.67.1.1");
	/* No PAM_RHOST is admitted only by an explicit "local" (a remote
	 * service that forgot PAM_RHOST must not slip past address rules). */
	EXPECT_AUTH(p, "test", ME, d.text, NULL, PAM_AUTH_ERR,
		    "5 deny rules only: no PAM_RHOST refused (fail closed)");
	EXPECT_AUTH(p, "test", ME, d.text, "2001:db8:66::5", PAM_AUTH_ERR,
		    "5 deny 2001:db8:66::/48: 2001:db8:66::5");
	EXPECT_AUTH(p, "test", ME, d.text, "2001:db8:67::5", PAM_SUCCESS,
		    "5 deny 2001:db8:66::/48: 2001:db8:67::5");
	EXPECT_AUTH(p, "test", ME, d.text, "example.com", PAM_AUTH_ERR,
		    "5 deny rules: a hostname is refused (fail closed)");

	MINT(&six, p->conf, "--name", "v6", "--user", ME, "--allow-from",
	     "2001:db8::/32");
	EXPECT_AUTH(p, "test", ME, six.text, "2001:db8::1", PAM_SUCCESS,
		    "5 allow 2001:db8::/32: 2001:db8::1");
	EXPECT_AUTH(p, "test", ME, six.text, "2001:DB8:ffff::abcd", PAM_SUCCESS,
		    "5 allow 2001:db8::/32: 2001:DB8:ffff::abcd");
	EXPECT_AUTH(p, "test", ME, six.text, "2001:db9::1", PAM_AUTH_ERR,
		    "5 allow 2001:db8::/32: 2001:db9::1");
	EXPECT_AUTH(p, "test", ME, six.text, "10.1.2.3", PAM_AUTH_ERR,
		    "5 allow 2001:db8::/32: 10.1.2.3");

	/* No rules anywhere: anything goes, even a hostname. */
	MINT(&none, p->conf, "--name", "norules", "--user", ME);
	EXPECT_AUTH(p, "test", ME, none.text, "example.com", PAM_SUCCESS,
		    "5 no rules: hostname rhost accepted");

	/* Global rules in the config: both must pass. */
	profile g;
	profile_std(&g, s, "global-hosts",
		    "allow_from = 10.0.0.0/8, 2001:db8::/32 local\n"
		    "deny_from = 10.99.0.0/16", NULL);
	EXPECT_AUTH(&g, "test", ME, none.text, "10.1.1.1", PAM_SUCCESS,
		    "5 global allow 10/8: 10.1.1.1");
	EXPECT_AUTH(&g, "test", ME, none.text, "192.0.2.1", PAM_AUTH_ERR,
		    "5 global allow 10/8: 192.0.2.1");
	EXPECT_AUTH(&g, "test", ME, none.text, NULL, PAM_SUCCESS,
		    "5 global allow local: no PAM_RHOST");
	EXPECT_AUTH(&g, "test", ME, none.text, "10.99.1.1", PAM_AUTH_ERR,
		    "5 global deny 10.99/16: 10.99.1.1");
	EXPECT_AUTH(&g, "test", ME, none.text, "example.com", PAM_AUTH_ERR,
		    "5 global rules: hostname refused");
	EXPECT_AUTH(&g, "test", ME, d.text, "10.66.1.1", PAM_AUTH_ERR,
		    "5 global allows 10.66.1.1 but the token denies it");
	EXPECT_AUTH(&g, "test", ME, d.text, "10.67.1.1", PAM_SUCCESS,
		    "5 global allows 10.67.1.1 and the token does not deny it");
	EXPECT_AUTH(&g, "test", ME, a.text, "10.99.1.1", PAM_AUTH_ERR,
		    "5 token allows 10.99.1.1 but the global rules deny it");
	profile dl;
	profile_std(&dl, s, "global-deny-local", "deny_from = local", NULL);
	EXPECT_AUTH(&dl, "test", ME, none.text, NULL, PAM_AUTH_ERR,
		    "5 global deny_from = local: no PAM_RHOST refused");
	EXPECT_AUTH(&dl, "test", ME, none.text, "10.1.1.1", PAM_SUCCESS,
		    "5 global deny_from = local: 10.1.1.1 allowed");
	token c;
	MINT(&c, p->conf, "--name", "net192", "--user", ME, "--allow-from",
	     "192.0.2.0/24");
	EXPECT_AUTH(p, "test", ME, c.text, "192.0.2.1", PAM_SUCCESS,
		    "5 token allows 192.0.2.0/24 (no global rules)");
	EXPECT_AUTH(&g, "test", ME, c.text, "192.0.2.1", PAM_AUTH_ERR,
		    "5 token allows 192.0.2.1 but the global allow list does "
		    "not");
	EXPECT_AUTH(&g, "test", ME, c.text, "10.1.1.1", PAM_AUTH_ERR,
		    "5 global allows 10.1.1.1 but the token's allow list does "
		    "not");
}

/* ------------------------------------------------------------------ */
/* 6. Service rules                                                     */

void test_services(const site *s, const profile *p)
{
	token web, plain, sudo;
	/* Every entry of the default deny_services (core/config.h). */
	static const char *const denied[] = { "sudo", "su", "su-l", "sudo-i",
		"polkit-1", "passwd", "chfn", "chsh", "doas", "systemd-run0",
		"apitoken-web", NULL };

	MINT(&web, p->conf, "--name", "web", "--user", ME, "--service", "web");
	EXPECT_AUTH(p, "web", ME, web.text, NULL, PAM_SUCCESS,
		    "6 --service web: service web");
	EXPECT_AUTH(p, "other", ME, web.text, NULL, PAM_AUTH_ERR,
		    "6 --service web: service other");
	EXPECT_AUTH(p, "sudo", ME, web.text, NULL, PAM_AUTH_ERR,
		    "6 --service web: service sudo");

	MINT(&plain, p->conf, "--name", "any-service", "--user", ME);
	EXPECT_AUTH(p, "other", ME, plain.text, NULL, PAM_SUCCESS,
		    "6 no --service: service other");
	for (int i = 0; denied[i]; i++)
		EXPECT_AUTH(p, denied[i], ME, plain.text, NULL, PAM_AUTH_ERR,
			    "6 default deny_services: %s refused for a token "
			    "without --service", denied[i]);
	/* ... and each opens only to a token that names it, on purpose. */
	for (int i = 0; denied[i]; i++) {
		token named;
		MINT(&named, p->conf, "--name", denied[i], "--user", ME,
		     "--service", denied[i]);
		EXPECT_AUTH(p, denied[i], ME, named.text, NULL, PAM_SUCCESS,
			    "6 --service %s: accepted on %s", denied[i],
			    denied[i]);
	}

	MINT(&sudo, p->conf, "--name", "sudo", "--user", ME, "--service",
	     "sudo", "--service", "web");
	EXPECT_AUTH(p, "sudo", ME, sudo.text, NULL, PAM_SUCCESS,
		    "6 --service sudo: sudo accepted");
	EXPECT_AUTH(p, "web", ME, sudo.text, NULL, PAM_SUCCESS,
		    "6 --service sudo --service web: web accepted");
	EXPECT_AUTH(p, "su", ME, sudo.text, NULL, PAM_AUTH_ERR,
		    "6 --service sudo: su still refused");
	EXPECT_AUTH(p, "other", ME, sudo.text, NULL, PAM_AUTH_ERR,
		    "6 --service sudo: other refused");

	profile open;
	profile_std(&open, s, "no-deny-services", "deny_services =", NULL);
	EXPECT_AUTH(&open, "sudo", ME, plain.text, NULL, PAM_SUCCESS,
		    "6 deny_services = (empty): sudo accepted");
	EXPECT_AUTH(&open, "other", ME, web.text, NULL, PAM_AUTH_ERR,
		    "6 deny_services = (empty): token's own list still applies");

	profile custom;
	profile_std(&custom, s, "custom-deny-services",
		    "deny_services = web, other", NULL);
	EXPECT_AUTH(&custom, "other", ME, plain.text, NULL, PAM_AUTH_ERR,
		    "6 deny_services = web, other: other refused");
	EXPECT_AUTH(&custom, "sudo", ME, plain.text, NULL, PAM_SUCCESS,
		    "6 deny_services = web, other: sudo no longer in the list");
	EXPECT_AUTH(&custom, "web", ME, web.text, NULL, PAM_SUCCESS,
		    "6 deny_services = web, other: a token naming web may");
}
