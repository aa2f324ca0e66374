/* tokenadm revoke / disable / enable / rotate / prune: changes to existing
 * tokens, each done in one write transaction. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authcheck.h"
#include "duration.h"
#include "fleet.h"
#include "json_out.h"
#include "lastused.h"
#include "secure.h"
#include "tokenadm.h"

#define MAX_GRACE (30 * 86400)

typedef int (*change_fn)(tool *t, token_record *rec);

static int do_revoke(tool *t, token_record *rec)
{
	rec->flags |= RECORD_REVOKED;
	/* Revocation ends a rotation's grace too: both secrets stop. */
	rec->prev_until = 0;
	memset(rec->prev_digest, 0, sizeof(rec->prev_digest));
	return 0;
}

static int do_disable(tool *t, token_record *rec)
{
	rec->flags |= RECORD_DISABLED;
	/* An administrator's disable of someone else's token is theirs to
	 * undo, not the owner's. */
	if (t->admin && strcmp(rec->user, t->user) != 0)
		rec->flags |= RECORD_DISABLED_BY_ADMIN;
	return 0;
}

static int do_enable(tool *t, token_record *rec)
{
	/* On an import-only host a disable is an emergency measure that
	 * only the authority's own records may lift. */
	int rc = fleet_require_authority(t, "tokens are enabled");
	if (rc != EXIT_OK)
		return rc;
	if (rec->flags & RECORD_REVOKED) {
		warnx_("token %s is revoked; revocation is final", rec->id);
		return EXIT_REFUSED;
	}
	if ((rec->flags & RECORD_DISABLED_BY_ADMIN) && !t->admin) {
		warnx_("token %s was disabled by an administrator; ask one to "
		       "enable it", rec->id);
		return EXIT_DENIED;
	}
	/* An idle retirement is not an administrator's disable: the owner
	 * may lift it (and the enable restarts the idle clock). */
	rec->flags &= ~(uint32_t)(RECORD_DISABLED | RECORD_DISABLED_BY_ADMIN |
				  RECORD_DISABLED_IDLE);
	rec->idle_since = 0;
	return 0;
}

/* The most token ids a non-administrator may name in one revoke, disable
 * or enable (more than they can hold, unless max_tokens_per_user is set
 * higher): what one member's command costs everyone else must not grow
 * with the length of their command line. */
#define MEMBER_IDS_MAX 100u

/* What the report and the audit line need of a changed token; a whole
 * record (digests, rules: 3 KB) per id would let a long command line
 * cost the root process gigabytes. */
typedef struct changed_token {
	char id[TOKEN_ID_LEN + 1];
	char user[RECORD_USER_MAX + 1];
	char name[RECORD_NAME_MAX + 1];
	token_state state; /* after the change; only with --json */
} changed_token;

/* revoke, disable, enable: the ids, and what was done to them. */
typedef struct change_opts {
	int count;        /* distinct ids */
	const char **ids; /* argv's, duplicates dropped, first-seen order */
	changed_token *done; /* filled by transact */
	bool committed;
	bool json; /* --json */
} change_opts;

/* For dedupe_ids: an argument and its position. */
typedef struct arg_ref {
	const char *id;
	int pos;
} arg_ref;

static int cmp_by_id(const void *a, const void *b)
{
	const arg_ref *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	/* Equal ids: the earlier argument first, so it is the one kept. */
	return c ? c : (x->pos > y->pos) - (x->pos < y->pos);
}

static int cmp_by_pos(const void *a, const void *b)
{
	const arg_ref *x = a, *y = b;

	return (x->pos > y->pos) - (x->pos < y->pos);
}

/* Drop repeated ids, keeping the first of each in command-line order: one
 * id named 250,000 times is one change and one audit line, not 250,000. */
static int dedupe_ids(change_opts *o, char **argv, int n)
{
	arg_ref *refs = malloc((size_t)n * sizeof(*refs));

	o->ids = malloc((size_t)n * sizeof(*o->ids));
	if (!refs || !o->ids) {
		free(refs);
		warnx_("out of memory");
		return EXIT_REFUSED;
	}
	for (int i = 0; i < n; i++)
		refs[i] = (arg_ref){ argv[i], i };
	qsort(refs, (size_t)n, sizeof(*refs), cmp_by_id);
	int kept = 0;
	for (int i = 0; i < n; i++)
		if (kept == 0 || strcmp(refs[kept - 1].id, refs[i].id) != 0)
			refs[kept++] = refs[i];
	qsort(refs, (size_t)kept, sizeof(*refs), cmp_by_pos);
	for (int i = 0; i < kept; i++)
		o->ids[i] = refs[i].id;
	free(refs);
	o->count = kept;
	return EXIT_OK;
}

static int change_parse(int argc, char **argv, void *opts, int64_t now)
{
	change_opts *o = opts;

	(void)now;
	/* --json anywhere: the ids are the rest, in order. */
	int n = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			o->json = true;
		else
			argv[1 + n++] = argv[i];
	}
	if (n < 1) {
		json_fail_field("id");
		warnx_("usage: %s ID... [--json]", argv[0]);
		return EXIT_USAGE;
	}
	for (int i = 1; i <= n; i++)
		if (argv[i][0] == '-') {
			warnx_("usage: %s ID... [--json]", argv[0]);
			return EXIT_USAGE;
		}
	return dedupe_ids(o, argv + 1, n);
}

/* Outside the lock, on the live store: may a non-administrator change
 * this token at all? Someone else's id, a made-up one or a change the
 * record refuses (enabling a revoked token) is answered here, as it would
 * be under the lock, without making everyone else's writes wait for it.
 * The transaction checks again: this only filters. */
static int precheck(tool *t, const char *id, change_fn change)
{
	token_record rec;
	int rc = tool_get_record(t, NULL, id, &rec);

	if (rc == EXIT_OK)
		rc = tool_may_manage(t, &rec);
	if (rc == EXIT_OK && change)
		rc = change(t, &rec);
	secure_wipe(&rec, sizeof(rec)); /* it holds the digests */
	return rc;
}

/* Everything a non-administrator's change is refused for before it may
 * take the writers' lock: too many ids, or any id not theirs to change.
 * Administrators go straight to the transaction (revocation must be
 * quick); their ids are checked there. */
static int member_prechecks(tool *t, change_opts *o, change_fn change)
{
	unsigned limit = config_token_limit(&t->cfg, false);
	unsigned most = limit > MEMBER_IDS_MAX ? limit : MEMBER_IDS_MAX;

	if (t->admin)
		return EXIT_OK;
	if ((unsigned)o->count > most) {
		warnx_("at most %u token ids at a time; nothing was changed",
		       most);
		return EXIT_USAGE;
	}
	if (tool_open_store(t) != 0)
		return EXIT_REFUSED;
	for (int i = 0; i < o->count; i++) {
		int rc = precheck(t, o->ids[i], change);
		if (rc != EXIT_OK) {
			if (o->count > 1)
				say("nothing was changed");
			return rc;
		}
	}
	return EXIT_OK;
}

/* Apply change to every id, all or nothing: one transaction, committed only
 * if every id exists, may be managed by the caller and changed. */
static int change_each(tool *t, change_opts *o, change_fn change,
		       const char *action)
{
	store_txn *txn = NULL;
	token_record rec;
	int rc = member_prechecks(t, o, change);

	if (rc != EXIT_OK)
		return rc;
	o->done = calloc((size_t)o->count, sizeof(*o->done));
	if (!o->done || tool_begin(t, &txn) != 0)
		return EXIT_REFUSED;
	for (int i = 0; i < o->count && rc == EXIT_OK; i++) {
		rc = tool_get_record(t, txn, o->ids[i], &rec);
		if (rc == EXIT_OK)
			rc = tool_may_manage(t, &rec);
		if (rc == EXIT_OK)
			rc = change(t, &rec);
		if (rc == EXIT_OK) {
			rec.changed = t->now;
			rc = tool_put_record(t, txn, &rec) ? EXIT_REFUSED : EXIT_OK;
		}
		/* A host's own revoke or disable outlives every import. */
		/* (Never downgraded: a local revoke stays one.) */
		if (rc == EXIT_OK && t->cfg.role == ROLE_IMPORT_ONLY &&
		    change != do_enable &&
		    fleet_local_get(t, txn, rec.id) != LOCAL_REVOKED &&
		    fleet_local_put(txn, rec.id,
				    change == do_revoke ? LOCAL_REVOKED :
							  LOCAL_DISABLED) != 0)
			rc = EXIT_REFUSED;
		if (rc == EXIT_OK) {
			changed_token *d = &o->done[i];
			memcpy(d->id, rec.id, sizeof(d->id));
			memcpy(d->user, rec.user, sizeof(d->user));
			memcpy(d->name, rec.name, sizeof(d->name));
			/* Its state now, for --json (the web page: one id).
			 * Name-service lookups under the lock only then. */
			if (o->json) {
				const char *why;
				d->state = record_state(&t->cfg, &rec, t->now,
							&why);
			}
		}
		secure_wipe(&rec, sizeof(rec)); /* it holds the digests */
	}
	if (rc != EXIT_OK) {
		tool_abort(t, txn);
		if (o->count > 1)
			say("nothing was changed");
		return rc;
	}
	if (tool_commit(t, txn) != 0)
		return EXIT_REFUSED;
	/* Audit after the commit, so the log never claims what did not
	 * happen: one line per distinct token. */
	for (int i = 0; i < o->count; i++) {
		token_record gone = { 0 };
		memcpy(gone.id, o->done[i].id, sizeof(gone.id));
		memcpy(gone.user, o->done[i].user, sizeof(gone.user));
		memcpy(gone.name, o->done[i].name, sizeof(gone.name));
		audit(t, action, &gone, NULL);
	}
	o->committed = true;
	return EXIT_OK;
}

static int change_report(tool *t, change_opts *o, const char *action, int rc)
{
	for (int i = 0; rc == EXIT_OK && o->committed && i < o->count; i++)
		say("%s token %s (%s, %s)", action, o->done[i].id,
		    o->done[i].user, o->done[i].name);
	if (rc != EXIT_OK || !o->committed || !o->json)
		return rc;
	/* {"id","state"}: the state the token is in now (an enabled token
	 * may still be expired or inactive); an array for several ids. */
	if (o->count > 1)
		putchar('[');
	for (int i = 0; i < o->count; i++) {
		printf("%s{\"id\":\"%s\",\"state\":\"%s\"}", i ? "," : "",
		       o->done[i].id, token_state_name(o->done[i].state));
	}
	puts(o->count > 1 ? "]" : "");
	return rc;
}

static void change_cleanup(void *opts)
{
	change_opts *o = opts;

	free(o->done);
	free(o->ids);
}

#define CHANGE_COMMAND(verb, fn, action)                                    \
	static int verb##_transact(tool *t, void *opts)                     \
	{                                                                   \
		return change_each(t, opts, fn, action);                    \
	}                                                                   \
	static int verb##_report(tool *t, void *opts, int rc)               \
	{                                                                   \
		return change_report(t, opts, action, rc);                  \
	}                                                                   \
	const command cmd_##verb = {                                        \
		.name = #verb,                                              \
		.opts_size = sizeof(change_opts),                           \
		.parse = change_parse,                                      \
		.transact = verb##_transact,                                \
		.report = verb##_report,                                    \
		.cleanup = change_cleanup,                                  \
	}

CHANGE_COMMAND(revoke, do_revoke, "revoked");
CHANGE_COMMAND(disable, do_disable, "disabled");
CHANGE_COMMAND(enable, do_enable, "enabled");

typedef struct rotate_opts {
	const char *id;
	int64_t grace;
	bool json;
	token_record rec; /* filled by transact */
	minted token;
} rotate_opts;

static int rotate_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "grace", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	rotate_opts *o = opts;
	int c;

	(void)now;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'g':
			if (duration_parse(optarg, &o->grace) != 0) {
				json_fail_field("grace");
				warnx_("bad --grace '%.64s' (30m, 12h, 7d)", optarg);
				return EXIT_USAGE;
			}
			/* A grace period keeps a second, possibly leaked,
			 * secret alive: long enough to redeploy, no longer. */
			if (o->grace > MAX_GRACE) {
				json_fail_field("grace");
				warnx_("--grace is at most 30d");
				return EXIT_USAGE;
			}
			break;
		case 'j': o->json = true; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		json_fail_field("id");
		warnx_("usage: rotate ID [--grace DURATION] [--json]");
		return EXIT_USAGE;
	}
	o->id = argv[optind];
	return EXIT_OK;
}

static int rotate_transact(tool *t, void *opts)
{
	rotate_opts *o = opts;
	token_record *rec = &o->rec;
	store_txn *txn = NULL;

	int rc = fleet_require_authority(t, "tokens are rotated");
	if (rc != EXIT_OK)
		return rc;
	if (require_writable_stdout() != 0)
		return EXIT_REFUSED;
	/* Not theirs, or not there: answered before the lock. */
	if (!t->admin) {
		rc = tool_open_store(t) == 0 ? precheck(t, o->id, NULL) :
					       EXIT_REFUSED;
		if (rc != EXIT_OK)
			return rc;
	}
	if (tool_begin(t, &txn) != 0)
		return EXIT_REFUSED;
	rc = tool_get_record(t, txn, o->id, rec);
	if (rc == EXIT_OK)
		rc = tool_may_manage(t, rec);
	token_state st = rc == EXIT_OK ? record_death(rec, t->now) : TOKEN_ACTIVE;
	if (rc == EXIT_OK && (st == TOKEN_REVOKED || st == TOKEN_EXPIRED)) {
		warnx_("token %s is %s; create a new one instead", rec->id,
		       token_state_name(st));
		rc = EXIT_REFUSED;
	}
	if (rc != EXIT_OK) {
		tool_abort(t, txn);
		return rc;
	}
	/* The old secret keeps working until the grace ends, so clients can
	 * switch over without a moment of refusal; the expiry, rules and name
	 * stay as they were. */
	if (o->grace > 0) {
		memcpy(rec->prev_digest, rec->digest, MAC_LEN);
		rec->prev_until = t->now + o->grace;
	} else {
		memset(rec->prev_digest, 0, MAC_LEN);
		rec->prev_until = 0;
	}
	rec->changed = t->now;
	char detail[64], b[32];
	snprintf(detail, sizeof(detail), "grace_until=%s",
		 fmt_time(rec->prev_until, "none", b));
	if (tool_mint(t, txn, rec, false, &o->token, "rotated", detail) != 0)
		return EXIT_REFUSED;
	return EXIT_OK;
}

static int rotate_report(tool *t, void *opts, int rc)
{
	rotate_opts *o = opts;
	char b[32];

	(void)t;
	if (rc != EXIT_OK)
		return rc;
	if (print_new_token(&o->rec, o->token.text, o->json, "rotated") != 0)
		return EXIT_REFUSED;
	if (o->grace > 0)
		say("the old secret works until %s",
		    fmt_time(o->rec.prev_until, "-", b));
	return EXIT_OK;
}

static void rotate_cleanup(void *opts)
{
	rotate_opts *o = opts;

	minted_wipe(&o->token, &o->rec);
}

const command cmd_rotate = {
	.name = "rotate",
	.opts_size = sizeof(rotate_opts),
	.parse = rotate_parse,
	.transact = rotate_transact,
	.report = rotate_report,
	.cleanup = rotate_cleanup,
};

/* What prune remembers of each dead token: enough for the audit line, a
 * fraction of a record (a million dead tokens must not cost gigabytes). */
typedef struct dead_token {
	char id[TOKEN_ID_LEN + 1];
	char user[RECORD_USER_MAX + 1];
} dead_token;

typedef struct prune_ctx {
	int64_t cutoff;
	size_t n, cap;
	dead_token *dead;
	bool oom;
} prune_ctx;

/* When rec died for good (its revocation or expiry), or 0 if it has not. */
static int64_t died_at(const token_record *rec, int64_t now)
{
	token_state st = record_death(rec, now);

	if (st == TOKEN_REVOKED)
		return rec->changed ? rec->changed : rec->created;
	if (st == TOKEN_EXPIRED)
		return rec->expires;
	return 0;
}

static int find_dead(tool *t, void *ctx, const token_record *rec)
{
	prune_ctx *p = ctx;
	int64_t since = died_at(rec, t->now);

	/* (A member's walk brings only their own: prune_transact.) */
	if (since == 0 || since > p->cutoff)
		return 0;
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		dead_token *d = realloc(p->dead, cap * sizeof(*d));
		if (!d) {
			p->oom = true;
			return 1;
		}
		p->dead = d;
		p->cap = cap;
	}
	dead_token *d = &p->dead[p->n++];
	memcpy(d->id, rec->id, sizeof(d->id));
	snprintf(d->user, sizeof(d->user), "%s", rec->user);
	return 0;
}

/* Under the lock: is the token the walk found still there, still dead
 * long enough and (for a member) still theirs? 1 yes, 0 no (it changed
 * since; left alone), -1 the store cannot be read (reported). */
static int still_dead(tool *t, store_txn *txn, const dead_token *d,
		      int64_t cutoff)
{
	uint8_t buf[RECORD_ENCODED_MAX];
	token_record rec;
	size_t len = 0;
	char err[256] = "";
	store_status st = store_get(store_txn_view(txn), d->id, TOKEN_ID_LEN,
				    buf, sizeof(buf), &len, err, sizeof(err));
	int rc = 0;

	if (st == STORE_ERROR) {
		warnx_("%s", err[0] ? err : "cannot read the store");
		rc = -1;
	} else if (st == STORE_OK && record_decode(d->id, buf, len, t->key,
						   &rec) == 0) {
		int64_t since = died_at(&rec, t->now);
		rc = since != 0 && since <= cutoff &&
		     (t->admin || strcmp(rec.user, t->user) == 0);
		secure_wipe(&rec, sizeof(rec));
	}
	secure_wipe(buf, sizeof(buf)); /* it holds the digests */
	return rc;
}

typedef struct prune_opts {
	int64_t older;
	size_t pruned; /* filled by transact */
} prune_opts;

static int prune_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ 0 },
	};
	prune_opts *o = opts;
	int c;

	(void)now;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'o' || duration_parse(optarg, &o->older) != 0) {
			warnx_("usage: prune [--older-than DURATION]");
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		warnx_("usage: prune [--older-than DURATION]");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* Delete revoked and expired tokens (the caller's own, or everyone's for
 * an administrator) that have been dead for longer than --older-than.
 * The store is searched without the lock (a reader, as list reads it): a
 * caller with nothing to prune never takes it, and one who has holds it
 * only for the lookups and deletions of what was found. */
static int prune_transact(tool *t, void *opts)
{
	prune_opts *o = opts;
	prune_ctx p = { 0 };
	store_txn *txn = NULL;
	size_t deleted = 0;
	int rc = EXIT_REFUSED;

	p.cutoff = t->now - o->older;
	if (tool_open_store(t) != 0 ||
	    tool_foreach_record_of(t, NULL, t->admin ? NULL : t->user,
				   find_dead, &p) != 0 ||
	    p.oom)
		goto out;
	if (p.n == 0) {
		rc = EXIT_OK;
		goto out;
	}
	if (tool_begin(t, &txn) != 0)
		goto out;
	for (size_t i = 0; i < p.n; i++) {
		int dead = still_dead(t, txn, &p.dead[i], p.cutoff);
		if (dead < 0)
			goto out;
		if (!dead)
			continue;
		if (store_txn_delete(txn, p.dead[i].id, TOKEN_ID_LEN) != 0) {
			warnx_("cannot delete token %s", p.dead[i].id);
			goto out;
		}
		/* Kept for the audit below, in the array's front part. */
		p.dead[deleted++] = p.dead[i];
	}
	if (deleted == 0) {
		rc = EXIT_OK;
		goto out;
	}
	int committed = tool_commit(t, txn);
	txn = NULL;
	if (committed != 0)
		goto out;
	for (size_t i = 0; i < deleted; i++) {
		token_record gone = { 0 };
		memcpy(gone.id, p.dead[i].id, sizeof(gone.id));
		memcpy(gone.user, p.dead[i].user, sizeof(gone.user));
		lastused_forget(&t->cfg, gone.id);
		audit(t, "pruned", &gone, NULL);
	}
	o->pruned = deleted;
	rc = EXIT_OK;
out:
	tool_abort(t, txn);
	free(p.dead);
	return rc;
}

static int prune_report(tool *t, void *opts, int rc)
{
	prune_opts *o = opts;

	(void)t;
	if (rc != EXIT_OK)
		return rc;
	if (o->pruned)
		say("pruned %zu token(s)", o->pruned);
	else
		say("nothing to prune");
	return EXIT_OK;
}

const command cmd_prune = {
	.name = "prune",
	.opts_size = sizeof(prune_opts),
	.parse = prune_parse,
	.transact = prune_transact,
	.report = prune_report,
};
