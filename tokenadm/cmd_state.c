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
	rec->flags &= ~(uint32_t)(RECORD_DISABLED | RECORD_DISABLED_BY_ADMIN);
	return 0;
}

/* revoke, disable, enable: the ids, and what was done to them. */
typedef struct change_opts {
	int count;
	char **ids;
	token_record *done; /* filled by transact */
	bool committed;
	bool json; /* --json */
} change_opts;

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
	o->count = n;
	o->ids = argv + 1;
	return EXIT_OK;
}

/* Apply change to every id, all or nothing: one transaction, committed only
 * if every id exists, may be managed by the caller and changed. */
static int change_each(tool *t, change_opts *o, change_fn change,
		       const char *action)
{
	store_txn *txn = NULL;
	int rc = EXIT_OK;

	o->done = calloc((size_t)o->count, sizeof(*o->done));
	if (!o->done || tool_begin(t, &txn) != 0)
		return EXIT_REFUSED;
	for (int i = 0; i < o->count && rc == EXIT_OK; i++) {
		token_record *rec = &o->done[i];
		rc = tool_get_record(t, txn, o->ids[i], rec);
		if (rc == EXIT_OK)
			rc = tool_may_manage(t, rec);
		if (rc == EXIT_OK)
			rc = change(t, rec);
		if (rc == EXIT_OK) {
			rec->changed = t->now;
			rc = tool_put_record(t, txn, rec) ? EXIT_REFUSED : EXIT_OK;
		}
		/* A host's own revoke or disable outlives every import. */
		/* (Never downgraded: a local revoke stays one.) */
		if (rc == EXIT_OK && t->cfg.role == ROLE_IMPORT_ONLY &&
		    change != do_enable &&
		    fleet_local_get(t, txn, rec->id) != LOCAL_REVOKED &&
		    fleet_local_put(txn, rec->id,
				    change == do_revoke ? LOCAL_REVOKED :
							  LOCAL_DISABLED) != 0)
			rc = EXIT_REFUSED;
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
	 * happen. */
	for (int i = 0; i < o->count; i++)
		audit(t, action, &o->done[i], NULL);
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
		const char *why;
		token_state st = record_state(&t->cfg, &o->done[i], t->now, &why);
		printf("%s{\"id\":\"%s\",\"state\":\"%s\"}", i ? "," : "",
		       o->done[i].id, token_state_name(st));
	}
	puts(o->count > 1 ? "]" : "");
	return rc;
}

static void change_cleanup(void *opts)
{
	change_opts *o = opts;

	/* The records hold their digests. */
	secure_free(o->done, (size_t)o->count * sizeof(*o->done));
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
	if (require_writable_stdout() != 0 || tool_begin(t, &txn) != 0)
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

static int find_dead(tool *t, void *ctx, const token_record *rec)
{
	prune_ctx *p = ctx;
	token_state st = record_death(rec, t->now);
	int64_t since;

	if (st == TOKEN_REVOKED)
		since = rec->changed ? rec->changed : rec->created;
	else if (st == TOKEN_EXPIRED)
		since = rec->expires;
	else
		return 0;
	/* (A member's walk brings only their own: prune_transact.) */
	if (since > p->cutoff)
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
 * an administrator) that have been dead for longer than --older-than. */
static int prune_transact(tool *t, void *opts)
{
	prune_opts *o = opts;
	prune_ctx p = { 0 };
	store_txn *txn = NULL;
	int rc = EXIT_REFUSED;

	p.cutoff = t->now - o->older;
	if (tool_begin(t, &txn) != 0)
		return EXIT_REFUSED;
	if (tool_foreach_record_of(t, txn, t->admin ? NULL : t->user, find_dead,
				   &p) != 0 ||
	    p.oom)
		goto out;
	for (size_t i = 0; i < p.n; i++)
		if (store_txn_delete(txn, p.dead[i].id, TOKEN_ID_LEN) != 0) {
			warnx_("cannot delete token %s", p.dead[i].id);
			goto out;
		}
	if (p.n == 0) {
		rc = EXIT_OK;
		goto out;
	}
	int committed = tool_commit(t, txn);
	txn = NULL;
	if (committed != 0)
		goto out;
	for (size_t i = 0; i < p.n; i++) {
		token_record gone = { 0 };
		memcpy(gone.id, p.dead[i].id, sizeof(gone.id));
		memcpy(gone.user, p.dead[i].user, sizeof(gone.user));
		lastused_forget(&t->cfg, gone.id);
		audit(t, "pruned", &gone, NULL);
	}
	o->pruned = p.n;
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
