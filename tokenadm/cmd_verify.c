/* tokenadm verify: would this token (read from stdin) log this user in? */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <termios.h>
#include <unistd.h>

#include "authcheck.h"
#include "logsafe.h"
#include "secure.h"
#include "tokenadm.h"

/* Read at most buflen-1 bytes of stdin (never argv: a token there would be
 * visible in ps and shell history) and drop one trailing newline. */
static ssize_t read_token(char *buf, size_t buflen)
{
	size_t got = 0;

	while (got < buflen - 1) {
		ssize_t n = read(STDIN_FILENO, buf + got, buflen - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
		if (memchr(buf, '\n', got))
			break;
	}
	char *nl = memchr(buf, '\n', got);
	if (nl)
		got = (size_t)(nl - buf);
	if (got > 0 && buf[got - 1] == '\r')
		got--;
	buf[got] = '\0';
	return (ssize_t)got;
}

static store_status fetch_from_reader(void *ctx, const char *id, uint8_t *buf,
				      size_t bufsz, size_t *len, char *err,
				      size_t errlen)
{
	return store_get(ctx, id, TOKEN_ID_LEN, buf, bufsz, len, err, errlen);
}

/* One line per verdict, as the module logs a login (pam_unix's shape,
 * authpriv, never the token): verify confirms a token as surely as a
 * login does, so a stolen one tried here must leave the same trace. The
 * phase is "verify", which no fail2ban filter matches: the rhost is what
 * the caller typed, and must not get an address banned. Logged before
 * the verdict is printed, so the caller cannot have one without the
 * other. */
static void log_verdict(const tool *t, const auth_request *req,
			const auth_result *res)
{
	char user[LOGSAFE_MAX], rhost[LOGSAFE_MAX], service[LOGSAFE_MAX];
	char by[LOGSAFE_MAX], tty[LOGSAFE_MAX];
	const char *id = res->token_id[0] ? res->token_id : "-";

	log_safe(req->user, user, sizeof(user));
	log_safe(req->rhost, rhost, sizeof(rhost));
	log_safe(req->service, service, sizeof(service));
	log_safe(t->user, by, sizeof(by));
	log_safe(isatty(STDERR_FILENO) ? ttyname(STDERR_FILENO) : NULL, tty,
		 sizeof(tty));
	if (res->outcome == AUTH_ACCEPT) {
		syslog(LOG_INFO,
		       "verify accepted for user %s; rhost=%s service=%s "
		       "token=%s by=%s uid=%u",
		       user, rhost, service, id, by, (unsigned)t->uid);
		return;
	}
	bool refused = res->outcome == AUTH_REFUSED ||
		       res->outcome == AUTH_NOT_TOKEN;
	syslog(refused ? LOG_NOTICE : LOG_ERR,
	       "verify %s; logname=%s uid=%u euid=%u tty=%s ruser= rhost=%s  "
	       "user=%s service=%s token=%s reason=%s",
	       refused ? "failure" : "error", by, (unsigned)t->uid,
	       (unsigned)t->uid, tty, rhost, user, service, id,
	       res->outcome == AUTH_NOT_TOKEN ? "not a token" : res->reason);
}

typedef struct verify_opts {
	auth_request req;
} verify_opts;

static int verify_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "rhost", required_argument, NULL, 'r' },
		{ "service", required_argument, NULL, 's' },
		{ 0 },
	};
	auth_request *req = &((verify_opts *)opts)->req;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'u': req->user = optarg; break;
		case 'r': req->rhost = optarg; break;
		case 's': req->service = optarg; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc || !req->user) {
		warnx_("usage: verify --user USER [--rhost ADDR] [--service NAME]"
		       " < token");
		return EXIT_USAGE;
	}
	req->now = now;
	req->skip_service_rules = req->service == NULL;
	return EXIT_OK;
}

static int verify_transact(tool *t, void *opts)
{
	auth_request *req = &((verify_opts *)opts)->req;

	/* Verifying is a way to test secrets: for your own account only,
	 * unless you administer every token anyway. */
	if (!t->admin && strcmp(req->user, t->user) != 0) {
		warnx_("only administrators verify other users' tokens");
		return EXIT_DENIED;
	}
	/* Open key and store now; the caller's input is read only after
	 * the drop, in report. */
	return tool_open_store(t) == 0 ? EXIT_OK : EXIT_REFUSED;
}

static int verify_report(tool *t, void *opts, int rc)
{
	auth_request *req = &((verify_opts *)opts)->req;
	auth_result res;
	char buf[1024];

	if (rc != EXIT_OK)
		return rc;
	/* Typed at a terminal: no echo, so the token stays out of the
	 * scrollback and of any session recording; and no ^C or ^Z while the
	 * echo is off, so the terminal is always given back as it was (^D
	 * still ends the input). */
	struct termios saved, quiet;
	bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (tty) {
		quiet = saved;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ISIG);
		fputs("Token: ", stderr);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	ssize_t n = read_token(buf, sizeof(buf));
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);
	}
	if (n < 0) {
		/* What was read of it before the error is a piece of it. */
		secure_wipe(buf, sizeof(buf));
		secure_burn_stack();
		warnx_("cannot read the token from stdin");
		return EXIT_REFUSED;
	}
	req->password = buf;
	req->pwlen = (size_t)n;
	record_source src = {
		.key = t->key,
		.fetch = fetch_from_reader,
		.ctx = t->reader,
	};
	auth_check_token(&t->cfg, &src, req, &res, NULL);
	req->password = NULL;
	secure_wipe(buf, sizeof(buf));
	secure_wipe(&res.secret, sizeof(res.secret)); /* a piece of a digest */
	secure_burn_stack();
	log_verdict(t, req, &res);

	if (res.outcome == AUTH_ACCEPT) {
		printf("accepted: token %s for %s%s\n", res.token_id, req->user,
		       req->skip_service_rules ?
			       " (service rules not checked: no --service)" : "");
		return EXIT_OK;
	}
	/* "unknown token id" against "wrong secret" would tell a member
	 * which ids exist (another user's among them): one answer for both,
	 * as show and revoke give. Administrators see every id anyway. */
	if (!t->admin && res.outcome == AUTH_REFUSED &&
	    (strcmp(res.reason, "unknown token id") == 0 ||
	     strcmp(res.reason, "wrong secret") == 0))
		snprintf(res.reason, sizeof(res.reason),
			 "unknown token or wrong secret");
	if (res.outcome == AUTH_NOT_TOKEN)
		printf("refused: not a token (wrong prefix, shape or check "
		       "digits); a login would try it as a password\n");
	else if (res.token_id[0])
		printf("refused: token %s: %s\n", res.token_id, res.reason);
	else
		printf("refused: %s\n", res.reason);
	return EXIT_REFUSED;
}

const command cmd_verify = {
	.name = "verify",
	.opts_size = sizeof(verify_opts),
	.parse = verify_parse,
	.transact = verify_transact,
	.report = verify_report,
};
