/* When and from where each token was last used.
 *
 * Kept apart from the store, one small file per token in <db>.lastused/,
 * so that recording a use never takes the writers' lock, never rewrites the
 * store and can be done by services that may only read the store (www-data
 * in the store's group). Best effort by design: every failure is ignored. */
#ifndef APITOKEN_LASTUSED_H
#define APITOKEN_LASTUSED_H

#include <stdint.h>

#include "config.h"

#define LASTUSED_RHOST_MAX 64
/* Record at most this often per token: a busy API client must not turn
 * every request into a file write. */
#define LASTUSED_INTERVAL 60

typedef struct lastused {
	int64_t when; /* 0: never used (or unknown) */
	char rhost[LASTUSED_RHOST_MAX + 1]; /* log-safe text; "local" if none */
} lastused;

/* The directory for cfg's store (malloc'd), or NULL. */
char *lastused_dir(const apitoken_config *cfg);

/* Note a use of id from rhost at now. Never fails, never blocks on a lock. */
void lastused_record(const apitoken_config *cfg, const char *id,
		     const char *rhost, int64_t now);

/* Read what is known; lu->when == 0 when nothing (or nothing valid) is. */
void lastused_get(const apitoken_config *cfg, const char *id, lastused *lu);

/* The same through a directory fd opened earlier (-1: nothing known), for
 * tokenadm, which opens what needs privilege and then drops it. */
int lastused_open_dir(const apitoken_config *cfg);
void lastused_get_at(int dirfd, const char *id, lastused *lu);

/* Forget id (after its record was pruned). */
void lastused_forget(const apitoken_config *cfg, const char *id);

#endif
