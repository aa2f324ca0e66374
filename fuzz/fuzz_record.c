/* record_decode (a record is believed only once its integrity code
 * checks out, whatever the store's file mode; pam_apitoken(8), PAM RETURN
 * VALUES).
 *
 * Input: mode byte, 12 bytes of id, then the stored value.
 *   mode & 1: the value is a record body without its MAC; the harness
 *             appends a valid MAC made with the fixed test key, so decode's
 *             field checks are reached (a MAC alone would hide them);
 *   otherwise the value is used as stored (MAC included): almost always
 *             refused, which is the point.
 *
 * Checks: decode never crashes; on refusal the record is all zero; on
 * success every field is within its bounds (terminated strings, known
 * flags, non-empty user, non-negative expiry), and record_encode gives back
 * exactly the input bytes (no two encodings of one record, nothing decode
 * ignores); the stored host rules parse or are refused cleanly as
 * authcheck.c would parse them; one flipped bit anywhere is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "fuzz_common.h"
#include "record.h"

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

static void check_text(const char *s, size_t cap, const char *what)
{
	size_t n = strnlen(s, cap);
	FUZZ_CHECK(n < cap, "%s not terminated", what);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f,
			   "%s holds a control byte", what);
}

static void check_rules(const char *text)
{
	addr_list l;
	char err[128];
	if (addr_list_parse(text, &l, err, sizeof(err)) == 0)
		addr_list_free(&l);
	else
		FUZZ_CHECK(l.n == 0 && l.rules == NULL, "list after failure");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const site_key *key = fuzz_test_key();
	char id[TOKEN_ID_LEN + 1];
	token_record rec;

	if (size < 1 + TOKEN_ID_LEN)
		return 0;
	uint8_t mode = data[0];
	memcpy(id, data + 1, TOKEN_ID_LEN);
	id[TOKEN_ID_LEN] = '\0';
	data += 1 + TOKEN_ID_LEN;
	size -= 1 + TOKEN_ID_LEN;

	size_t len = size + ((mode & 1) ? MAC_LEN : 0);
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return 0;
	if (size)
		memcpy(buf, data, size);
	if ((mode & 1) &&
	    site_key_mac(key, FUZZ_RECORD_MAC_DOMAIN, id, TOKEN_ID_LEN, buf,
			 size, buf + size) != 0)
		FUZZ_FAIL("site_key_mac failed");

	memset(&rec, 0xa5, sizeof(rec));
	int rc = record_decode(id, buf, len, key, &rec);
	if (fuzz_verbose())
		fprintf(stderr, "record %s (mode %u): %s\n", id, (unsigned)(mode & 1),
			rc == 0 ? "decoded" : "refused");
	if (rc != 0) {
		FUZZ_CHECK(rc == -1 || rc == RECORD_ERR_NEWER, "rc %d", rc);
		FUZZ_CHECK(all_zero(&rec, sizeof(rec)),
			   "refused record not zeroed");
		free(buf);
		return 0;
	}

	FUZZ_CHECK(token_id_valid(id), "accepted under a malformed id");
	FUZZ_CHECK(strcmp(rec.id, id) == 0, "id differs");
	FUZZ_CHECK((rec.flags & ~(uint32_t)RECORD_KNOWN_FLAGS) == 0, "flags");
	FUZZ_CHECK(rec.user[0] != '\0', "empty user");
	FUZZ_CHECK(rec.expires >= 0 && rec.prev_until >= 0, "negative time");
	check_text(rec.user, sizeof(rec.user), "user");
	check_text(rec.name, sizeof(rec.name), "name");
	check_text(rec.allow_from, sizeof(rec.allow_from), "allow_from");
	check_text(rec.deny_from, sizeof(rec.deny_from), "deny_from");
	check_text(rec.services, sizeof(rec.services), "services");
	check_rules(rec.allow_from);
	check_rules(rec.deny_from);

	/* Round trip: one record, one encoding. */
	uint8_t again[RECORD_ENCODED_MAX];
	FUZZ_CHECK(rec.version == 1 || rec.version == RECORD_VERSION_MAX,
		   "version %u", (unsigned)rec.version);
	size_t alen = record_encode_version(&rec, key, rec.version, again,
					    sizeof(again));
	FUZZ_CHECK(alen == len, "re-encoded length %zu, stored %zu", alen, len);
	FUZZ_CHECK(memcmp(again, buf, len) == 0, "re-encoding differs");

	/* Tampering: flip one bit (position chosen by the input). */
	if (len == 0)
		FUZZ_FAIL("empty record accepted");
	size_t bit = ((size_t)mode * 2654435761u) % (len * 8);
	buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	token_record tampered;
	FUZZ_CHECK(record_decode(id, buf, len, key, &tampered) != 0,
		   "bit %zu flipped and still accepted", bit);
	/* Moved to another id: refused (the MAC covers the id). */
	buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	char other[TOKEN_ID_LEN + 1];
	memcpy(other, id, sizeof(other));
	other[0] = other[0] == 'A' ? 'B' : 'A';
	FUZZ_CHECK(record_decode(other, buf, len, key, &tampered) == -1,
		   "record accepted under another id");

	/* Short output buffers are refused, never overrun. */
	FUZZ_CHECK(record_encode_version(&rec, key, rec.version, again,
					 len - 1) == 0,
		   "encode into a short buffer");
	free(buf);
	return 0;
}
