/* tokenadm --login: the password check of the web page, the way su(1)
 * does it (see login.h). The password lives in one locked page from the
 * moment it is read until it is wiped; it is handed to PAM only through
 * the conversation, which answers the password prompt and nothing else. */
#include <arpa/inet.h>
#include <errno.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "groups.h"
#include "json_out.h"
#include "login.h"
#include "logsafe.h"
#include "secure.h"

/* Read one line into buf (at most max bytes, no NUL, no newline kept),
 * a byte at a time: stdio would read ahead and swallow the command's own
 * input. Returns the length, or -1 (too long, NUL, read error, or EOF
 * before any byte when eof_ok is false). */
static ssize_t read_line(char *buf, size_t max, int eof_ok)
{
	size_t n = 0;

	for (;;) {
		char ch;
		ssize_t r = read(STDIN_FILENO, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return n > 0 || eof_ok ? (ssize_t)n : -1;
		if (ch == '\n')
			return (ssize_t)n;
		if (ch == '\0' || n == max)
			return -1;
		buf[n++] = ch;
	}
}

int login_read(login_creds *c)
{
	memset(c, 0, sizeof(*c));
	c->page_len = (size_t)sysconf(_SC_PAGESIZE);
	if (c->page_len < LOGIN_USER_MAX + LOGIN_PASSWORD_MAX + 2)
		c->page_len = 4096 * 2;
	void *p = mmap(NULL, c->page_len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		warnx_("out of memory");
		return EXIT_REFUSED;
	}
	c->page = p;
	/* Never on swap, in a core dump or in a child: fail closed when the
	 * kernel will not promise it. */
	if (mlock(p, c->page_len) != 0 ||
	    madvise(p, c->page_len, MADV_DONTDUMP) != 0 ||
	    madvise(p, c->page_len, MADV_WIPEONFORK) != 0) {
		warnx_("cannot lock memory for the password: %s",
		       strerror(errno));
		return EXIT_REFUSED;
	}
	c->user = c->page;
	c->password = c->page + LOGIN_USER_MAX + 1;
	ssize_t n = read_line(c->user, LOGIN_USER_MAX, 0);
	if (n <= 0) {
		json_fail_field("user");
		warnx_("--login reads a user name on the first line of standard "
		       "input (at most %d bytes)", LOGIN_USER_MAX);
		return EXIT_USAGE;
	}
	c->user[n] = '\0';
	n = read_line(c->password, LOGIN_PASSWORD_MAX, 1);
	if (n <= 0) {
		json_fail_field("password");
		warnx_("--login reads the password on the second line of "
		       "standard input (1 to %d bytes)", LOGIN_PASSWORD_MAX);
		return EXIT_USAGE;
	}
	c->password[n] = '\0';
	c->pwlen = (size_t)n;
	return EXIT_OK;
}

void login_wipe(login_creds *c)
{
	if (c->page) {
		secure_wipe(c->page, c->page_len);
		munlock(c->page, c->page_len);
		munmap(c->page, c->page_len);
	}
	memset(c, 0, sizeof(*c));
}

typedef struct conv_state {
	const login_creds *creds;
	int answered;
} conv_state;

/* Answers the first password prompt (echo off) with the password, lets
 * informational and error messages pass unanswered (they are not shown:
 * the web side must not learn more than "refused"), and fails anything
 * else: a second secret prompt (a one-time code the page cannot give) or
 * a prompt with echo on (a user name we already set). */
static int conversation(int n, const struct pam_message **msg,
			struct pam_response **resp, void *appdata)
{
	conv_state *st = appdata;
	struct pam_response *r;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	r = calloc((size_t)n, sizeof(*r));
	if (!r)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			if (st->answered)
				goto fail;
			/* malloc'ed: libpam wipes and frees the answer. */
			r[i].resp = strdup(st->creds->password);
			if (!r[i].resp)
				goto fail;
			st->answered = 1;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			break;
		default:
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (int i = 0; i < n; i++)
		if (r[i].resp) {
			secure_wipe(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	free(r);
	return PAM_CONV_ERR;
}

/* pam_unix's own refusal line, which fail2ban's pam-generic filter (with
 * __pam_auth = tokenadm) and the shipped pam-apitoken filter read: the
 * client's address is rhost=, the blanks and '=' of names are '?'. */
static void log_failure(const tool *t, const char *user, const char *ruser,
			const char *rhost, const char *why)
{
	char u[LOGSAFE_MAX], ru[LOGSAFE_MAX];

	syslog(LOG_AUTHPRIV | LOG_NOTICE,
	       "tokenadm(" LOGIN_PAM_SERVICE ":auth): authentication failure; "
	       "logname= uid=%u euid=%u tty= ruser=%s rhost=%s  user=%s",
	       (unsigned)t->caller.uid, (unsigned)geteuid(),
	       log_safe(ruser, ru, sizeof(ru)), rhost ? rhost : "",
	       log_safe(user, u, sizeof(u)));
	syslog(LOG_AUTHPRIV | LOG_NOTICE,
	       "web sign-in refused: user=%s ruser=%s rhost=%s reason=%s",
	       log_safe(user, u, sizeof(u)), log_safe(ruser, ru, sizeof(ru)),
	       rhost ? rhost : "", why);
}

/* The wait libpam makes after a failed pam_authenticate, for the
 * refusals that never reach it (and for pam_acct_mgmt's), so that no
 * refusal answers sooner than another. */
static void fail_delay(void)
{
	struct timespec ts = { LOGIN_FAIL_DELAY_US / 1000000u,
			       (LOGIN_FAIL_DELAY_US % 1000000u) * 1000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int refuse(const tool *t, const char *user, const char *ruser,
		  const char *rhost, const char *why, int delay)
{
	log_failure(t, user, ruser, rhost, why);
	if (delay)
		fail_delay();
	json_fail_field("password");
	warnx_("sign-in failed: wrong user name or password");
	return EXIT_DENIED;
}

/* uid of name: 1 found, 0 not, -1 NSS failed. */
static int uid_of(const char *name, uid_t *uid, char **canonical)
{
	struct passwd pw;
	char *buf = NULL;
	int r = lookup_user(name, 0, &pw, &buf);

	if (r == 1) {
		*uid = pw.pw_uid;
		if (canonical && !(*canonical = strdup(pw.pw_name)))
			r = -1;
	}
	free(buf);
	return r;
}

int login_authenticate(tool *t, const login_creds *c, const char *rhost)
{
	struct stat st;
	char *ruser = NULL;
	uid_t uid;
	int r;

	/* Without its own file libpam would run the "other" stack, which
	 * the administrator never meant for this. */
	if (lstat(LOGIN_PAM_FILE, &st) != 0 || !S_ISREG(st.st_mode)) {
		warnx_("web sign-in is off: no PAM service file %s",
		       LOGIN_PAM_FILE);
		return EXIT_USAGE;
	}
	{
		struct passwd pw;
		char *buf = NULL;
		if (lookup_user(NULL, t->caller.uid, &pw, &buf) == 1)
			ruser = strdup(pw.pw_name);
		free(buf);
	}
	const char *rus = ruser ? ruser : "";
	int rc = EXIT_DENIED;

	/* An API token is never a password here, whatever the stack and
	 * deny_services say: it would let a leaked token mint more. */
	token_parts parts = { 0 };
	bool is_token = token_parse(t->cfg.prefix, c->password, c->pwlen,
				    &parts);
	token_parts_wipe(&parts);
	if (is_token) {
		rc = refuse(t, c->user, rus, rhost, "an API token was typed as "
			    "the password", 1);
		goto out;
	}
	/* root administers from a shell, not from a web page: a password
	 * that opens root is not to be guessed through it. */
	r = uid_of(c->user, &uid, NULL);
	if (r == 1 && uid == 0) {
		rc = refuse(t, c->user, rus, rhost, "root does not sign in on "
			    "the web page", 1);
		goto out;
	}

	conv_state cs = { c, 0 };
	struct pam_conv conv = { conversation, &cs };
	pam_handle_t *pamh = NULL;
	r = pam_start(LOGIN_PAM_SERVICE, c->user, &conv, &pamh);
	if (r != PAM_SUCCESS) {
		warnx_("cannot start PAM: %s", pam_strerror(pamh, r));
		rc = EXIT_REFUSED;
		goto out;
	}
	/* Who relays (the web server's account) and for which client, for
	 * the stack's rules (pam_access, pam_faillock) and its logs. */
	r = pam_set_item(pamh, PAM_RUSER, rus);
	if (r == PAM_SUCCESS && rhost)
		r = pam_set_item(pamh, PAM_RHOST, rhost);
	if (r == PAM_SUCCESS)
		r = pam_fail_delay(pamh, LOGIN_FAIL_DELAY_US);
	if (r == PAM_SUCCESS)
		r = pam_authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	int authenticated = r == PAM_SUCCESS;
	if (authenticated)
		r = pam_acct_mgmt(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	/* A module may have mapped the name (case, a realm): act for the
	 * name PAM authenticated. */
	const void *item = NULL;
	char *who = NULL;
	if (r == PAM_SUCCESS &&
	    (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS || !item ||
	     uid_of(item, &uid, &who) != 1))
		r = PAM_USER_UNKNOWN;
	if (r != PAM_SUCCESS) {
		char why[128];
		snprintf(why, sizeof(why), "%s", pam_strerror(pamh, r));
		pam_end(pamh, r);
		free(who);
		/* pam_authenticate waited already; the account check did not. */
		rc = refuse(t, c->user, rus, rhost, why, authenticated);
		goto out;
	}
	pam_end(pamh, PAM_SUCCESS);
	if (uid == 0) {
		free(who);
		rc = refuse(t, c->user, rus, rhost, "root does not sign in on "
			    "the web page", 1);
		goto out;
	}
	free(t->user);
	t->user = who;
	t->uid = uid;
	t->via_web = true;
	{
		char u[LOGSAFE_MAX], ru[LOGSAFE_MAX];
		syslog(LOG_AUTHPRIV | LOG_INFO,
		       "web sign-in accepted: user=%s uid=%u ruser=%s rhost=%s",
		       log_safe(who, u, sizeof(u)), (unsigned)uid,
		       log_safe(rus, ru, sizeof(ru)), rhost ? rhost : "");
	}
	rc = EXIT_OK;
out:
	free(ruser);
	return rc;
}
