#include "lastused.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "addr.h"
#include "atomicfile.h"
#include "logsafe.h"
#include "readfile.h"
#include "token.h"

#define LASTUSED_SUFFIX ".lastused"
/* "ptklu2 <time> <client> <logged>\n"; files of the first version,
 * "ptklu1 <time> <client>\n", are still read (logged: unknown). */
#define FILE_MAGIC "ptklu2"
#define FILE_MAGIC_V1 "ptklu1"
/* A record is one short line (magic, two times, an address): anything
 * longer is not one. */
#define RECORD_FILE_MAX 127

char *lastused_dir(const apitoken_config *cfg)
{
	size_t n = strlen(cfg->db_path);
	char *dir = malloc(n + sizeof(LASTUSED_SUFFIX));

	if (dir) {
		memcpy(dir, cfg->db_path, n);
		memcpy(dir + n, LASTUSED_SUFFIX, sizeof(LASTUSED_SUFFIX));
	}
	return dir;
}

/* Open the directory itself without following a symlink, so every later
 * step works relative to a directory fd nobody can swap. */
static int open_dir(const apitoken_config *cfg)
{
	char *dir = lastused_dir(cfg);
	if (!dir)
		return -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	free(dir);
	return fd;
}

static void get_at(int dfd, const char *id, lastused *lu);

/* Is now in [since, since + span)? The clock may have been set back: a
 * time in the future proves nothing and counts as "not recent". */
static bool within(int64_t now, int64_t since, int64_t span)
{
	return since > 0 && now >= since && now - since < span;
}

bool lastused_record(const apitoken_config *cfg, const char *id,
		     const char *rhost, int64_t now)
{
	lastused prev;
	char line[128], safe[LASTUSED_RHOST_MAX + 1];
	bool log_it = true;

	if (!token_id_valid(id))
		return true;
	int dfd = open_dir(cfg);
	if (dfd < 0)
		return true;
	/* The record is read whole (it is one short line): its time says
	 * whether a write is due, its logged time whether a log line is. */
	get_at(dfd, id, &prev);
	if (cfg->log_success_interval > 0 &&
	    within(now, prev.logged, cfg->log_success_interval))
		log_it = false;
	/* Rate limit: a busy client rewrites the file once a minute, but a
	 * success about to be logged under a throttle is always written
	 * down, or every process would go on logging until the next
	 * regular write. */
	bool must_write = cfg->log_success_interval > 0 && log_it;
	if (within(now, prev.when, LASTUSED_INTERVAL) && !must_write)
		goto out;
	int64_t logged = log_it ? now : prev.logged;
	addr_client client;
	addr_client_parse(rhost, &client);
	if (client.kind == ADDR_CLIENT_LOCAL)
		snprintf(safe, sizeof(safe), "local");
	else if (addr_client_format(&client, safe, sizeof(safe)) != 0)
		log_safe(rhost, safe, sizeof(safe));
	int n = snprintf(line, sizeof(line),
			 FILE_MAGIC " %" PRId64 " %s %" PRId64 "\n", now, safe,
			 logged);
	if (n < 0 || (size_t)n >= sizeof(line))
		goto out;
	/* A fresh file renamed over the old one: a reader sees the old line
	 * or the new one, never half of either. The directory is shared with
	 * every service in the store's group, which is why atomic_create
	 * gives up on a name planted in advance rather than write through it.
	 * Best effort, so no fsync: a login must not wait for the disk. */
	atomic_file af;
	char err[160];
	if (atomic_create(&af, dfd, id, 0640, (gid_t)-1,
			  ATOMIC_NO_SYNC | ATOMIC_UMASK, err, sizeof(err)) != 0)
		goto out;
	if (write(af.fd, line, (size_t)n) != n) {
		atomic_abort(&af);
		goto out;
	}
	(void)atomic_commit(&af, err, sizeof(err));
out:
	close(dfd);
	return log_it;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const lastused_entry *)a)->id,
		      ((const lastused_entry *)b)->id);
}

static int table_add(lastused_table *t, size_t *cap, int dfd, const char *id)
{
	lastused lu;

	get_at(dfd, id, &lu);
	if (!lu.when)
		return 0;
	if (t->n == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		lastused_entry *v = realloc(t->v, c * sizeof(*v));
		if (!v)
			return -1;
		t->v = v;
		*cap = c;
	}
	memcpy(t->v[t->n].id, id, TOKEN_ID_LEN + 1);
	t->v[t->n++].lu = lu;
	return 0;
}

int lastused_table_load(const apitoken_config *cfg, const char *only_id,
			lastused_table *table)
{
	size_t cap = 0;
	int rc = 0;

	memset(table, 0, sizeof(*table));
	int dfd = open_dir(cfg);
	if (dfd < 0)
		return 0;
	if (only_id) {
		rc = table_add(table, &cap, dfd, only_id);
		close(dfd);
		return rc;
	}
	int scan = dup(dfd);
	DIR *d = scan >= 0 ? fdopendir(scan) : NULL;
	if (!d) {
		if (scan >= 0)
			close(scan);
		close(dfd);
		return 0;
	}
	struct dirent *e;
	/* The directory is writable by the services' group: bound what a
	 * hostile member can make root's tokenadm read. */
	size_t seen = 0;
	while (rc == 0 && seen < LASTUSED_TABLE_MAX && (e = readdir(d)) != NULL)
		if (token_id_valid(e->d_name)) {
			seen++;
			rc = table_add(table, &cap, dfd, e->d_name);
		}
	closedir(d);
	close(dfd);
	if (rc == 0 && table->n)
		qsort(table->v, table->n, sizeof(*table->v), by_id);
	return rc;
}

void lastused_table_get(const lastused_table *table, const char *id,
			lastused *lu)
{
	lastused_entry key;
	const lastused_entry *hit = NULL;

	memset(lu, 0, sizeof(*lu));
	memset(&key, 0, sizeof(key));
	if (table->n && token_id_valid(id)) {
		memcpy(key.id, id, TOKEN_ID_LEN + 1);
		hit = bsearch(&key, table->v, table->n, sizeof(*table->v), by_id);
	}
	if (hit)
		*lu = hit->lu;
}

void lastused_table_free(lastused_table *table)
{
	free(table->v);
	memset(table, 0, sizeof(*table));
}

/* The latest time a record may hold: the end of year 9999 (what RFC 3339
 * output can show). 12 digits, so a longer number is always too large. */
#define TIME_MAX 253402300799LL
#define TIME_MAX_DIGITS 12

/* A time in a record: a positive decimal without a leading zero, up to
 * TIME_MAX. By hand rather than with strtoll (this is on every login's
 * path); it accepts exactly what the strtoll version did. */
static int parse_time(const char *p, int64_t *t, char **end)
{
	size_t n = 0;
	int64_t v = 0;

	if (*p < '1' || *p > '9')
		return -1;
	while (p[n] >= '0' && p[n] <= '9') {
		if (++n > TIME_MAX_DIGITS)
			return -1;
		v = v * 10 + (p[n - 1] - '0');
	}
	if (v > TIME_MAX)
		return -1;
	*t = v;
	*end = (char *)p + n;
	return 0;
}

/* The client word, as sscanf(" %64s") took it before (by hand for the
 * same reason): white space skipped, then 1 to LASTUSED_RHOST_MAX
 * characters up to the next white space or the end. Returns the end of the
 * word, or NULL if there is none. */
static char *parse_word(const char *p, char word[LASTUSED_RHOST_MAX + 1])
{
	size_t n = 0;

	while (isspace((unsigned char)*p))
		p++;
	while (n < LASTUSED_RHOST_MAX && p[n] && !isspace((unsigned char)p[n]))
		n++;
	if (n == 0)
		return NULL;
	memcpy(word, p, n);
	word[n] = '\0';
	return (char *)p + n;
}

static void get_at(int dfd, const char *id, lastused *lu)
{
	char err[160];
	/* On the stack: this runs on every successful login. */
	char buf[RECORD_FILE_MAX + 2];
	size_t len;

	memset(lu, 0, sizeof(*lu));
	if (dfd < 0 || !token_id_valid(id))
		return;
	/* One link only: a hard link to some other file is not a record. */
	if (read_file_buf(dfd, id, READ_ONE_LINK, buf, sizeof(buf), &len, err,
			  sizeof(err)) != 0)
		return;
	/* Written by services, so parsed as hostile: magic, a number, one
	 * log-safe word, (version 2) a second number, a newline, nothing
	 * else. */
	char rhost[LASTUSED_RHOST_MAX + 1];
	int64_t when = 0;
	bool v2 = strncmp(buf, FILE_MAGIC " ", sizeof(FILE_MAGIC)) == 0;
	if (!v2 && strncmp(buf, FILE_MAGIC_V1 " ", sizeof(FILE_MAGIC_V1)) != 0)
		return;
	const char *p = buf + sizeof(FILE_MAGIC);
	char *end;
	if (parse_time(p, &when, &end) != 0 || *end != ' ')
		return;
	end = parse_word(end, rhost);
	if (!end)
		return;
	int64_t logged = 0;
	if (v2 && (*end != ' ' || parse_time(end + 1, &logged, &end) != 0))
		return;
	if (end[0] != '\n' || end[1] != '\0')
		return;
	char safe[LASTUSED_RHOST_MAX + 1];
	if (strcmp(log_safe(rhost, safe, sizeof(safe)), rhost) != 0)
		return;
	lu->when = when;
	lu->logged = logged;
	memcpy(lu->rhost, rhost, sizeof(lu->rhost));
}

void lastused_forget(const apitoken_config *cfg, const char *id)
{
	if (!token_id_valid(id))
		return;
	int dfd = open_dir(cfg);
	if (dfd < 0)
		return;
	unlinkat(dfd, id, 0);
	close(dfd);
}
