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
};
#define RECORD_KNOWN_FLAGS (RECORD_REVOKED | RECORD_DISABLED | \
			    RECORD_GROUP_BOUND | RECORD_DISABLED_BY_ADMIN)

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
} token_record;

/* Encode rec into buf. Returns the length, or 0 if a field is too long or
 * holds a NUL/control byte, or the MAC fails. */
size_t record_encode(const token_record *rec, const site_key *key,
		     uint8_t *buf, size_t buflen);

/* Decode len bytes stored under id. Returns 0, or -1 if the length, magic,
 * version, any field or the MAC is wrong (then *rec is zeroed). */
int record_decode(const char *id, const uint8_t *buf, size_t len,
		  const site_key *key, token_record *rec);

/* A cheap look, without the MAC, at whether an encoded record names user
 * as its owner. Only a filter in front of record_decode (which checks the
 * MAC): a scan for one user's tokens then verifies just those, not every
 * record in the store. */
bool record_peek_user(const uint8_t *buf, size_t len, const char *user);

/* The digest of a token secret under the site key. Returns 0 or -1. */
int record_token_digest(const site_key *key, const token_parts *parts,
			uint8_t out[MAC_LEN]);

#endif
