/* tokenadm list and show: what tokens exist, their state and last use. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authcheck.h"
#include "duration.h"
#include "json_out.h"
#include "lastused.h"
#include "fleet.h"
#include "lastuse_view.h"
#include "tokenadm.h"

typedef struct row {
	char id[TOKEN_ID_LEN + 1];
	char *user, *name, *allow, *deny, *services;
	const char *state;
	const char *reason;
	int64_t created, expires, last_used, grace_until;
	bool disabled_by_admin;
	char reason_buf[REASON_TEXT_MAX]; /* "idle since DATE", else "" */
	char last_rhost[LASTUSED_RHOST_MAX + 1];
} row;

typedef struct list_ctx {
	const char *only_user; /* NULL: every user */
	int64_t expiring;      /* >0: only active tokens expiring within */
	int64_t unused_for;    /* >0: only tokens not used for this long */
	int state;             /* -1: any, else a token_state */
	size_t limit;          /* >0: at most this many, after sorting */
	bool all;              /* --all */
	bool json;
	size_t n, cap;
	row *rows;
	bool oom;
} list_ctx;

static void row_free(row *r)
{
	free(r->user);
	free(r->name);
	free(r->allow);
	free(r->deny);
	free(r->services);
}

/* What list and show print of a record, copied out of it (the record
 * itself holds digests and is wiped by the walk). Returns 0 or -1. */
static int row_fill(tool *t, row *r, const token_record *rec,
		    token_state st, const char *reason)
{
	lastused lu;

	memset(r, 0, sizeof(*r));
	memcpy(r->id, rec->id, sizeof(r->id));
	r->user = strdup(rec->user);
	r->name = strdup(rec->name);
	r->allow = strdup(rec->allow_from);
	r->deny = strdup(rec->deny_from);
	r->services = strdup(rec->services);
	if (!r->user || !r->name || !r->allow || !r->deny || !r->services) {
		row_free(r);
		return -1;
	}
	r->state = token_state_name(st);
	r->reason = reason;
	/* Built per token (rows move when the array grows: a copy, not a
	 * pointer into the row). */
	if (reason_text(rec, reason, r->reason_buf) != r->reason_buf)
		r->reason_buf[0] = '\0';
	r->created = rec->created;
	r->expires = rec->expires;
	r->grace_until = rec->prev_until > t->now ? rec->prev_until : 0;
	r->disabled_by_admin = (rec->flags & RECORD_DISABLED_BY_ADMIN) != 0;
	lastuse_of(t, rec->id, &lu);
	r->last_used = lu.when;
	memcpy(r->last_rhost, lu.rhost, sizeof(r->last_rhost));
	return 0;
}

/* One token as tokenadm(8), JSON OUTPUT, describes it. */
static void json_row(const row *r)
{
	printf("{\"id\":\"%s\",\"user\":", r->id);
	json_string(r->user);
	fputs(",\"name\":", stdout);
	json_string(r->name);
	fputs(",\"created\":", stdout);
	json_time(r->created);
	fputs(",\"expires\":", stdout);
	json_time(r->expires);
	fputs(",\"last_used\":", stdout);
	json_time(r->last_used);
	fputs(",\"last_rhost\":", stdout);
	if (r->last_used)
		json_string(r->last_rhost);
	else
		fputs("null", stdout);
	printf(",\"state\":\"%s\",\"reason\":", r->state);
	if (strcmp(r->state, "active") == 0)
		fputs("null", stdout);
	else
		json_string(r->reason_buf[0] ? r->reason_buf : r->reason);
	fputs(",\"services\":", stdout);
	json_string_list(r->services);
	fputs(",\"allow_from\":", stdout);
	json_string_list(r->allow);
	fputs(",\"deny_from\":", stdout);
	json_string_list(r->deny);
	printf(",\"disabled_by_admin\":%s,\"rotated_grace_until\":",
	       r->disabled_by_admin ? "true" : "false");
	json_time(r->grace_until);
	putchar('}');
}

/* The filters administrators ask for most: expiry warnings for a mail or
 * timer job, stale tokens to clean up, tokens in one state. (--user is
 * the walk's own filter: tool_foreach_record_of.) The cheap tests first:
 * a state from the flags and the times alone settles most records of a
 * big store before the group lookup record_state may make. */
static bool wanted(tool *t, const list_ctx *l, const token_record *rec,
		   token_state *state, const char **why)
{
	if (l->expiring > 0 &&
	    (rec->expires == 0 || rec->expires <= t->now ||
	     rec->expires - t->now > l->expiring ||
	     (rec->flags & (RECORD_REVOKED | RECORD_DISABLED))))
		return false;
	if (l->state >= 0 && l->state != TOKEN_INACTIVE &&
	    l->state != TOKEN_ACTIVE) {
		/* Revoked, disabled, expired: decided without NSS. */
		token_state quick = (rec->flags & RECORD_REVOKED) ? TOKEN_REVOKED :
				    (rec->flags & RECORD_DISABLED) ? TOKEN_DISABLED :
				    (rec->expires != 0 && t->now >= rec->expires) ?
								     TOKEN_EXPIRED :
								     TOKEN_ACTIVE;
		if ((int)quick != l->state)
			return false;
	}
	if (l->unused_for > 0) {
		lastused lu;
		lastuse_of(t, rec->id, &lu);
		/* Never used counts from creation. */
		int64_t since = lu.when ? lu.when : rec->created;
		if (t->now - since < l->unused_for)
			return false;
	}
	/* Worked out once per record: it may ask NSS about groups. */
	token_state st = *state = record_state(&t->cfg, rec, t->now, why);
	if (l->state >= 0 && (int)st != l->state)
		return false;
	if (l->expiring > 0 && st != TOKEN_ACTIVE)
		return false;
	return true;
}

static int collect(tool *t, void *ctx, const token_record *rec)
{
	list_ctx *l = ctx;
	token_state st;
	const char *reason;

	if (!wanted(t, l, rec, &st, &reason))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		row *r = realloc(l->rows, cap * sizeof(*r));
		if (!r) {
			l->oom = true;
			return 1;
		}
		l->rows = r;
		l->cap = cap;
	}
	if (row_fill(t, &l->rows[l->n], rec, st, reason) != 0) {
		l->oom = true;
		return 1;
	}
	l->n++;
	return 0;
}

static int by_user_then_created(const void *a, const void *b)
{
	const row *x = a, *y = b;
	int c = strcmp(x->user, y->user);
	if (c)
		return c;
	if (x->created != y->created)
		return (x->created > y->created) - (x->created < y->created);
	return strcmp(x->id, y->id);
}

static int width(const char *s, int w)
{
	int n = (int)strlen(s);
	return n > w ? n : w;
}

static void print_table(list_ctx *l, size_t n)
{
	int wu = 4, wn = 4, wr = 4;
	char c[32], e[32], u[32];

	for (size_t i = 0; i < n; i++) {
		wu = width(l->rows[i].user, wu);
		wn = width(l->rows[i].name, wn);
		wr = width(l->rows[i].last_rhost, wr);
	}
	printf("%-12s  %-*s  %-*s  %-8s  %-20s  %-20s  %-20s  %-*s  %s\n", "ID",
	       wu, "USER", wn, "NAME", "STATE", "CREATED", "EXPIRES",
	       "LAST USED", wr, "FROM", "REASON");
	for (size_t i = 0; i < n; i++) {
		row *r = &l->rows[i];
		printf("%-12s  %-*s  %-*s  %-8s  %-20s  %-20s  %-20s  %-*s  %s\n",
		       r->id, wu, r->user, wn, r->name, r->state,
		       fmt_time(r->created, "-", c),
		       fmt_time(r->expires, "never", e),
		       fmt_time(r->last_used, "never", u), wr,
		       r->last_used ? r->last_rhost : "-", r->reason_buf[0] ? r->reason_buf : r->reason);
	}
}

static int list_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "expiring", required_argument, NULL, 'e' },
		{ "expiring-within", required_argument, NULL, 'e' },
		{ "limit", required_argument, NULL, 'l' },
		{ "unused-for", required_argument, NULL, 'n' },
		{ "state", required_argument, NULL, 's' },
		{ 0 },
	};
	static const char usage_text[] =
		"usage: list [--user USER | --all] [--expiring-within DURATION] "
		"[--unused-for DURATION] [--state STATE] [--limit N] [--json]";
	list_ctx *l = opts;
	int c;

	(void)now;
	l->state = -1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'u': l->only_user = optarg; break;
		case 'a': l->all = true; break;
		case 'j': l->json = true; break;
		case 'l': {
			char *end;
			errno = 0;
			unsigned long long v = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-' ||
			    v == 0 || v > 100000000ULL) {
				json_fail_field("limit");
				warnx_("--limit takes a number of tokens (1 or more)");
				return EXIT_USAGE;
			}
			l->limit = (size_t)v;
			break;
		}
		case 'e':
		case 'n':
			if (duration_parse(optarg, c == 'e' ? &l->expiring :
							      &l->unused_for)) {
				json_fail_field(c == 'e' ? "expiring_within" :
							   "unused_for");
				warnx_("bad duration '%.64s' (30m, 12h, 90d, 4w)",
				       optarg);
				return EXIT_USAGE;
			}
			break;
		case 's':
			for (int st = TOKEN_ACTIVE; st <= TOKEN_INACTIVE; st++)
				if (strcmp(optarg, token_state_name(st)) == 0)
					l->state = st;
			if (l->state < 0) {
				json_fail_field("state");
				warnx_("--state is one of active, expired, "
				       "revoked, disabled, inactive");
				return EXIT_USAGE;
			}
			break;
		default:
			warnx_("%s", usage_text);
			return EXIT_USAGE;
		}
	}
	if (optind != argc || (l->all && l->only_user)) {
		warnx_("%s", usage_text);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static int list_transact(tool *t, void *opts)
{
	list_ctx *l = opts;

	/* Administrators see everyone's tokens by default, others their own;
	 * asking for someone else's is refused rather than silently empty. */
	if (!t->admin) {
		if (l->all ||
		    (l->only_user && strcmp(l->only_user, t->user) != 0)) {
			json_fail_field("user");
			warnx_("only administrators list other users' tokens");
			return EXIT_DENIED;
		}
		l->only_user = t->user;
	}
	return lastuse_open(t, NULL) == 0 ? EXIT_OK : EXIT_REFUSED;
}

static int list_report(tool *t, void *opts, int rc)
{
	list_ctx *l = opts;

	if (rc != EXIT_OK)
		return rc;
	if (tool_foreach_record_of(t, NULL, l->only_user, collect, l) != 0 ||
	    l->oom) {
		if (l->oom)
			warnx_("out of memory");
		return EXIT_REFUSED;
	}
	/* Nothing is printed until the walk is done: a failure with --json
	 * then prints its error object alone. */
	if (l->n > 1) /* no rows: rows is NULL, which qsort must not get */
		qsort(l->rows, l->n, sizeof(*l->rows), by_user_then_created);
	size_t n = l->limit && l->limit < l->n ? l->limit : l->n;
	if (!l->json) {
		print_table(l, n);
		return EXIT_OK;
	}
	putchar('[');
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n" : "\n", stdout);
		json_row(&l->rows[i]);
	}
	puts(n ? "\n]" : "]");
	return EXIT_OK;
}

static void list_cleanup(void *opts)
{
	list_ctx *l = opts;

	for (size_t i = 0; i < l->n; i++)
		row_free(&l->rows[i]);
	free(l->rows);
}

const command cmd_list = {
	.name = "list",
	.opts_size = sizeof(list_ctx),
	.parse = list_parse,
	.transact = list_transact,
	.report = list_report,
	.cleanup = list_cleanup,
};

typedef struct show_opts {
	const char *id;
	bool json;
} show_opts;

static int show_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	show_opts *o = opts;
	int c;

	(void)now;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'j')
			return EXIT_USAGE;
		o->json = true;
	}
	if (optind + 1 != argc) {
		warnx_("usage: show ID [--json]");
		return EXIT_USAGE;
	}
	o->id = argv[optind];
	return EXIT_OK;
}

static int show_transact(tool *t, void *opts)
{
	show_opts *o = opts;

	return lastuse_open(t, o->id) == 0 ? EXIT_OK : EXIT_REFUSED;
}

static int show_report(tool *t, void *opts, int rc)
{
	show_opts *o = opts;
	token_record rec;

	if (rc != EXIT_OK)
		return rc;
	rc = tool_get_record(t, NULL, o->id, &rec);
	if (rc == EXIT_OK)
		rc = tool_may_manage(t, &rec);
	if (rc != EXIT_OK)
		return rc;
	const char *reason;
	char rb[REASON_TEXT_MAX];
	token_state st = record_state(&t->cfg, &rec, t->now, &reason);
	reason = reason_text(&rec, reason, rb);
	if (o->json) {
		row r;
		if (row_fill(t, &r, &rec, st, reason) != 0) {
			warnx_("out of memory");
			return EXIT_REFUSED;
		}
		json_row(&r);
		putchar('\n');
		row_free(&r);
		return EXIT_OK;
	}
	lastused lu;
	char b1[32], b2[32], b3[32], b4[32];
	lastuse_of(t, rec.id, &lu);
	printf("id:          %s\n"
	       "user:        %s\n"
	       "name:        %s\n"
	       "state:       %s%s%s\n"
	       "created:     %s\n"
	       "expires:     %s\n"
	       "last used:   %s%s%s\n"
	       "allow from:  %s\n"
	       "deny from:   %s\n"
	       "services:    %s\n",
	       rec.id, rec.user, rec.name, token_state_name(st),
	       *reason ? " - " : "", reason, fmt_time(rec.created, "-", b1),
	       fmt_time(rec.expires, "never", b2),
	       fmt_time(lu.when, "never", b3), lu.when ? " from " : "",
	       lu.when ? lu.rhost : "", rec.allow_from[0] ? rec.allow_from : "(any)",
	       rec.deny_from[0] ? rec.deny_from : "(none)",
	       rec.services[0] ? rec.services : "(any but the denied ones)");
	if (rec.prev_until > t->now)
		printf("old secret:  valid until %s (rotation grace)\n",
		       fmt_time(rec.prev_until, "-", b4));
	return EXIT_OK;
}

const command cmd_show = {
	.name = "show",
	.opts_size = sizeof(show_opts),
	.parse = show_parse,
	.transact = show_transact,
	.report = show_report,
};
