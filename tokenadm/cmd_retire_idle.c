/* tokenadm retire-idle: disable tokens nobody has used for max_idle.
 *
 * A token unused that long is more likely forgotten in a script or a
 * leaked file than needed (GitHub retires tokens unused for a year). It is
 * disabled, not revoked: its owner may enable it again within policy
 * (RECORD_DISABLED_IDLE, unlike an administrator's disable), and list/show
 * say "idle since DATE".
 *
 * "Used" is the newest of this host's last use and, on an authority, the
 * fleet's merged last use (tokenadm lastused merge), so a token used only
 * on other hosts is not idle. When the fleet's reports are stale (the
 * last merge older than a quarter of max_idle) nothing is retired: a
 * broken report path must not look like a fleet of idle tokens. A host
 * that never merged fleet reports goes by its own last use. An enable,
 * rotate or disable restarts the clock (the record's change time), so a
 * token enabled again is not retired the next day. Nothing happens on an
 * import-only host: the authority retires, and the disable reaches the
 * hosts with the next bundle. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "authcheck.h"
#include "fleet.h"
#include "notices.h"
#include "secure.h"
#include "lastuse_view.h"
#include "tokenadm.h"

typedef struct retiree {
	char id[TOKEN_ID_LEN + 1];
	char user[RECORD_USER_MAX + 1];
	char name[RECORD_NAME_MAX + 1];
	int64_t idle_since;
	bool done;
} retiree;

typedef struct retire_opts {
	bool dry_run, json;
	retiree *v;
	size_t n, cap;
	const char *skipped; /* why nothing was looked at */
	char stale[160];     /* why nothing was retired (exit 1) */
} retire_opts;

const char *reason_text(const token_record *rec, const char *reason,
			char buf[REASON_TEXT_MAX])
{
	char since[32];

	if (!(rec->flags & RECORD_DISABLED_IDLE) || (rec->flags & RECORD_REVOKED))
		return reason;
	snprintf(buf, REASON_TEXT_MAX, "idle since %s",
		 fmt_time(rec->idle_since, "-", since));
	return buf;
}

static int retire_parse(int argc, char **argv, void *opts, int64_t now)
{
	retire_opts *o = opts;

	(void)now;
	return parse_dry_run_json(argc, argv, "retire-idle", &o->dry_run, &o->json);
}

/* The fleet's reports are fresh enough when there are none (a single
 * host) or the last merge is younger than a quarter of max_idle. */
static bool fleet_reports_stale(tool *t, char *why, size_t len)
{
	char *path = fleet_lastused_path(&t->cfg);
	struct stat st;
	bool stale = false;

	if (path && stat(path, &st) == 0 &&
	    st.st_mtime < t->now - t->cfg.max_idle / 4) {
		char when[32];
		snprintf(why, len, "the fleet's last-use reports were last "
				   "merged at %s, longer ago than a quarter of "
				   "max_idle: nothing retired",
			 fmt_time((int64_t)st.st_mtime, "-", when));
		stale = true;
	}
	free(path);
	return stale;
}

static int64_t last_active(const tool *t, const token_record *rec)
{
	lastused lu;
	int64_t a = rec->created;

	lastuse_of(t, rec->id, &lu);
	if (lu.when > a)
		a = lu.when;
	if (rec->changed > a)
		a = rec->changed;
	return a;
}

static int pick(tool *t, void *ctx, const token_record *rec)
{
	retire_opts *o = ctx;
	lastused lu;
	const char *reason;

	/* Only tokens that work today: a disabled, revoked, expired or
	 * inactive one is not being kept alive by anyone. */
	if (record_state(&t->cfg, rec, t->now, &reason) != TOKEN_ACTIVE)
		return 0;
	int64_t deadline = notice_idle_deadline(&t->cfg, last_active(t, rec));
	if (deadline == 0 || deadline > t->now)
		return 0;
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		retiree *v = realloc(o->v, cap * sizeof(*v));
		if (!v)
			return -1;
		o->v = v;
		o->cap = cap;
	}
	retiree *r = &o->v[o->n++];
	memset(r, 0, sizeof(*r));
	memcpy(r->id, rec->id, sizeof(r->id));
	snprintf(r->user, sizeof(r->user), "%s", rec->user);
	snprintf(r->name, sizeof(r->name), "%s", rec->name);
	/* Since when: the last use, or its creation if never used. */
	lastuse_of(t, rec->id, &lu);
	r->idle_since = lu.when > rec->created ? lu.when : rec->created;
	return 0;
}

static int retire_transact(tool *t, void *opts)
{
	retire_opts *o = opts;
	store_txn *txn = NULL;
	int rc = EXIT_OK;

	if (!t->admin) {
		warnx_("only administrators retire idle tokens");
		return EXIT_DENIED;
	}
	if (t->cfg.role == ROLE_IMPORT_ONLY) {
		o->skipped = "this is an import-only host: the authority retires "
			     "idle tokens, and the next bundle brings it here";
		return EXIT_OK;
	}
	if (t->cfg.max_idle == 0) {
		o->skipped = "max_idle is not set: no token is retired";
		return EXIT_OK;
	}
	if (fleet_reports_stale(t, o->stale, sizeof(o->stale)))
		return EXIT_REFUSED;
	/* Read-only first: most days nothing is idle, and then the
	 * writers' lock is never taken. */
	if (lastuse_open(t, NULL) != 0)
		return EXIT_REFUSED;
	if (tool_foreach_record(t, NULL, pick, o) != 0)
		return EXIT_REFUSED;
	if (o->n == 0 || o->dry_run)
		return EXIT_OK;
	if (tool_begin(t, &txn) != 0)
		return EXIT_REFUSED;
	for (size_t i = 0; i < o->n && rc == EXIT_OK; i++) {
		retiree *r = &o->v[i];
		token_record rec;
		const char *reason;
		/* Again under the lock: used, changed or revoked since? */
		rc = tool_get_record(t, txn, r->id, &rec);
		if (rc != EXIT_OK)
			break;
		int64_t deadline =
			notice_idle_deadline(&t->cfg, last_active(t, &rec));
		if (record_state(&t->cfg, &rec, t->now, &reason) ==
			    TOKEN_ACTIVE &&
		    deadline != 0 && deadline <= t->now) {
			rec.flags |= RECORD_DISABLED | RECORD_DISABLED_IDLE;
			rec.idle_since = r->idle_since;
			rec.changed = t->now;
			if (tool_put_record(t, txn, &rec) != 0)
				rc = EXIT_REFUSED;
			r->done = true;
		}
		secure_wipe(&rec, sizeof(rec));
	}
	if (rc != EXIT_OK) {
		tool_abort(t, txn);
		for (size_t i = 0; i < o->n; i++)
			o->v[i].done = false;
		return rc;
	}
	if (tool_commit(t, txn) != 0) {
		for (size_t i = 0; i < o->n; i++)
			o->v[i].done = false;
		return EXIT_REFUSED;
	}
	for (size_t i = 0; i < o->n; i++) {
		if (!o->v[i].done)
			continue;
		token_record shown = { 0 };
		char detail[64], since[32];
		memcpy(shown.id, o->v[i].id, sizeof(shown.id));
		memcpy(shown.user, o->v[i].user, sizeof(shown.user));
		memcpy(shown.name, o->v[i].name, sizeof(shown.name));
		snprintf(detail, sizeof(detail), "idle_since=%s",
			 fmt_time(o->v[i].idle_since, "-", since));
		audit(t, "retired-idle", &shown, detail);
	}
	return EXIT_OK;
}

static int retire_report(tool *t, void *opts, int rc)
{
	retire_opts *o = opts;
	size_t done = 0;

	(void)t;
	if (o->skipped)
		say("%s", o->skipped);
	if (o->stale[0])
		warnx_("%s", o->stale);
	/* A failure's one document is main's error object. */
	if (rc != EXIT_OK && o->json)
		return rc;
	if (o->json)
		putchar('[');
	for (size_t i = 0; i < o->n; i++) {
		const retiree *r = &o->v[i];
		char since[32];
		fmt_time(r->idle_since, "-", since);
		done += r->done;
		if (o->json) {
			printf("%s{\"id\":", i ? "," : "");
			json_string(r->id);
			fputs(",\"user\":", stdout);
			json_string(r->user);
			fputs(",\"name\":", stdout);
			json_string(r->name);
			fputs(",\"idle_since\":", stdout);
			json_time(r->idle_since);
			printf(",\"disabled\":%s}", r->done ? "true" : "false");
		} else if (o->dry_run || r->done) {
			say("%s token %s (%s, %s): idle since %s",
			    o->dry_run ? "would disable" : "disabled", r->id,
			    r->user, r->name, since);
		}
	}
	if (o->json)
		puts("]");
	else if (rc == EXIT_OK && !o->skipped && !o->dry_run)
		say("%zu idle token(s) disabled", done);
	return rc;
}

static void retire_cleanup(void *opts)
{
	free(((retire_opts *)opts)->v);
}

const command cmd_retire_idle = {
	.name = "retire-idle",
	.opts_size = sizeof(retire_opts),
	.parse = retire_parse,
	.transact = retire_transact,
	.report = retire_report,
	.cleanup = retire_cleanup,
};
