/* When and from where each token was last used.
 *
 * Kept apart from the store, one small file per token in <db>.lastused/,
 * so that recording a use never takes the writers' lock, never rewrites the
 * store and can be done by services that may only read the store (www-data
 * in the store's group). Best effort by design: every failure is ignored. */
#ifndef APITOKEN_LASTUSED_H
#define APITOKEN_LASTUSED_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "token.h"

#define LASTUSED_RHOST_MAX 64
/* Record at most this often per token: a busy API client must not turn
 * every request into a file write. */
#define LASTUSED_INTERVAL 60
/* The most last-use files tokenadm reads in one run. */
#define LASTUSED_TABLE_MAX 4000000

typedef struct lastused {
	int64_t when; /* 0: never used (or unknown) */
	char rhost[LASTUSED_RHOST_MAX + 1]; /* log-safe text; "local" if none */
	/* When a success of this token was last logged (0: unknown), so that
	 * every process of every service throttles the same way. */
	int64_t logged;
} lastused;

/* The directory for cfg's store (malloc'd), or NULL. */
char *lastused_dir(const apitoken_config *cfg);

/* Note a use of id from rhost at now, and say whether this success is to
 * be logged: true unless the record shows a success of id logged less than
 * cfg->log_success_interval ago (an interval of 0: always true). Without a
 * usable record (no directory, not writable by this service) the answer
 * is true: what is given up then is the throttling, never the log line.
 * Never fails, never blocks on a lock. Processes racing on one token may
 * each log once: the throttle is "about once per interval", not a lock. */
bool lastused_record(const apitoken_config *cfg, const char *id,
		     const char *rhost, int64_t now);


/* Everything known, read at once: tokenadm reads the directory while still
 * privileged (its files belong to the services' group) and then drops
 * privilege before printing. only_id: read just that token's entry. */
typedef struct lastused_entry {
	char id[TOKEN_ID_LEN + 1];
	lastused lu;
} lastused_entry;

typedef struct lastused_table {
	lastused_entry *v; /* sorted by id */
	size_t n;
} lastused_table;

/* Returns 0 (an absent directory is an empty table) or -1 (no memory). */
int lastused_table_load(const apitoken_config *cfg, const char *only_id,
			lastused_table *table);
void lastused_table_get(const lastused_table *table, const char *id,
			lastused *lu);
void lastused_table_free(lastused_table *table);

/* Forget id (after its record was pruned). */
void lastused_forget(const apitoken_config *cfg, const char *id);

#endif
