/* Shared helpers of the hard_* tests; see hard_common.h. */

/* This file defines syslog(3) itself (to capture the module's log lines),
 * so it must not see glibc's fortified inline wrappers of it. */
#undef _FORTIFY_SOURCE

#include "hard_common.h"
#include "harness.h"
#include "syslog_interpose.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

const char *hc_tokenadm_path;
const char *hc_module_path;

void hc_die(const char *fmt, ...)
{
	va_list ap;

	fputs("FATAL: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	exit(1);
}

static uint64_t rng_state = 88172645463325252ull;

void hc_seed(uint64_t seed)
{
	rng_state = seed ? seed : 88172645463325252ull;
}

uint64_t hc_rand(void)
{
	uint64_t x = rng_state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return rng_state = x;
}

double hc_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void hc_init(const char *name)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	hc_tokenadm_path = getenv("TOKENADM");
	hc_module_path = getenv("PAM_APITOKEN_SO");
	if (!hc_tokenadm_path || !hc_module_path || hc_tokenadm_path[0] != '/' ||
	    hc_module_path[0] != '/') {
		printf("SKIP %s: TOKENADM and PAM_APITOKEN_SO must be absolute "
		       "paths (run through meson test)\n", name);
		exit(77);
	}
	/* Tokens are minted for root and other accounts, and files are
	 * chowned: these tests need root (CI runs them as root). */
	if (geteuid() != 0) {
		printf("SKIP %s: needs root\n", name);
		exit(77);
	}
	const char *seed = getenv("HARD_SEED");
	uint64_t s = seed ? strtoull(seed, NULL, 0) :
			    (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	hc_seed(s);
	printf("%s: seed %llu (set HARD_SEED to repeat)%s\n", name,
	       (unsigned long long)s, HC_ASAN ? ", AddressSanitizer build" : "");
	/* The module's files must be owned by root or the euid and not be
	 * group/other-writable: never inherit a permissive umask. */
	umask(022);
	signal(SIGPIPE, SIG_IGN);
}

#if defined(__x86_64__)
#define HC_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define HC_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define HC_AUDIT_ARCH AUDIT_ARCH_I386
#endif

bool hc_disable_audit(void)
{
#if defined(HC_AUDIT_ARCH) && defined(__NR_socket)
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, HC_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 0, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 1),
		BPF_STMT(BPF_RET | BPF_K,
			 SECCOMP_RET_ERRNO | (EPROTONOSUPPORT & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { (unsigned short)(sizeof(f) / sizeof(f[0])), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0)
		return true;
#endif
	return false;
}

char *hc_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (!base || base[0] != '/')
		base = "/tmp";
	if (asprintf(&path, "%s/%s.XXXXXX", base, tag) < 0)
		hc_die("out of memory");
	if (!mkdtemp(path))
		hc_die("mkdtemp %s: %s", path, strerror(errno));
	if (chmod(path, 0755) != 0)
		hc_die("chmod %s: %s", path, strerror(errno));
	return path;
}

void hc_rmrf(const char *path)
{
	if (path && getenv("HARD_KEEP") == NULL)
		th_rm_rf(path);
}
void hc_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	if (th_write_file(path, data, len, mode) != 0)
		hc_die("write %s: %s", path, strerror(errno));
}
void hc_copy_file(const char *from, const char *to, mode_t mode)
{
	size_t len;
	char *data = th_read_file(from, &len);
	if (!data)
		hc_die("read %s: %s", from, strerror(errno));
	hc_write_file(to, data, len, mode);
	free(data);
}

/* ---- processes ---- */

static void drain(int *fd, char *buf, size_t sz, size_t *len)
{
	char tmp[4096];
	ssize_t n = read(*fd, tmp, sizeof(tmp));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		close(*fd);
		*fd = -1;
		return;
	}
	if (buf && sz > 0) {
		size_t room = sz - 1 - *len;
		size_t take = (size_t)n < room ? (size_t)n : room;
		memcpy(buf + *len, tmp, take);
		*len += take;
		buf[*len] = '\0';
	}
}

int hc_run(char *const argv[], const char *in, char *out, size_t outsz,
	   char *err, size_t errsz, int timeout_ms)
{
	int pin[2], pout[2], perr[2];
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = -1;

	if (out && outsz)
		out[0] = '\0';
	if (err && errsz)
		err[0] = '\0';
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) ||
	    pipe2(perr, O_CLOEXEC))
		hc_die("pipe: %s", strerror(errno));
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	if (rc != 0) {
		close(pin[1]);
		close(pout[0]);
		close(perr[0]);
		errno = rc;
		return -1;
	}
	/* May stop early (EPIPE): the child need not read it all. */
	if (in)
		(void)th_write_all(pin[1], in, strlen(in));
	close(pin[1]);

	size_t olen = 0, elen = 0;
	int fo = pout[0], fe = perr[0];
	double deadline = hc_now() + timeout_ms / 1000.0;
	bool killed = false;
	while (fo >= 0 || fe >= 0) {
		struct pollfd p[2];
		int np = 0;
		if (fo >= 0)
			p[np++] = (struct pollfd){ .fd = fo, .events = POLLIN };
		if (fe >= 0)
			p[np++] = (struct pollfd){ .fd = fe, .events = POLLIN };
		double left = deadline - hc_now();
		if (left <= 0 && !killed) {
			kill(pid, SIGKILL);
			killed = true;
		}
		int r = poll(p, (nfds_t)np, left > 0 ? (int)(left * 1000) + 1 : 100);
		if (r < 0 && errno != EINTR)
			hc_die("poll: %s", strerror(errno));
		for (int i = 0; i < np && r > 0; i++) {
			if (!p[i].revents)
				continue;
			if (p[i].fd == fo)
				drain(&fo, out, outsz, &olen);
			else
				drain(&fe, err, errsz, &elen);
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

int hc_tokenadm(const hc_site *s, char *out, size_t outsz, char *err,
		size_t errsz, ...)
{
	char *argv[64];
	int n = 0;
	va_list ap;

	argv[n++] = (char *)hc_tokenadm_path;
	argv[n++] = (char *)"--config";
	argv[n++] = (char *)s->conf;
	va_start(ap, errsz);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && n < 62;)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	return hc_run(argv, NULL, out, outsz, err, errsz, 60000);
}

void hc_token_id(const char *tok, char *id)
{
	const char *u = strchr(tok, '_');
	if (!u || strlen(u + 1) < HC_ID_LEN)
		hc_die("not a token: '%.20s'", tok);
	memcpy(id, u + 1, HC_ID_LEN);
	id[HC_ID_LEN] = '\0';
}

/* CRC-32, the zlib/IEEE polynomial (reflected 0xEDB88320), bit by bit. */
static uint32_t crc32_ieee(const char *p, size_t len)
{
	uint32_t crc = 0xffffffffu;

	for (size_t i = 0; i < len; i++) {
		crc ^= (unsigned char)p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* tok with the character at from_end (counted back from the end of the
 * body, the text before the check digits) changed, check digits redone. */
static void retoken(const char *tok, size_t from_end, char *out)
{
	static const char b62[] =
		"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t len = strlen(tok);

	/* prefix_<12 id>_<32 secret><6 check> */
	if (len < 52 || len >= HC_TOKEN_MAX)
		hc_die("not a token: '%.20s'", tok);
	memcpy(out, tok, len + 1);
	size_t body = len - 6, at = body - from_end;
	out[at] = out[at] == 'A' ? 'B' : 'A';
	uint32_t crc = crc32_ieee(out, body);
	for (int i = 5; i >= 0; i--) {
		out[body + (size_t)i] = b62[crc % 62];
		crc /= 62;
	}
}

void hc_wrong_secret(const char *tok, char *out)
{
	retoken(tok, 32, out); /* the first secret character */
}

void hc_unknown_id(const char *tok, char *out)
{
	retoken(tok, 32 + 1 + HC_ID_LEN, out); /* the first id character */
}

void hc_create(const hc_site *s, char *tok, char *id, const char *name, ...)
{
	char *argv[64];
	char out[512], err[2048];
	int n = 0;
	va_list ap;

	argv[n++] = (char *)hc_tokenadm_path;
	argv[n++] = (char *)"--config";
	argv[n++] = (char *)s->conf;
	argv[n++] = (char *)"create";
	argv[n++] = (char *)"--name";
	argv[n++] = (char *)name;
	argv[n++] = (char *)"--expires";
	argv[n++] = (char *)"never";
	va_start(ap, name);
	for (const char *a; (a = va_arg(ap, const char *)) != NULL && n < 62;)
		argv[n++] = (char *)a;
	va_end(ap);
	argv[n] = NULL;
	int st = hc_run(argv, NULL, out, sizeof(out), err, sizeof(err), 60000);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		hc_die("tokenadm create %s failed (status %d): %s", name, st, err);
	out[strcspn(out, "\n")] = '\0';
	if (strlen(out) >= HC_TOKEN_MAX)
		hc_die("token too long");
	strcpy(tok, out);
	hc_token_id(tok, id);
}

/* ---- site ---- */

void hc_site_services(hc_site *s, const char *confpath)
{
	char path[700], text[4096];

	snprintf(path, sizeof(path), "%s", s->confdir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/alone", s->confdir);
	snprintf(text, sizeof(text),
		 "auth required %s conf=%s\n"
		 "account required %s conf=%s\n",
		 hc_module_path, confpath, hc_module_path, confpath);
	hc_write_file(path, text, strlen(text), 0644);
	snprintf(path, sizeof(path), "%s/probe", s->confdir);
	snprintf(text, sizeof(text),
		 "auth [success=done ignore=ignore default=die] %s conf=%s\n"
		 "auth required pam_permit.so\n"
		 "account [success=done ignore=ignore default=die] %s conf=%s\n"
		 "account required pam_permit.so\n",
		 hc_module_path, confpath, hc_module_path, confpath);
	hc_write_file(path, text, strlen(text), 0644);
	/* libpam reads "other" when a service file is missing; without one
	 * it logs a complaint on every pam_start. */
	snprintf(path, sizeof(path), "%s/other", s->confdir);
	snprintf(text, sizeof(text), "auth required pam_deny.so\n"
		 "account required pam_deny.so\n");
	hc_write_file(path, text, strlen(text), 0644);
}

void hc_site_init(hc_site *s, const char *dir, const char *extra_conf)
{
	char text[8192], err[4096];

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "%s", dir);
	snprintf(s->conf, sizeof(s->conf), "%s/pam_apitoken.conf", dir);
	snprintf(s->db, sizeof(s->db), "%s/store/tokens.db", dir);
	snprintf(s->key, sizeof(s->key), "%s/store/site.key", dir);
	snprintf(s->confdir, sizeof(s->confdir), "%s/pam.d", dir);
	snprintf(text, sizeof(text), "db = %s\nkey = %s\n%s", s->db, s->key,
		 extra_conf ? extra_conf : "");
	hc_write_file(s->conf, text, strlen(text), 0644);
	int st = hc_tokenadm(s, NULL, 0, err, sizeof(err), "init", NULL);
	if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		hc_die("tokenadm init failed (status %d): %s", st, err);
	hc_site_services(s, s->conf);
}

/* ---- PAM ---- */

void hc_auth(const hc_auth_req *req, hc_auth_res *res)
{
	pam_handle_t *pamh = NULL;
	th_conv c = { .password = req->pw ? req->pw : "",
		      .password_len = req->pwlen, .mode = req->mode };
	struct pam_conv conv = { th_conversation, &c };

	memset(res, 0, sizeof(*res));
	res->rc = -1;
	res->acct_rc = -1;
	res->start_rc = pam_start_confdir(req->service ? req->service : "alone",
					  req->user, &conv, req->confdir, &pamh);
	if (res->start_rc != PAM_SUCCESS) {
		res->rc = res->start_rc;
		if (pamh)
			pam_end(pamh, res->start_rc);
		return;
	}
	if (req->rhost)
		pam_set_item(pamh, PAM_RHOST, req->rhost);
	res->rc = pam_authenticate(pamh, req->flags);
	if (req->acct && res->rc == PAM_SUCCESS)
		res->acct_rc = pam_acct_mgmt(pamh, req->flags);
	pam_end(pamh, res->rc);
	/* The one password prompt, and everything else libpam passed on. */
	res->n_prompts = c.prompts - c.prompts_echo;
	res->n_other = c.prompts_echo + c.messages + c.unknown;
}

int hc_auth_simple(const char *confdir, const char *user, const char *pw,
		   const char *rhost)
{
	hc_auth_req req = {
		.confdir = confdir, .user = user, .pw = pw,
		.pwlen = strlen(pw), .rhost = rhost,
	};
	hc_auth_res res;
	hc_auth(&req, &res);
	return res.rc;
}

/* ---- log capture (interposes syslog(3) for libpam) ---- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_buf;
static size_t log_len, log_cap;
static bool log_keep_text = true;
static unsigned long log_nlines, log_nviol;
static char log_viol_text[600];

void hc_log_keep(bool keep)
{
	pthread_mutex_lock(&log_lock);
	log_keep_text = keep;
	pthread_mutex_unlock(&log_lock);
}

void hc_log_clear(void)
{
	pthread_mutex_lock(&log_lock);
	log_len = 0;
	if (log_buf)
		log_buf[0] = '\0';
	pthread_mutex_unlock(&log_lock);
}

const char *hc_log_text(void)
{
	return log_buf ? log_buf : "";
}

unsigned long hc_log_lines(void)
{
	return log_nlines;
}

unsigned long hc_log_violations(void)
{
	return log_nviol;
}

const char *hc_log_first_violation(void)
{
	return log_viol_text;
}

__attribute__((format(printf, 2, 0)))
static void capture(int pri, const char *fmt, va_list ap)
{
	char msg[4096];
	int e = errno;

	(void)pri;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	bool bad = false;
	if (strstr(msg, "pam_apitoken")) {
		if (strstr(msg, "ptk_"))
			bad = true;
		for (const char *p = msg; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				bad = true;
	}
	pthread_mutex_lock(&log_lock);
	log_nlines++;
	if (bad && log_nviol++ == 0)
		snprintf(log_viol_text, sizeof(log_viol_text), "%.590s", msg);
	if (log_keep_text) {
		size_t n = strlen(msg);
		if (log_len + n + 2 > log_cap) {
			size_t cap = (log_cap ? log_cap : 4096);
			while (cap < log_len + n + 2)
				cap *= 2;
			char *b = realloc(log_buf, cap);
			if (b) {
				log_buf = b;
				log_cap = cap;
			}
		}
		if (log_len + n + 2 <= log_cap) {
			memcpy(log_buf + log_len, msg, n);
			log_len += n;
			log_buf[log_len++] = '\n';
			log_buf[log_len] = '\0';
		}
	}
	pthread_mutex_unlock(&log_lock);
	errno = e;
}

/* libpam's calls (pam_syslog) bind to these. */
SYSLOG_INTERPOSE(capture)
