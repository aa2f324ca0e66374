/* tokenadm revoke / disable / enable / rotate / prune: changes to existing
 * tokens, each done in one write transaction. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authcheck.h"
#include "duration.h"
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

/* Apply change to every id, all or nothing: one transaction, committed only
 * if every id exists, may be managed by the caller and changed. */
static int change_each(tool *t, int argc, char **argv, change_fn change,
		       const char *action)
{
	store_txn *txn = NULL;
	token_record *done;
	int rc = EXIT_OK, count = argc - 1;

	if (count < 1) {
		warnx_("usage: %s ID...", argv[0]);
		return EXIT_USAGE;
	}
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-') {
			warnx_("usage: %s ID...", argv[0]);
			return EXIT_USAGE;
		}
	done = calloc((size_t)count, sizeof(*done));
	if (!done || tool_begin(t, &txn) != 0) {
		free(done);
		return EXIT_REFUSED;
	}
	for (int i = 0; i < count && rc == EXIT_OK; i++) {
		token_record *rec = &done[i];
		rc = tool_get_record(t, txn, argv[i + 1], rec);
		if (rc == EXIT_OK)
			rc = tool_may_manage(t, rec);
		if (rc == EXIT_OK)
			rc = change(t, rec);
		if (rc == EXIT_OK) {
			rec->changed = t->now;
			rc = tool_put_record(t, txn, rec) ? EXIT_REFUSED : EXIT_OK;
		}
	}
	if (rc != EXIT_OK) {
		tool_abort(t, txn);
		if (count > 1)
			say("nothing was changed");
	} else if (tool_commit(t, txn) != 0) {
		rc = EXIT_REFUSED;
	} else {
		/* Audit after the commit, so the log never claims what did
		 * not happen; then shed privilege before talking. */
		for (int i = 0; i < count; i++)
			audit(t, action, &done[i], NULL);
		tool_drop(t);
		for (int i = 0; i < count; i++)
			say("%s token %s (%s, %s)", action, done[i].id,
			    done[i].user, done[i].name);
	}
	free(done);
	return rc;
}

int cmd_revoke(tool *t, int argc, char **argv)
{
	return change_each(t, argc, argv, do_revoke, "revoked");
}

int cmd_disable(tool *t, int argc, char **argv)
{
	return change_each(t, argc, argv, do_disable, "disabled");
}

int cmd_enable(tool *t, int argc, char **argv)
{
	return change_each(t, argc, argv, do_enable, "enabled");
}

int cmd_rotate(tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "grace", required_argument, NULL, 'g' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	int64_t grace = 0;
	bool json = false;
	token_record rec;
	token_parts parts;
	char token[TOKEN_TEXT_MAX + 1];
	store_txn *txn = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			if (duration_parse(optarg, &grace) != 0) {
				warnx_("bad --grace '%.64s' (30m, 12h, 7d)", optarg);
				return EXIT_USAGE;
			}
			/* A grace period keeps a second, possibly leaked,
			 * secret alive: long enough to redeploy, no longer. */
			if (grace > MAX_GRACE) {
				warnx_("--grace is at most 30d");
				return EXIT_USAGE;
			}
			break;
		case 'j': json = true; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		warnx_("usage: rotate ID [--grace DURATION] [--json]");
		return EXIT_USAGE;
	}
	memset(&parts, 0, sizeof(parts));
	memset(token, 0, sizeof(token));
	if (require_writable_stdout() != 0 || tool_begin(t, &txn) != 0)
		return EXIT_REFUSED;
	rc = tool_get_record(t, txn, argv[optind], &rec);
	if (rc == EXIT_OK)
		rc = tool_may_manage(t, &rec);
	if (rc != EXIT_OK)
		goto out;
	const char *why;
	token_state st = record_state(&t->cfg, &rec, t->now, &why);
	if (st == TOKEN_REVOKED || st == TOKEN_EXPIRED) {
		warnx_("token %s is %s; create a new one instead", rec.id,
		       token_state_name(st));
		rc = EXIT_REFUSED;
		goto out;
	}
	rc = EXIT_REFUSED;
	if (token_generate_for_id(t->cfg.prefix, rec.id, &parts, token,
				  sizeof(token)) != 0) {
		warnx_("cannot generate a token");
		goto out;
	}
	/* The old secret keeps working until the grace ends, so clients can
	 * switch over without a moment of refusal; the expiry, rules and name
	 * stay as they were. */
	if (grace > 0) {
		memcpy(rec.prev_digest, rec.digest, MAC_LEN);
		rec.prev_until = t->now + grace;
	} else {
		memset(rec.prev_digest, 0, MAC_LEN);
		rec.prev_until = 0;
	}
	rec.changed = t->now;
	if (record_token_digest(t->key, &parts, rec.digest) != 0 ||
	    tool_put_record(t, txn, &rec) != 0)
		goto out;
	int committed = tool_commit(t, txn);
	txn = NULL;
	if (committed != 0)
		goto out;
	char detail[64], b[32];
	snprintf(detail, sizeof(detail), "grace_until=%s",
		 fmt_time(rec.prev_until, "none", b));
	audit(t, "rotated", &rec, detail);
	tool_drop(t);
	rc = print_new_token(&rec, token, json, "rotated") == 0 ? EXIT_OK :
								    EXIT_REFUSED;
	if (rc == EXIT_OK && grace > 0)
		say("the old secret works until %s", b);
out:
	tool_abort(t, txn);
	secure_wipe(token, sizeof(token));
	token_parts_wipe(&parts);
	secure_burn_stack();
	return rc;
}

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
	const char *why;
	token_state st = record_state(&t->cfg, rec, t->now, &why);
	int64_t since;

	if (st == TOKEN_REVOKED)
		since = rec->changed ? rec->changed : rec->created;
	else if (st == TOKEN_EXPIRED)
		since = rec->expires;
	else
		return 0;
	if (since > p->cutoff || (!t->admin && strcmp(rec->user, t->user) != 0))
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

/* Delete revoked and expired tokens (the caller's own, or everyone's for
 * an administrator) that have been dead for longer than --older-than. */
int cmd_prune(tool *t, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "older-than", required_argument, NULL, 'o' },
		{ 0 },
	};
	int64_t older = 0;
	prune_ctx p = { 0 };
	store_txn *txn = NULL;
	int c, rc = EXIT_REFUSED;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'o' || duration_parse(optarg, &older) != 0) {
			warnx_("usage: prune [--older-than DURATION]");
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		warnx_("usage: prune [--older-than DURATION]");
		return EXIT_USAGE;
	}
	p.cutoff = t->now - older;
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
		say("nothing to prune");
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
	tool_drop(t);
	say("pruned %zu token(s)", p.n);
	rc = EXIT_OK;
out:
	tool_abort(t, txn);
	free(p.dead);
	return rc;
}
