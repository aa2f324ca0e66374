/* A token record as kept in the store, and its binary encoding.
 *
 * The store is not trusted beyond its file mode (GDBM returns flipped bits
 * silently), so every record carries a format version and a MAC keyed with
 * the site key over its id and every byte: a corrupt, truncated, tampered or
 * moved record fails to decode and is refused, never read as something else. */
#ifndef APITOKEN_RECORD_H
#define APITOKEN_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sitekey.h"
#include "token.h"

#define RECORD_USER_MAX 256
#define RECORD_NAME_MAX 64
#define RECORD_RULES_MAX 1024
#define RECORD_SERVICES_MAX 512
#define RECORD_ENCODED_MAX 4096

enum record_flags {
	RECORD_REVOKED = 1u << 0,
	RECORD_DISABLED = 1u << 1,
	/* Minted by its owner for themselves (not by root): stops working
	 * when the owner is in neither an allowed group nor admin_group
	 * (tokenadm(8), PERMISSIONS). Tokens an administrator issues for
	 * another account do not carry it. */
	RECORD_GROUP_BOUND = 1u << 2,
	/* Disabled by an administrator: only an administrator may enable it
	 * again, not the owner. */
	RECORD_DISABLED_BY_ADMIN = 1u << 3,
	/* From format 2 on (see RECORD_VERSION_MAX). */
	/* Issued by a member of admin_group who is not root, for an account
	 * of service_accounts: works only while its issuer (creator_uid) is
	 * still in admin_group (tokenadm(8), PERMISSIONS). */
	RECORD_ADMIN_ISSUED = 1u << 4,
	/* Set by the authority in a bundle when such an issuer has left
	 * admin_group: an import-only host refuses the token (its own group
	 * lookups say nothing about the authority's admin_group). */
	RECORD_ISSUER_LAPSED = 1u << 5,
	/* Revoked by someone presenting the token (revoke --token). Always
	 * with RECORD_REVOKED. */
	RECORD_REVOKED_BY_VALUE = 1u << 6,
	/* Disabled by retire-idle (idle_since says since when); always with
	 * RECORD_DISABLED; its owner may enable it again. */
	RECORD_DISABLED_IDLE = 1u << 7,
};
/* The flags format 1 can hold; format 2 holds them all. */
#define RECORD_V1_FLAGS (RECORD_REVOKED | RECORD_DISABLED | \
			 RECORD_GROUP_BOUND | RECORD_DISABLED_BY_ADMIN)
#define RECORD_KNOWN_FLAGS (RECORD_V1_FLAGS | RECORD_ADMIN_ISSUED | \
			    RECORD_ISSUER_LAPSED | RECORD_REVOKED_BY_VALUE | \
			    RECORD_DISABLED_IDLE)

/* Encoded formats. This build reads 1 and 2 and writes 2 into its own
 * store; into bundles it writes what bundle_format says (pam_apitoken.conf(5)):
 * hosts read a format one release before the authority writes it. */
#define RECORD_VERSION_V1 1
#define RECORD_VERSION_MAX 2

/* owner_uid when the owner's uid is not known: a format-1 record not yet
 * upgraded, or one whose owner had no account when it was upgraded. No
 * account has it (it is (uid_t)-1, which setuid() treats as "no change"),
 * so such a token matches no one until it is bound. */
#define RECORD_UID_UNKNOWN UINT32_MAX

/* record_decode's answer for a well-formed record of a format newer than
 * this build reads: the message must say to upgrade, not "corrupt". */
#define RECORD_ERR_NEWER (-2)

typedef struct token_record {
	char id[TOKEN_ID_LEN + 1];
	uint32_t flags;
	uint32_t creator_uid;
	int64_t created;
	int64_t expires;      /* 0: never */
	int64_t changed;      /* last revoke/disable/enable/rotate, 0: never */
	uint8_t digest[MAC_LEN];
	/* Rotation with grace: the previous secret keeps working until
	 * prev_until (0: no previous secret). */
	uint8_t prev_digest[MAC_LEN];
	int64_t prev_until;
	char user[RECORD_USER_MAX + 1];
	char name[RECORD_NAME_MAX + 1];
	char allow_from[RECORD_RULES_MAX + 1]; /* canonical addr_list text */
	char deny_from[RECORD_RULES_MAX + 1];
	char services[RECORD_SERVICES_MAX + 1]; /* space separated */
	/* Format 2. The uid the token is bound to (RECORD_UID_UNKNOWN: none
	 * yet): a login is refused when the user name maps to another uid or
	 * to none (pam_apitoken.conf(5), uid_binding). */
	uint32_t owner_uid;
	int64_t idle_since;   /* with RECORD_DISABLED_IDLE, else 0 */
	/* Not encoded: the format record_decode read (1 or 2); 0 for a
	 * record built in memory. */
	uint8_t version;
} token_record;

/* Encode rec into buf in the newest format. Returns the length, or 0 if a
 * field is too long or holds a NUL/control byte, or the MAC fails. */
size_t record_encode(const token_record *rec, const site_key *key,
		     uint8_t *buf, size_t buflen);

/* The same in format version (1 or RECORD_VERSION_MAX). Format 1 has no
 * owner_uid nor idle_since (they are dropped) and refuses flags outside
 * RECORD_V1_FLAGS: map them first with record_as_v1. */
size_t record_encode_version(const token_record *rec, const site_key *key,
			     unsigned version, uint8_t *buf, size_t buflen);

/* Rewrite rec's format-2 flags as the nearest format-1 meaning that is no
 * more permissive: a lapsed issuer becomes an administrator's disable, an
 * idle disable a plain disable, a revocation by value a revocation, and
 * RECORD_ADMIN_ISSUED (judged by the authority) is dropped. */
void record_as_v1(token_record *rec);

/* Decode len bytes stored under id. Returns 0; RECORD_ERR_NEWER if it is
 * a record of a format newer than RECORD_VERSION_MAX (nothing else of it
 * is believed: upgrade); or -1 if the length, magic, version, any field
 * or the MAC is wrong. *rec is zeroed on any refusal. A format-1 record
 * decodes with owner_uid RECORD_UID_UNKNOWN and version 1. */
int record_decode(const char *id, const uint8_t *buf, size_t len,
		  const site_key *key, token_record *rec);

/* The format version an encoded record says it has (its magic checked,
 * nothing authenticated), or 0 when it is not a record. For messages. */
unsigned record_peek_version(const uint8_t *buf, size_t len);

/* A cheap look, without the MAC, at whether an encoded record names user
 * as its owner. Only a filter in front of record_decode (which checks the
 * MAC): a scan for one user's tokens then verifies just those, not every
 * record in the store. */
bool record_peek_user(const uint8_t *buf, size_t len, const char *user);

/* The digest of a token secret under the site key. Returns 0 or -1. */
int record_token_digest(const site_key *key, const token_parts *parts,
			uint8_t out[MAC_LEN]);

#endif
