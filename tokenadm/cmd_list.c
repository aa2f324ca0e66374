/* tokenadm list and show: what tokens exist, their state and last use. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authcheck.h"
#include "duration.h"
#include "lastused.h"
#include "tokenadm.h"

typedef struct row {
	char id[TOKEN_ID_LEN + 1];
	char *user, *name;
	const char *state;
	const char *reason;
	char reason_buf[REASON_TEXT_MAX]; /* when reason is built per token */
	int64_t created, expires, last_used;
	char last_rhost[LASTUSED_RHOST_MAX + 1];
} row;

typedef struct list_ctx {
	const char *only_user; /* NULL: every user */
	int64_t expiring;      /* >0: only active tokens expiring within */
	int64_t unused_for;    /* >0: only tokens not used for this long */
	int state;             /* -1: any, else a token_state */
	bool all;              /* --all */
	bool json;
	size_t n, cap;
	row *rows;
	bool oom;
} list_ctx;

static void json_record(tool *t, const token_record *rec, token_state st,
			const char *reason)
{
	lastused lu;

	tool_lastused(t, rec->id, &lu);
	printf("{\"id\":\"%s\",\"user\":", rec->id);
	json_string(rec->user);
	fputs(",\"name\":", stdout);
	json_string(rec->name);
	fputs(",\"created\":", stdout);
	json_time(rec->created);
	fputs(",\"expires\":", stdout);
	json_time(rec->expires);
	fputs(",\"last_used\":", stdout);
	json_time(lu.when);
	fputs(",\"last_rhost\":", stdout);
	if (lu.when)
		json_string(lu.rhost);
	else
		fputs("null", stdout);
	printf(",\"state\":\"%s\",\"reason\":", token_state_name(st));
	char rb[REASON_TEXT_MAX];
	if (st == TOKEN_ACTIVE)
		fputs("null", stdout);
	else
		json_string(reason_text(rec, reason, rb));
	fputs(",\"allow_from\":", stdout);
	json_string(rec->allow_from);
	fputs(",\"deny_from\":", stdout);
	json_string(rec->deny_from);
	fputs(",\"services\":", stdout);
	json_string(rec->services);
	printf(",\"rotated_grace_until\":");
	json_time(rec->prev_until > t->now ? rec->prev_until : 0);
	putchar('}');
}

/* The filters administrators ask for most: expiry warnings for a mail or
 * timer job, stale tokens to clean up, tokens in one state. (--user is
 * the walk's own filter: tool_foreach_record_of.) */
static bool wanted(tool *t, const list_ctx *l, const token_record *rec,
		   token_state *state, const char **why)
{
	/* Worked out once per record: it may ask NSS about groups. */
	token_state st = *state = record_state(&t->cfg, rec, t->now, why);
	if (l->state >= 0 && (int)st != l->state)
		return false;
	if (l->expiring > 0 &&
	    (st != TOKEN_ACTIVE || rec->expires == 0 ||
	     rec->expires - t->now > l->expiring))
		return false;
	if (l->unused_for > 0) {
		lastused lu;
		tool_lastused(t, rec->id, &lu);
		/* Never used counts from creation. */
		int64_t since = lu.when ? lu.when : rec->created;
		if (t->now - since < l->unused_for)
			return false;
	}
	return true;
}

static int collect(tool *t, void *ctx, const token_record *rec)
{
	list_ctx *l = ctx;

	token_state st;
	const char *reason;

	if (!wanted(t, l, rec, &st, &reason))
		return 0;
	if (l->json) {
		if (l->n++)
			putchar(',');
		putchar('\n');
		json_record(t, rec, st, reason);
		return 0;
	}
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
	row *r = &l->rows[l->n];
	memset(r, 0, sizeof(*r));
	memcpy(r->id, rec->id, sizeof(r->id));
	r->user = strdup(rec->user);
	r->name = strdup(rec->name);
	if (!r->user || !r->name) {
		free(r->user);
		free(r->name);
		l->oom = true;
		return 1;
	}
	l->n++;
	r->state = token_state_name(st);
	r->reason = reason_text(rec, reason, r->reason_buf);
	r->created = rec->created;
	r->expires = rec->expires;
	lastused lu;
	tool_lastused(t, rec->id, &lu);
	r->last_used = lu.when;
	memcpy(r->last_rhost, lu.rhost, sizeof(r->last_rhost));
	return 0;
}

static int by_user_then_created(const void *a, const void *b)
{
	const row *x = a, *y = b;
	int c = strcmp(x->user, y->user);
	if (c)
		return c;
	return (x->created > y->created) - (x->created < y->created);
}

static int width(const char *s, int w)
{
	int n = (int)strlen(s);
	return n > w ? n : w;
}

static void print_table(list_ctx *l)
{
	int wu = 4, wn = 4, wr = 4;
	char c[32], e[32], u[32];

	qsort(l->rows, l->n, sizeof(*l->rows), by_user_then_created);
	for (size_t i = 0; i < l->n; i++) {
		wu = width(l->rows[i].user, wu);
		wn = width(l->rows[i].name, wn);
		wr = width(l->rows[i].last_rhost, wr);
	}
	printf("%-12s  %-*s  %-*s  %-8s  %-20s  %-20s  %-20s  %-*s  %s\n", "ID",
	       wu, "USER", wn, "NAME", "STATE", "CREATED", "EXPIRES",
	       "LAST USED", wr, "FROM", "REASON");
	for (size_t i = 0; i < l->n; i++) {
		row *r = &l->rows[i];
		printf("%-12s  %-*s  %-*s  %-8s  %-20s  %-20s  %-20s  %-*s  %s\n",
		       r->id, wu, r->user, wn, r->name, r->state,
		       fmt_time(r->created, "-", c),
		       fmt_time(r->expires, "never", e),
		       fmt_time(r->last_used, "never", u), wr,
		       r->last_used ? r->last_rhost : "-", r->reason);
	}
}

static int list_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "expiring", required_argument, NULL, 'e' },
		{ "unused-for", required_argument, NULL, 'n' },
		{ "state", required_argument, NULL, 's' },
		{ 0 },
	};
	static const char usage_text[] =
		"usage: list [--user USER | --all] [--expiring DURATION] "
		"[--unused-for DURATION] [--state STATE] [--json]";
	list_ctx *l = opts;
	int c;

	(void)now;
	l->state = -1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'u': l->only_user = optarg; break;
		case 'a': l->all = true; break;
		case 'j': l->json = true; break;
		case 'e':
		case 'n':
			if (duration_parse(optarg, c == 'e' ? &l->expiring :
							      &l->unused_for)) {
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
			warnx_("only administrators list other users' tokens");
			return EXIT_DENIED;
		}
		l->only_user = t->user;
	}
	return tool_open_for_reading(t, NULL) == 0 ? EXIT_OK : EXIT_REFUSED;
}

static int list_report(tool *t, void *opts, int rc)
{
	list_ctx *l = opts;

	if (rc != EXIT_OK)
		return rc;
	if (l->json)
		putchar('[');
	if (tool_foreach_record_of(t, NULL, l->only_user, collect, l) != 0 ||
	    l->oom) {
		if (l->oom)
			warnx_("out of memory");
		rc = EXIT_REFUSED;
	}
	if (l->json)
		puts(l->n ? "\n]" : "]");
	else if (rc == EXIT_OK)
		print_table(l);
	return rc;
}

static void list_cleanup(void *opts)
{
	list_ctx *l = opts;

	for (size_t i = 0; i < l->n && !l->json; i++) {
		free(l->rows[i].user);
		free(l->rows[i].name);
	}
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

	return tool_open_for_reading(t, o->id) == 0 ? EXIT_OK : EXIT_REFUSED;
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
		json_record(t, &rec, st, reason);
		putchar('\n');
		return EXIT_OK;
	}
	lastused lu;
	char b1[32], b2[32], b3[32], b4[32];
	tool_lastused(t, rec.id, &lu);
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
