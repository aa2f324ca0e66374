#include "lastused.h"

#include <dirent.h>
#include <errno.h>
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
#define FILE_MAGIC "ptklu1"
/* A record is one short line (magic, time, an address): anything longer
 * is not one. */
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

void lastused_record(const apitoken_config *cfg, const char *id,
		     const char *rhost, int64_t now)
{
	struct stat st;
	char line[128], safe[LASTUSED_RHOST_MAX + 1];

	if (!token_id_valid(id))
		return;
	int dfd = open_dir(cfg);
	if (dfd < 0)
		return;
	/* Rate limit on the file's mtime: one stat per login otherwise. */
	if (fstatat(dfd, id, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    now - (int64_t)st.st_mtime < LASTUSED_INTERVAL &&
	    now >= (int64_t)st.st_mtime)
		goto out;
	addr_client client;
	addr_client_parse(rhost, &client);
	if (client.kind == ADDR_CLIENT_LOCAL)
		snprintf(safe, sizeof(safe), "local");
	else if (addr_client_format(&client, safe, sizeof(safe)) != 0)
		log_safe(rhost, safe, sizeof(safe));
	int n = snprintf(line, sizeof(line), FILE_MAGIC " %" PRId64 " %s\n",
			 now, safe);
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
}

static void get_at(int dfd, const char *id, lastused *lu);


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

static void get_at(int dfd, const char *id, lastused *lu)
{
	char err[160];
	file_data f;
	int used = 0;

	memset(lu, 0, sizeof(*lu));
	if (dfd < 0 || !token_id_valid(id))
		return;
	/* One link only: a hard link to some other file is not a record. */
	if (read_file(dfd, id, RECORD_FILE_MAX, READ_ONE_LINK, &f, err,
		      sizeof(err)) != 0)
		return;
	/* Written by services, so parsed as hostile: magic, a number, one
	 * log-safe word, a newline, nothing else. */
	const char *buf = f.data;
	char rhost[LASTUSED_RHOST_MAX + 1];
	if (strncmp(buf, FILE_MAGIC " ", sizeof(FILE_MAGIC)) != 0)
		goto out;
	const char *p = buf + sizeof(FILE_MAGIC);
	char *end;
	if (*p < '1' || *p > '9')
		goto out;
	errno = 0;
	long long t = strtoll(p, &end, 10);
	/* Up to the end of year 9999: what RFC 3339 output can show. */
	if (errno || *end != ' ' || t <= 0 || t > 253402300799LL)
		goto out;
	if (sscanf(end, " %64s%n", rhost, &used) != 1 || end[used] != '\n' ||
	    end[used + 1] != '\0')
		goto out;
	char safe[LASTUSED_RHOST_MAX + 1];
	if (strcmp(log_safe(rhost, safe, sizeof(safe)), rhost) != 0)
		goto out;
	lu->when = t;
	memcpy(lu->rhost, rhost, sizeof(lu->rhost));
out:
	file_data_free(&f);
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
