#include "token.h"

#include <string.h>
#include <zlib.h>

#include "secure.h"

static const char base62[] =
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static bool is_base62(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z');
}

bool token_prefix_valid(const char *prefix)
{
	size_t n = prefix ? strlen(prefix) : 0;

	if (n < 1 || n > TOKEN_PREFIX_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_base62((unsigned char)prefix[i]))
			return false;
	return true;
}

bool token_id_valid(const char *text)
{
	if (!text || strlen(text) != TOKEN_ID_LEN)
		return false;
	for (size_t i = 0; i < TOKEN_ID_LEN; i++)
		if (!is_base62((unsigned char)text[i]))
			return false;
	return true;
}

/* CRC-32 (zlib/IEEE) of text as 6 base62 digits, most significant first.
 * 62^6 > 2^32, so every CRC has exactly one spelling. */
static void check_digits(const char *text, size_t len, char out[TOKEN_CHECK_LEN])
{
	uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)text, (uInt)len);

	for (int i = TOKEN_CHECK_LEN - 1; i >= 0; i--) {
		out[i] = base62[crc % 62];
		crc /= 62;
	}
}

/* n uniformly random base62 digits. Bytes >= 248 (= 4*62) are thrown away
 * so that the modulo does not favour the first digits. */
static int random_base62(char *out, size_t n)
{
	unsigned char buf[64];
	size_t have = 0;

	while (have < n) {
		if (secure_random(buf, sizeof(buf)) != 0) {
			secure_wipe(buf, sizeof(buf));
			return -1;
		}
		for (size_t i = 0; i < sizeof(buf) && have < n; i++)
			if (buf[i] < 248)
				out[have++] = base62[buf[i] % 62];
	}
	secure_wipe(buf, sizeof(buf));
	return 0;
}

static int assemble(const char *prefix, const token_parts *parts, char *out,
		    size_t outlen)
{
	size_t plen = strlen(prefix);
	size_t body = plen + 1 + TOKEN_ID_LEN + 1 + TOKEN_SECRET_LEN;

	if (outlen < body + TOKEN_CHECK_LEN + 1)
		return -1;
	char *p = out;
	memcpy(p, prefix, plen);
	p += plen;
	*p++ = '_';
	memcpy(p, parts->id, TOKEN_ID_LEN);
	p += TOKEN_ID_LEN;
	*p++ = '_';
	memcpy(p, parts->secret, TOKEN_SECRET_LEN);
	p += TOKEN_SECRET_LEN;
	check_digits(out, body, p);
	p[TOKEN_CHECK_LEN] = '\0';
	return 0;
}

int token_generate_for_id(const char *prefix, const char *id,
			  token_parts *parts, char *out, size_t outlen)
{
	if (!token_prefix_valid(prefix) || !token_id_valid(id))
		return -1;
	memcpy(parts->id, id, TOKEN_ID_LEN + 1);
	if (random_base62(parts->secret, TOKEN_SECRET_LEN) != 0)
		goto fail;
	parts->secret[TOKEN_SECRET_LEN] = '\0';
	if (assemble(prefix, parts, out, outlen) != 0)
		goto fail;
	return 0;
fail:
	token_parts_wipe(parts);
	return -1;
}

int token_generate(const char *prefix, token_parts *parts, char *out,
		   size_t outlen)
{
	char id[TOKEN_ID_LEN + 1];

	if (random_base62(id, TOKEN_ID_LEN) != 0)
		return -1;
	id[TOKEN_ID_LEN] = '\0';
	return token_generate_for_id(prefix, id, parts, out, outlen);
}

bool token_parse(const char *prefix, const char *pw, size_t len,
		 token_parts *parts)
{
	size_t plen = strlen(prefix);
	size_t body = plen + 1 + TOKEN_ID_LEN + 1 + TOKEN_SECRET_LEN;
	char want[TOKEN_CHECK_LEN];

	/* Length first: a password of any other length is not a token, and
	 * nothing below may read beyond len. */
	if (!pw || len != body + TOKEN_CHECK_LEN)
		return false;
	if (memcmp(pw, prefix, plen) != 0 || pw[plen] != '_' ||
	    pw[plen + 1 + TOKEN_ID_LEN] != '_')
		return false;
	const char *id = pw + plen + 1;
	const char *secret = id + TOKEN_ID_LEN + 1;
	for (size_t i = 0; i < TOKEN_ID_LEN; i++)
		if (!is_base62((unsigned char)id[i]))
			return false;
	for (size_t i = 0; i < TOKEN_SECRET_LEN + TOKEN_CHECK_LEN; i++)
		if (!is_base62((unsigned char)secret[i]))
			return false;
	check_digits(pw, body, want);
	if (memcmp(want, pw + body, TOKEN_CHECK_LEN) != 0)
		return false;

	memcpy(parts->id, id, TOKEN_ID_LEN);
	parts->id[TOKEN_ID_LEN] = '\0';
	memcpy(parts->secret, secret, TOKEN_SECRET_LEN);
	parts->secret[TOKEN_SECRET_LEN] = '\0';
	return true;
}

void token_parts_wipe(token_parts *parts)
{
	secure_wipe(parts, sizeof(*parts));
}
