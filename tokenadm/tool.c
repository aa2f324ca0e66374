/* Helpers every command shares: messages, audit, the key, records. */
#include <ctype.h>
#include <getopt.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "atomicfile.h"
#include "duration.h"
#include "json_out.h"
#include "lastused.h"
#include "logsafe.h"
#include "privilege.h"
#include "secure.h"
#include "tokenadm.h"

/* While the writers' lock is held, messages wait in memory: writing to a
 * stderr pipe the caller never drains would block us there, holding the
 * lock for as long as the caller likes. tokenadm is single-threaded; this
 * is its only mutable global. */
static struct {
	bool on;
	char *text;
	size_t len;
} deferred;

static void emit(const char *prefix, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void emit(const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int n = vsnprintf(line, sizeof(line), fmt, ap);

	if (n < 0)
		return;
	/* A warning is what a --json failure says (json_out.c). */
	if (*prefix)
		json_note_message(line);
	if (!deferred.on) {
		fprintf(stderr, "%s%s\n", prefix, line);
		return;
	}
	size_t add = strlen(prefix) + strlen(line) + 1;
	char *grown = realloc(deferred.text, deferred.len + add + 1);
	if (!grown) {
		/* Said late or now, but said. */
		fprintf(stderr, "%s%s\n", prefix, line);
		return;
	}
	deferred.text = grown;
	snprintf(deferred.text + deferred.len, add + 1, "%s%s\n", prefix, line);
	deferred.len += add;
}

void tool_hold_messages(bool on)
{
	deferred.on = on;
	if (on || !deferred.text)
		return;
	fputs(deferred.text, stderr);
	free(deferred.text);
	deferred.text = NULL;
	deferred.len = 0;
}

size_t tool_held_mark(void)
{
	return deferred.on ? deferred.len : 0;
}

void tool_held_drop_after(size_t mark)
{
	if (deferred.text && mark < deferred.len) {
		secure_wipe(deferred.text + mark, deferred.len - mark);
		deferred.text[mark] = '\0';
		deferred.len = mark;
	}
}

void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("", fmt, ap);
	va_end(ap);
}

void warnx_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emit("tokenadm: ", fmt, ap);
	va_end(ap);
}

void audit(const tool *t, const char *action, const token_record *rec,
	   const char *detail)
{
	char by[LOGSAFE_MAX], user[LOGSAFE_MAX], name[LOGSAFE_MAX];

	/* via=web: the person signed in on the web page (tokenadm --login);
	 * by= and uid= are theirs, not the web server's. */
	syslog(LOG_NOTICE, "%s token=%s user=%s name=%s by=%s uid=%u%s%s%s",
	       action, rec->id, log_safe(rec->user, user, sizeof(user)),
	       log_safe(rec->name, name, sizeof(name)),
	       log_safe(t->user, by, sizeof(by)), (unsigned)t->uid,
	       detail ? " " : "", detail ? detail : "",
	       t->via_web ? " via=web" : "");
}

void tool_drop(tool *t)
{
	if (!t->privileged)
		return;
	if (drop_privilege(&t->caller) != 0) {
		/* Fail safe: never go on with privilege we meant to shed. What
		 * the transaction said is still shown (the lock is released);
		 * a token it minted is not, so say where the change is. */
		tool_hold_messages(false);
		warnx_("cannot drop privilege; stopping (any change this command "
		       "made is in the audit log; a token it created is not "
		       "shown: revoke it)");
		_exit(EXIT_REFUSED);
	}
	t->privileged = false;
}

int tool_open_store(tool *t)
{
	char err[256];

	if (tool_key(t) != 0)
		return -1;
	if (!t->reader) {
		t->reader = store_open(t->cfg.db_path, err, sizeof(err));
		if (!t->reader) {
			warnx_("%s", err);
			return -1;
		}
	}
	return 0;
}

int tool_key(tool *t)
{
	char err[256];

	if (t->key)
		return 0;
	if (site_key_load(t->cfg.key_path, &t->key, err, sizeof(err)) != 0) {
		warnx_("%s", err);
		return -1;
	}
	return 0;
}

static int begin(tool *t, bool empty, store_txn **txn)
{
	char err[256];

	if (tool_key(t) != 0)
		return -1;
	if ((empty ? store_txn_begin_empty : store_txn_begin)(
		    t->cfg.db_path, WRITE_LOCK_TIMEOUT_MS, txn, err,
		    sizeof(err)) != 0) {
		warnx_("%s", err);
		return -1;
	}
	/* From here to the end of the run: no ^C, hang-up or broken pipe
	 * between the commit and its audit line, nor between the commit and
	 * the report that shows the token just minted, which a ^C pending
	 * from the transaction would otherwise cut off once let in. (The
	 * caller can still kill the report, which runs as them. Messages are
	 * already held until the drop: see tool_hold_messages.) */
	sigset_t hold;
	sigemptyset(&hold);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGQUIT);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGHUP);
	sigaddset(&hold, SIGPIPE);
	sigprocmask(SIG_BLOCK, &hold, NULL);
	alarm(WRITE_LOCK_HOLD_MAX_S);
	return 0;
}

int tool_begin(tool *t, store_txn **txn)
{
	return begin(t, false, txn);
}

int tool_begin_empty(tool *t, store_txn **txn)
{
	return begin(t, true, txn);
}

int tool_commit(tool *t, store_txn *txn)
{
	char err[256];

	if (t->before_commit && t->before_commit(t, txn) != 0) {
		store_txn_abort(txn);
		alarm(0);
		warnx_("nothing was changed");
		return -1;
	}
	int rc = store_txn_commit(txn, err, sizeof(err));

	alarm(0);
	if (rc != 0) {
		warnx_("%s; nothing was changed", err);
		return -1;
	}
	return 0;
}

void tool_abort(tool *t, store_txn *txn)
{
	store_txn_abort(txn);
	if (txn)
		alarm(0);
}

void minted_wipe(minted *m, token_record *rec)
{
	secure_wipe(m->text, sizeof(m->text));
	token_parts_wipe(&m->parts);
	secure_wipe(rec->digest, sizeof(rec->digest));
	secure_wipe(rec->prev_digest, sizeof(rec->prev_digest));
	secure_burn_stack();
}

int tool_mint(tool *t, store_txn *txn, token_record *rec, bool fresh_id,
	      minted *out, const char *action, const char *detail)
{
	/* A fresh random id that is not taken (a clash is ~2^-71 per pair,
	 * but checking costs one lookup). */
	for (int tries = 0;; tries++) {
		uint8_t probe[RECORD_ENCODED_MAX];
		char err[256] = "";
		size_t len;
		int r = fresh_id ? token_generate(t->cfg.prefix, &out->parts,
						  out->text, sizeof(out->text)) :
				   token_generate_for_id(t->cfg.prefix, rec->id,
							 &out->parts, out->text,
							 sizeof(out->text));
		if (tries == 8 || r != 0) {
			warnx_("cannot generate a token");
			goto fail;
		}
		if (!fresh_id)
			break;
		store_status st = store_get(store_txn_view(txn), out->parts.id,
					    TOKEN_ID_LEN, probe, sizeof(probe),
					    &len, err, sizeof(err));
		secure_wipe(probe, sizeof(probe));
		if (st == STORE_NOTFOUND)
			break;
		if (st != STORE_OK) {
			warnx_("%s", err[0] ? err : "cannot read the store");
			goto fail;
		}
	}
	memcpy(rec->id, out->parts.id, sizeof(rec->id));
	if (record_token_digest(t->key, &out->parts, rec->digest) != 0 ||
	    tool_put_record(t, txn, rec) != 0)
		goto fail;
	if (tool_commit(t, txn) != 0)
		return -1;
	audit(t, action, rec, detail);
	return 0;
fail:
	tool_abort(t, txn);
	return -1;
}

/* What to read: the transaction's copy, the store opened before dropping
 * privilege, or else the live store opened for this one call (*own, for
 * the caller to close). */
static store_view *view_for(tool *t, store_txn *txn, store_view **own,
			    char *err, size_t errlen)
{
	*own = NULL;
	if (txn)
		return store_txn_view(txn);
	if (t->reader)
		return t->reader;
	return *own = store_open(t->cfg.db_path, err, errlen);
}

int tool_get_record(tool *t, store_txn *txn, const char *id,
		    token_record *rec)
{
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len = 0;
	char err[256] = "";
	store_status st;

	if (!token_id_valid(id)) {
		json_fail_field("id");
		warnx_("'%.32s' is not a token id (12 letters and digits)", id);
		return EXIT_NO_TOKEN;
	}
	if (tool_key(t) != 0)
		return EXIT_REFUSED;
	store_view *own, *v = view_for(t, txn, &own, err, sizeof(err));
	st = v ? store_get(v, id, TOKEN_ID_LEN, buf, sizeof(buf), &len, err,
			   sizeof(err)) :
		 STORE_ERROR;
	store_close(own);
	if (st == STORE_NOTFOUND) {
		json_fail_field("id");
		warnx_("no token %s", id);
		return EXIT_NO_TOKEN;
	}
	if (st != STORE_OK) {
		warnx_("%s", err[0] ? err : "cannot read the store");
		return EXIT_REFUSED;
	}
	int rc = EXIT_OK;
	int drc = record_decode(id, buf, len, t->key, rec);
	if (drc != 0) {
		/* Someone else's damaged record is, to a member, not there:
		 * the same answer as for a missing id (tool_may_manage). */
		if (!t->admin && !record_peek_user(buf, len, t->user)) {
			json_fail_field("id");
			warnx_("no token %s", id);
			rc = EXIT_NO_TOKEN;
		} else if (drc == RECORD_ERR_NEWER) {
			warnx_("token %s is in a record format newer than this "
			       "tokenadm reads (upgrade pam_apitoken), or failed "
			       "its integrity check (corrupt)", id);
			rc = EXIT_REFUSED;
		} else {
			warnx_("token %s failed its integrity check (corrupt or "
			       "tampered); refusing to use it", id);
			rc = EXIT_REFUSED;
		}
	}
	secure_wipe(buf, sizeof(buf)); /* it holds the digests */
	return rc;
}

int tool_put_record(tool *t, store_txn *txn, const token_record *rec)
{
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len = record_encode(rec, t->key, buf, sizeof(buf));

	if (len == 0) {
		warnx_("cannot encode token %s (a field is too long?)", rec->id);
		return -1;
	}
	if (store_txn_put(txn, rec->id, TOKEN_ID_LEN, buf, len) != 0) {
		warnx_("cannot write token %s to the store", rec->id);
		return -1;
	}
	return 0;
}

int tool_may_manage(const tool *t, const token_record *rec)
{
	if (t->admin || strcmp(rec->user, t->user) == 0)
		return EXIT_OK;
	json_fail_field("id");
	/* Word for word what tool_get_record says for an id that is not in
	 * the store, with the same exit code: a member probing ids must not
	 * learn which ones exist. Administrators see every token anyway. */
	warnx_("no token %s", rec->id);
	return EXIT_NO_TOKEN;
}

typedef struct walk_ctx {
	tool *t;
	record_visit_fn visit;
	void *ctx;
	const char *only_user; /* NULL: every record */
	unsigned long entries; /* token entries seen, anyone's */
} walk_ctx;

static int walk_one(void *ctx, const char *key, size_t keylen,
		    const uint8_t *val, size_t vallen)
{
	walk_ctx *w = ctx;
	token_record rec;
	char id[TOKEN_ID_LEN + 1];

	if (keylen != TOKEN_ID_LEN) {
		warnx_("skipping a store entry with a malformed key");
		return 0;
	}
	w->entries++;
	memcpy(id, key, TOKEN_ID_LEN);
	id[TOKEN_ID_LEN] = '\0';
	/* Someone else's (by the unverified owner field): not worth a MAC. A
	 * tampered owner field can only hide a record from this walk. */
	if (w->only_user && !record_peek_user(val, vallen, w->only_user))
		return 0;
	int drc = record_decode(id, val, vallen, w->t->key, &rec);
	if (drc != 0) {
		warnx_(drc == RECORD_ERR_NEWER ?
			       "skipping token %.12s: a record format newer "
			       "than this tokenadm reads (upgrade pam_apitoken)" :
			       "skipping token %.12s: failed its integrity check",
		       id);
		return 0;
	}
	/* The visitors trust this filter: it is exact once the MAC holds. */
	int rc = !w->only_user || strcmp(rec.user, w->only_user) == 0 ?
			 w->visit(w->t, w->ctx, &rec) : 0;
	secure_wipe(&rec, sizeof(rec)); /* it holds the digests */
	return rc;
}

int tool_foreach_record(tool *t, store_txn *txn, record_visit_fn visit,
			void *ctx)
{
	return tool_foreach_record_of(t, txn, NULL, visit, ctx);
}

int tool_foreach_record_of(tool *t, store_txn *txn, const char *user,
			   record_visit_fn visit, void *ctx)
{
	return tool_walk_records(t, txn, user, visit, ctx, NULL);
}

int tool_walk_records(tool *t, store_txn *txn, const char *user,
		      record_visit_fn visit, void *ctx, unsigned long *entries)
{
	walk_ctx w = { t, visit, ctx, user, 0 };
	char err[256] = "";

	if (tool_key(t) != 0)
		return -1;
	store_view *own, *v = view_for(t, txn, &own, err, sizeof(err));
	int rc = v ? store_each(v, walk_one, &w, err, sizeof(err)) : -1;
	store_close(own);
	if (rc < 0)
		warnx_("%s", err[0] ? err : "cannot read the store");
	if (entries)
		*entries = w.entries;
	return rc;
}

bool valid_token_name(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > RECORD_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && !strchr(" ._-@:+", c))
			return false;
	}
	return name[0] != ' ' && name[n - 1] != ' ';
}

bool valid_service_name(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (!isalnum(c) && !strchr("._@+-", c))
			return false;
	}
	return true;
}

const char *fmt_time(int64_t t, const char *zero, char buf[32])
{
	if (t == 0 || time_format_rfc3339(t, buf, 32) != 0)
		return zero;
	return buf;
}

/* Length of the valid UTF-8 sequence at s, or 0. */
static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	size_t n = (s[0] & 0xe0) == 0xc0 ? 2 : (s[0] & 0xf0) == 0xe0 ? 3 :
		   (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (n == 0 || (n == 2 && s[0] < 0xc2) || (n == 4 && s[0] > 0xf4))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) ||
	    (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) ||
	    (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

void json_string(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	putchar('"');
	while (*p) {
		if (*p == '"' || *p == '\\') {
			printf("\\%c", *p++);
		} else if (*p < 0x20 || *p == 0x7f) {
			printf("\\u%04x", *p++);
		} else {
			size_t n = utf8_len(p);
			if (n == 0) {
				fputs("\\ufffd", stdout);
				p++;
			} else {
				fwrite(p, 1, n, stdout);
				p += n;
			}
		}
	}
	putchar('"');
}

int require_writable_stdout(void)
{
	int fl = fcntl(STDOUT_FILENO, F_GETFL);

	/* A setuid program started with fd 1 closed gets a read-only
	 * /dev/null there from glibc: a new token would be committed and
	 * then lost. Refuse before changing anything. */
	if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY) {
		warnx_("standard output is not writable; the new token could "
		       "not be shown, so nothing was created");
		return -1;
	}
	return 0;
}

int print_secret(const char *secret)
{
	size_t n = strlen(secret);

	if (fflush(stdout) != 0)
		return -1;
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, secret, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		secret += w;
		n -= (size_t)w;
	}
	return 0;
}

void json_time(int64_t t)
{
	char buf[32];
	const char *s = fmt_time(t, NULL, buf);

	if (s)
		printf("\"%s\"", s);
	else
		fputs("null", stdout);
}

int print_new_token(const token_record *rec, const char *token, bool json,
		    const char *verb)
{
	char buf[32];
	int rc;

	if (json) {
		printf("{\"id\":\"%s\",\"token\":\"", rec->id);
		rc = print_secret(token);
		fputs("\",\"user\":", stdout);
		json_string(rec->user);
		fputs(",\"name\":", stdout);
		json_string(rec->name);
		fputs(",\"expires\":", stdout);
		json_time(rec->expires);
		/* rotate: until when the old secret still works (null: no
		 * grace, it stopped now). */
		if (strcmp(verb, "rotated") == 0) {
			fputs(",\"previous_valid_until\":", stdout);
			json_time(rec->prev_until);
		}
		puts("}");
	} else {
		rc = print_secret(token);
		putchar('\n');
	}
	if (rc != 0 || fflush(stdout) != 0) {
		warnx_("token %s was %s but could not be printed; "
		       "revoke it", rec->id, verb);
		return -1;
	}
	say("%s token %s \"%s\" for %s, expires %s", verb, rec->id, rec->name,
	    rec->user, fmt_time(rec->expires, "never", buf));
	say("the token is shown only this once: store it now");
	return 0;
}

int parse_out_option(int argc, char **argv, int from, const char **out)
{
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ 0 },
	};
	int c;

	optind = from;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'o')
			return -1;
		*out = optarg;
	}
	return optind == argc && *out && **out ? 0 : -1;
}

int tool_write_out(const char *out, mode_t mode, out_writer write_fn,
		   void *ctx)
{
	atomic_file af;
	char err[256];

	if (strcmp(out, "-") == 0)
		return write_fn(STDOUT_FILENO, ctx);
	/* Beside its final name and renamed into place, so a reader (a
	 * push, a fetch) never sees half a file. */
	if (atomic_create(&af, AT_FDCWD, out, mode, (gid_t)-1, 0, err,
			  sizeof(err)) != 0) {
		warnx_("%s", err);
		return -1;
	}
	if (write_fn(af.fd, ctx) != 0) {
		atomic_abort(&af);
		return -1;
	}
	if (atomic_commit(&af, err, sizeof(err)) != 0) {
		warnx_("%s", err);
		return -1;
	}
	return 0;
}

int parse_dry_run_json(int argc, char **argv, const char *name, bool *dry_run,
		       bool *json)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'n')
			*dry_run = true;
		else if (c == 'j')
			*json = true;
		else
			return EXIT_USAGE;
	}
	if (optind != argc) {
		warnx_("usage: %s [--dry-run] [--json]", name);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}
