/* hard_input: hostile PAM input through the real libpam.
 *
 * Every case authenticates through pam_start_confdir with the module as the
 * only auth module ("alone"), so libpam hands back the module's own code --
 * except that a stack where every module said PAM_IGNORE fails with
 * PAM_PERM_DENIED (a code the module never returns); such a result is then
 * confirmed on the "probe" stack ([ignore=ignore] module, then pam_permit),
 * which succeeds exactly when the module said PAM_IGNORE.
 *
 * Asserted for every case: the exact result pam_apitoken(8) gives in PAM
 * RETURN VALUES and HOST RULES (PAM_IGNORE for
 * what is not token-shaped, PAM_AUTH_ERR for refusals, PAM_SUCCESS only for
 * a valid token of that user from an allowed host and service); exactly one
 * conversation message (the password prompt), never an info or error
 * message; pam_acct_mgmt succeeds after every success; a refusal leaves a
 * pam_unix-style "authentication failure" line naming the token, a
 * non-token leaves no failure line; no log line ever holds a token, a
 * secret or a control character (a forged second line). Conversation
 * failures are passed through: the result must equal what libpam's own
 * pam_get_authtok returns for that conversation, and never PAM_SUCCESS. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <security/pam_ext.h>

#include "hard_common.h"

#define IGN PAM_IGNORE
#define OK PAM_SUCCESS
#define REF PAM_AUTH_ERR
#define PFX_MAX 32

static hc_site site, gsite; /* gsite: global host rules in the config */
static int n_cases, n_audit;
static char secret_t0[40];

typedef struct tok {
	char text[HC_TOKEN_MAX];
	char id[HC_ID_LEN + 1];
} tok;

static tok t0, t_rules, t_deny, t_local, t_svc, t_sudo, t_daemon, t_revoked,
	t_disabled, g0;

/* ---- token text per tokenadm(8), TOKEN FORMAT (independent of the
 * product's code) ---- */

/* prefix + sep1 + id + sep2 + secret + CRC of all of that. */
static void build(char *out, size_t outlen, const char *prefix,
		  const char *sep1, const char *id, const char *sep2,
		  const char *secret)
{
	char body[512], chk[7];
	snprintf(body, sizeof(body), "%s%s%s%s%s", prefix, sep1, id, sep2,
		 secret);
	th_check_digits(body, strlen(body), chk);
	snprintf(out, outlen, "%s%s", body, chk);
}

static void split(const tok *t, char *id, char *secret, char *check)
{
	/* ptk_<12>_<32><6> */
	memcpy(id, t->text + 4, 12);
	id[12] = '\0';
	memcpy(secret, t->text + 17, 32);
	secret[32] = '\0';
	memcpy(check, t->text + 49, 6);
	check[6] = '\0';
}

/* ---- running a case ---- */

typedef struct kase {
	const char *what;
	const hc_site *s;
	const char *service;
	const char *user;
	const char *pw;
	size_t pwlen; /* 0 with pw != NULL: strlen */
	const char *rhost;
	int mode;
	int flags;
	int expect;      /* module code */
	int expect_alt;  /* also acceptable, if has_alt */
	bool has_alt;
	/* PAM_RHOST is so long that libpam's audit record fails and libpam
	 * turns any result into PAM_SYSTEM_ERR (libaudit's message limit is
	 * about 8.9 KiB); the module's decision is then read from its log. */
	bool audit_limit;
	const char *log_id; /* a refusal's log line must name this token id */
} kase;

static int module_code(const kase *k, hc_auth_res *res)
{
	hc_auth_req req = {
		.confdir = k->s->confdir,
		.service = k->service ? k->service : "alone",
		.user = k->user,
		.pw = k->pw,
		.pwlen = k->pwlen ? k->pwlen : (k->pw ? strlen(k->pw) : 0),
		.rhost = k->rhost,
		.mode = k->mode,
		.flags = k->flags,
		.acct = true,
	};
	hc_auth(&req, res);
	if (res->rc != PAM_PERM_DENIED || res->start_rc != PAM_SUCCESS)
		return res->rc;
	/* Confirm on the probe stack that the module said PAM_IGNORE. */
	hc_auth_res probe;
	char svc[80];
	snprintf(svc, sizeof(svc), "%s-probe",
		 k->service ? k->service : "alone");
	req.service = k->service ? svc : "probe";
	req.acct = false;
	hc_auth(&req, &probe);
	return probe.rc == PAM_SUCCESS ? PAM_IGNORE : PAM_PERM_DENIED;
}

static void run(const kase *kin)
{
	kase kk = *kin;
	const kase *k = &kk;
	hc_auth_res res;

	if (!kk.s)
		kk.s = &site;
	if (!kk.user)
		kk.user = "root";
	if (!kk.has_alt)
		kk.expect_alt = kk.expect;
	unsigned long viol0 = hc_log_violations();

	n_cases++;
	hc_log_clear();
	int got = module_code(k, &res);
	bool overridden = false;
	if (got == PAM_SYSTEM_ERR && k->audit_limit) {
		overridden = true;
		const char *l = hc_log_text();
		got = strstr(l, "authentication accepted") ? PAM_SUCCESS :
		      strstr(l, "authentication failure") ? PAM_AUTH_ERR :
							    PAM_IGNORE;
		n_audit++;
	}
	if (got != k->expect && got != k->expect_alt) {
		th_fail_case(k->what, "got %s, expected %s", th_pam_name(got),
			     th_pam_name(k->expect));
		return;
	}
	/* One password prompt (none when the module stops before asking,
	 * as for an empty user name), and never any other message. */
	if (k->mode == TH_CONV_ANSWER &&
	    (res.n_prompts > 1 || res.n_other != 0 ||
	     (res.n_prompts == 0 && got != PAM_USER_UNKNOWN)))
		th_fail_case(k->what, "%d prompts and %d other messages (want 1 and 0)",
			     res.n_prompts, res.n_other);
	if (got == PAM_SUCCESS && !overridden && res.acct_rc != PAM_SUCCESS)
		th_fail_case(k->what, "pam_acct_mgmt after success gave %s",
			     th_pam_name(res.acct_rc));
	const char *log = hc_log_text();
	if (got == PAM_AUTH_ERR &&
	    (!strstr(log, "pam_apitoken(") ||
	     !strstr(log, "authentication failure; logname=") ||
	     !strstr(log, " reason=") ||
	     (k->log_id && !strstr(log, k->log_id))))
		th_fail_case(k->what, "refusal without a clear log line naming token "
				"%s; log: %s", k->log_id ? k->log_id : "?", log);
	if (got == PAM_IGNORE && strstr(log, "pam_apitoken("))
		th_fail_case(k->what, "a non-token was logged: %s", log);
	if (got == PAM_SUCCESS && !strstr(log, "authentication accepted"))
		th_fail_case(k->what, "success without an 'accepted' log line");
	if (hc_log_violations() != viol0)
		th_fail_case(k->what, "log line with a token or control character: %s",
			     hc_log_first_violation());
	if (strstr(log, secret_t0))
		th_fail_case(k->what, "a token secret appeared in the log");
}

/* Unset fields: site "site", user "root", no alternative result. */
#define CASE(...) run(&(kase){ __VA_ARGS__ })

/* ---- the cases ---- */

static void passwords(void)
{
	static char huge[1 << 20];
	char buf[1024], id[13], sec[33], chk[7];
	int before = n_cases;

	CASE(.what = "empty password", .pw = "", .expect = IGN);
	CASE(.what = "valid token (control)", .pw = t0.text, .expect = OK);

	memset(huge, 'a', sizeof(huge) - 1);
	CASE(.what = "1 MiB password", .pw = huge, .expect = IGN);
	memcpy(huge, t0.text, strlen(t0.text));
	CASE(.what = "valid token + 1 MiB of padding", .pw = huge, .expect = IGN);
	for (size_t i = 0; i < sizeof(huge) - 1; i++)
		huge[i] = (char)(1 + hc_rand() % 255);
	CASE(.what = "1 MiB of binary", .pw = huge, .expect = IGN);

	/* Embedded NUL: the C string a PAM stack passes is the prefix. */
	size_t tl = strlen(t0.text);
	memcpy(buf, t0.text, tl);
	memcpy(buf + tl, "\0junk", 5);
	CASE(.what = "token NUL junk (prefix is the token)", .pw = buf,
	     .pwlen = tl + 5, .expect = OK);
	buf[0] = '\0';
	memcpy(buf + 1, t0.text, tl);
	CASE(.what = "NUL token (prefix is empty)", .pw = buf, .pwlen = tl + 1,
	     .expect = IGN);
	for (size_t cut = 1; cut < tl; cut += 9) {
		memcpy(buf, t0.text, tl);
		buf[cut] = '\0';
		CASE(.what = "token with a NUL inside", .pw = buf, .pwlen = tl,
		     .expect = IGN);
	}

	/* Non-UTF-8. */
	CASE(.what = "non-UTF-8 bytes", .pw = "\xff\xfe\xfd\xc3\x28\xa0\xa1",
	     .expect = IGN);
	memset(buf, 0xff, tl);
	buf[tl] = '\0';
	CASE(.what = "token-length run of 0xff", .pw = buf, .expect = IGN);
	split(&t0, id, sec, chk);
	char badsec[40];
	memcpy(badsec, sec, 33);
	badsec[7] = (char)0xc3;
	build(buf, sizeof(buf), "ptk", "_", id, "_", badsec);
	CASE(.what = "secret with a 0xc3 byte, CRC right", .pw = buf, .expect = IGN);

	/* Token-shaped, one field wrong at a time (CRC recomputed so only
	 * that field is wrong). */
	const char *prefixes[] = { "ptx", "PTK", "pt", "ptkk", "", "ptk0", "p_k" };
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(*prefixes); i++) {
		build(buf, sizeof(buf), prefixes[i], "_", id, "_", sec);
		CASE(.what = "wrong prefix, CRC right", .pw = buf, .expect = IGN);
	}
	const char *seps[] = { "-", ".", " ", "", "__", ":", "\t" };
	for (size_t i = 0; i < sizeof(seps) / sizeof(*seps); i++) {
		build(buf, sizeof(buf), "ptk", seps[i], id, "_", sec);
		CASE(.what = "wrong first separator, CRC right", .pw = buf,
		     .expect = IGN);
		build(buf, sizeof(buf), "ptk", "_", id, seps[i], sec);
		CASE(.what = "wrong second separator, CRC right", .pw = buf,
		     .expect = IGN);
	}
	const char badch[] = "_-+/= .~\x7f\x80\x01";
	size_t positions[] = { 0, 5, 11 };
	for (size_t c = 0; c < sizeof(badch) - 1; c++)
		for (size_t p = 0; p < 3; p++) {
			char bid[13];
			memcpy(bid, id, 13);
			bid[positions[p]] = badch[c];
			build(buf, sizeof(buf), "ptk", "_", bid, "_", sec);
			CASE(.what = "non-base62 id character, CRC right",
			     .pw = buf, .expect = IGN);
		}
	size_t spos[] = { 0, 16, 31 };
	for (size_t c = 0; c < sizeof(badch) - 1; c++)
		for (size_t p = 0; p < 3; p++) {
			char bs[33];
			memcpy(bs, sec, 33);
			bs[spos[p]] = badch[c];
			build(buf, sizeof(buf), "ptk", "_", id, "_", bs);
			CASE(.what = "non-base62 secret character, CRC right",
			     .pw = buf, .expect = IGN);
		}
	/* Well-formed but wrong: refusals, logged with the id. */
	char uid_[13];
	memcpy(uid_, id, 13);
	uid_[3] = uid_[3] == 'Q' ? 'R' : 'Q';
	build(buf, sizeof(buf), "ptk", "_", uid_, "_", sec);
	CASE(.what = "unknown id, CRC right", .pw = buf, .expect = REF,
	     .log_id = uid_);
	char cid[13];
	memcpy(cid, id, 13);
	for (int i = 0; i < 12; i++)
		if ((cid[i] >= 'a' && cid[i] <= 'z') ||
		    (cid[i] >= 'A' && cid[i] <= 'Z')) {
			cid[i] ^= 0x20;
			break;
		}
	if (strcmp(cid, id) != 0) {
		build(buf, sizeof(buf), "ptk", "_", cid, "_", sec);
		CASE(.what = "id with one letter's case changed, CRC right",
		     .pw = buf, .expect = REF, .log_id = cid);
	}
	for (int i = 0; i < 32; i += 7) {
		char ws[33];
		memcpy(ws, sec, 33);
		ws[i] = ws[i] == 'z' ? 'y' : 'z';
		build(buf, sizeof(buf), "ptk", "_", id, "_", ws);
		CASE(.what = "wrong secret, CRC right", .pw = buf, .expect = REF,
		     .log_id = id);
	}
	char cs[33];
	memcpy(cs, sec, 33);
	for (int i = 0; i < 32; i++)
		if ((cs[i] >= 'a' && cs[i] <= 'z') || (cs[i] >= 'A' && cs[i] <= 'Z')) {
			cs[i] ^= 0x20;
			break;
		}
	build(buf, sizeof(buf), "ptk", "_", id, "_", cs);
	CASE(.what = "secret with one letter's case changed, CRC right",
	     .pw = buf, .expect = REF, .log_id = id);
	/* Check digits wrong. */
	for (int i = 0; i < 6; i++) {
		snprintf(buf, sizeof(buf), "%s", t0.text);
		char *c = buf + 49 + i;
		*c = *c == '0' ? '1' : '0';
		CASE(.what = "one check digit wrong", .pw = buf, .expect = IGN);
		snprintf(buf, sizeof(buf), "%s", t0.text);
		c = buf + 49 + i;
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')) {
			*c ^= 0x20;
			CASE(.what = "check digit case swapped", .pw = buf,
			     .expect = IGN);
		}
		snprintf(buf, sizeof(buf), "%s", t0.text);
		buf[49 + i] = '_';
		CASE(.what = "non-base62 check digit", .pw = buf, .expect = IGN);
	}
	/* Lengths off by one, CRC right for what is there. */
	char s31[33], s33[34], i11[13], i13[14];
	memcpy(s31, sec, 31);
	s31[31] = '\0';
	snprintf(s33, sizeof(s33), "%sA", sec);
	memcpy(i11, id, 11);
	i11[11] = '\0';
	snprintf(i13, sizeof(i13), "%sA", id);
	build(buf, sizeof(buf), "ptk", "_", id, "_", s31);
	CASE(.what = "secret of 31, CRC right", .pw = buf, .expect = IGN);
	build(buf, sizeof(buf), "ptk", "_", id, "_", s33);
	CASE(.what = "secret of 33, CRC right", .pw = buf, .expect = IGN);
	build(buf, sizeof(buf), "ptk", "_", i11, "_", sec);
	CASE(.what = "id of 11, CRC right", .pw = buf, .expect = IGN);
	build(buf, sizeof(buf), "ptk", "_", i13, "_", sec);
	CASE(.what = "id of 13, CRC right", .pw = buf, .expect = IGN);
	snprintf(buf, sizeof(buf), "%.*s", (int)tl - 1, t0.text);
	CASE(.what = "check of 5 digits", .pw = buf, .expect = IGN);
	snprintf(buf, sizeof(buf), "%.*s0%s", 49, t0.text, chk);
	CASE(.what = "check of 7 digits (leading 0)", .pw = buf, .expect = IGN);
	const char *wrap[][2] = { { "", "\n" }, { "", "\r" }, { " ", "" },
				  { "", " " }, { "", "a" }, { "\t", "" },
				  { "", "\r\n" } };
	for (size_t i = 0; i < sizeof(wrap) / sizeof(*wrap); i++) {
		snprintf(buf, sizeof(buf), "%s%s%s", wrap[i][0], t0.text,
			 wrap[i][1]);
		CASE(.what = "token with a byte before or after", .pw = buf,
		     .expect = IGN);
	}
	/* Other prefixes' well-formed tokens are not ours. */
	build(buf, sizeof(buf), "ghp", "_", id, "_", sec);
	CASE(.what = "another site's prefix", .pw = buf, .expect = IGN);

	/* Valid tokens that must be refused. */
	CASE(.what = "daemon's token for root", .pw = t_daemon.text,
	     .expect = REF, .log_id = t_daemon.id);
	CASE(.what = "daemon's token for daemon (control)", .user = "daemon",
	     .pw = t_daemon.text, .expect = OK);
	CASE(.what = "revoked token", .pw = t_revoked.text, .expect = REF,
	     .log_id = t_revoked.id);
	CASE(.what = "disabled token", .pw = t_disabled.text, .expect = REF,
	     .log_id = t_disabled.id);
	CASE(.what = "token limited to svc-a, used on alone", .pw = t_svc.text,
	     .expect = REF, .log_id = t_svc.id);
	CASE(.what = "token limited to svc-a, used on svc-a", .service = "svc-a",
	     .pw = t_svc.text, .expect = OK);
	CASE(.what = "unnamed token on sudo (deny_services)", .service = "sudo",
	     .pw = t0.text, .expect = REF, .log_id = t0.id);
	CASE(.what = "token naming sudo, on sudo", .service = "sudo",
	     .pw = t_sudo.text, .expect = OK);
	CASE(.what = "valid token, PAM_SILENT", .pw = t0.text,
	     .flags = PAM_SILENT, .expect = OK);
	CASE(.what = "valid token, PAM_DISALLOW_NULL_AUTHTOK|PAM_SILENT",
	     .pw = t0.text, .flags = PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK,
	     .expect = OK);
	printf("passwords: %d cases\n", n_cases - before);
}

static void users(void)
{
	static char big[1100], big2[1200];
	int before = n_cases;

	memset(big, 'r', 1024);
	big[1024] = '\0';
	snprintf(big2, sizeof(big2), "root%s", big);
	big2[1024] = '\0';
	const char *odd[] = {
		"root/", "/root", "ro/ot", "../root", "root:x", "root:", ":root",
		"root\n", "\nroot", "root\nrhost=1.2.3.4", "root\r", " root",
		"root ", "root\t", "ROOT", "Root", "r\xc3\xb6ot", "\xff\xfe",
		"root\x1b[2J", "root=", "user=root", big, big2, "*", "%s%n",
	};
	for (size_t i = 0; i < sizeof(odd) / sizeof(*odd); i++) {
		CASE(.what = "odd user name, root's token", .user = odd[i],
		     .pw = t0.text, .expect = REF, .log_id = t0.id);
		CASE(.what = "odd user name, plain password", .user = odd[i],
		     .pw = "hunter2", .expect = IGN);
	}
	/* An empty PAM_USER: the spec is silent; never success, and the
	 * module says so before touching the password. */
	CASE(.what = "empty user name, valid token", .user = "", .pw = t0.text,
	     .expect = PAM_USER_UNKNOWN, .expect_alt = REF, .has_alt = true);
	CASE(.what = "empty user name, plain password", .user = "",
	     .pw = "hunter2", .expect = PAM_USER_UNKNOWN, .expect_alt = IGN, .has_alt = true);
	printf("user names: %d cases\n", n_cases - before);
}

typedef struct rh {
	const char *rhost; /* NULL: PAM_RHOST not set */
	const char *label;
	/* expected: no rules, per-token allow+deny rules, deny-only,
	 * local-only, global rules with an unrestricted token */
	int none, rules, deny, local, global;
} rh;

static void rhosts(void)
{
	static char long1[10 * 1024 + 1], long2[10 * 1024 + 16], long3[4097];
	memset(long1, 'a', sizeof(long1) - 1);
	memset(long3, '1', sizeof(long3) - 1);
	snprintf(long2, sizeof(long2), "10.1.2.3");
	memset(long2 + 8, ' ', 10 * 1024);
	long2[8 + 10 * 1024] = '\0';
	/* Token rules: allow 10.0.0.0/8 ::1 2001:db8::/32, deny 10.66.0.0/16.
	 * Deny-only: 10.66.0.0/16. Local-only: local. Global (config):
	 * allow 10.0.0.0/8 ::1 local, deny 10.66.0.0/16. */
	const rh table[] = {
		/* No PAM_RHOST: a deny-only list refuses it (pam_apitoken(8):
		 * only an explicit "local" admits a client without an address,
		 * so deny rules alone refuse it). */
		{ NULL, "(unset)", OK, REF, REF, OK, OK },
		{ "", "(empty)", OK, REF, REF, OK, OK },
		{ "10.1.2.3", NULL, OK, OK, OK, REF, OK },
		{ "10.66.1.1", NULL, OK, REF, REF, REF, REF },
		{ "11.0.0.1", NULL, OK, REF, OK, REF, REF },
		{ "::ffff:10.0.0.1", NULL, OK, OK, OK, REF, OK },
		{ "::FFFF:10.0.0.1", NULL, OK, OK, OK, REF, OK },
		{ "::ffff:0a01:0203", NULL, OK, OK, OK, REF, OK },
		{ "::ffff:10.66.1.1", NULL, OK, REF, REF, REF, REF },
		{ "0:0:0:0:0:ffff:a42:101", NULL, OK, REF, REF, REF, REF },
		{ "::ffff:11.0.0.1", NULL, OK, REF, OK, REF, REF },
		{ "::1", NULL, OK, OK, OK, REF, OK },
		{ "0:0:0:0:0:0:0:1", NULL, OK, OK, OK, REF, OK },
		{ "0000:0000:0000:0000:0000:0000:0000:0001", NULL, OK, OK, OK, REF, OK },
		{ "2001:db8::5", NULL, OK, OK, OK, REF, REF },
		{ "2001:DB8:0:0::5", NULL, OK, OK, OK, REF, REF },
		{ "fe80::1", NULL, OK, REF, OK, REF, REF },
		{ "fe80::1%eth0", NULL, OK, REF, REF, REF, REF },
		{ "fe80::1%1", NULL, OK, REF, REF, REF, REF },
		{ "UNKNOWN", NULL, OK, REF, REF, REF, REF },
		{ "localhost", NULL, OK, REF, REF, REF, REF },
		{ "local", NULL, OK, REF, REF, REF, REF },
		{ "host.example.com", NULL, OK, REF, REF, REF, REF },
		{ "garbage\x01\xff\x7f", NULL, OK, REF, REF, REF, REF },
		{ long1, "(10 KiB of a)", OK, REF, REF, REF, REF },
		{ long2, "(10.1.2.3 + 10 KiB of blanks)", OK, REF, REF, REF, REF },
		{ long3, "(4 KiB of 1)", OK, REF, REF, REF, REF },
		{ "10.1.2.3 ", NULL, OK, REF, REF, REF, REF },
		{ " 10.1.2.3", NULL, OK, REF, REF, REF, REF },
		{ "10.1.2.3\n", NULL, OK, REF, REF, REF, REF },
		{ "10.1.2.3\nrhost=10.1.2.4", NULL, OK, REF, REF, REF, REF },
		{ "010.1.2.3", NULL, OK, REF, REF, REF, REF },
		{ "10.1.2", NULL, OK, REF, REF, REF, REF },
		{ "10.1.2.3.4", NULL, OK, REF, REF, REF, REF },
		{ "10.1.2.256", NULL, OK, REF, REF, REF, REF },
		{ "0x0a.1.2.3", NULL, OK, REF, REF, REF, REF },
		{ "167838211", NULL, OK, REF, REF, REF, REF },
		{ "10.1.2.3/8", NULL, OK, REF, REF, REF, REF },
		{ "[::1]", NULL, OK, REF, REF, REF, REF },
		{ "::1:", NULL, OK, REF, REF, REF, REF },
		{ "10.1.2.3:22", NULL, OK, REF, REF, REF, REF },
	};
	int before = n_cases;
	char what[200];

	for (size_t i = 0; i < sizeof(table) / sizeof(*table); i++) {
		const rh *r = &table[i];
		char shown[48];
		const char *l = r->label ? r->label : r->rhost;
		size_t j = 0;
		for (; l[j] && j < sizeof(shown) - 1; j++)
			shown[j] = (l[j] >= 0x20 && l[j] < 0x7f) ? l[j] : '?';
		shown[j] = '\0';
#define RH(tokp, exp, tag, st)                                                   \
	do {                                                                     \
		snprintf(what, sizeof(what), "rhost %s, %s", shown, tag);       \
		CASE(.what = what, .s = st, .pw = (tokp)->text, .rhost = r->rhost, \
		     .expect = exp, .log_id = (tokp)->id,                        \
		     .audit_limit = r->rhost && strlen(r->rhost) > 8192);         \
	} while (0)
		RH(&t0, r->none, "token without rules", &site);
		RH(&t_rules, r->rules, "token with allow+deny rules", &site);
		RH(&t_deny, r->deny, "token with deny-only rules", &site);
		RH(&t_local, r->local, "token allowing only local", &site);
		RH(&g0, r->global, "global rules, token without rules", &gsite);
#undef RH
	}
	printf("rhosts: %d cases (%zu addresses x 5 rule sets)\n",
	       n_cases - before, sizeof(table) / sizeof(*table));
}

/* pam_get_authtok on a handle of our own, with a conversation that
 * behaves like mode: what "passed through" means for this libpam. */
static int authtok_oracle(int mode)
{
	th_conv o = { .mode = mode };
	struct pam_conv conv = { th_conversation, &o };
	pam_handle_t *h = NULL;
	const char *pw = NULL;

	if (pam_start_confdir("other", "root", &conv, site.confdir, &h) !=
	    PAM_SUCCESS)
		return PAM_SUCCESS; /* flagged by the caller */
	int rc = pam_get_authtok(h, PAM_AUTHTOK, &pw, NULL);
	pam_end(h, rc);
	return rc;
}

static void conversations(void)
{
	const struct {
		int mode;
		const char *what;
	} modes[] = {
		{ TH_CONV_ERR, "conversation returns PAM_CONV_ERR" },
		{ TH_CONV_BUF_ERR, "conversation returns PAM_BUF_ERR" },
		{ TH_CONV_NULL_RESP, "conversation answers with a NULL response" },
		{ TH_CONV_NULL_ARRAY, "conversation returns no response array" },
	};
	int before = n_cases;

	for (size_t i = 0; i < sizeof(modes) / sizeof(*modes); i++) {
		int oracle = authtok_oracle(modes[i].mode);
		if (oracle == PAM_SUCCESS) {
			th_check(false, "libpam oracle gave PAM_SUCCESS for %s",
				 modes[i].what);
			continue;
		}
		for (int t = 0; t < 2; t++) {
			kase k = { .what = modes[i].what, .s = &site,
				   .user = "root",
				   .pw = t ? "hunter2" : t0.text,
				   .mode = modes[i].mode, .expect = oracle };
			run(&k);
		}
	}
	printf("conversations: %d cases (each result = libpam's "
	       "pam_get_authtok result, passed through)\n",
	       n_cases - before);
}

static void make_services(hc_site *s, const char *name)
{
	char path[800], text[2048], probe[800];

	snprintf(path, sizeof(path), "%s/%s", s->confdir, name);
	snprintf(text, sizeof(text),
		 "auth required %s conf=%s\naccount required %s conf=%s\n",
		 hc_module_path, s->conf, hc_module_path, s->conf);
	hc_write_file(path, text, strlen(text), 0644);
	snprintf(probe, sizeof(probe), "%s/%s-probe", s->confdir, name);
	snprintf(text, sizeof(text),
		 "auth [success=done ignore=ignore default=die] %s conf=%s\n"
		 "auth required pam_permit.so\n"
		 "account [success=done ignore=ignore default=die] %s conf=%s\n"
		 "account required pam_permit.so\n",
		 hc_module_path, s->conf, hc_module_path, s->conf);
	hc_write_file(probe, text, strlen(text), 0644);
}

int main(void)
{
	char dir[1024], out[256], err[2048];

	hc_init("hard_input");
	alarm(300);
	if (hc_disable_audit())
		printf("libpam audit off (seccomp: no netlink), so results are "
		       "the module's own and no DNS is asked\n");
	else
		printf("NOTE: could not turn libpam's audit off; hostnames in "
		       "PAM_RHOST may be resolved by libaudit\n");
	char *top = hc_tmpdir("hard_input");
	snprintf(dir, sizeof(dir), "%s/site", top);
	mkdir(dir, 0755);
	/* Every success must leave its "accepted" line here (the checks
	 * read the outcome from it): no throttling of success lines. */
	hc_site_init(&site, dir, "log_success_interval = 0\n");
	make_services(&site, "svc-a");
	make_services(&site, "sudo");
	snprintf(dir, sizeof(dir), "%s/gsite", top);
	mkdir(dir, 0755);
	hc_site_init(&gsite, dir,
		     "allow_from = 10.0.0.0/8 ::1 local\n"
		     "deny_from = 10.66.0.0/16\n"
		     "log_success_interval = 0\n");

	hc_create(&site, t0.text, t0.id, "t0", NULL);
	hc_create(&site, t_rules.text, t_rules.id, "rules", "--allow-from",
		  "10.0.0.0/8", "--allow-from", "::1", "--allow-from",
		  "2001:db8::/32", "--deny-from", "10.66.0.0/16", NULL);
	hc_create(&site, t_deny.text, t_deny.id, "deny", "--deny-from",
		  "10.66.0.0/16", NULL);
	hc_create(&site, t_local.text, t_local.id, "local", "--allow-from",
		  "local", NULL);
	hc_create(&site, t_svc.text, t_svc.id, "svc", "--service", "svc-a", NULL);
	hc_create(&site, t_sudo.text, t_sudo.id, "sudo", "--service", "sudo",
		  NULL);
	hc_create(&site, t_daemon.text, t_daemon.id, "daemon", "--user",
		  "daemon", NULL);
	hc_create(&site, t_revoked.text, t_revoked.id, "revoked", NULL);
	hc_create(&site, t_disabled.text, t_disabled.id, "disabled", NULL);
	hc_create(&gsite, g0.text, g0.id, "g0", NULL);
	if (hc_tokenadm(&site, out, sizeof(out), err, sizeof(err), "revoke",
			t_revoked.id, NULL) != 0 ||
	    hc_tokenadm(&site, out, sizeof(out), err, sizeof(err), "disable",
			t_disabled.id, NULL) != 0)
		hc_die("revoke/disable failed: %s", err);
	memcpy(secret_t0, t0.text + 17, 32);
	secret_t0[32] = '\0';

	passwords();
	users();
	rhosts();
	conversations();

	printf("hard_input: %d cases, %d failures, %lu log lines checked, "
	       "%lu log violations, %d results overridden by libpam's audit "
	       "(PAM_SYSTEM_ERR; module decision read from its log)\n",
	       n_cases, th_count.fail, hc_log_lines(), hc_log_violations(),
	       n_audit);
	hc_rmrf(top);
	free(top);
	return th_count.fail ? 1 : 0;
}
