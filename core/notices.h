/* What tokenadm notify owes each token's owner, and the record of what it
 * already sent (tokenadm(8), notify).
 *
 * PAM-free and I/O-free, so that it is fuzzed and unit-tested: the
 * decision which notice is due, and the parser of the sent-notices file,
 * which lives beside the store (root's, but read back as untrusted text:
 * a damaged file must cost at most a repeated mail, never a crash). */
#ifndef APITOKEN_NOTICES_H
#define APITOKEN_NOTICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "authcheck.h"
#include "config.h"
#include "record.h"

typedef enum {
	NOTICE_EXPIRY = 0,  /* expires within a notify_before threshold */
	NOTICE_IDLE,        /* retire-idle will disable it within one */
	NOTICE_INACTIVE,    /* its owner left the permitted groups */
	NOTICE_REVOKED,     /* revoked by someone who presented its value */
	NOTICE_KINDS
} notice_kind;

/* One notice: for which token, what, at which threshold (seconds; 0 for
 * kinds without one) and about which moment (the expiry, the idle
 * deadline, the revocation; 0 for none). All four together are the key
 * that makes a notice "already sent". */
typedef struct notice {
	char id[TOKEN_ID_LEN + 1];
	notice_kind kind;
	int64_t threshold;
	int64_t when;
} notice;

/* The set of notices sent so far: sorted by id, then kind. */
typedef struct notice_log {
	notice *v;
	size_t n, cap;
} notice_log;

/* Revocations by value older than this are not mailed (a lost or new
 * sent-notices file must not dig up old history). */
#define NOTICE_REVOKED_MAX_AGE (30 * 86400)

/* The notices due for rec at now, at most one of each kind, into out;
 * returns how many. state is record_state's answer for rec; last_active
 * is the latest of its last use, creation and last change (an enable
 * restarts the idle clock). The expiry and idle notices use the nearest
 * threshold already crossed, so a token that crosses two at once (a first
 * run, a missed day) gets one mail, not two. */
size_t notices_due(const apitoken_config *cfg, const token_record *rec,
		   token_state state, int64_t last_active, int64_t now,
		   notice out[NOTICE_KINDS]);

/* The moment retire-idle disables rec (last_active + max_idle), or 0 when
 * max_idle is off. */
int64_t notice_idle_deadline(const apitoken_config *cfg, int64_t last_active);

/* Was n (or, for expiry and idle, the same moment at a nearer threshold)
 * already sent? */
bool notice_log_has(const notice_log *log, const notice *n);

/* Add n. Returns 0, or -1 out of memory. */
int notice_log_add(notice_log *log, const notice *n);

/* Parse the file's text (len bytes, any bytes). Lines that are not
 * "ID KIND THRESHOLD WHEN" with a valid id, a known kind and numbers in
 * range are skipped and counted in *bad. Returns 0, or -1 out of memory
 * (log then empty). */
int notice_log_parse(const char *text, size_t len, notice_log *log,
		     size_t *bad);

/* One line of the file for n, into buf (at least NOTICE_LINE_MAX). */
#define NOTICE_LINE_MAX 96
size_t notice_format(const notice *n, char *buf, size_t buflen);

const char *notice_kind_name(notice_kind kind);

void notice_log_free(notice_log *log);

#endif
