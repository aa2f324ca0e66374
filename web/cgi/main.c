/* apitoken-web-cgi: the web page's API, run by Apache (mod_cgid) for
 * POST /apitoken/api/<action>. It changes nothing itself: each request
 * becomes one `tokenadm --login <action> ... --json` (execve with a
 * fixed argv built from checked fields, never a shell), with the user
 * name and password from the request's Authorization header written on
 * tokenadm's standard input, and tokenadm's JSON relayed with an HTTP
 * status for its exit code. See request.h for what is refused and
 * ratelimit.h for the per-address limit.
 *
 * Secrets: the password lives in one buffer, wiped after it is written
 * to the pipe; tokenadm's answer (a new token's value) is wiped after it
 * is sent. Neither ever reaches argv, the environment or a log line.
 *
 * Compile-time: APITOKEN_WEB_TOKENADM (tokenadm's path) and
 * APITOKEN_WEB_RATE_DIR (the rate table's directory). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ratelimit.h"
#include "request.h"
#include "writeall.h"

#ifndef APITOKEN_WEB_TOKENADM
#define APITOKEN_WEB_TOKENADM "/usr/bin/tokenadm"
#endif
#ifndef APITOKEN_WEB_RATE_DIR
#define APITOKEN_WEB_RATE_DIR "/run/pam-apitoken-web"
#endif

/* The most tokenadm may print (a list of 100,000 tokens is ~40 MB). */
#define OUT_MAX (128u << 20)
/* A run of tokenadm longer than this is killed: its write lock waits at
 * most 30 s, and a sign-in's fail delay is seconds. */
#define RUN_SECONDS 90

static void respond(int status, const char *body, size_t len, int64_t retry)
{
	char head[512];
	int n = snprintf(head, sizeof(head),
			 "Status: %d %s\r\n"
			 "Content-Type: application/json\r\n"
			 "Cache-Control: no-store\r\n"
			 "X-Content-Type-Options: nosniff\r\n"
			 "Content-Length: %zu\r\n",
			 status, web_reason(status), len);
	if (retry > 0)
		n += snprintf(head + n, sizeof(head) - (size_t)n, "Retry-After: %lld\r\n",
			      (long long)retry);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "\r\n");
	if (write_all(1, head, (size_t)n) == 0)
		write_all(1, body, len);
}

/* A refused request's body is read and dropped first (Apache caps it,
 * LimitRequestBody): a program that exits without reading it makes
 * Apache log a broken pipe for every refusal. */
static void drain_body(void)
{
	char sink[4096];
	size_t total = 0;
	ssize_t r;
	while (total < (1u << 20) && ((r = read(0, sink, sizeof(sink))) > 0 || (r < 0 && errno == EINTR)))
		total += r > 0 ? (size_t)r : 0;
}

static int respond_error(int status, const char *message, const char *field, int64_t retry)
{
	char buf[1024];
	drain_body();
	web_error err = { status, message, field };
	size_t n = web_error_json(&err, buf, sizeof(buf));
	if (n == 0) {
		err.field = NULL;
		err.message = "error";
		n = web_error_json(&err, buf, sizeof(buf));
	}
	respond(status, buf, n, retry);
	return 0;
}

static int read_body(char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t r = read(0, buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* Run tokenadm with argv; credentials on its stdin; its stdout into
 * *out (malloc'ed, *len). Returns its exit code, or -1. */
static int run_tokenadm(web_request *r, char **out, size_t *len)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", NULL };
	int in[2], outp[2];
	*out = NULL;
	*len = 0;
	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(outp, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
		return -1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		close(in[0]); close(in[1]); close(outp[0]); close(outp[1]);
		return -1;
	}
	if (pid == 0) {
		/* stderr stays Apache's error log: tokenadm writes no secret
		 * there (a new token goes to stdout only). */
		if (dup2(in[0], 0) < 0 || dup2(outp[1], 1) < 0)
			_exit(127);
		execve(r->argv[0], r->argv, envp);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	/* Both lines fit in the pipe's buffer: written before reading. */
	size_t ul = strlen(r->user), pl = strlen(r->password);
	char creds[WEB_USER_MAX + WEB_PASSWORD_MAX + 3];
	memcpy(creds, r->user, ul);
	creds[ul] = '\n';
	memcpy(creds + ul + 1, r->password, pl);
	creds[ul + 1 + pl] = '\n';
	int wrc = write_all(in[1], creds, ul + pl + 2);
	explicit_bzero(creds, sizeof(creds));
	explicit_bzero(r->password, sizeof(r->password));
	close(in[1]);
	(void)wrc; /* a tokenadm that did not read is judged by its exit */

	size_t cap = 0;
	char *buf = NULL;
	bool too_big = false;
	time_t deadline = time(NULL) + RUN_SECONDS;
	for (;;) {
		struct pollfd p = { outp[0], POLLIN, 0 };
		int left = (int)(deadline - time(NULL));
		if (left <= 0 || poll(&p, 1, left * 1000) == 0) {
			kill(pid, SIGKILL);
			too_big = true;
			break;
		}
		if (*len == cap) {
			if (cap >= OUT_MAX) {
				kill(pid, SIGKILL);
				too_big = true;
				break;
			}
			size_t ncap = cap ? cap * 2 : 65536;
			char *nb = malloc(ncap);
			if (!nb) {
				kill(pid, SIGKILL);
				too_big = true;
				break;
			}
			if (buf) {
				memcpy(nb, buf, *len);
				explicit_bzero(buf, cap);
				free(buf);
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t got = read(outp[0], buf + *len, cap - *len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		*len += (size_t)got;
	}
	close(outp[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	*out = buf;
	if (too_big)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
	web_env e = {
		getenv("REQUEST_METHOD"), getenv("CONTENT_TYPE"), getenv("CONTENT_LENGTH"),
		getenv("PATH_INFO"), getenv("HTTP_AUTHORIZATION"), getenv("HTTP_ORIGIN"),
		getenv("HTTP_HOST"), getenv("HTTPS"), getenv("HTTP_X_APITOKEN_REQUEST"),
		getenv("HTTP_SEC_FETCH_SITE"), getenv("REMOTE_ADDR"),
	};
	web_error err = { 0, NULL, NULL };
	size_t body_len = 0;
	char key[40];
	int64_t retry = 0;

	signal(SIGPIPE, SIG_IGN);
	umask(077);
	setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 });

	if (web_check_headers(&e, &body_len, &err) != 0)
		return respond_error(err.status, err.message, err.field, 0);
	if (rate_key(e.remote_addr, key) != 0)
		return respond_error(403, "the client address is unknown", NULL, 0);
	if (rate_admit_file(APITOKEN_WEB_RATE_DIR, key, (int64_t)time(NULL), &retry) != 0) {
		fprintf(stderr, "apitoken-web: the rate table in %s cannot be used\n",
			APITOKEN_WEB_RATE_DIR);
		return respond_error(503, "the service is not set up (rate limit state)", NULL, 0);
	}
	if (retry > 0)
		return respond_error(429, "too many requests from your address: wait and try again",
				     NULL, retry);

	web_request *r = calloc(1, sizeof(*r));
	char *body = malloc(body_len + 1);
	if (!r || !body || read_body(body, body_len) != 0) {
		free(r);
		free(body);
		return respond_error(400, "the request body could not be read", NULL, 0);
	}
	int prc = web_parse(&e, body, body_len, APITOKEN_WEB_TOKENADM, r, &err);
	free(body);
	/* The header's copy of the password is in this process's environment
	 * (readable in /proc/PID/environ while tokenadm runs): r has its own
	 * copy now, so wipe the original in place. */
	if (e.authorization)
		explicit_bzero((char *)e.authorization, strlen(e.authorization));
	if (prc != 0) {
		/* field may point into r: answer before wiping it. */
		respond_error(err.status, err.message, err.field, 0);
		web_request_wipe(r);
		free(r);
		return 0;
	}
	char *out = NULL;
	size_t len = 0;
	int code = run_tokenadm(r, &out, &len);
	web_request_wipe(r);
	free(r);
	bool failed_login = false;
	int status = code < 0 ? 502 : web_status_for(code, out, len, &failed_login);
	if (failed_login)
		rate_failed_file(APITOKEN_WEB_RATE_DIR, key, (int64_t)time(NULL));
	if (status == 502) {
		fprintf(stderr, "apitoken-web: tokenadm gave no usable answer (exit %d)\n", code);
		respond_error(502, "the token tool gave no answer", NULL, 0);
	} else {
		respond(status, out, len, 0);
	}
	if (out) {
		explicit_bzero(out, len);
		free(out);
	}
	return 0;
}
