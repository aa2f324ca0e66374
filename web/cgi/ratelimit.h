/* A per-client-address rate limit without sessions: a small table of
 * counters in one file (under /run), shared by the CGI processes under an
 * flock. Two limits per address (IPv6 clients counted per /64, since one
 * host usually holds a whole /64):
 *   - requests: at most RATE_REQUESTS per RATE_WINDOW seconds;
 *   - failed sign-ins: after RATE_FAILURES within RATE_FAIL_WINDOW
 *     seconds, every request is refused until that window ends.
 * tokenadm's own fail delay and pam_faillock (per account) come on top;
 * this limit is what stops one address from trying many accounts.
 *
 * The table has RATE_SLOTS slots; a new address takes its hash's slot or
 * one of the next RATE_PROBE, evicting the one seen longest ago. An
 * attacker with many addresses can evict others' counters, but not make
 * anyone's allowance smaller. */
#ifndef APITOKEN_WEB_RATELIMIT_H
#define APITOKEN_WEB_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define RATE_SLOTS 2048
#define RATE_PROBE 8
#define RATE_WINDOW 60
#define RATE_REQUESTS 120
#define RATE_FAIL_WINDOW 900
#define RATE_FAILURES 10

typedef struct rate_slot {
	char key[40];          /* the client's address, or its /64 */
	int64_t window_start;  /* requests counted since */
	int64_t fail_start;    /* failures counted since */
	uint32_t requests, failures;
	int64_t last_seen;
} rate_slot;

/* The key of a client address: IPv4 as is, IPv6 as its first 64 bits in
 * hex, anything else refused (-1). */
int rate_key(const char *addr, char key[40]);

/* Count one request of key at now. Returns 0 when admitted, else the
 * seconds until it would be (for Retry-After). */
int64_t rate_admit(rate_slot *tab, size_t n, const char *key, int64_t now);

/* Count a failed sign-in of key at now. */
void rate_failed(rate_slot *tab, size_t n, const char *key, int64_t now);

/* The same on the table in the file dir/rate (created 0600): lock, map,
 * count, unlock. Return -1 when the file cannot be used (the caller
 * refuses the request: no limit, no service). */
int rate_admit_file(const char *dir, const char *key, int64_t now, int64_t *retry);
int rate_failed_file(const char *dir, const char *key, int64_t now);

#endif
