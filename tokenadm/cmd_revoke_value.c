/* tokenadm revoke --token -: kill tokens by their value, whoever owns them.
 *
 * Holding a token is already the power to use it, so it is enough to kill
 * it (GitHub's credential revocation API works so): anyone may run this,
 * with tokens found in a log, a paste or a repository. Because anyone may,
 * it must be no oracle and no lever:
 *  - tokens come on stdin only (never argv), at most REVOKE_VALUE_MAX
 *    lines a run; more is a usage error before anything is opened;
 *  - each token is checked read-only first; the writers' lock is taken
 *    only when one of them is live, so a flood of junk never blocks
 *    anyone's revoke or create;
 *  - an ordinary caller gets the same words and exit status for a live,
 *    an unknown, a revoked or an expired token, and the run is padded to
 *    a fixed duration so that the transaction's time does not tell either;
 *    the store's directory is not readable by ordinary users, so they
 *    cannot watch the file being replaced. Administrators, who see every
 *    token anyway, get a result per token.
 * The audit line names who presented the token; tokenadm notify tells the
 * owner (RECORD_REVOKED_BY_VALUE). On an import-only host it is a local
 * revoke, which no import undoes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "fleet.h"
#include "secure.h"
#include "tokenadm.h"

/* Enough for a leak report or a scanner's finds in one go; a run never
 * reads more than this from its caller. */
#define REVOKE_VALUE_MAX 100
/* An ordinary caller's run lasts at least this long (ns), live token or
 * not: longer than the write transaction of a large store here
 * (BENCHMARKS.md: ~0.8 s at 1M records). */
#define REVOKE_VALUE_PAD_NS 1500000000LL

typedef enum {
	RV_NOT_TOKEN = 0, /* not token-shaped (prefix, shape or CRC) */
	RV_UNKNOWN,       /* no such id, or the secret does not match */
	RV_ALREADY,       /* already revoked */
	RV_EXPIRED,       /* dead already: nothing to write */
	RV_LIVE,          /* matched and not dead: to be revoked */
	RV_REVOKED,       /* revoked by this run */
	RV_CHANGED,       /* rotated or revoked by someone else meanwhile */
} rv_result;

static const char *const rv_words[] = {
	[RV_NOT_TOKEN] = "not a token of this site (prefix, shape or check digits)",
	[RV_UNKNOWN] = "unknown token or wrong secret",
	[RV_ALREADY] = "already revoked",
	[RV_EXPIRED] = "expired; nothing to do",
	[RV_LIVE] = "live",
	[RV_REVOKED] = "revoked",
	[RV_CHANGED] = "changed meanwhile (rotated or revoked); not revoked",
};

typedef struct rv_item {
	char text[TOKEN_TEXT_MAX + 1]; /* as read; wiped once parsed */
	token_parts parts;
	bool parsed;
	rv_result result;
	token_record rec; /* digests wiped once compared */
} rv_item;

typedef struct revoke_value_opts {
	bool json;
	int count;
	rv_item items[REVOKE_VALUE_MAX];
	struct timespec start;
} revoke_value_opts;

/* One line of stdin into line (NUL-terminated, the newline and a CR
 * dropped); a line longer than the buffer is read to its end and kept
 * empty (it is no token). Returns 1, 0 at the end, -1 on a read error. */
static int read_line(char *line, size_t size)
{
	size_t got = 0;
	bool too_long = false, any = false;
	char c;

	for (;;) {
		ssize_t n = read(STDIN_FILENO, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		any = true;
		if (c == '\n')
			break;
		if (got + 1 < size)
			line[got++] = c;
		else
			too_long = true;
	}
	if (got > 0 && line[got - 1] == '\r')
		got--;
	if (too_long)
		got = 0;
	line[got] = '\0';
	return any ? 1 : 0;
}

/* Parse runs as the caller, before anything privileged: the tokens are
 * read here, so a run with too many lines is refused before the store or
 * the lock is touched. */
static int revoke_value_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "token", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	revoke_value_opts *o = opts;
	bool stdin_named = false;
	char line[TOKEN_TEXT_MAX + 8];
	int c, r;

	(void)now;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'j') {
			o->json = true;
		} else if (c == 't' && strcmp(optarg, "-") == 0) {
			stdin_named = true;
		} else {
			/* Never a token in argv: ps and shell history. */
			warnx_("usage: revoke --token - (tokens on stdin, one "
			       "a line; never on the command line)");
			return EXIT_USAGE;
		}
	}
	if (!stdin_named || optind != argc) {
		warnx_("usage: revoke --token - (tokens on stdin, one a "
		       "line); or revoke ID...");
		return EXIT_USAGE;
	}
	while ((r = read_line(line, sizeof(line))) == 1) {
		/* Blank lines and surrounding blanks, as pasted. */
		char *s = line + strspn(line, " \t");
		size_t len = strcspn(s, " \t");
		if (len == 0)
			continue;
		if (o->count == REVOKE_VALUE_MAX) {
			secure_wipe(line, sizeof(line));
			warnx_("at most %d tokens a run; nothing was done",
			       REVOKE_VALUE_MAX);
			return EXIT_USAGE;
		}
		rv_item *it = &o->items[o->count++];
		/* Parsed in transact, once the config (the prefix) is
		 * loaded; longer than any token: kept empty, no token. */
		if (len <= TOKEN_TEXT_MAX)
			memcpy(it->text, s, len);
	}
	secure_wipe(line, sizeof(line));
	if (r < 0) {
		warnx_("cannot read the tokens from stdin");
		return EXIT_REFUSED;
	}
	if (o->count == 0) {
		warnx_("no token on stdin");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Does item's secret match rec (now, or the previous one in its grace)?
 * Constant time in the secret. */
static bool secret_matches(const tool *t, const rv_item *it,
			   const token_record *rec)
{
	uint8_t d[MAC_LEN];
	bool ok = false;

	if (record_token_digest(t->key, &it->parts, d) == 0) {
		bool cur = secure_equal(d, rec->digest, MAC_LEN);
		bool prev = rec->prev_until > t->now &&
			    secure_equal(d, rec->prev_digest, MAC_LEN);
		ok = cur | prev;
	}
	secure_wipe(d, sizeof(d));
	return ok;
}

/* The record of id, from the transaction or the reader, decoded and
 * checked. Silent, unlike tool_get_record: a missing, foreign or damaged
 * record is just "unknown" here, and a message saying which would be the
 * oracle this command must not be. Returns 0 or -1. */
static int fetch_record(tool *t, store_txn *txn, const char *id,
			token_record *rec)
{
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len = 0;
	char err[256];
	store_view *v = txn ? store_txn_view(txn) : t->reader;
	int rc = -1;

	if (v && store_get(v, id, TOKEN_ID_LEN, buf, sizeof(buf), &len, err,
			   sizeof(err)) == STORE_OK &&
	    record_decode(id, buf, len, t->key, rec) == 0)
		rc = 0;
	secure_wipe(buf, sizeof(buf)); /* it holds the digests */
	return rc;
}

/* Read-only: what is each token? No lock. */
static void classify(tool *t, rv_item *it)
{
	token_record rec;

	it->parsed = token_parse(t->cfg.prefix, it->text, strlen(it->text),
				 &it->parts);
	secure_wipe(it->text, sizeof(it->text));
	it->result = RV_NOT_TOKEN;
	if (!it->parsed)
		return;
	if (fetch_record(t, NULL, it->parts.id, &rec) != 0 ||
	    !secret_matches(t, it, &rec))
		it->result = RV_UNKNOWN;
	else if (rec.flags & RECORD_REVOKED)
		it->result = RV_ALREADY;
	else if (rec.expires != 0 && rec.expires <= t->now)
		it->result = RV_EXPIRED;
	else
		it->result = RV_LIVE;
	/* Whose it was, for an administrator's report: only when the
	 * presenter proved they hold it. */
	if (it->result != RV_UNKNOWN) {
		it->rec = rec;
		secure_wipe(it->rec.digest, sizeof(it->rec.digest));
		secure_wipe(it->rec.prev_digest, sizeof(it->rec.prev_digest));
	}
	secure_wipe(&rec, sizeof(rec));
}

static int revoke_live(tool *t, revoke_value_opts *o);
static void pad(const struct timespec *start);

/* The clock starts here, once stdin has been read (the caller decides
 * when that is), and the pad ends here, before the drop: after it the
 * process is the caller's to watch (/proc/PID/status, kill -0), so its
 * exit must come at the same moment whatever was done. A write that
 * fails on a live token is, to an ordinary caller, the same answer as
 * any other (it is logged for the administrators): only the live path
 * writes, so its failures would tell. What happens before the tokens are
 * looked at (the store cannot be opened) is the same for every input and
 * is reported as it is. */
static int revoke_value_transact(tool *t, void *opts)
{
	revoke_value_opts *o = opts;

	clock_gettime(CLOCK_MONOTONIC, &o->start);
	if (tool_open_store(t) != 0)
		return EXIT_REFUSED;
	size_t mark = tool_held_mark();
	int rc = revoke_live(t, o);
	if (!t->admin) {
		if (rc != EXIT_OK) {
			tool_held_drop_after(mark);
			syslog(LOG_ERR, "revoke-by-value by uid=%u failed "
					"(the caller was told nothing of it)",
			       (unsigned)t->uid);
			rc = EXIT_OK;
		}
		pad(&o->start);
	}
	return rc;
}

static int revoke_live(tool *t, revoke_value_opts *o)
{
	store_txn *txn = NULL;
	int live = 0, rc = EXIT_OK;

	for (int i = 0; i < o->count; i++) {
		classify(t, &o->items[i]);
		live += o->items[i].result == RV_LIVE;
	}
	if (live == 0)
		return EXIT_OK;
	if (tool_begin(t, &txn) != 0)
		return EXIT_REFUSED;
	for (int i = 0; i < o->count && rc == EXIT_OK; i++) {
		rv_item *it = &o->items[i];
		token_record rec;
		if (it->result != RV_LIVE)
			continue;
		/* Again under the lock: it may have been rotated (the old
		 * secret no longer matches) or revoked since the look. */
		if (fetch_record(t, txn, it->parts.id, &rec) != 0 ||
		    !secret_matches(t, it, &rec) || (rec.flags & RECORD_REVOKED)) {
			it->result = RV_CHANGED;
			secure_wipe(&rec, sizeof(rec));
			continue;
		}
		rec.flags |= RECORD_REVOKED | RECORD_REVOKED_BY_VALUE;
		rec.prev_until = 0;
		memset(rec.prev_digest, 0, sizeof(rec.prev_digest));
		rec.changed = t->now;
		if (tool_put_record(t, txn, &rec) != 0 ||
		    (t->cfg.role == ROLE_IMPORT_ONLY &&
		     fleet_local_put(txn, rec.id, LOCAL_REVOKED) != 0))
			rc = EXIT_REFUSED;
		it->rec = rec;
		secure_wipe(it->rec.digest, sizeof(it->rec.digest));
		secure_wipe(&rec, sizeof(rec));
		it->result = RV_REVOKED;
	}
	if (rc != EXIT_OK) {
		tool_abort(t, txn);
		return rc;
	}
	if (tool_commit(t, txn) != 0)
		return EXIT_REFUSED;
	/* After the commit, so the log never claims what did not happen;
	 * by= names who presented the token. */
	for (int i = 0; i < o->count; i++)
		if (o->items[i].result == RV_REVOKED)
			audit(t, "revoke-by-value", &o->items[i].rec,
			      t->cfg.role == ROLE_IMPORT_ONLY ?
				      "local=yes" : NULL);
	return EXIT_OK;
}

/* Sleep until the run has lasted REVOKE_VALUE_PAD_NS since parse. */
static void pad(const struct timespec *start)
{
	struct timespec until = *start;
	long long ns = until.tv_nsec + REVOKE_VALUE_PAD_NS;

	until.tv_sec += (time_t)(ns / 1000000000LL);
	until.tv_nsec = (long)(ns % 1000000000LL);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL) ==
	       EINTR)
		;
}

static int revoke_value_report(tool *t, void *opts, int rc)
{
	revoke_value_opts *o = opts;
	bool import_only = t->cfg.role == ROLE_IMPORT_ONLY;

	if (rc != EXIT_OK)
		return rc;
	if (import_only)
		say("this is an import-only host: a revocation here is local "
		    "(no import undoes it); tell the authority's "
		    "administrators, so that it is revoked on every host");
	if (!t->admin) {
		/* The same words whatever the tokens were. */
		if (o->json)
			printf("{\"tokens\":%d,\"result\":\"done\"}\n", o->count);
		else
			say("%d token%s processed: each that was live is now "
			    "revoked and its owner will be told", o->count,
			    o->count == 1 ? "" : "s");
		return EXIT_OK;
	}
	if (o->json)
		putchar('[');
	for (int i = 0; i < o->count; i++) {
		const rv_item *it = &o->items[i];
		const char *id = it->parsed ? it->parts.id : "";
		if (o->json) {
			printf("%s{\"n\":%d,\"id\":", i ? "," : "", i + 1);
			if (it->parsed)
				json_string(id);
			else
				fputs("null", stdout);
			fputs(",\"user\":", stdout);
			if (it->rec.user[0])
				json_string(it->rec.user);
			else
				fputs("null", stdout);
			fputs(",\"result\":", stdout);
			json_string(rv_words[it->result]);
			putchar('}');
		} else if (it->rec.user[0]) {
			printf("#%d: token %s (%s, %s): %s\n", i + 1, id,
			       it->rec.user, it->rec.name,
			       rv_words[it->result]);
		} else {
			printf("#%d: %s%s%s\n", i + 1, id, *id ? ": " : "",
			       rv_words[it->result]);
		}
	}
	if (o->json)
		puts("]");
	return EXIT_OK;
}

static void revoke_value_cleanup(void *opts)
{
	revoke_value_opts *o = opts;

	secure_wipe(o->items, sizeof(o->items));
}

const command cmd_revoke_value = {
	.name = "revoke",
	.opts_size = sizeof(revoke_value_opts),
	.parse = revoke_value_parse,
	.transact = revoke_value_transact,
	.report = revoke_value_report,
	.cleanup = revoke_value_cleanup,
};
