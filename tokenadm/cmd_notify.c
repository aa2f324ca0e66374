/* tokenadm notify: mail each owner about their tokens before they expire
 * (notify_before), before retire-idle disables them (max_idle), when they
 * became inactive (owner left the permitted groups) and when someone
 * revoked them by value.
 *
 * Once per token and threshold: what was sent is kept in
 * <db>.notified, beside the store and never in it, so a daily run makes
 * no new fleet generation. A mail names the token's id, name, host and
 * expiry and how to rotate it; it never holds a secret (there is none to
 * hold: the store keeps digests only).
 *
 * Sending runs /usr/sbin/sendmail (any Debian MTA) as root, so a real run
 * is root's (the daily job); administrators may look with --dry-run, which
 * prints the mails and records nothing. An import-only host mails nothing:
 * the authority mails, once. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomicfile.h"
#include "authcheck.h"
#include "notices.h"
#include "readfile.h"
#include "secure.h"
#include "lastuse_view.h"
#include "tokenadm.h"
#include "writeall.h"

#define SENDMAIL "/usr/sbin/sendmail"
/* The sent-notices file and the address map are root's small text
 * files; anything bigger is not theirs. */
#define NOTIFIED_MAX (64u << 20)
#define MAP_MAX (4u << 20)
#define ADDRESS_MAX RECORD_USER_MAX

typedef struct mail {
	notice n;
	token_record rec; /* digests wiped */
	char to[ADDRESS_MAX + 1];
	bool sent;
} mail;

typedef struct notify_opts {
	bool dry_run, json;
	mail *mails;
	size_t n_mails, cap;
	size_t failed;
	char host[256];
	const char *skipped; /* why nothing was done, for report */
} notify_opts;

static int notify_parse(int argc, char **argv, void *opts, int64_t now)
{
	notify_opts *o = opts;

	(void)now;
	return parse_dry_run_json(argc, argv, "notify", &o->dry_run, &o->json);
}

static char *notify_state_path(const apitoken_config *cfg)
{
	char *p;
	return asprintf(&p, "%s.notified", cfg->db_path) < 0 ? NULL : p;
}

/* The sent-notices file; missing is empty. A line that does not parse
 * costs at most a repeated mail: said, not fatal. */
static int load_log(const tool *t, notice_log *log)
{
	char *path = notify_state_path(&t->cfg);
	file_data f = { 0 };
	char err[256];
	size_t bad = 0;
	int rc = -1;

	memset(log, 0, sizeof(*log));
	if (!path)
		return -1;
	int r = read_file(AT_FDCWD, path, NOTIFIED_MAX, READ_TRUSTED, &f, err,
			  sizeof(err));
	if (r != 0 && errno == ENOENT) {
		rc = 0;
	} else if (r != 0) {
		warnx_("%s %s", path, err);
	} else if (notice_log_parse(f.data, f.len, log, &bad) == 0) {
		if (bad)
			warnx_("%s: %zu line(s) not understood, ignored", path,
			       bad);
		rc = 0;
	}
	file_data_free(&f);
	free(path);
	return rc;
}

/* Write the log back, keeping only tokens still in the store (keep()). */
static int save_log(const tool *t, const notice_log *log,
		    bool (*keep)(const notify_opts *, const char *id, void *),
		    const notify_opts *o, void *ctx)
{
	char *path = notify_state_path(&t->cfg);
	char err[256], line[NOTICE_LINE_MAX];
	atomic_file af;
	int rc = -1;

	if (!path)
		return -1;
	if (atomic_create(&af, AT_FDCWD, path, 0600, (gid_t)-1, 0, err,
			  sizeof(err)) != 0) {
		warnx_("%s", err);
		free(path);
		return -1;
	}
	rc = 0;
	for (size_t i = 0; i < log->n && rc == 0; i++) {
		if (!keep(o, log->v[i].id, ctx))
			continue;
		size_t len = notice_format(&log->v[i], line, sizeof(line));
		if (len == 0 || write_all(af.fd, line, len) != 0)
			rc = -1;
	}
	if (rc == 0 && atomic_commit(&af, err, sizeof(err)) != 0) {
		warnx_("%s", err);
		rc = -1;
	} else if (rc != 0) {
		atomic_abort(&af);
		warnx_("cannot write %s", path);
	}
	free(path);
	return rc;
}

/* An address fit for a header and for sendmail's argv: printable, no
 * blanks, not an option. */
static bool address_ok(const char *s, size_t len)
{
	if (len == 0 || len > ADDRESS_MAX || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == ',' ||
		    s[i] == '<' || s[i] == '>' || s[i] == '"')
			return false;
	return true;
}

/* notify_map: "user address" lines (blank lines and #comments ignored);
 * a user not listed gets mail at their local name. */
static void address_for(const tool *t, const file_data *map, const char *user,
			char out[ADDRESS_MAX + 1])
{
	size_t ulen = strlen(user);

	snprintf(out, ADDRESS_MAX + 1, "%s", user);
	if (!map || !map->data)
		return;
	const char *s = map->data, *end = map->data + map->len;
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		const char *p = s;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		if (p < e && *p != '#' && (size_t)(e - p) > ulen &&
		    memcmp(p, user, ulen) == 0 &&
		    (p[ulen] == ' ' || p[ulen] == '\t' || p[ulen] == ':')) {
			const char *a = p + ulen + 1;
			while (a < e && (*a == ' ' || *a == '\t' || *a == ':'))
				a++;
			const char *ae = a;
			while (ae < e && *ae != ' ' && *ae != '\t' && *ae != '\r')
				ae++;
			if (address_ok(a, (size_t)(ae - a)))
				snprintf(out, ADDRESS_MAX + 1, "%.*s",
					 (int)(ae - a), a);
			else
				warnx_("%s: bad address for %s, using the local "
				       "name", t->cfg.notify_map, user);
			return;
		}
		s = e + 1;
	}
}

typedef struct collect_ctx {
	notify_opts *o;
	const notice_log *log;
	const file_data *map;
	int rc;
} collect_ctx;

static int collect(tool *t, void *ctx, const token_record *rec)
{
	collect_ctx *c = ctx;
	notify_opts *o = c->o;
	notice due[NOTICE_KINDS];
	const char *reason;
	lastused lu;

	token_state st = record_state(&t->cfg, rec, t->now, &reason);
	lastuse_of(t, rec->id, &lu);
	int64_t active = rec->created;
	if (lu.when > active)
		active = lu.when;
	if (rec->changed > active)
		active = rec->changed;
	size_t k = notices_due(&t->cfg, rec, st, active, t->now, due);
	for (size_t i = 0; i < k; i++) {
		if (notice_log_has(c->log, &due[i]))
			continue;
		if (o->n_mails == o->cap) {
			size_t cap = o->cap ? o->cap * 2 : 16;
			mail *v = realloc(o->mails, cap * sizeof(*v));
			if (!v) {
				c->rc = EXIT_REFUSED;
				return -1;
			}
			o->mails = v;
			o->cap = cap;
		}
		mail *m = &o->mails[o->n_mails++];
		memset(m, 0, sizeof(*m));
		m->n = due[i];
		m->rec = *rec;
		secure_wipe(m->rec.digest, sizeof(m->rec.digest));
		secure_wipe(m->rec.prev_digest, sizeof(m->rec.prev_digest));
		address_for(t, c->map, rec->user, m->to);
	}
	return 0;
}

static void days(int64_t secs, char *buf, size_t len)
{
	if (secs >= 2 * 86400)
		snprintf(buf, len, "in %lld days", (long long)(secs / 86400));
	else if (secs >= 7200)
		snprintf(buf, len, "in %lld hours", (long long)(secs / 3600));
	else
		snprintf(buf, len, "within the hour");
}

/* The mail, headers and body. Names only public things: id, name, owner,
 * host, times. */
static void write_mail(FILE *f, const notify_opts *o, const mail *m,
		       int64_t now)
{
	const token_record *r = &m->rec;
	char when[32], exp[32], left[32];

	fmt_time(m->n.when, "never", when);
	fmt_time(r->expires, "never", exp);
	days(m->n.when - now, left, sizeof(left));
	fprintf(f, "To: %s\nAuto-Submitted: auto-generated\n"
		   "Content-Type: text/plain; charset=UTF-8\n", m->to);
	switch (m->n.kind) {
	case NOTICE_EXPIRY:
		fprintf(f, "Subject: API token %s on %s expires %s\n\n"
			   "Hello %s,\n\n"
			   "your API token \"%s\" (id %s) on %s expires at %s, %s.\n\n"
			   "To keep using it, rotate it before then: it keeps its id\n"
			   "and rules and gets a new value, shown to you once:\n\n"
			   "    tokenadm rotate %s\n\n"
			   "(or on the API tokens web page). If you no longer use it,\n"
			   "nothing needs doing: it stops working at that time.\n",
			r->id, o->host, left, r->user, r->name, r->id, o->host,
			when, left, r->id);
		break;
	case NOTICE_IDLE:
		fprintf(f, "Subject: API token %s on %s will be disabled for idling\n\n"
			   "Hello %s,\n\n"
			   "your API token \"%s\" (id %s) on %s has not been used for a\n"
			   "long time. Unless it is used before %s (%s), it will be\n"
			   "disabled then. You may enable it again afterwards:\n\n"
			   "    tokenadm enable %s\n\n"
			   "If you no longer need it, revoke it:  tokenadm revoke %s\n"
			   "It expires at %s.\n",
			r->id, o->host, r->user, r->name, r->id, o->host, when,
			left, r->id, r->id, exp);
		break;
	case NOTICE_INACTIVE:
		fprintf(f, "Subject: API token %s on %s stopped working\n\n"
			   "Hello %s,\n\n"
			   "your API token \"%s\" (id %s) on %s no longer works: you\n"
			   "are no longer in a group allowed to hold API tokens. It\n"
			   "works again if you are added back. Ask your administrators\n"
			   "if this is a mistake. It expires at %s.\n",
			r->id, o->host, r->user, r->name, r->id, o->host, exp);
		break;
	case NOTICE_REVOKED:
		fprintf(f, "Subject: API token %s on %s was revoked by its value\n\n"
			   "Hello %s,\n\n"
			   "your API token \"%s\" (id %s) on %s was revoked at %s by\n"
			   "someone who presented its value: it was probably found\n"
			   "where it should not be (a repository, a log, a paste).\n"
			   "It no longer works. Create a new one:\n\n"
			   "    tokenadm create --name NAME\n\n"
			   "and check where the old value was stored.\n",
			r->id, o->host, r->user, r->name, r->id, o->host, when);
		break;
	case NOTICE_KINDS:
		break;
	}
	fputs("\nThis mail holds no secret: pam_apitoken never mails a token.\n", f);
}

/* Hand one mail to sendmail. Returns 0 once the MTA took it. */
static int send_one(const notify_opts *o, const mail *m, int64_t now)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		static char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
					     NULL };
		/* The MTA gets the mail on stdin and nothing else of ours:
		 * not the caller's terminal or files on 1 and 2, no other
		 * descriptor (its exit status says how it went). */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (dup2(p[0], STDIN_FILENO) < 0 || null < 0 ||
		    dup2(null, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0)
			_exit(127);
		closefrom(3);
		/* The parent ignores SIGPIPE (below); an ignored signal
		 * stays ignored across exec, and the MTA expects its own. */
		signal(SIGPIPE, SIG_DFL);
		/* -i: a line with a lone dot is text; the recipient after
		 * "--" can never be read as an option. */
		execle(SENDMAIL, "sendmail", "-i", "--", m->to, (char *)NULL,
		       env);
		_exit(127);
	}
	close(p[0]);
	FILE *f = fdopen(p[1], "w");
	bool written = false;
	if (!f) {
		close(p[1]);
	} else {
		write_mail(f, o, m, now);
		/* A sendmail that quit before reading it all: EPIPE here
		 * (not SIGPIPE, which would end the run before what was
		 * already sent is recorded), and the mail counts as not
		 * sent. */
		written = !ferror(f);
		written = fclose(f) == 0 && written;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return written && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0
									  : -1;
}

/* Is id still in the store? A token pruned since is forgotten here too. */
static bool in_store(const notify_opts *o, const char *id, void *ctx)
{
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len = 0;
	char err[256];
	tool *t = ctx;

	(void)o;
	store_status st = store_get(t->reader, id, TOKEN_ID_LEN, buf,
				    sizeof(buf), &len, err, sizeof(err));
	secure_wipe(buf, sizeof(buf));
	/* Unsure (a read error): keep what was sent, never mail twice. */
	return st != STORE_NOTFOUND;
}

static int notify_transact(tool *t, void *opts)
{
	notify_opts *o = opts;
	notice_log log;
	file_data map = { 0 };
	char err[256];
	int rc = EXIT_OK;

	if (!t->admin) {
		warnx_("only administrators run notify");
		return EXIT_DENIED;
	}
	if (!o->dry_run && t->uid != 0) {
		warnx_("notify sends mail as root (the daily job); "
		       "administrators may look with --dry-run");
		return EXIT_DENIED;
	}
	if (t->cfg.role == ROLE_IMPORT_ONLY) {
		o->skipped = "this is an import-only host: the authority mails "
			     "the owners, once";
		return EXIT_OK;
	}
	if (t->cfg.n_notify_before == 0) {
		o->skipped = "notify_before is not set: nothing is mailed";
		return EXIT_OK;
	}
	if (gethostname(o->host, sizeof(o->host) - 1) != 0)
		snprintf(o->host, sizeof(o->host), "localhost");
	if (lastuse_open(t, NULL) != 0 || load_log(t, &log) != 0)
		return EXIT_REFUSED;
	if (t->cfg.notify_map &&
	    read_file(AT_FDCWD, t->cfg.notify_map, MAP_MAX, READ_TRUSTED, &map,
		      err, sizeof(err)) != 0) {
		/* It decides where mail about tokens goes: root's file. */
		warnx_("notify_map %s %s", t->cfg.notify_map, err);
		notice_log_free(&log);
		return EXIT_REFUSED;
	}
	collect_ctx c = { .o = o, .log = &log, .map = &map, .rc = EXIT_OK };
	if (tool_foreach_record(t, NULL, collect, &c) != 0)
		rc = c.rc != EXIT_OK ? c.rc : EXIT_REFUSED;
	file_data_free(&map);
	if (rc != EXIT_OK || o->dry_run) {
		notice_log_free(&log);
		return rc;
	}
	/* A sendmail that exits early must not kill the run with SIGPIPE:
	 * the mails sent before it would go unrecorded and be sent again. */
	signal(SIGPIPE, SIG_IGN);
	/* Record each mail the MTA took, at once, by appending its line to
	 * the file: a run killed half-way must not send those again
	 * tomorrow (the rewrite below then drops pruned tokens). One the MTA
	 * refused is tried again tomorrow. */
	char *path = notify_state_path(&t->cfg);
	int afd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW |
					    O_CLOEXEC | O_NOCTTY,
			      0600) : -1;
	if (afd < 0)
		warnx_("cannot append to %s: %s", path ? path : "the sent-notices "
		       "file", strerror(errno));
	free(path);
	for (size_t i = 0; i < o->n_mails && afd >= 0; i++) {
		mail *m = &o->mails[i];
		char line[NOTICE_LINE_MAX];
		if (send_one(o, m, t->now) != 0) {
			o->failed++;
			continue;
		}
		m->sent = true;
		size_t len = notice_format(&m->n, line, sizeof(line));
		if (notice_log_add(&log, &m->n) != 0 || len == 0 ||
		    write_all(afd, line, len) != 0 || fdatasync(afd) != 0)
			rc = EXIT_REFUSED;
		audit(t, "notified", &m->rec, notice_kind_name(m->n.kind));
	}
	if (afd < 0) {
		notice_log_free(&log);
		return EXIT_REFUSED;
	}
	close(afd);
	if (o->n_mails > 0 && save_log(t, &log, in_store, o, t) != 0)
		rc = EXIT_REFUSED;
	notice_log_free(&log);
	if (rc == EXIT_OK && o->failed)
		rc = EXIT_REFUSED;
	return rc;
}

static int notify_report(tool *t, void *opts, int rc)
{
	notify_opts *o = opts;

	if (o->skipped) {
		say("%s", o->skipped);
		if (o->json)
			puts("[]");
		return rc;
	}
	/* A failure's one document is main's error object (what was sent
	 * is in the sent-notices file and the audit log). */
	if (rc != EXIT_OK && o->json)
		return rc;
	if (o->json)
		putchar('[');
	for (size_t i = 0; i < o->n_mails; i++) {
		const mail *m = &o->mails[i];
		if (o->json) {
			printf("%s{\"id\":", i ? "," : "");
			json_string(m->rec.id);
			fputs(",\"user\":", stdout);
			json_string(m->rec.user);
			fputs(",\"to\":", stdout);
			json_string(m->to);
			printf(",\"kind\":\"%s\",\"threshold_seconds\":%lld,"
			       "\"sent\":%s}",
			       notice_kind_name(m->n.kind),
			       (long long)m->n.threshold,
			       m->sent ? "true" : "false");
		} else if (o->dry_run) {
			printf("---- mail %zu of %zu ----\n", i + 1, o->n_mails);
			write_mail(stdout, o, m, t->now);
		}
	}
	if (o->json)
		puts("]");
	if (!o->dry_run && !o->json && rc != EXIT_USAGE && rc != EXIT_DENIED)
		say("%zu mail(s) sent%s", o->n_mails - o->failed,
		    o->failed ? "; some could not be handed to sendmail "
				"(tried again next run)" : "");
	return rc;
}

static void notify_cleanup(void *opts)
{
	notify_opts *o = opts;

	free(o->mails);
}

const command cmd_notify = {
	.name = "notify",
	.opts_size = sizeof(notify_opts),
	.parse = notify_parse,
	.transact = notify_transact,
	.report = notify_report,
	.cleanup = notify_cleanup,
};
