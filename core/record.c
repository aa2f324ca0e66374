#include "record.h"

#include <string.h>

#include "secure.h"

/* Layout, little-endian:
 *   "PTKR" | version u8 | 3 zero bytes | flags u32 | creator_uid u32 |
 *   created i64 | expires i64 | changed i64 | prev_until i64 |
 *   digest[32] | prev_digest[32] |
 *   5 x (u16 length, bytes): user name allow_from deny_from services |
 *   version 2 only: owner_uid u32 | idle_since i64 |
 *   mac[32] over id and everything before it.
 * Format 2 adds its fields at the end, so everything before them (the
 * user name that record_peek_user reads, too) sits where format 1 has it.
 * The MAC domain stays: the version word is inside what the MAC covers. */
#define RECORD_MAGIC "PTKR"
#define FIXED_LEN (4 + 4 + 4 + 4 + 4 * 8 + 2 * MAC_LEN)
#define MAC_DOMAIN "pam_apitoken record v1"
#define TOKEN_DOMAIN "pam_apitoken token v1"

typedef struct {
	uint8_t *p;
	size_t left;
	bool bad;
} writer;

typedef struct {
	const uint8_t *p;
	size_t left;
	bool bad;
} reader;

static void put(writer *w, const void *src, size_t n)
{
	if (w->bad || n > w->left) {
		w->bad = true;
		return;
	}
	memcpy(w->p, src, n);
	w->p += n;
	w->left -= n;
}

static void put_u(writer *w, uint64_t v, size_t bytes)
{
	uint8_t b[8];
	for (size_t i = 0; i < bytes; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	put(w, b, bytes);
}

/* Strings are text for people and logs: no NUL, no control characters. */
static bool field_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max + 1);
	if (n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static void put_str(writer *w, const char *s, size_t max)
{
	if (!field_ok(s, max)) {
		w->bad = true;
		return;
	}
	size_t n = strlen(s);
	put_u(w, n, 2);
	put(w, s, n);
}

size_t record_encode(const token_record *rec, const site_key *key,
		     uint8_t *buf, size_t buflen)
{
	return record_encode_version(rec, key, RECORD_VERSION_MAX, buf, buflen);
}

void record_as_v1(token_record *rec)
{
	if (rec->flags & RECORD_ISSUER_LAPSED)
		rec->flags |= RECORD_DISABLED | RECORD_DISABLED_BY_ADMIN;
	if (rec->flags & RECORD_DISABLED_IDLE)
		rec->flags |= RECORD_DISABLED;
	if (rec->flags & RECORD_REVOKED_BY_VALUE)
		rec->flags |= RECORD_REVOKED;
	rec->flags &= RECORD_V1_FLAGS;
	rec->owner_uid = RECORD_UID_UNKNOWN;
	rec->idle_since = 0;
}

size_t record_encode_version(const token_record *rec, const site_key *key,
			     unsigned version, uint8_t *buf, size_t buflen)
{
	writer w = { buf, buflen, false };
	uint32_t known = version == RECORD_VERSION_V1 ? RECORD_V1_FLAGS :
							RECORD_KNOWN_FLAGS;

	if ((version != RECORD_VERSION_V1 && version != RECORD_VERSION_MAX) ||
	    !token_id_valid(rec->id) || (rec->flags & ~known) ||
	    rec->user[0] == '\0' || rec->idle_since < 0)
		return 0;
	put(&w, RECORD_MAGIC, 4);
	put_u(&w, version, 4); /* version byte + 3 reserved zeros */
	put_u(&w, rec->flags, 4);
	put_u(&w, rec->creator_uid, 4);
	put_u(&w, (uint64_t)rec->created, 8);
	put_u(&w, (uint64_t)rec->expires, 8);
	put_u(&w, (uint64_t)rec->changed, 8);
	put_u(&w, (uint64_t)rec->prev_until, 8);
	put(&w, rec->digest, MAC_LEN);
	put(&w, rec->prev_digest, MAC_LEN);
	put_str(&w, rec->user, RECORD_USER_MAX);
	put_str(&w, rec->name, RECORD_NAME_MAX);
	put_str(&w, rec->allow_from, RECORD_RULES_MAX);
	put_str(&w, rec->deny_from, RECORD_RULES_MAX);
	put_str(&w, rec->services, RECORD_SERVICES_MAX);
	if (version >= 2) {
		put_u(&w, rec->owner_uid, 4);
		put_u(&w, (uint64_t)rec->idle_since, 8);
	}
	if (w.bad || w.left < MAC_LEN)
		return 0;
	size_t body = buflen - w.left;
	if (site_key_mac(key, MAC_DOMAIN, rec->id, TOKEN_ID_LEN, buf, body,
			 w.p) != 0)
		return 0;
	return body + MAC_LEN;
}

static void get(reader *r, void *dst, size_t n)
{
	if (r->bad || n > r->left) {
		r->bad = true;
		return;
	}
	memcpy(dst, r->p, n);
	r->p += n;
	r->left -= n;
}

static uint64_t get_u(reader *r, size_t bytes)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;
	get(r, b, bytes);
	for (size_t i = 0; i < bytes; i++)
		v |= (uint64_t)b[i] << (8 * i);
	return v;
}

static void get_str(reader *r, char *dst, size_t max)
{
	size_t n = (size_t)get_u(r, 2);
	if (r->bad || n > max || n > r->left) {
		r->bad = true;
		return;
	}
	get(r, dst, n);
	dst[n] = '\0';
	if (!field_ok(dst, max) || strlen(dst) != n)
		r->bad = true;
}

unsigned record_peek_version(const uint8_t *buf, size_t len)
{
	if (len < 8 || memcmp(buf, RECORD_MAGIC, 4) != 0 || buf[5] || buf[6] ||
	    buf[7])
		return 0;
	return buf[4];
}

int record_decode(const char *id, const uint8_t *buf, size_t len,
		  const site_key *key, token_record *rec)
{
	uint8_t mac[MAC_LEN];

	memset(rec, 0, sizeof(*rec));
	/* A newer format may be keyed or laid out differently: say so
	 * before the MAC (which would only say "corrupt"). Believing the
	 * unauthenticated version costs nothing: the record is refused. */
	if (token_id_valid(id) && record_peek_version(buf, len) > RECORD_VERSION_MAX)
		return RECORD_ERR_NEWER;
	if (!token_id_valid(id) || len < FIXED_LEN + 5 * 2 + MAC_LEN ||
	    len > RECORD_ENCODED_MAX)
		return -1;
	/* Authenticate before interpreting a single field. */
	size_t body = len - MAC_LEN;
	if (site_key_mac(key, MAC_DOMAIN, id, TOKEN_ID_LEN, buf, body, mac) != 0 ||
	    !secure_equal(mac, buf + body, MAC_LEN))
		return -1;

	reader r = { buf, body, false };
	char magic[4];
	get(&r, magic, 4);
	uint32_t version = (uint32_t)get_u(&r, 4);
	if (r.bad || memcmp(magic, RECORD_MAGIC, 4) != 0 ||
	    (version != RECORD_VERSION_V1 && version != RECORD_VERSION_MAX))
		goto bad;
	memcpy(rec->id, id, TOKEN_ID_LEN + 1);
	rec->flags = (uint32_t)get_u(&r, 4);
	rec->creator_uid = (uint32_t)get_u(&r, 4);
	rec->created = (int64_t)get_u(&r, 8);
	rec->expires = (int64_t)get_u(&r, 8);
	rec->changed = (int64_t)get_u(&r, 8);
	rec->prev_until = (int64_t)get_u(&r, 8);
	get(&r, rec->digest, MAC_LEN);
	get(&r, rec->prev_digest, MAC_LEN);
	get_str(&r, rec->user, RECORD_USER_MAX);
	get_str(&r, rec->name, RECORD_NAME_MAX);
	get_str(&r, rec->allow_from, RECORD_RULES_MAX);
	get_str(&r, rec->deny_from, RECORD_RULES_MAX);
	get_str(&r, rec->services, RECORD_SERVICES_MAX);
	if (version == RECORD_VERSION_V1) {
		rec->owner_uid = RECORD_UID_UNKNOWN;
	} else {
		rec->owner_uid = (uint32_t)get_u(&r, 4);
		rec->idle_since = (int64_t)get_u(&r, 8);
	}
	uint32_t known = version == RECORD_VERSION_V1 ? RECORD_V1_FLAGS :
							RECORD_KNOWN_FLAGS;
	if (r.bad || r.left != 0 || (rec->flags & ~known) ||
	    rec->user[0] == '\0' || rec->expires < 0 || rec->prev_until < 0 ||
	    rec->idle_since < 0)
		goto bad;
	rec->version = (uint8_t)version;
	return 0;
bad:
	secure_wipe(rec, sizeof(*rec));
	return -1;
}

bool record_peek_user(const uint8_t *buf, size_t len, const char *user)
{
	size_t ul = strlen(user);

	if (len < FIXED_LEN + 2 + ul)
		return false;
	size_t n = (size_t)buf[FIXED_LEN] | (size_t)buf[FIXED_LEN + 1] << 8;
	return n == ul && memcmp(buf + FIXED_LEN + 2, user, ul) == 0;
}

int record_token_digest(const site_key *key, const token_parts *parts,
			uint8_t out[MAC_LEN])
{
	return site_key_mac(key, TOKEN_DOMAIN, parts->id, TOKEN_ID_LEN,
			    parts->secret, TOKEN_SECRET_LEN, out);
}
