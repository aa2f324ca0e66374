#include "record.h"

#include <string.h>

#include "secure.h"

/* Layout, little-endian:
 *   "PTKR" | version u8 | 3 zero bytes | flags u32 | creator_uid u32 |
 *   created i64 | expires i64 | changed i64 | prev_until i64 |
 *   digest[32] | prev_digest[32] |
 *   5 x (u16 length, bytes): user name allow_from deny_from services |
 *   mac[32] over id and everything before it. */
#define RECORD_MAGIC "PTKR"
#define RECORD_VERSION 1
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
	writer w = { buf, buflen, false };

	if (!token_id_valid(rec->id) || (rec->flags & ~RECORD_KNOWN_FLAGS) ||
	    rec->user[0] == '\0')
		return 0;
	put(&w, RECORD_MAGIC, 4);
	put_u(&w, RECORD_VERSION, 4); /* version byte + 3 reserved zeros */
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

int record_decode(const char *id, const uint8_t *buf, size_t len,
		  const site_key *key, token_record *rec)
{
	uint8_t mac[MAC_LEN];

	memset(rec, 0, sizeof(*rec));
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
	    version != RECORD_VERSION)
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
	if (r.bad || r.left != 0 || (rec->flags & ~RECORD_KNOWN_FLAGS) ||
	    rec->user[0] == '\0' || rec->expires < 0 || rec->prev_until < 0)
		goto bad;
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
