/* tokenadm lastused export | merge: last use, fleet-wide.
 *
 * Each host records last use locally (tokens.db.lastused/). A host exports
 * those records as a small text file; the authority merges every host's
 * file into one table of its own, tokens.db.lastused.fleet (root's, written
 * whole and renamed into place), keeping the newest use per token with the
 * host it was on. list and show on the authority then report the newest of
 * the local and the fleet-wide record. The merged table is kept apart from
 * the services' directory so that root never owns a file there that a
 * service would have to replace.
 *
 * File format, ASCII lines:
 *   pam_apitoken-lastused 1
 *   host NAME
 *   ID WHEN RHOST        (WHEN: Unix time; RHOST: printable, no blanks)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet.h"
#include "tokenadm.h"

#define LU_MAGIC "pam_apitoken-lastused 1"
#define LU_LINE_MAX 256
#define HOST_MAX 64
/* A host's clock may run this far ahead of the authority's. */
#define LU_SKEW 86400

typedef struct lu_opts {
	bool merge;
	const char *out;    /* export: path or "-" */
	char **files;       /* merge */
	FILE **in;          /* merge: the files, opened as the caller */
	int n_files;
	lastused_table local; /* export: read while privileged */
	size_t merged, n_in;
} lu_opts;

static int lu_parse(int argc, char **argv, void *opts, int64_t now)
{
	lu_opts *o = opts;

	(void)now;
	if (argc < 2)
		goto usage;
	if (strcmp(argv[1], "merge") == 0) {
		if (argc < 3 || argv[2][0] == '-')
			goto usage;
		o->merge = true;
		o->files = argv + 2;
		o->n_files = argc - 2;
		/* Opened here, with the caller's rights: the privileged merge
		 * must not read what they could not (or probe root's files). */
		o->in = calloc((size_t)o->n_files, sizeof(FILE *));
		if (!o->in) {
			warnx_("out of memory");
			return EXIT_REFUSED;
		}
		for (int i = 0; i < o->n_files; i++) {
			o->in[i] = fopen(o->files[i], "re");
			if (!o->in[i]) {
				warnx_("cannot open %s: %s", o->files[i],
				       strerror(errno));
				return EXIT_REFUSED;
			}
		}
		return EXIT_OK;
	}
	if (strcmp(argv[1], "export") == 0 &&
	    parse_out_option(argc, argv, 2, &o->out) == 0)
		return EXIT_OK;
usage:
	warnx_("usage: lastused export --out FILE|-  |  lastused merge FILE...");
	return EXIT_USAGE;
}

char *fleet_lastused_path(const apitoken_config *cfg)
{
	char *p;

	return asprintf(&p, "%s.lastused.fleet", cfg->db_path) < 0 ? NULL : p;
}

/* Printable, no blanks: the field must survive a whitespace split. */
static void field_safe(const char *in, char *out, size_t outsz)
{
	size_t i = 0;

	for (; in[i] && i + 1 < outsz; i++)
		if (in[i] > ' ' && in[i] < 0x7f)
			out[i] = in[i];
		else
			out[i] = '?';
	out[i] = '\0';
}

/* One data line: "ID WHEN RHOST". Returns 0 with *e filled, or -1. */
static int parse_entry(char *line, int64_t now, lastused_entry *e)
{
	char *save = NULL;
	char *id = strtok_r(line, " ", &save), *when = strtok_r(NULL, " ", &save);
	char *rhost = strtok_r(NULL, " ", &save);
	char *end;

	if (!id || !when || !rhost || strtok_r(NULL, " ", &save) ||
	    !token_id_valid(id) || strlen(rhost) > LASTUSED_RHOST_MAX)
		return -1;
	errno = 0;
	long long w = strtoll(when, &end, 10);
	if (errno || *end || end == when || w <= 0 || w > now + LU_SKEW)
		return -1;
	memset(e, 0, sizeof(*e));
	memcpy(e->id, id, TOKEN_ID_LEN + 1);
	e->lu.when = w;
	field_safe(rhost, e->lu.rhost, sizeof(e->lu.rhost));
	return 0;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const lastused_entry *)a)->id,
		      ((const lastused_entry *)b)->id);
}

typedef struct lu_list {
	lastused_entry *v;
	size_t n, cap;
	size_t added; /* entries read in, before any were folded together */
} lu_list;

/* Keep only each token's newest entry (sorted by id). */
static void lu_compact(lu_list *l)
{
	size_t w = 0;

	if (l->n)
		qsort(l->v, l->n, sizeof(*l->v), by_id);
	for (size_t r = 0; r < l->n; r++) {
		if (w && strcmp(l->v[w - 1].id, l->v[r].id) == 0) {
			if (l->v[r].lu.when > l->v[w - 1].lu.when)
				l->v[w - 1] = l->v[r];
			continue;
		}
		l->v[w++] = l->v[r];
	}
	l->n = w;
}

/* The table grows to LASTUSED_TABLE_MAX entries; when full, the repeats
 * (one token seen on many hosts) are folded first, so the limit is on
 * distinct tokens, not on what all the hosts' files add up to. */
static int lu_add(lu_list *l, const lastused_entry *e)
{
	if (l->n == l->cap && l->cap == LASTUSED_TABLE_MAX)
		lu_compact(l);
	if (l->n == l->cap) {
		if (l->cap == LASTUSED_TABLE_MAX)
			return -1;
		size_t cap = l->cap ? l->cap * 2 : 256;
		if (cap > LASTUSED_TABLE_MAX)
			cap = LASTUSED_TABLE_MAX;
		lastused_entry *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = *e;
	l->added++;
	return 0;
}

/* Read one file (f, named path: a host's export, host_from_file, or our
 * own fleet table) into l. Returns 0, or -1 (reported, naming file and
 * line). Does not close f. */
static int read_lu_stream(FILE *f, const char *path, bool host_from_file,
			  int64_t now, lu_list *l)
{
	char line[LU_LINE_MAX + 2], host[HOST_MAX + 1] = "";
	unsigned no = 0;
	int rc = -1;

	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		no++;
		/* A NUL inside a line ends strlen early: no '\n' at n - 1. */
		if (n == 0 || line[n - 1] != '\n') {
			warnx_("%s:%u: line too long or not ended", path, no);
			goto out;
		}
		line[n - 1] = '\0';
		if (no == 1) {
			if (strcmp(line, LU_MAGIC) != 0) {
				warnx_("%s:1: not a last-use file", path);
				goto out;
			}
			continue;
		}
		if (no == 2 && host_from_file) {
			if (strncmp(line, "host ", 5) != 0 || !line[5] ||
			    strlen(line + 5) > HOST_MAX) {
				warnx_("%s:2: expected 'host NAME'", path);
				goto out;
			}
			field_safe(line + 5, host, sizeof(host));
			continue;
		}
		lastused_entry e;
		if (parse_entry(line, now, &e) != 0) {
			warnx_("%s:%u: malformed entry", path, no);
			goto out;
		}
		if (host_from_file) {
			/* Where, fleet-wide: the client and the host. */
			char both[LASTUSED_RHOST_MAX + HOST_MAX + 2];
			snprintf(both, sizeof(both), "%s@%s", e.lu.rhost, host);
			/* Cut to the field's size (the host's end goes). */
			size_t k = strnlen(both, sizeof(e.lu.rhost) - 1);
			memcpy(e.lu.rhost, both, k);
			e.lu.rhost[k] = '\0';
		}
		if (lu_add(l, &e) != 0) {
			warnx_("%s: more than %d distinct tokens", path,
			       LASTUSED_TABLE_MAX);
			goto out;
		}
	}
	if (ferror(f) || no < (host_from_file ? 2u : 1u)) {
		warnx_("%s: cannot read, or truncated", path);
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/* Our own fleet table; missing is empty. */
static int read_fleet_table(const char *path, int64_t now, lu_list *l)
{
	FILE *f = fopen(path, "re");

	if (!f) {
		if (errno == ENOENT)
			return 0;
		warnx_("cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	int rc = read_lu_stream(f, path, false, now, l);
	fclose(f);
	return rc;
}

static int write_lines(FILE *f, const char *host, const lastused_entry *v,
		       size_t n)
{
	fprintf(f, "%s\n", LU_MAGIC);
	if (host)
		fprintf(f, "host %s\n", host);
	for (size_t i = 0; i < n; i++) {
		char rh[LASTUSED_RHOST_MAX + 1];
		if (!v[i].lu.when)
			continue;
		field_safe(v[i].lu.rhost[0] ? v[i].lu.rhost : "-", rh,
			   sizeof(rh));
		fprintf(f, "%s %lld %s\n", v[i].id, (long long)v[i].lu.when, rh);
	}
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}

typedef struct lu_out {
	const char *host; /* NULL: no host line (the fleet table) */
	const lastused_entry *v;
	size_t n;
} lu_out;

static int write_lu(int fd, void *ctx)
{
	const lu_out *x = ctx;
	/* stdio on a duplicate: fclose must not close what the caller
	 * still syncs and renames. */
	int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	FILE *f = dup >= 0 ? fdopen(dup, "w") : NULL;
	int ok = f && write_lines(f, x->host, x->v, x->n) == 0;
	if (f)
		ok = fclose(f) == 0 && ok;
	else if (dup >= 0)
		close(dup);
	if (!ok)
		warnx_("cannot write the last-use records");
	return ok ? 0 : -1;
}

static int merge(tool *t, lu_opts *o)
{
	lu_list all = { 0 };
	int rc = EXIT_REFUSED;
	char *path = fleet_lastused_path(&t->cfg);

	if (!path || read_fleet_table(path, t->now, &all) != 0)
		goto out;
	size_t before = all.added;
	for (int i = 0; i < o->n_files; i++)
		if (read_lu_stream(o->in[i], o->files[i], true, t->now, &all) != 0)
			goto out;
	o->n_in = all.added - before;
	lu_compact(&all);
	lu_out x = { NULL, all.v, all.n };
	if (tool_write_out(path, 0644, write_lu, &x) != 0)
		goto out;
	o->merged = all.n;
	rc = EXIT_OK;
out:
	free(all.v);
	free(path);
	return rc;
}

static int lu_transact(tool *t, void *opts)
{
	lu_opts *o = opts;

	if (!t->admin) {
		warnx_("only administrators export or merge last-use records");
		return EXIT_DENIED;
	}
	if (o->merge) {
		int rc = fleet_require_authority(t, "last-use records are "
						    "merged");
		return rc == EXIT_OK ? merge(t, o) : rc;
	}
	/* Written by services: read while privileged, written out after. */
	if (lastused_table_load(&t->cfg, NULL, &o->local) != 0) {
		warnx_("cannot read the last-use records");
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

static int lu_report(tool *t, void *opts, int rc)
{
	lu_opts *o = opts;
	char host[HOST_MAX + 1] = "", safe[HOST_MAX + 1];

	(void)t;
	if (rc != EXIT_OK)
		return rc;
	if (o->merge) {
		say("merged %zu record(s); %zu token(s) with a fleet-wide last use",
		    o->n_in, o->merged);
		return EXIT_OK;
	}
	if (gethostname(host, sizeof(host) - 1) != 0 || !host[0])
		snprintf(host, sizeof(host), "unknown");
	field_safe(host, safe, sizeof(safe));
	lu_out x = { safe, o->local.v, o->local.n };
	return tool_write_out(o->out, 0644, write_lu, &x) == 0 ? EXIT_OK :
								  EXIT_REFUSED;
}

static void lu_cleanup(void *opts)
{
	lu_opts *o = opts;

	for (int i = 0; o->in && i < o->n_files; i++)
		if (o->in[i])
			fclose(o->in[i]);
	free(o->in);
	lastused_table_free(&o->local);
}

const command cmd_lastused = {
	.name = "lastused",
	.opts_size = sizeof(lu_opts),
	.parse = lu_parse,
	.transact = lu_transact,
	.report = lu_report,
	.cleanup = lu_cleanup,
};

int fleet_lastused_load(const apitoken_config *cfg, int64_t now,
			lastused_table *table)
{
	lu_list l = { 0 };
	char *path = fleet_lastused_path(cfg);
	int rc = path ? read_fleet_table(path, now, &l) : -1;

	free(path);
	if (rc != 0) {
		free(l.v);
		return -1;
	}
	if (l.n)
		qsort(l.v, l.n, sizeof(*l.v), by_id);
	table->v = l.v;
	table->n = l.n;
	return 0;
}
