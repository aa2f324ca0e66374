/* The shared harness of the C tests; see harness.h. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

th_counts th_count;
volatile sig_atomic_t th_alarmed;

/* ---- checks ---- */

static void count(int *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

void th_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	count(&th_count.fail);
	flockfile(stderr);
	fprintf(stderr, "FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

/* One "<tag>: <message>" line, whole even when threads report at once. */
__attribute__((format(printf, 2, 0)))
static void line_out(const char *tag, const char *fmt, va_list ap)
{
	flockfile(stdout);
	printf("%s: ", tag);
	vprintf(fmt, ap);
	putchar('\n');
	fflush(stdout);
	funlockfile(stdout);
}

void th_vreport(const char *tag, const char *fmt, va_list ap)
{
	line_out(tag, fmt, ap);
	if (strcmp(tag, "PASS") == 0)
		count(&th_count.pass);
	else if (strcmp(tag, "FAIL") == 0)
		count(&th_count.fail);
	else
		count(&th_count.skip);
}

void th_report(const char *tag, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	th_vreport(tag, fmt, ap);
	va_end(ap);
}

bool th_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	th_vreport(ok ? "PASS" : "FAIL", fmt, ap);
	va_end(ap);
	return ok;
}

void th_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	th_vreport("SKIP", fmt, ap);
	va_end(ap);
}

void th_fail_case(const char *what, const char *fmt, ...)
{
	va_list ap;

	count(&th_count.fail);
	flockfile(stdout);
	printf("FAIL [%s]: ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	funlockfile(stdout);
}

int th_summary(const char *passed_line)
{
	if (th_count.fail) {
		fprintf(stderr, "%d failure(s)\n", th_count.fail);
		return 1;
	}
	printf("%s\n", passed_line);
	return 0;
}

/* ---- files ---- */

bool th_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

bool th_read_all(int fd, void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		p += r;
		n -= (size_t)r;
	}
	return true;
}

size_t th_drain(int fd, char *out, size_t outlen)
{
	char sink[4096];
	size_t have = 0;

	for (;;) {
		bool keep = out && have + 1 < outlen;
		ssize_t r = keep ? read(fd, out + have, outlen - 1 - have) :
				   read(fd, sink, sizeof(sink));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (keep)
			have += (size_t)r;
	}
	if (out && outlen)
		out[have] = '\0';
	return have;
}

static int write_fd(int fd, const void *data, size_t len, mode_t mode)
{
	if (fd < 0)
		return -1;
	if (fchmod(fd, mode) != 0 || !th_write_all(fd, data, len)) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

int th_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	return write_fd(open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
					   O_CLOEXEC, mode),
			data, len, mode);
}

int th_replace_file(const char *path, const void *data, size_t len,
		    mode_t mode)
{
	unlink(path);
	return write_fd(open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			     0600),
			data, len, mode);
}

char *th_read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	size_t cap = 4096, n = 0;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			char *bigger = realloc(buf, 2 * cap + 1);
			if (!bigger) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

ssize_t th_read_text(const char *path, char *buf, size_t bufsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t have = 0;

	if (bufsz)
		buf[0] = '\0';
	if (fd < 0 || bufsz == 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (have + 1 < bufsz) {
		ssize_t n = read(fd, buf + have, bufsz - 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && have == 0) {
			close(fd);
			return -1;
		}
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	buf[have] = '\0';
	return (ssize_t)have;
}

void th_rm_rf(const char *path)
{
	struct stat st;

	if (lstat(path, &st) != 0)
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlink(path);
		return;
	}
	chmod(path, 0700);
	DIR *d = opendir(path);
	struct dirent *e;
	while (d && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char sub[PATH_MAX];
		int n = snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (n > 0 && (size_t)n < sizeof(sub))
			th_rm_rf(sub);
	}
	if (d)
		closedir(d);
	rmdir(path);
}

void th_path(char *out, size_t outlen, const char *dir, const char *name)
{
	int n = snprintf(out, outlen, "%s/%s", dir, name);

	if (n < 0 || (size_t)n >= outlen) {
		fprintf(stderr, "th_path: %s/%s does not fit in %zu bytes\n",
			dir, name, outlen);
		abort();
	}
}

size_t th_count_tmp(const char *path)
{
	char pat[PATH_MAX + 8];
	glob_t g;
	size_t n = 0;

	int len = snprintf(pat, sizeof(pat), "%s.tmp.*", path);
	if (len < 0 || (size_t)len >= sizeof(pat))
		abort(); /* a test bug: no such path */
	if (glob(pat, GLOB_NOSORT, NULL, &g) == 0)
		n = g.gl_pathc;
	globfree(&g);
	return n;
}

bool th_all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

static void on_alarm(int sig)
{
	(void)sig;
	th_alarmed = 1;
}

void th_alarm_in(unsigned seconds)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm; /* no SA_RESTART */
	sigaction(SIGALRM, &sa, NULL);
	th_alarmed = 0;
	alarm(seconds);
}

/* ---- PAM ---- */

static void free_responses(struct pam_response *r, int n)
{
	for (int i = 0; i < n; i++)
		free(r[i].resp);
	free(r);
}

int th_conversation(int n, const struct pam_message **msg,
		    struct pam_response **resp, void *appdata)
{
	th_conv *c = appdata;

	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	/* Count everything first: a failing conversation was still asked. */
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_ON:
			c->prompts_echo++;
			c->prompts++;
			break;
		case PAM_PROMPT_ECHO_OFF:
			c->prompts++;
			break;
		case PAM_TEXT_INFO:
		case PAM_ERROR_MSG:
			c->messages++;
			snprintf(c->last_msg, sizeof(c->last_msg), "%s",
				 msg[i]->msg ? msg[i]->msg : "(null)");
			break;
		default:
			c->unknown++;
			break;
		}
	}
	switch (c->mode) {
	case TH_CONV_ERR:
		return PAM_CONV_ERR;
	case TH_CONV_BUF_ERR:
		return PAM_BUF_ERR;
	case TH_CONV_NULL_ARRAY:
		*resp = NULL;
		return PAM_SUCCESS;
	default:
		break;
	}
	/* libpam frees these with libc's free. */
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	if (!r)
		return PAM_BUF_ERR;
	if (c->mode == TH_CONV_NULL_RESP) {
		*resp = r;
		return PAM_SUCCESS;
	}
	const char *pw = c->password ? c->password : "";
	size_t len = c->password_len ? c->password_len : strlen(pw);
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		if (c->answer) {
			r[i].resp = c->answer(c->answer_arg);
			if (!r[i].resp) {
				free_responses(r, i);
				return PAM_CONV_ERR;
			}
			continue;
		}
		r[i].resp = malloc(len + 1);
		if (!r[i].resp) {
			free_responses(r, i);
			return PAM_BUF_ERR;
		}
		memcpy(r[i].resp, pw, len);
		r[i].resp[len] = '\0';
	}
	*resp = r;
	return PAM_SUCCESS;
}

const char *th_pam_name(int rc)
{
	/* Per thread: the module tests name results in their threads. */
	static _Thread_local char other[32];

	switch (rc) {
	case PAM_SUCCESS: return "PAM_SUCCESS";
	case PAM_OPEN_ERR: return "PAM_OPEN_ERR";
	case PAM_SYMBOL_ERR: return "PAM_SYMBOL_ERR";
	case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
	case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
	case PAM_BUF_ERR: return "PAM_BUF_ERR";
	case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
	case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
	case PAM_CRED_INSUFFICIENT: return "PAM_CRED_INSUFFICIENT";
	case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
	case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
	case PAM_MAXTRIES: return "PAM_MAXTRIES";
	case PAM_NEW_AUTHTOK_REQD: return "PAM_NEW_AUTHTOK_REQD";
	case PAM_ACCT_EXPIRED: return "PAM_ACCT_EXPIRED";
	case PAM_CONV_ERR: return "PAM_CONV_ERR";
	case PAM_AUTHTOK_ERR: return "PAM_AUTHTOK_ERR";
	case PAM_ABORT: return "PAM_ABORT";
	case PAM_BAD_ITEM: return "PAM_BAD_ITEM";
	case PAM_IGNORE: return "PAM_IGNORE";
	case PAM_INCOMPLETE: return "PAM_INCOMPLETE";
	case -1: return "(not run)";
	}
	snprintf(other, sizeof(other), "code %d", rc);
	return other;
}
