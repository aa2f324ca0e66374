/* The decision: may this password log this user in, here, now?
 *
 * Knows nothing of PAM. The module gathers the inputs, calls this, maps the
 * outcome to a PAM code and logs the reason; tokenadm verify calls the same
 * function, so what verify says is what a login would get. */
#ifndef APITOKEN_AUTHCHECK_H
#define APITOKEN_AUTHCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "record.h"
#include "store.h"

/* AUTH_UNAVAILABLE is 0 on purpose: a result that was zeroed and never
 * set fails closed. */
typedef enum {
	AUTH_UNAVAILABLE = 0, /* PAM_AUTHINFO_UNAVAIL: store or key unusable */
	AUTH_ACCEPT,          /* PAM_SUCCESS */
	AUTH_NOT_TOKEN,       /* PAM_IGNORE: let the next module try it */
	AUTH_REFUSED,         /* PAM_AUTH_ERR */
	AUTH_NOMEM,           /* PAM_BUF_ERR */
} auth_outcome;

typedef struct auth_request {
	const char *user;     /* PAM_USER */
	const char *rhost;    /* PAM_RHOST, may be NULL */
	const char *service;  /* PAM_SERVICE */
	/* Only for tokenadm verify without --service: skip the service rules
	 * and say so. The module never sets it. */
	bool skip_service_rules;
	/* The module's tokens_only option: the stack takes tokens and nothing
	 * else, so a password that is not a token is refused (and logged, for
	 * fail2ban) instead of passed on with AUTH_NOT_TOKEN. */
	bool tokens_only;
	const char *password; /* any bytes */
	size_t pwlen;
	int64_t now;
} auth_request;

/* Which secret an accepted token matched: the previous one (in a
 * rotation's grace) or the current one, and the first bytes of its digest,
 * so that the account check can tell a rotation since. Part of a digest:
 * wipe it with the rest. */
#define AUTH_SECRET_TAG_LEN 8
typedef struct auth_secret {
	bool via_previous;
	uint8_t tag[AUTH_SECRET_TAG_LEN];
} auth_secret;

typedef struct auth_result {
	auth_outcome outcome;
	char token_id[TOKEN_ID_LEN + 1]; /* "" until a token-shaped password */
	/* For the log and for tokenadm verify: never the token or digest. */
	char reason[256];
	int64_t expires; /* the token's expiry (0: never), once it is known */
	auth_secret secret; /* on AUTH_ACCEPT from auth_check_token */
} auth_result;

/* Where records come from: the site key and a lookup by id. tokenadm opens
 * the store per call; the module's cache keeps a handle open. */
typedef struct record_source {
	/* NULL when the key could not be loaded: only a token-shaped password
	 * needs it, so an ordinary password still goes on to the next module;
	 * a token gets AUTH_UNAVAILABLE with this reason. */
	const site_key *key;
	const char *key_error;
	store_status (*fetch)(void *ctx, const char *id, uint8_t *buf,
			      size_t bufsz, size_t *len, char *err,
			      size_t errlen);
	void *ctx;
} record_source;

/* Check a presented password. A password that is not token-shaped is
 * answered AUTH_NOT_TOKEN without touching src (no I/O at all). When the
 * token is accepted and accepted is not NULL, *accepted is the verified
 * record with its digests wiped, for a later auth_recheck_record. */
void auth_check_token(const apitoken_config *cfg, const record_source *src,
		      const auth_request *req, auth_result *res,
		      token_record *accepted);

/* Re-check the token a session was authenticated with (pam_sm_acct_mgmt):
 * the same rules without the secret, on the record fetched anew; matched
 * (what authentication matched, never NULL) must still be the token's
 * secret, or the previous one within its grace. req->password is
 * ignored. */
void auth_recheck_id(const apitoken_config *cfg, const record_source *src,
		     const char *id, const auth_request *req,
		     const auth_secret *matched, auth_result *res);

/* The same on a record auth_check_token accepted, when the caller knows the
 * store has not changed since (no fetch, no MAC): states, expiry, group,
 * host and service rules are checked again at req->now, and a secret
 * matched (never NULL) via the previous one only within its grace. */
void auth_recheck_record(const apitoken_config *cfg, const token_record *rec,
			 const auth_request *req, const auth_secret *matched,
			 auth_result *res);

/* A token's lifecycle state, as list/show print it. */
typedef enum {
	TOKEN_ACTIVE,
	TOKEN_EXPIRED,
	TOKEN_REVOKED,
	TOKEN_DISABLED,
	TOKEN_INACTIVE, /* owner no longer in an allowed group */
} token_state;

const char *token_state_name(token_state state);

/* The state of rec at now; *reason is a static string ("" when active). */
token_state record_state(const apitoken_config *cfg, const token_record *rec,
			 int64_t now, const char **reason);

/* TOKEN_REVOKED or TOKEN_EXPIRED if rec is dead for good at now, whatever
 * else is true of it (disabled, its owner's groups), else TOKEN_ACTIVE.
 * Makes no lookups: tokenadm asks it of every record under the writers'
 * lock (limits, prune, rotate). */
token_state record_death(const token_record *rec, int64_t now);

#endif
