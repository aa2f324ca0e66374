/* hard_refusals [OUTDIR]: one login for every way the module refuses, and a
 * few it accepts, through the real libpam; the module's own log lines
 * written out as a syslog file for tests/test_fail2ban.sh. Without OUTDIR
 * (the meson test of that name) only the checks here run, the files go
 * with the temporary directory.
 *
 * For each case the PAM result and the module's lines are checked here:
 * a refusal gives exactly one "authentication failure" (or, in the account
 * phase, "account check failure") line naming the client address, user and
 * service; a success one "authentication accepted" line; store trouble an
 * "authentication error" line; a non-token in a tokens-or-password stack no
 * line at all. No line holds a token or the password.
 *
 * OUTDIR/auth.log gets every captured line behind a syslog header
 * ("Dec  6 19:20:01 testhost apache2[4242]: pam_apitoken(...): ..."), and
 * OUTDIR/expect one line per log line, in the same order:
 *   match ADDRESS LABEL     a refusal: the filter must yield ADDRESS
 *   nomatch - LABEL         a success or an error: the filter must skip it
 * Exit 0 when every case behaved, 1 otherwise, 77 when not runnable. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include "hard_common.h"

static int failures;
static FILE *log_out, *expect_out;
static hc_site site;

enum kind { REFUSE, SUCCESS, ERROR, NONE };

typedef struct kase {
	const char *label;   /* one word, for the expect file */
	const char *service;
	const char *user;
	const char *pw;
	const char *rhost;
	int want_rc;
	enum kind kind;
	const char *reason;  /* expected in the line (refusals) */
	const char *host;    /* what fail2ban must yield (refusals) */
} kase;

static void fail(const char *label, const char *what, const char *log)
{
	failures++;
	printf("FAIL %s: %s\n  log: %.1200s\n", label, what, log);
}

/* Append the captured module lines to auth.log and one expectation per
 * line to expect; returns the number of module lines. */
static int emit(const char *label, enum kind kind, const char *host)
{
	const char *p = hc_log_text();
	char stamp[64];
	time_t now = time(NULL);
	struct tm tm;
	int n = 0;

	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%b %e %H:%M:%S", &tm);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > 13 && memcmp(p, "pam_apitoken(", 13) == 0) {
			fprintf(log_out, "%s testhost apache2[4242]: %.*s\n", stamp,
				(int)len, p);
			bool refusal = memmem(p, len, " failure; ", 10) != NULL;
			if (refusal && kind == REFUSE)
				fprintf(expect_out, "match %s %s\n", host, label);
			else
				fprintf(expect_out, "nomatch - %s\n", label);
			n++;
		}
		p += len + (nl ? 1 : 0);
	}
	return n;
}

/* s as the module logs it (log_safe, core/logsafe.h): every control,
 * space, non-ASCII or '=' byte a '?'. The strings here are short. */
static const char *logged(const char *s, char *buf, size_t len)
{
	size_t i = 0;

	for (; s[i] && i + 1 < len; i++)
		buf[i] = s[i] > ' ' && s[i] < 0x7f && s[i] != '=' ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static void run_case(const kase *k)
{
	char user[128], rhost[128], svc[128];

	hc_auth_req req = {
		.confdir = site.confdir, .service = k->service, .user = k->user,
		.pw = k->pw, .pwlen = strlen(k->pw), .rhost = k->rhost,
	};
	hc_auth_res res;
	char want[600];

	hc_log_clear();
	hc_auth(&req, &res);
	const char *log = hc_log_text();
	if (res.rc != k->want_rc) {
		snprintf(want, sizeof(want), "got %s, want %s",
			 th_pam_name(res.rc), th_pam_name(k->want_rc));
		fail(k->label, want, log);
	}
	if (strstr(log, k->pw) && k->kind != NONE)
		fail(k->label, "the password is in the log", log);
	switch (k->kind) {
	case REFUSE:
		/* The client's address, the user and the service, each the
		 * request's own and where pam_unix puts them. */
		snprintf(want, sizeof(want),
			 "authentication failure; logname= uid=%d euid=%d tty= "
			 "ruser= rhost=%s  user=%s service=%s token=",
			 (int)getuid(), (int)geteuid(),
			 logged(k->rhost, rhost, sizeof(rhost)),
			 logged(k->user, user, sizeof(user)),
			 logged(k->service, svc, sizeof(svc)));
		if (!strstr(log, want) || !strstr(log, k->reason))
			fail(k->label, "no failure line with this rhost, user, "
				       "service and the reason", log);
		break;
	case SUCCESS:
		if (!strstr(log, "authentication accepted for user "))
			fail(k->label, "no accepted line", log);
		break;
	case ERROR:
		if (!strstr(log, "authentication error; ") ||
		    strstr(log, " failure; "))
			fail(k->label, "store trouble not an error line", log);
		break;
	case NONE:
		if (strstr(log, "pam_apitoken("))
			fail(k->label, "a non-token was logged", log);
		break;
	}
	int n = emit(k->label, k->kind, k->host ? k->host : "-");
	if (n != (k->kind == NONE ? 0 : 1)) {
		snprintf(want, sizeof(want), "%d module lines", n);
		fail(k->label, want, log);
	}
}

/* pam_authenticate, then tokenadm revoke, then pam_acct_mgmt: the account
 * phase's refusal line. */
static void account_refusal(const char *tok, const char *id)
{
	th_conv tc = { .password = tok };
	struct pam_conv conv = { th_conversation, &tc };
	pam_handle_t *pamh = NULL;
	const char *host = "192.0.2.15";

	hc_log_clear();
	if (pam_start_confdir("apitoken-api", "root", &conv, site.confdir,
			      &pamh) != PAM_SUCCESS)
		hc_die("pam_start_confdir failed");
	pam_set_item(pamh, PAM_RHOST, host);
	int a = pam_authenticate(pamh, 0);
	int st = hc_tokenadm(&site, NULL, 0, NULL, 0, "revoke", id, NULL);
	int b = pam_acct_mgmt(pamh, 0);
	pam_end(pamh, b);
	const char *log = hc_log_text();
	if (a != PAM_SUCCESS || st != 0 || b != PAM_ACCT_EXPIRED)
		fail("account-revoked", "want auth success, revoke, then "
					"PAM_ACCT_EXPIRED", log);
	if (!strstr(log, "account check failure; ") ||
	    !strstr(log, "rhost=192.0.2.15  user=root service=apitoken-api "
			 "token=") ||
	    !strstr(log, "reason=token revoked"))
		fail("account-revoked", "no account check failure line", log);
	/* Two lines: the accepted one (no match) and the refusal. */
	if (emit("account-revoked", REFUSE, host) != 2)
		fail("account-revoked", "want 2 module lines", log);
}

static void service(const char *name, const char *auth_line)
{
	char path[800], text[2048];

	snprintf(path, sizeof(path), "%s/%s", site.confdir, name);
	snprintf(text, sizeof(text), "%s\naccount required %s conf=%s\n",
		 auth_line, hc_module_path, site.conf);
	hc_write_file(path, text, strlen(text), 0644);
}

int main(int argc, char **argv)
{
	char dir[1024], path[1200], line[4096];
	char t_ok[HC_TOKEN_MAX], i_ok[13], t_exp[HC_TOKEN_MAX], i_exp[13];
	char t_dis[HC_TOKEN_MAX], i_dis[13], t_rev[HC_TOKEN_MAX], i_rev[13];
	char t_net[HC_TOKEN_MAX], i_net[13], t_svc[HC_TOKEN_MAX], i_svc[13];
	char t_rot[HC_TOKEN_MAX], i_rot[13], t_acct[HC_TOKEN_MAX], i_acct[13];
	char wrong[HC_TOKEN_MAX], unknown[HC_TOKEN_MAX], typo[HC_TOKEN_MAX];
	char out[512], err[2048];

	if (argc > 2 || (argc == 2 && argv[1][0] != '/')) {
		printf("usage: hard_refusals [OUTDIR (absolute)]\n");
		return 2;
	}
	hc_init("hard_refusals");
	alarm(100);
	hc_disable_audit();
	char *top = hc_tmpdir("hard_refusals");
	snprintf(dir, sizeof(dir), "%s/site", top);
	mkdir(dir, 0755);
	/* Every success logged, so each case has its line. */
	hc_site_init(&site, dir, "log_success_interval = 0\n");

	char mod[1600];
	snprintf(mod, sizeof(mod), "%s conf=%s", hc_module_path, site.conf);
	snprintf(line, sizeof(line), "auth required %s tokens_only", mod);
	service("apitoken-api", line);
	service("sudo", line);
	snprintf(line, sizeof(line),
		 "auth sufficient %s\nauth required pam_deny.so", mod);
	service("either", line);
	snprintf(line, sizeof(line),
		 "auth required %s db=%s/no-such-store.db", mod, top);
	service("broken", line);

	hc_create(&site, t_ok, i_ok, "ok", NULL);
	hc_create(&site, t_dis, i_dis, "disabled", NULL);
	hc_create(&site, t_rev, i_rev, "revoked", NULL);
	hc_create(&site, t_net, i_net, "net", "--allow-from", "10.0.0.0/8", NULL);
	hc_create(&site, t_svc, i_svc, "svc", "--service", "other", NULL);
	hc_create(&site, t_acct, i_acct, "acct", NULL);
	hc_create(&site, t_rot, i_rot, "rot", NULL);
	/* hc_create says --expires never; a later --expires wins. */
	hc_create(&site, t_exp, i_exp, "exp", "--expires", "1s", NULL);
	if (hc_tokenadm(&site, out, sizeof(out), err, sizeof(err), "disable",
			i_dis, NULL) != 0 ||
	    hc_tokenadm(&site, out, sizeof(out), err, sizeof(err), "revoke",
			i_rev, NULL) != 0 ||
	    hc_tokenadm(&site, out, sizeof(out), err, sizeof(err), "rotate",
			i_rot, "--grace", "1s", NULL) != 0)
		hc_die("tokenadm disable/revoke/rotate failed: %s", err);
	hc_wrong_secret(t_ok, wrong);
	hc_unknown_id(t_ok, unknown);
	/* A typo: one character off, check digits now wrong. */
	snprintf(typo, sizeof(typo), "%s", t_ok);
	typo[10] = typo[10] == 'x' ? 'y' : 'x';
	/* Let the 1-second expiry and grace run out. */
	sleep(2);

	const char *outdir = argc == 2 ? argv[1] : top;
	snprintf(path, sizeof(path), "%s/auth.log", outdir);
	log_out = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/expect", outdir);
	expect_out = fopen(path, "w");
	if (!log_out || !expect_out)
		hc_die("cannot write to %s: %s", outdir, strerror(errno));

	const kase cases[] = {
		{ "wrong-secret", "apitoken-api", "root", wrong, "192.0.2.1",
		  PAM_AUTH_ERR, REFUSE, "reason=wrong secret", "192.0.2.1" },
		{ "unknown-id", "apitoken-api", "root", unknown, "192.0.2.2",
		  PAM_AUTH_ERR, REFUSE, "reason=unknown token id", "192.0.2.2" },
		{ "malformed-token", "apitoken-api", "root", typo, "192.0.2.3",
		  PAM_AUTH_ERR, REFUSE, "reason=password is not a token",
		  "192.0.2.3" },
		{ "expired", "apitoken-api", "root", t_exp, "192.0.2.4",
		  PAM_AUTH_ERR, REFUSE, "reason=token expired", "192.0.2.4" },
		{ "disabled", "apitoken-api", "root", t_dis, "192.0.2.5",
		  PAM_AUTH_ERR, REFUSE, "reason=token disabled", "192.0.2.5" },
		{ "revoked", "apitoken-api", "root", t_rev, "192.0.2.6",
		  PAM_AUTH_ERR, REFUSE, "reason=token revoked", "192.0.2.6" },
		{ "address-not-allowed", "apitoken-api", "root", t_net,
		  "192.0.2.7", PAM_AUTH_ERR, REFUSE, "reason=host not allowed",
		  "192.0.2.7" },
		{ "service-denied", "sudo", "root", t_ok, "192.0.2.8",
		  PAM_AUTH_ERR, REFUSE, "reason=service denied", "192.0.2.8" },
		{ "service-not-allowed", "apitoken-api", "root", t_svc,
		  "192.0.2.9", PAM_AUTH_ERR, REFUSE,
		  "reason=service not allowed", "192.0.2.9" },
		{ "another-users-token", "apitoken-api", "daemon", t_ok,
		  "192.0.2.10", PAM_AUTH_ERR, REFUSE,
		  "reason=token belongs to another user", "192.0.2.10" },
		{ "password-tokens-only", "apitoken-api", "root",
		  "correct horse battery staple", "192.0.2.11", PAM_AUTH_ERR,
		  REFUSE, "reason=password is not a token (tokens only)",
		  "192.0.2.11" },
		{ "rotation-grace-ended", "apitoken-api", "root", t_rot,
		  "192.0.2.12", PAM_AUTH_ERR, REFUSE, "grace ended",
		  "192.0.2.12" },
		{ "wrong-secret-ipv6", "apitoken-api", "root", wrong,
		  "2001:db8::13", PAM_AUTH_ERR, REFUSE, "reason=wrong secret",
		  "2001:db8::13" },
		{ "wrong-secret-mapped", "apitoken-api", "root", wrong,
		  "::ffff:192.0.2.16", PAM_AUTH_ERR, REFUSE,
		  "reason=wrong secret", "192.0.2.16" },
		/* The user name is the client's: it must not forge the
		 * address fail2ban reads. */
		{ "forged-rhost-in-user", "apitoken-api",
		  "x rhost=203.0.113.66  user=y", "pw of the forger", "192.0.2.14",
		  PAM_AUTH_ERR, REFUSE, "reason=password is not a token",
		  "192.0.2.14" },
		{ "success", "apitoken-api", "root", t_ok, "198.51.100.1",
		  PAM_SUCCESS, SUCCESS, NULL, NULL },
		{ "success-ipv6", "apitoken-api", "root", t_ok,
		  "2001:db8:ffff::1", PAM_SUCCESS, SUCCESS, NULL, NULL },
		{ "success-either", "either", "root", t_ok, "198.51.100.2",
		  PAM_SUCCESS, SUCCESS, NULL, NULL },
		/* Not a token where passwords are allowed: left to the
		 * password modules (here pam_deny), nothing logged. */
		{ "password-either", "either", "root", "hunter2 hunter2",
		  "198.51.100.3", PAM_AUTH_ERR, NONE, NULL, NULL },
		/* The server's trouble, not the client's. */
		{ "store-missing", "broken", "root", t_ok, "198.51.100.4",
		  PAM_AUTHINFO_UNAVAIL, ERROR, NULL, NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&cases[i]);
	account_refusal(t_acct, i_acct);

	if (hc_log_violations())
		fail("all", "a log line holds a token or a control character",
		     hc_log_first_violation());
	fclose(log_out);
	fclose(expect_out);
	printf("hard_refusals: %zu cases, %s\n",
	       sizeof(cases) / sizeof(cases[0]) + 1,
	       failures ? "FAILED" : "all as expected");
	hc_rmrf(top);
	free(top);
	return failures ? 1 : 0;
}
