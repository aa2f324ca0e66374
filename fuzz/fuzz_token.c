/* token_parse against an independent reading of the format (tokenadm(8),
 * TOKEN FORMAT).
 *
 * Input: one selector byte, then the password bytes.
 *   selector < 0xf0: prefix = fixed[selector % N] ("ptk", one letter, the
 *                    16-character maximum, ...);
 *   selector >= 0xf0: prefix = the next 1 + (selector & 15) input bytes,
 *                    used only if token_prefix_valid accepts them.
 *
 * Checks: token_parse agrees with the reference parser below on every input
 * (never accepts what the spec refuses, never refuses a valid token); on
 * success the parts are well formed and re-assemble to exactly the input;
 * the same text one byte shorter is refused; a token generated for the
 * parsed id parses back to that id. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "token.h"

static const char *const fixed_prefixes[] = {
	"ptk", "p", "ABCDEFGHIJKLMNOP", "ghp", "x9", "PTK", "0",
};
#define N_FIXED (sizeof(fixed_prefixes) / sizeof(fixed_prefixes[0]))

static bool b62(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z');
}

/* tokenadm(8), TOKEN FORMAT, read directly. */
static bool reference_parse(const char *prefix, const char *pw, size_t len,
			    token_parts *out)
{
	size_t plen = strlen(prefix);
	size_t want = plen + 1 + TOKEN_ID_LEN + 1 + TOKEN_SECRET_LEN +
		      TOKEN_CHECK_LEN;
	char check[TOKEN_CHECK_LEN];

	if (len != want || memcmp(pw, prefix, plen) != 0)
		return false;
	size_t i = plen;
	if (pw[i++] != '_')
		return false;
	for (size_t k = 0; k < TOKEN_ID_LEN; k++, i++)
		if (!b62((unsigned char)pw[i]))
			return false;
	if (pw[i++] != '_')
		return false;
	for (size_t k = 0; k < TOKEN_SECRET_LEN + TOKEN_CHECK_LEN; k++, i++)
		if (!b62((unsigned char)pw[i]))
			return false;
	fuzz_token_check(pw, len - TOKEN_CHECK_LEN, check);
	if (memcmp(check, pw + len - TOKEN_CHECK_LEN, TOKEN_CHECK_LEN) != 0)
		return false;
	memcpy(out->id, pw + plen + 1, TOKEN_ID_LEN);
	out->id[TOKEN_ID_LEN] = '\0';
	memcpy(out->secret, pw + plen + 2 + TOKEN_ID_LEN, TOKEN_SECRET_LEN);
	out->secret[TOKEN_SECRET_LEN] = '\0';
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dyn[TOKEN_PREFIX_MAX + 1];
	const char *prefix;

	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	data++;
	size--;
	if (sel < 0xf0) {
		prefix = fixed_prefixes[sel % N_FIXED];
	} else {
		size_t k = 1 + (size_t)(sel & 0x0f);
		if (size < k)
			return 0;
		memcpy(dyn, data, k);
		dyn[k] = '\0';
		if (!token_prefix_valid(dyn))
			return 0;
		prefix = dyn;
		data += k;
		size -= k;
	}
	FUZZ_CHECK(token_prefix_valid(prefix), "prefix %s", prefix);

	/* The password in a buffer of exactly its length: any read past it
	 * is a sanitizer report. */
	char *pw = malloc(size ? size : 1);
	if (!pw)
		return 0;
	if (size)
		memcpy(pw, data, size);

	token_parts parts, ref;
	memset(&parts, 0xa5, sizeof(parts));
	memset(&ref, 0, sizeof(ref));
	bool ok = token_parse(prefix, size ? pw : "", size, &parts);
	bool want = reference_parse(prefix, pw, size, &ref);
	FUZZ_CHECK(ok == want, "token_parse says %d, the spec says %d", ok,
		   want);
	if (fuzz_verbose())
		fprintf(stderr, "token (prefix %s): %s\n", prefix,
			ok ? "parsed" : "refused");
	if (!ok) {
		free(pw);
		return 0;
	}
	FUZZ_CHECK(memcmp(parts.id, ref.id, sizeof(ref.id)) == 0, "id");
	FUZZ_CHECK(memcmp(parts.secret, ref.secret, sizeof(ref.secret)) == 0,
		   "secret");
	FUZZ_CHECK(token_id_valid(parts.id), "id not valid");
	FUZZ_CHECK(strlen(parts.secret) == TOKEN_SECRET_LEN, "secret length");

	/* Re-assemble: prefix_id_secret + check must be the input. */
	char text[TOKEN_TEXT_MAX + 1];
	int n = snprintf(text, sizeof(text), "%s_%s_%s", prefix, parts.id,
			 parts.secret);
	FUZZ_CHECK(n > 0 && (size_t)n + TOKEN_CHECK_LEN == size,
		   "reassembled length");
	fuzz_token_check(text, (size_t)n, text + n);
	FUZZ_CHECK(memcmp(text, pw, size) == 0, "reassembled text differs");

	/* A prefix of a token is not a token. */
	FUZZ_CHECK(!token_parse(prefix, pw, size - 1, &ref), "shorter accepted");

	/* What the generator makes for this id, the parser accepts. */
	char fresh[TOKEN_TEXT_MAX + 1];
	token_parts gen;
	FUZZ_CHECK(token_generate_for_id(prefix, parts.id, &gen, fresh,
					 sizeof(fresh)) == 0, "generate");
	FUZZ_CHECK(token_parse(prefix, fresh, strlen(fresh), &ref) &&
			   strcmp(ref.id, parts.id) == 0 &&
			   strcmp(ref.secret, gen.secret) == 0,
		   "generated token does not parse back");
	/* Too small an output buffer is refused, not overrun. */
	FUZZ_CHECK(token_generate_for_id(prefix, parts.id, &gen, fresh,
					 strlen(fresh)) != 0,
		   "generate into a short buffer");
	token_parts_wipe(&gen);
	token_parts_wipe(&parts);
	free(pw);
	return 0;
}
