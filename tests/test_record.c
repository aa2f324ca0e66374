/* Unit tests for core/record.c and core/sitekey.c: the MAC'd record
 * encoding and the site key file.
 *
 * Besides blind tampering (every bit flip, every truncation), some records
 * are re-MAC'd here with the test's own copy of the key, so that decode's
 * field checks (version, flags, lengths, control bytes) are exercised on
 * records whose MAC is valid: without that, the MAC alone would hide a
 * missing check. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "record.h"
#include "sitekey.h"
#include "token.h"

#include "harness.h"

/* The record layout of record.c (white box, for re-MAC'd tampering):
 * magic 4, version 4, flags 4, creator 4, 4 x i64, 2 x MAC_LEN, strings. */
#define OFF_VERSION 4
#define OFF_FLAGS 8
#define OFF_EXPIRES (16 + 8)
#define OFF_PREV_UNTIL (16 + 24)
#define OFF_STRINGS (16 + 32 + 2 * MAC_LEN)
#define RECORD_MAC_DOMAIN "pam_apitoken record v1"

static char dir[64];
static site_key *key1, *key2;

static void fill(char *dst, size_t n, char base)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)(base + (char)(i % 26));
	dst[n] = '\0';
}

/* A record with every field set, the strings at their maximum length. */
static void full_record(token_record *rec)
{
	memset(rec, 0, sizeof(*rec));
	memcpy(rec->id, "Ab3De6Gh9Jk0", TOKEN_ID_LEN + 1);
	rec->flags = RECORD_DISABLED | RECORD_GROUP_BOUND |
		     RECORD_DISABLED_IDLE | RECORD_ADMIN_ISSUED;
	rec->creator_uid = 4000000001u;
	rec->owner_uid = 4000000002u;
	rec->idle_since = INT64_C(1767225602);
	rec->created = INT64_C(1767225600);
	rec->expires = INT64_C(4102444800);
	rec->changed = INT64_C(1767225601);
	rec->prev_until = INT64_C(1767229200);
	for (int i = 0; i < MAC_LEN; i++) {
		rec->digest[i] = (uint8_t)(i * 7 + 1);
		rec->prev_digest[i] = (uint8_t)(255 - i);
	}
	fill(rec->user, RECORD_USER_MAX, 'a');
	fill(rec->name, RECORD_NAME_MAX, 'A');
	fill(rec->allow_from, RECORD_RULES_MAX, 'a');
	fill(rec->deny_from, RECORD_RULES_MAX, 'A');
	fill(rec->services, RECORD_SERVICES_MAX, 'a');
	/* Bytes >= 0x80 (UTF-8) are legal text. */
	rec->name[0] = (char)0xc3;
	rec->name[1] = (char)0xa9;
}

static bool records_equal(const token_record *a, const token_record *b)
{
	return strcmp(a->id, b->id) == 0 && a->flags == b->flags &&
	       a->creator_uid == b->creator_uid && a->created == b->created &&
	       a->expires == b->expires && a->changed == b->changed &&
	       a->prev_until == b->prev_until &&
	       memcmp(a->digest, b->digest, MAC_LEN) == 0 &&
	       memcmp(a->prev_digest, b->prev_digest, MAC_LEN) == 0 &&
	       strcmp(a->user, b->user) == 0 && strcmp(a->name, b->name) == 0 &&
	       strcmp(a->allow_from, b->allow_from) == 0 &&
	       strcmp(a->deny_from, b->deny_from) == 0 &&
	       strcmp(a->services, b->services) == 0 &&
	       a->owner_uid == b->owner_uid && a->idle_since == b->idle_since;
}

/* Recompute the trailing MAC of an encoded record with the key (what an
 * attacker holding the key could do; here it lets decode's own field
 * checks be reached). */
static void remac(const char *id, uint8_t *buf, size_t len, const site_key *k)
{
	if (site_key_mac(k, RECORD_MAC_DOMAIN, id, TOKEN_ID_LEN, buf,
			 len - MAC_LEN, buf + len - MAC_LEN) != 0)
		abort();
}

static void put_le(uint8_t *p, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Decode must fail and leave *rec all zero. */
static bool refused(const char *id, const uint8_t *buf, size_t len,
		    const site_key *k)
{
	token_record out;
	memset(&out, 0xa5, sizeof(out));
	int rc = record_decode(id, buf, len, k, &out);
	return (rc == -1 || rc == RECORD_ERR_NEWER) &&
	       th_all_zero(&out, sizeof(out));
}

static void test_roundtrip(void)
{
	token_record rec, back;
	uint8_t buf[RECORD_ENCODED_MAX];

	full_record(&rec);
	size_t len = record_encode(&rec, key1, buf, sizeof(buf));
	CHECK(len > 0, "encode of a full record failed");
	if (!len)
		return;
	CHECK(len == OFF_STRINGS + 5 * 2 + RECORD_USER_MAX + RECORD_NAME_MAX +
			     2 * RECORD_RULES_MAX + RECORD_SERVICES_MAX + 4 + 8 +
			     MAC_LEN,
	      "unexpected encoded length %zu", len);
	CHECK(len <= RECORD_ENCODED_MAX, "full record exceeds RECORD_ENCODED_MAX");
	memset(&back, 0x5a, sizeof(back));
	CHECK(record_decode(rec.id, buf, len, key1, &back) == 0, "decode failed");
	CHECK(records_equal(&rec, &back), "round trip changed the record");
	CHECK(back.version == RECORD_VERSION_MAX, "decoded version %u",
	      (unsigned)back.version);

	/* Minimal record: only id and user; the rest empty or zero. */
	token_record min;
	memset(&min, 0, sizeof(min));
	memcpy(min.id, "000000000000", TOKEN_ID_LEN + 1);
	strcpy(min.user, "u");
	uint8_t mbuf[RECORD_ENCODED_MAX];
	size_t mlen = record_encode(&min, key1, mbuf, sizeof(mbuf));
	CHECK(mlen > 0, "minimal encode");
	memset(&back, 0x5a, sizeof(back));
	CHECK(mlen && record_decode(min.id, mbuf, mlen, key1, &back) == 0 &&
		      records_equal(&min, &back),
	      "minimal round trip");

	/* The encoder is deterministic and the MAC sits at the end, over
	 * the id and everything before it (so remac reproduces it: the
	 * white-box tests below depend on this). */
	uint8_t again[RECORD_ENCODED_MAX];
	memcpy(again, buf, len);
	remac(rec.id, again, len, key1);
	CHECK(memcmp(again, buf, len) == 0,
	      "MAC is not HMAC(domain, id, body) at the end: white-box "
	      "tampering tests below are invalid");

	/* Every buffer shorter than needed: 0, and no write past buflen
	 * (ASan would see it in the exact-size heap buffer). */
	int short_ok = 0;
	for (size_t n = 0; n < len; n++) {
		uint8_t *b = malloc(n ? n : 1);
		if (!b)
			abort();
		if (record_encode(&rec, key1, b, n) != 0)
			short_ok++;
		free(b);
	}
	CHECK(short_ok == 0, "%d too-small buffers accepted by encode", short_ok);
	uint8_t *exact = malloc(len);
	if (!exact)
		abort();
	CHECK(record_encode(&rec, key1, exact, len) == len &&
		      memcmp(exact, buf, len) == 0,
	      "encode into an exact-size buffer");
	free(exact);
}

static void test_decode_refuses(void)
{
	token_record rec;
	uint8_t buf[RECORD_ENCODED_MAX], t[RECORD_ENCODED_MAX + 1];

	full_record(&rec);
	size_t len = record_encode(&rec, key1, buf, sizeof(buf));
	if (!len) {
		CHECK(0, "encode failed");
		return;
	}

	/* Every single bit flip, in an exact-size heap copy. */
	size_t accepted = 0;
	uint8_t *h = malloc(len);
	if (!h)
		abort();
	for (size_t bit = 0; bit < len * 8; bit++) {
		memcpy(h, buf, len);
		h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (!refused(rec.id, h, len, key1) && accepted++ < 5)
			CHECK(0, "bit flip %zu accepted", bit);
	}
	CHECK(accepted == 0, "%zu of %zu bit flips accepted", accepted, len * 8);

	/* Truncation at every length (exact-size heap copies). */
	accepted = 0;
	for (size_t n = 0; n < len; n++) {
		uint8_t *p = malloc(n ? n : 1);
		if (!p)
			abort();
		memcpy(p, buf, n);
		if (!refused(rec.id, p, n, key1) && accepted++ < 5)
			CHECK(0, "truncation to %zu accepted", n);
		free(p);
	}
	CHECK(accepted == 0, "%zu truncations accepted", accepted);

	/* One byte appended (every value of it), and a whole MAC appended. */
	accepted = 0;
	memcpy(t, buf, len);
	for (int v = 0; v < 256; v++) {
		t[len] = (uint8_t)v;
		if (!refused(rec.id, t, len + 1, key1))
			accepted++;
	}
	CHECK(accepted == 0, "%zu appended bytes accepted", accepted);
	memcpy(t, buf, len);
	memcpy(t + len, buf + len - MAC_LEN, MAC_LEN);
	CHECK(refused(rec.id, t, len + MAC_LEN, key1), "appended MAC accepted");
	/* Oversized input is refused before anything is read. */
	CHECK(refused(rec.id, t, RECORD_ENCODED_MAX + 1, key1), "oversize");

	/* Record moved to another key (id). */
	CHECK(refused("Ab3De6Gh9Jk1", buf, len, key1), "moved record accepted");
	CHECK(refused("ab3De6Gh9Jk0", buf, len, key1), "moved record (case)");
	CHECK(refused("not an id", buf, len, key1), "invalid id accepted");
	CHECK(refused("", buf, len, key1), "empty id accepted");

	/* Another site's key. */
	CHECK(refused(rec.id, buf, len, key2), "wrong site key accepted");
	{
		token_record ok;
		CHECK(record_decode(rec.id, buf, len, key1, &ok) == 0,
		      "control: the right key decodes");
	}

	/* Version byte changed: flipped only (no MAC), then every other
	 * version value with the MAC recomputed with the key. */
	memcpy(h, buf, len);
	h[OFF_VERSION] ^= 0x02;
	CHECK(refused(rec.id, h, len, key1), "version flip accepted");
	accepted = 0;
	size_t not_newer = 0;
	for (int v = 0; v < 256; v++) {
		if (v == buf[OFF_VERSION])
			continue;
		memcpy(h, buf, len);
		h[OFF_VERSION] = (uint8_t)v;
		remac(rec.id, h, len, key1);
		if (!refused(rec.id, h, len, key1))
			accepted++;
		/* A newer format says so (the message says to upgrade),
		 * with the MAC good or not; older ones are just refused. */
		token_record o;
		int rc = record_decode(rec.id, h, len, key1, &o);
		if ((v > RECORD_VERSION_MAX) != (rc == RECORD_ERR_NEWER))
			not_newer++;
		h[len - 1] ^= 1;
		rc = record_decode(rec.id, h, len, key1, &o);
		if ((v > RECORD_VERSION_MAX) != (rc == RECORD_ERR_NEWER))
			not_newer++;
	}
	CHECK(accepted == 0, "%zu other versions (re-MAC'd) accepted", accepted);
	CHECK(not_newer == 0, "%zu versions with the wrong newer/corrupt answer",
	      not_newer);
	/* The three reserved bytes after the version. */
	for (int i = 1; i < 4; i++) {
		memcpy(h, buf, len);
		h[OFF_VERSION + i] = 1;
		remac(rec.id, h, len, key1);
		CHECK(refused(rec.id, h, len, key1),
		      "reserved byte %d set (re-MAC'd) accepted", i);
	}
	/* Magic. */
	memcpy(h, buf, len);
	h[0] = 'X';
	remac(rec.id, h, len, key1);
	CHECK(refused(rec.id, h, len, key1), "bad magic (re-MAC'd) accepted");

	/* Unknown flags: every bit outside RECORD_KNOWN_FLAGS, re-MAC'd. */
	accepted = 0;
	for (int b = 0; b < 32; b++) {
		uint32_t f = 1u << b;
		if (f & RECORD_KNOWN_FLAGS)
			continue;
		memcpy(h, buf, len);
		put_le(h + OFF_FLAGS, rec.flags | f, 4);
		remac(rec.id, h, len, key1);
		if (!refused(rec.id, h, len, key1))
			accepted++;
	}
	CHECK(accepted == 0, "%zu unknown flag bits (re-MAC'd) accepted",
	      accepted);
	/* Negative expiry / grace, re-MAC'd. */
	memcpy(h, buf, len);
	put_le(h + OFF_EXPIRES, (uint64_t)INT64_C(-1), 8);
	remac(rec.id, h, len, key1);
	CHECK(refused(rec.id, h, len, key1), "negative expires accepted");
	memcpy(h, buf, len);
	put_le(h + OFF_PREV_UNTIL, (uint64_t)INT64_MIN, 8);
	remac(rec.id, h, len, key1);
	CHECK(refused(rec.id, h, len, key1), "negative prev_until accepted");
	/* User string: a control byte, a NUL, a length pointing past the
	 * end, and an empty user, all re-MAC'd. */
	static const uint8_t bad_bytes[] = { 0x00, 0x01, '\n', '\r', 0x1b, 0x7f };
	for (size_t i = 0; i < sizeof(bad_bytes); i++) {
		memcpy(h, buf, len);
		h[OFF_STRINGS + 2 + 5] = bad_bytes[i];
		remac(rec.id, h, len, key1);
		CHECK(refused(rec.id, h, len, key1),
		      "user with byte 0x%02x (re-MAC'd) accepted", bad_bytes[i]);
	}
	memcpy(h, buf, len);
	put_le(h + OFF_STRINGS, RECORD_USER_MAX + 1, 2);
	remac(rec.id, h, len, key1);
	CHECK(refused(rec.id, h, len, key1), "user length 257 (re-MAC'd)");
	memcpy(h, buf, len);
	put_le(h + OFF_STRINGS, 0xffff, 2);
	remac(rec.id, h, len, key1);
	CHECK(refused(rec.id, h, len, key1), "user length 65535 (re-MAC'd)");
	free(h);

	/* Empty user with a valid MAC: built by hand from a minimal record. */
	{
		token_record m;
		memset(&m, 0, sizeof(m));
		memcpy(m.id, "000000000000", TOKEN_ID_LEN + 1);
		strcpy(m.user, "u");
		uint8_t mb[RECORD_ENCODED_MAX];
		size_t ml = record_encode(&m, key1, mb, sizeof(mb));
		CHECK(ml > 0, "minimal encode");
		if (ml) {
			/* drop the one user byte: length 0, rest shifted */
			uint8_t eb[RECORD_ENCODED_MAX];
			memcpy(eb, mb, OFF_STRINGS);
			put_le(eb + OFF_STRINGS, 0, 2);
			memcpy(eb + OFF_STRINGS + 2, mb + OFF_STRINGS + 3,
			       ml - OFF_STRINGS - 3);
			remac(m.id, eb, ml - 1, key1);
			CHECK(refused(m.id, eb, ml - 1, key1),
			      "empty user (re-MAC'd) accepted");
			/* trailing garbage inside the MAC'd body */
			uint8_t tb[RECORD_ENCODED_MAX];
			memcpy(tb, mb, ml - MAC_LEN);
			tb[ml - MAC_LEN] = 0;
			remac(m.id, tb, ml + 1, key1);
			CHECK(refused(m.id, tb, ml + 1, key1),
			      "trailing byte before the MAC (re-MAC'd) accepted");
			/* control: the re-MAC'd unchanged record decodes */
			memcpy(tb, mb, ml);
			remac(m.id, tb, ml, key1);
			token_record o;
			CHECK(record_decode(m.id, tb, ml, key1, &o) == 0,
			      "control: re-MAC'd untouched record decodes");
		}
	}
}

static void test_encode_refuses(void)
{
	token_record rec;
	uint8_t buf[RECORD_ENCODED_MAX];
	static const char bad[] = { '\n', '\r', '\t', 0x01, 0x1b, 0x1f, 0x7f };

	full_record(&rec);
	CHECK(record_encode(&rec, key1, buf, sizeof(buf)) > 0, "control");

	for (size_t i = 0; i < sizeof(bad); i++) {
		full_record(&rec);
		rec.user[3] = bad[i];
		CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0,
		      "user with 0x%02x accepted", bad[i]);
		full_record(&rec);
		rec.name[10] = bad[i];
		CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0,
		      "name with 0x%02x accepted", bad[i]);
		full_record(&rec);
		rec.allow_from[0] = bad[i];
		CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0,
		      "allow_from with 0x%02x accepted", bad[i]);
		full_record(&rec);
		rec.deny_from[RECORD_RULES_MAX - 1] = bad[i];
		CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0,
		      "deny_from with 0x%02x accepted", bad[i]);
		full_record(&rec);
		rec.services[100] = bad[i];
		CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0,
		      "services with 0x%02x accepted", bad[i]);
	}
	/* Over-long: the terminating NUL overwritten, so the field runs
	 * on (into the next field of the struct). */
	full_record(&rec);
	rec.user[RECORD_USER_MAX] = 'x';
	CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0, "user 257");
	full_record(&rec);
	rec.name[RECORD_NAME_MAX] = 'x';
	CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0, "name 65");
	full_record(&rec);
	rec.allow_from[RECORD_RULES_MAX] = 'x';
	CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0, "allow 1025");
	full_record(&rec);
	rec.deny_from[RECORD_RULES_MAX] = 'x';
	CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0, "deny 1025");
	full_record(&rec);
	rec.services[RECORD_SERVICES_MAX] = 'x';
	/* the struct ends after services: keep the over-read in bounds */
	CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0, "services 513");

	full_record(&rec);
	rec.user[0] = '\0';
	CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0, "empty user");
	full_record(&rec);
	rec.flags |= 1u << 8;
	CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0, "unknown flag 8");
	full_record(&rec);
	rec.idle_since = -1;
	CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0,
	      "negative idle_since");
	full_record(&rec);
	CHECK(record_encode_version(&rec, key1, 3, buf, sizeof(buf)) == 0,
	      "format 3 written");
	CHECK(record_encode_version(&rec, key1, 0, buf, sizeof(buf)) == 0,
	      "format 0 written");
	full_record(&rec);
	rec.flags |= 1u << 31;
	CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0, "unknown flag 31");
	full_record(&rec);
	memcpy(rec.id, "Ab3De6Gh9Jk_", TOKEN_ID_LEN + 1);
	CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0, "bad id");
	full_record(&rec);
	rec.id[5] = '\0';
	CHECK(record_encode(&rec, key1, buf, sizeof(buf)) == 0, "short id");
}

/* Format 1 (what hosts of the previous release read, and what stores
 * made before format 2 hold) beside format 2. */
static void test_formats(void)
{
	token_record rec, back;
	uint8_t b1[RECORD_ENCODED_MAX], b2[RECORD_ENCODED_MAX];

	full_record(&rec);
	/* Format 1 holds none of the format-2 flags. */
	CHECK(record_encode_version(&rec, key1, RECORD_VERSION_V1, b1,
				    sizeof(b1)) == 0,
	      "format-2 flags written into format 1");
	record_as_v1(&rec);
	CHECK(rec.flags == (RECORD_DISABLED | RECORD_GROUP_BOUND) &&
		      rec.owner_uid == RECORD_UID_UNKNOWN && rec.idle_since == 0,
	      "record_as_v1: flags 0x%x", rec.flags);
	size_t l1 = record_encode_version(&rec, key1, RECORD_VERSION_V1, b1,
					  sizeof(b1));
	size_t l2 = record_encode(&rec, key1, b2, sizeof(b2));
	CHECK(l1 > 0 && l2 == l1 + 12, "format 1 %zu bytes, format 2 %zu", l1,
	      l2);
	CHECK(record_peek_version(b1, l1) == 1 && record_peek_version(b2, l2) == 2,
	      "peek_version");
	memset(&back, 0x5a, sizeof(back));
	CHECK(record_decode(rec.id, b1, l1, key1, &back) == 0 &&
		      records_equal(&rec, &back) && back.version == 1 &&
		      back.owner_uid == RECORD_UID_UNKNOWN,
	      "format 1 round trip (owner uid unknown)");
	/* Both put the user where record_peek_user looks. */
	CHECK(record_peek_user(b1, l1, rec.user) && record_peek_user(b2, l2, rec.user) &&
		      !record_peek_user(b1, l1, "a"),
	      "peek_user on both formats");
	/* A format-1 record claiming a format-2 flag, re-MAC'd: refused. */
	static const uint32_t v2only[] = { RECORD_ADMIN_ISSUED,
					   RECORD_ISSUER_LAPSED,
					   RECORD_REVOKED_BY_VALUE,
					   RECORD_DISABLED_IDLE };
	for (size_t i = 0; i < sizeof(v2only) / sizeof(v2only[0]); i++) {
		uint8_t h[RECORD_ENCODED_MAX];
		memcpy(h, b1, l1);
		put_le(h + OFF_FLAGS, rec.flags | v2only[i], 4);
		remac(rec.id, h, l1, key1);
		CHECK(refused(rec.id, h, l1, key1),
		      "format 1 with flag 0x%x accepted", v2only[i]);
		/* ... and the same flag in format 2 is fine. */
		memcpy(h, b2, l2);
		put_le(h + OFF_FLAGS, rec.flags | v2only[i], 4);
		remac(rec.id, h, l2, key1);
		CHECK(record_decode(rec.id, h, l2, key1, &back) == 0 &&
			      back.flags == (rec.flags | v2only[i]),
		      "format 2 with flag 0x%x refused", v2only[i]);
	}
	/* A negative idle_since in format 2 (the last 8 bytes before the
	 * MAC), re-MAC'd: refused. */
	{
		uint8_t h[RECORD_ENCODED_MAX];
		memcpy(h, b2, l2);
		put_le(h + l2 - MAC_LEN - 8, (uint64_t)INT64_C(-5), 8);
		remac(rec.id, h, l2, key1);
		CHECK(refused(rec.id, h, l2, key1), "negative idle_since accepted");
		/* A format-2 body labelled format 1: its tail is trailing
		 * garbage to format 1. */
		memcpy(h, b2, l2);
		h[OFF_VERSION] = 1;
		remac(rec.id, h, l2, key1);
		CHECK(refused(rec.id, h, l2, key1), "format 2 read as format 1");
	}
	/* The mapping never loosens: each format-2 state stays a refusal. */
	full_record(&rec);
	rec.flags = RECORD_ISSUER_LAPSED | RECORD_ADMIN_ISSUED;
	record_as_v1(&rec);
	CHECK(rec.flags == (RECORD_DISABLED | RECORD_DISABLED_BY_ADMIN),
	      "lapsed issuer in format 1: 0x%x", rec.flags);
	rec.flags = RECORD_REVOKED_BY_VALUE;
	record_as_v1(&rec);
	CHECK(rec.flags == RECORD_REVOKED, "revoked by value in format 1: 0x%x",
	      rec.flags);
	rec.flags = RECORD_DISABLED_IDLE;
	record_as_v1(&rec);
	CHECK(rec.flags == RECORD_DISABLED, "idle in format 1: 0x%x", rec.flags);
	rec.flags = RECORD_ADMIN_ISSUED;
	record_as_v1(&rec);
	CHECK(rec.flags == 0, "admin-issued in format 1: 0x%x", rec.flags);
	/* Not a record at all. */
	CHECK(record_peek_version((const uint8_t *)"PTKX\2\0\0\0", 8) == 0 &&
		      record_peek_version((const uint8_t *)"PTKR\2\0\0", 7) == 0,
	      "peek_version on garbage");
}

static void test_digest(void)
{
	token_parts a, b;
	uint8_t d1[MAC_LEN], d2[MAC_LEN];

	memset(&a, 0, sizeof(a));
	memcpy(a.id, "AAAAAAAAAAAA", TOKEN_ID_LEN + 1);
	memcpy(a.secret, "0123456789abcdefghijABCDEFGHIJxy", TOKEN_SECRET_LEN + 1);
	b = a;

	CHECK(record_token_digest(key1, &a, d1) == 0, "digest");
	CHECK(record_token_digest(key1, &b, d2) == 0 &&
		      memcmp(d1, d2, MAC_LEN) == 0,
	      "digest not deterministic");
	b.secret[31] = 'z';
	CHECK(record_token_digest(key1, &b, d2) == 0 &&
		      memcmp(d1, d2, MAC_LEN) != 0,
	      "digest ignores the last secret char");
	b = a;
	b.secret[0] = '1';
	CHECK(record_token_digest(key1, &b, d2) == 0 &&
		      memcmp(d1, d2, MAC_LEN) != 0,
	      "digest ignores the first secret char");
	b = a;
	b.id[11] = 'B';
	CHECK(record_token_digest(key1, &b, d2) == 0 &&
		      memcmp(d1, d2, MAC_LEN) != 0,
	      "digest ignores the id");
	CHECK(record_token_digest(key2, &a, d2) == 0 &&
		      memcmp(d1, d2, MAC_LEN) != 0,
	      "digest ignores the key");
	/* Moving a character between id and secret changes it too (the
	 * fields are not just concatenated ambiguously... both are fixed
	 * length, so any change of either must show). */
	b = a;
	memcpy(b.id, "AAAAAAAAAAA0", TOKEN_ID_LEN + 1);
	memcpy(b.secret, "123456789abcdefghijABCDEFGHIJxyA", TOKEN_SECRET_LEN + 1);
	CHECK(record_token_digest(key1, &b, d2) == 0 &&
		      memcmp(d1, d2, MAC_LEN) != 0,
	      "digest of a shifted id/secret equal");
	/* The digest is not a record MAC with the same input (domain
	 * separation): compare with site_key_mac under another label. */
	uint8_t d3[MAC_LEN];
	CHECK(site_key_mac(key1, "pam_apitoken record v1", a.id, TOKEN_ID_LEN,
			   a.secret, TOKEN_SECRET_LEN, d3) == 0 &&
		      memcmp(d1, d3, MAC_LEN) != 0,
	      "token digest equals the record MAC of the same bytes");
	/* The digest is not simply the secret or zero */
	CHECK(!th_all_zero(d1, MAC_LEN), "digest is zero");
}

/* ---- site key files ---- */

static const char *write_file(const char *name, const char *content,
			      size_t len, mode_t mode)
{
	static char path[128];
	th_path(path, sizeof(path), dir, name);
	if (th_replace_file(path, content, len, mode) != 0)
		abort();
	return path;
}

static bool loads(const char *path)
{
	site_key *k = NULL;
	char err[256] = "";
	int rc = site_key_load(path, &k, err, sizeof(err));
	bool ok = rc == 0 && k != NULL;
	if (rc != 0) {
		CHECK(k == NULL, "failed load left *out set");
		CHECK(err[0] != '\0', "failed load without a reason");
	}
	site_key_free(k);
	return ok;
}

#define GOOD_KEY "ptkkey1:000102030405060708090a0b0c0d0e0f" \
		 "101112131415161718191a1b1c1d1e1f\n"

static void test_site_key(void)
{
	char path[128], err[256];
	struct stat st;

	/* Create, then load. */
	th_path(path, sizeof(path), dir, "site.key");
	CHECK(site_key_create(path, 0600, (gid_t)-1, err, sizeof(err)) == 0,
	      "site_key_create: %s", err);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600 &&
		      st.st_size == 8 + 64 + 1,
	      "created key mode %o size %lld", (unsigned)(st.st_mode & 07777),
	      (long long)st.st_size);
	CHECK(loads(path), "created key does not load");
	/* Its content is the documented format, random. */
	{
		char text[128];
		int fd = open(path, O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
		if (fd >= 0)
			close(fd);
		bool shape = n == 73 && memcmp(text, "ptkkey1:", 8) == 0 &&
			     text[72] == '\n';
		for (int i = 8; shape && i < 72; i++)
			shape = (text[i] >= '0' && text[i] <= '9') ||
				(text[i] >= 'a' && text[i] <= 'f');
		CHECK(shape, "created key is not 'ptkkey1:' + 64 hex + NL");
	}
	/* Never overwrites. */
	{
		char before[128], after[128];
		int fd = open(path, O_RDONLY);
		ssize_t n1 = read(fd, before, sizeof(before));
		close(fd);
		CHECK(site_key_create(path, 0600, (gid_t)-1, err, sizeof(err)) != 0,
		      "site_key_create overwrote an existing key");
		fd = open(path, O_RDONLY);
		ssize_t n2 = read(fd, after, sizeof(after));
		close(fd);
		CHECK(n1 == n2 && n1 > 0 && memcmp(before, after, (size_t)n1) == 0,
		      "existing key changed");
	}
	/* Two created keys differ. */
	{
		char p2[128];
		th_path(p2, sizeof(p2), dir, "second.key");
		CHECK(site_key_create(p2, 0640, getegid(), err, sizeof(err)) == 0,
		      "create 0640: %s", err);
		CHECK(stat(p2, &st) == 0 && (st.st_mode & 07777) == 0640 &&
			      st.st_gid == getegid(),
		      "0640 key has mode %o gid %u", (unsigned)(st.st_mode & 07777),
		      (unsigned)st.st_gid);
		CHECK(loads(p2), "0640 key (group read) must load");
		site_key *ka = NULL, *kb = NULL;
		token_parts pp;
		memset(&pp, 0, sizeof(pp));
		memcpy(pp.id, "AAAAAAAAAAAA", 13);
		memcpy(pp.secret, "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB", 33);
		uint8_t da[MAC_LEN], db[MAC_LEN];
		if (site_key_load(path, &ka, err, sizeof(err)) == 0 &&
		    site_key_load(p2, &kb, err, sizeof(err)) == 0) {
			record_token_digest(ka, &pp, da);
			record_token_digest(kb, &pp, db);
			CHECK(memcmp(da, db, MAC_LEN) != 0, "two new keys equal");
		} else {
			CHECK(0, "reload failed: %s", err);
		}
		site_key_free(ka);
		site_key_free(kb);
	}
	/* A dangling symlink at the path: create must not follow it. */
	{
		char link[128], target[128];
		th_path(link, sizeof(link), dir, "dangling.key");
		th_path(target, sizeof(target), dir, "target-of-dangling");
		CHECK(symlink(target, link) == 0, "symlink");
		CHECK(site_key_create(link, 0600, (gid_t)-1, err, sizeof(err)) != 0,
		      "create through a dangling symlink");
		CHECK(access(target, F_OK) != 0, "symlink target was created");
		unlink(link);
	}

	/* A known key: the digest is HMAC-SHA-256 keyed with the file's 32
	 * bytes (tokenadm(8), TOKEN FORMAT and FILES), over the domain label,
	 * id and secret. */
	{
		const char *p = write_file("known.key", GOOD_KEY,
					   strlen(GOOD_KEY), 0600);
		site_key *k = NULL;
		CHECK(site_key_load(p, &k, err, sizeof(err)) == 0,
		      "known key: %s", err);
		if (k) {
			uint8_t raw[32], want[EVP_MAX_MD_SIZE], got[MAC_LEN];
			unsigned wl = 0;
			for (int i = 0; i < 32; i++)
				raw[i] = (uint8_t)i;
			token_parts pp;
			memset(&pp, 0, sizeof(pp));
			memcpy(pp.id, "AbCdEfGhIjKl", 13);
			memcpy(pp.secret, "0123456789ABCDEFGHIJKLMNOPQRSTUV", 33);
			static const char msg[] =
				"pam_apitoken token v1\0AbCdEfGhIjKl"
				"0123456789ABCDEFGHIJKLMNOPQRSTUV";
			HMAC(EVP_sha256(), raw, 32, (const unsigned char *)msg,
			     sizeof(msg) - 1, want, &wl);
			CHECK(record_token_digest(k, &pp, got) == 0 && wl == 32 &&
				      memcmp(got, want, 32) == 0,
			      "digest is not HMAC-SHA-256(key, label NUL id secret)");
			/* and a wrong key gives something else */
			raw[0] ^= 1;
			HMAC(EVP_sha256(), raw, 32, (const unsigned char *)msg,
			     sizeof(msg) - 1, want, &wl);
			CHECK(memcmp(got, want, 32) != 0, "HMAC control");
		}
		site_key_free(k);
	}

	/* Refusals. */
	const char *p;
	char target[128], link[128];
	p = write_file("good.key", GOOD_KEY, strlen(GOOD_KEY), 0600);
	CHECK(loads(p), "control: good key file loads");
	snprintf(target, sizeof(target), "%s", p);
	th_path(link, sizeof(link), dir, "link.key");
	CHECK(symlink(target, link) == 0, "symlink");
	CHECK(!loads(link), "symlink to a key accepted");

	p = write_file("m0644.key", GOOD_KEY, strlen(GOOD_KEY), 0644);
	CHECK(!loads(p), "mode 0644 (other-readable) accepted");
	p = write_file("m0604.key", GOOD_KEY, strlen(GOOD_KEY), 0604);
	CHECK(!loads(p), "mode 0604 accepted");
	p = write_file("m0660.key", GOOD_KEY, strlen(GOOD_KEY), 0660);
	CHECK(!loads(p), "mode 0660 (group-writable) accepted");
	p = write_file("m0602.key", GOOD_KEY, strlen(GOOD_KEY), 0602);
	CHECK(!loads(p), "mode 0602 (other-writable) accepted");
	p = write_file("m0640.key", GOOD_KEY, strlen(GOOD_KEY), 0640);
	CHECK(loads(p), "mode 0640 refused");
	p = write_file("m0400.key", GOOD_KEY, strlen(GOOD_KEY), 0400);
	CHECK(loads(p), "mode 0400 refused");

	if (geteuid() == 0) {
		/* owned by someone else */
		p = write_file("other.key", GOOD_KEY, strlen(GOOD_KEY), 0600);
		CHECK(chown(p, 65534, (gid_t)-1) == 0, "chown");
		CHECK(!loads(p), "key owned by uid 65534 accepted");
	}

	/* Malformed contents. */
	struct {
		const char *name, *text;
	} mal[] = {
		{ "empty", "" },
		{ "short", "ptkkey1:000102030405060708090a0b0c0d0e0f"
			   "101112131415161718191a1b1c1d1e1\n" },
		{ "long", "ptkkey1:000102030405060708090a0b0c0d0e0f"
			  "101112131415161718191a1b1c1d1e1f0\n" },
		{ "extra line", GOOD_KEY "\n" },
		{ "no newline", "ptkkey1:000102030405060708090a0b0c0d0e0f"
				"101112131415161718191a1b1c1d1e1fX" },
		{ "crlf", "ptkkey1:000102030405060708090a0b0c0d0e0f"
			  "101112131415161718191a1b1c1d1e\r\n" },
		{ "bad hex g", "ptkkey1:000102030405060708090a0b0c0d0e0f"
			       "101112131415161718191a1b1c1d1e1g\n" },
		{ "bad hex space", "ptkkey1:000102030405060708090a0b0c0d0e0f"
				   "10111213141516171819 a1b1c1d1e1f\n" },
		{ "wrong tag", "ptkkey2:000102030405060708090a0b0c0d0e0f"
			       "101112131415161718191a1b1c1d1e1f\n" },
		{ "no tag", "00000000000102030405060708090a0b0c0d0e0f"
			    "101112131415161718191a1b1c1d1e1f\n" },
	};
	for (size_t i = 0; i < sizeof(mal) / sizeof(mal[0]); i++) {
		p = write_file("mal.key", mal[i].text, strlen(mal[i].text), 0600);
		CHECK(!loads(p), "malformed key (%s) accepted", mal[i].name);
	}
	/* NUL in the middle, length right */
	{
		char t[sizeof(GOOD_KEY)];
		memcpy(t, GOOD_KEY, sizeof(GOOD_KEY));
		t[20] = '\0';
		p = write_file("nul.key", t, strlen(GOOD_KEY), 0600);
		CHECK(!loads(p), "key with NUL accepted");
	}
	/* A huge file. */
	{
		size_t n = 1 << 20;
		char *big = malloc(n);
		if (!big)
			abort();
		memset(big, 'a', n);
		memcpy(big, GOOD_KEY, strlen(GOOD_KEY));
		p = write_file("big.key", big, n, 0600);
		CHECK(!loads(p), "1 MiB key file accepted");
		free(big);
	}

	/* A directory, a FIFO (must not hang), a missing file. */
	th_path(path, sizeof(path), dir, "keydir");
	CHECK(mkdir(path, 0700) == 0, "mkdir");
	CHECK(!loads(path), "directory accepted");
	th_path(path, sizeof(path), dir, "key.fifo");
	CHECK(mkfifo(path, 0600) == 0, "mkfifo");
	th_alarm_in(3);
	CHECK(!loads(path), "FIFO accepted");
	alarm(0);
	CHECK(!th_alarmed, "site_key_load blocked on a FIFO");
	th_path(path, sizeof(path), dir, "missing.key");
	CHECK(!loads(path), "missing key accepted");
	{
		site_key *k = key1; /* non-NULL: must be reset */
		errno = 0;
		CHECK(site_key_load(path, &k, err, sizeof(err)) != 0 && k == NULL &&
			      errno == ENOENT,
		      "missing key: errno %d, out %p", errno, (void *)k);
		CHECK(strstr(err, path) != NULL, "error does not name the path: %s",
		      err);
	}
}

int main(void)
{
	char err[256], p1[128], p2[128];

	snprintf(dir, sizeof(dir), "%s", "/tmp/test_record.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	th_path(p1, sizeof(p1), dir, "k1");
	th_path(p2, sizeof(p2), dir, "k2");
	if (site_key_create(p1, 0600, (gid_t)-1, err, sizeof(err)) != 0 ||
	    site_key_create(p2, 0600, (gid_t)-1, err, sizeof(err)) != 0 ||
	    site_key_load(p1, &key1, err, sizeof(err)) != 0 ||
	    site_key_load(p2, &key2, err, sizeof(err)) != 0) {
		fprintf(stderr, "FAIL: cannot set up keys: %s\n", err);
		th_rm_rf(dir);
		return 1;
	}

	test_roundtrip();
	test_decode_refuses();
	test_encode_refuses();
	test_formats();
	test_digest();
	test_site_key();

	site_key_free(key1);
	site_key_free(key2);
	th_rm_rf(dir);
	return th_summary("test_record: all passed");
}
