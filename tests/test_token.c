/* Unit tests for core/token.c: the token text of tokenadm(8), TOKEN
 * FORMAT.
 *
 * The check digits are verified against an independent bitwise CRC-32
 * (IEEE, reflected 0xEDB88320) written here, not against zlib, so a wrong
 * polynomial, seed, digit order or alphabet in the product is caught.
 * Every token handed to token_parse lives in a heap buffer of exactly its
 * length (no NUL after it), so an over-read shows up under ASan. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

#include "harness.h"

#define N_TOKENS 10000
#define TOKEN_LEN_PTK (3 + 1 + TOKEN_ID_LEN + 1 + TOKEN_SECRET_LEN + TOKEN_CHECK_LEN)

static const char b62[] =
	"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* ---- the test's own reference implementation ---- */

static uint32_t ref_crc32(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t crc = 0xFFFFFFFFu;

	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
	}
	return crc ^ 0xFFFFFFFFu;
}

/* value as 6 base62 digits, most significant first, zero-padded. */
static void ref_check(const char *text, size_t len, char out[7])
{
	uint64_t v = ref_crc32(text, len);

	for (int i = 5; i >= 0; i--) {
		out[i] = b62[v % 62];
		v /= 62;
	}
	out[6] = '\0';
}

static int b62_index(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 36;
	return -1;
}

/* ^prefix_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$ */
static bool ref_shape(const char *prefix, const char *t)
{
	size_t pl = strlen(prefix);

	if (strlen(t) != pl + 1 + 12 + 1 + 38 || strncmp(t, prefix, pl) != 0 ||
	    t[pl] != '_' || t[pl + 13] != '_')
		return false;
	for (size_t i = pl + 1; i < pl + 13; i++)
		if (b62_index((unsigned char)t[i]) < 0)
			return false;
	for (size_t i = pl + 14; i < pl + 14 + 38; i++)
		if (b62_index((unsigned char)t[i]) < 0)
			return false;
	return true;
}

/* Build prefix_id_secret + correct check digits (by the reference CRC)
 * into out; the fields may hold anything. Returns the length. */
static size_t ref_build(char *out, size_t outlen, const char *prefix,
			const char *id, const char *secret)
{
	int n = snprintf(out, outlen, "%s_%s_%s", prefix, id, secret);
	if (n < 0 || (size_t)n + 7 > outlen)
		abort();
	ref_check(out, (size_t)n, out + n);
	return (size_t)n + 6;
}

/* token_parse on an exact-size heap copy of len bytes of text. */
static bool parse_exact(const char *prefix, const char *text, size_t len,
			token_parts *parts)
{
	char *copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, text, len);
	bool ok = token_parse(prefix, copy, len, parts);
	free(copy);
	return ok;
}

static bool parse_str(const char *prefix, const char *text)
{
	token_parts parts;
	return parse_exact(prefix, text, strlen(text), &parts);
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, TOKEN_ID_LEN + 1);
}

/* ---- tests ---- */

static void test_reference_crc(void)
{
	/* The standard check value of CRC-32/ISO-HDLC: proves the reference
	 * itself before anything is judged by it. */
	CHECK(ref_crc32("123456789", 9) == 0xCBF43926u,
	      "reference CRC-32 is wrong: %08x", ref_crc32("123456789", 9));
	CHECK(ref_crc32("", 0) == 0, "reference CRC-32 of nothing");
	char out[7];
	ref_check("", 0, out);
	CHECK(strcmp(out, "000000") == 0, "zero pads to 000000: %s", out);
}

static char (*gen_ids)[TOKEN_ID_LEN + 1];

static void test_generate_many(void)
{
	unsigned long count[62] = { 0 }, idcount[62] = { 0 };
	/* [position][digit] for the secret: catches a position that is stuck
	 * or drawn from a smaller alphabet. */
	static unsigned long poscount[TOKEN_SECRET_LEN][62];
	unsigned long total = 0, idtotal = 0;
	int shape_bad = 0, parse_bad = 0, crc_bad = 0;

	gen_ids = calloc(N_TOKENS, sizeof(*gen_ids));
	if (!gen_ids)
		abort();
	for (int n = 0; n < N_TOKENS; n++) {
		token_parts parts, back;
		char text[TOKEN_TEXT_MAX + 1];

		memset(&parts, 0, sizeof(parts));
		memset(&back, 0, sizeof(back));
		memset(text, 0x55, sizeof(text));
		if (token_generate("ptk", &parts, text, sizeof(text)) != 0) {
			CHECK(0, "token_generate failed at %d", n);
			return;
		}
		size_t len = strnlen(text, sizeof(text));
		if (!ref_shape("ptk", text)) {
			if (shape_bad++ < 5)
				CHECK(0, "bad shape: '%s'", text);
			continue;
		}
		CHECK(len == TOKEN_LEN_PTK, "length %zu", len);
		/* parts agree with the text */
		CHECK(strlen(parts.id) == TOKEN_ID_LEN &&
			      memcmp(parts.id, text + 4, TOKEN_ID_LEN) == 0,
		      "parts.id does not match the text");
		CHECK(strlen(parts.secret) == TOKEN_SECRET_LEN &&
			      memcmp(parts.secret, text + 17,
				     TOKEN_SECRET_LEN) == 0,
		      "parts.secret does not match the text");
		char want[7];
		ref_check(text, len - 6, want);
		if (memcmp(want, text + len - 6, 6) != 0 && crc_bad++ < 5)
			CHECK(0, "check digits of %.*s...: got %s want %s", 16,
			      text, text + len - 6, want);
		if (!parse_exact("ptk", text, len, &back) ||
		    strcmp(back.id, parts.id) != 0 ||
		    strcmp(back.secret, parts.secret) != 0) {
			if (parse_bad++ < 5)
				CHECK(0, "does not parse back to the same parts");
		}
		memcpy(gen_ids[n], parts.id, TOKEN_ID_LEN + 1);
		for (int i = 0; i < TOKEN_SECRET_LEN; i++) {
			int d = b62_index((unsigned char)parts.secret[i]);
			count[d]++;
			poscount[i][d]++;
			total++;
		}
		for (int i = 0; i < TOKEN_ID_LEN; i++) {
			idcount[b62_index((unsigned char)parts.id[i])]++;
			idtotal++;
		}
		token_parts_wipe(&parts);
	}
	CHECK(shape_bad == 0, "%d tokens of the wrong shape", shape_bad);
	CHECK(crc_bad == 0, "%d tokens with wrong check digits", crc_bad);
	CHECK(parse_bad == 0, "%d tokens did not parse back", parse_bad);

	/* Chi-square, 61 degrees of freedom: mean 61, sd 11. A fair
	 * generator exceeds 200 with probability ~1e-16; a plain "byte % 62"
	 * (first 8 digits 1.25x as likely) scores ~2000 over 320k digits, a
	 * digits-only alphabet ~2.8 million. */
	double e = (double)total / 62, chi = 0;
	for (int d = 0; d < 62; d++)
		chi += ((double)count[d] - e) * ((double)count[d] - e) / e;
	CHECK(chi < 200, "secret digits not uniform: chi2=%.1f", chi);
	e = (double)idtotal / 62;
	double chi_id = 0;
	for (int d = 0; d < 62; d++)
		chi_id += ((double)idcount[d] - e) * ((double)idcount[d] - e) / e;
	CHECK(chi_id < 200, "id digits not uniform: chi2=%.1f", chi_id);
	/* Per position (10k samples, 161 expected per digit): a bound of 160
	 * has p ~ 1e-10 per position for a fair generator. */
	for (int i = 0; i < TOKEN_SECRET_LEN; i++) {
		double c = 0;
		e = (double)N_TOKENS / 62;
		for (int d = 0; d < 62; d++)
			c += ((double)poscount[i][d] - e) *
			     ((double)poscount[i][d] - e) / e;
		CHECK(c < 160, "secret position %d not uniform: chi2=%.1f", i, c);
	}
	/* Every digit occurs: an alphabet missing a letter would fail here
	 * even if the rest were uniform. */
	for (int d = 0; d < 62; d++)
		CHECK(count[d] > 0, "digit %c never generated", b62[d]);

	qsort(gen_ids, N_TOKENS, sizeof(*gen_ids), cmp_id);
	int dups = 0;
	for (int n = 1; n < N_TOKENS; n++)
		if (memcmp(gen_ids[n - 1], gen_ids[n], TOKEN_ID_LEN) == 0)
			dups++;
	CHECK(dups == 0, "%d duplicate ids among %d", dups, N_TOKENS);
	free(gen_ids);
}

/* One valid token to mutate. */
static void fresh(const char *prefix, char *text, size_t textlen,
		  token_parts *parts)
{
	if (token_generate(prefix, parts, text, textlen) != 0)
		abort();
}

static void test_parse_rejects(void)
{
	token_parts parts;
	char tok[TOKEN_TEXT_MAX + 1], buf[256];
	size_t len;

	fresh("ptk", tok, sizeof(tok), &parts);
	len = strlen(tok);
	CHECK(parse_str("ptk", tok), "control: fresh token parses");

	/* Wrong prefix, with correct check digits for the new text, so only
	 * the prefix can be what refuses it. */
	ref_build(buf, sizeof(buf), "ptx", parts.id, parts.secret);
	CHECK(!parse_str("ptk", buf), "wrong prefix ptx accepted");
	CHECK(parse_str("ptx", buf), "control: ptx token under ptx");
	ref_build(buf, sizeof(buf), "PTK", parts.id, parts.secret);
	CHECK(!parse_str("ptk", buf), "prefix is case sensitive");
	ref_build(buf, sizeof(buf), "pt", parts.id, parts.secret);
	CHECK(!parse_str("ptk", buf), "shorter prefix accepted");
	ref_build(buf, sizeof(buf), "ptkk", parts.id, parts.secret);
	CHECK(!parse_str("ptk", buf), "longer prefix accepted");

	/* Another site's prefix, generated by the product. */
	token_parts other;
	char otok[TOKEN_TEXT_MAX + 1];
	fresh("acme", otok, sizeof(otok), &other);
	CHECK(!parse_str("ptk", otok), "other site's token accepted");
	CHECK(parse_str("acme", otok), "control: acme token under acme");
	fresh("ptk", otok, sizeof(otok), &other);
	CHECK(!parse_str("acme", otok), "ptk token accepted under acme");

	/* Missing underscores (same length: replaced; shorter: removed), with
	 * correct check digits. */
	{
		char body[128];
		int n;
		n = snprintf(body, sizeof(body), "ptkx%sx%s", parts.id, parts.secret);
		ref_check(body, (size_t)n, body + n);
		CHECK(!parse_str("ptk", body), "no underscores (replaced) accepted");
		n = snprintf(body, sizeof(body), "ptk%s_%s", parts.id, parts.secret);
		ref_check(body, (size_t)n, body + n);
		CHECK(!parse_str("ptk", body), "first underscore missing accepted");
		n = snprintf(body, sizeof(body), "ptk_%s%s", parts.id, parts.secret);
		ref_check(body, (size_t)n, body + n);
		CHECK(!parse_str("ptk", body), "second underscore missing accepted");
		n = snprintf(body, sizeof(body), "ptk-%s-%s", parts.id, parts.secret);
		ref_check(body, (size_t)n, body + n);
		CHECK(!parse_str("ptk", body), "dashes for underscores accepted");
		/* underscore moved one to the left/right: id 11 or 13 chars */
		n = snprintf(body, sizeof(body), "ptk_%.11s_%c%s", parts.id,
			     parts.id[11], parts.secret);
		ref_check(body, (size_t)n, body + n);
		CHECK(!parse_str("ptk", body), "11-char id accepted");
		n = snprintf(body, sizeof(body), "ptk_%s%c_%s", parts.id,
			     parts.secret[0], parts.secret + 1);
		ref_check(body, (size_t)n, body + n);
		CHECK(!parse_str("ptk", body), "13-char id accepted");
	}

	/* Each field with one non-base62 character, the check digits
	 * recomputed so that only the character class can refuse it. */
	static const unsigned char bad_chars[] = { '_', '-', '+', '/', '=', ' ',
						   '.', '~', 0x00, 0x7f, 0x80,
						   0xc3, 0xff, '\n', '%' };
	for (size_t b = 0; b < sizeof(bad_chars); b++) {
		unsigned char c = bad_chars[b];
		for (int pos = 0; pos < TOKEN_ID_LEN; pos++) {
			char body[128];
			size_t bl = (size_t)snprintf(body, sizeof(body), "ptk_%s_%s",
						     parts.id, parts.secret);
			body[4 + pos] = (char)c;
			ref_check(body, bl, body + bl);
			token_parts p;
			CHECK(!parse_exact("ptk", body, bl + 6, &p),
			      "id with 0x%02x at %d accepted", c, pos);
		}
		for (int pos = 0; pos < TOKEN_SECRET_LEN; pos++) {
			char body[128];
			size_t bl = (size_t)snprintf(body, sizeof(body), "ptk_%s_%s",
						     parts.id, parts.secret);
			body[17 + pos] = (char)c;
			ref_check(body, bl, body + bl);
			token_parts p;
			CHECK(!parse_exact("ptk", body, bl + 6, &p),
			      "secret with 0x%02x at %d accepted", c, pos);
		}
		for (int pos = 0; pos < TOKEN_CHECK_LEN; pos++) {
			char t2[TOKEN_TEXT_MAX + 1];
			memcpy(t2, tok, len + 1);
			t2[len - 6 + pos] = (char)c;
			token_parts p;
			CHECK(!parse_exact("ptk", t2, len, &p),
			      "check with 0x%02x at %d accepted", c, pos);
		}
	}

	/* One char short or long: in the id, in the secret (check digits
	 * recomputed), and in the check itself. */
	{
		char body[128], sid[TOKEN_ID_LEN + 2], ssec[TOKEN_SECRET_LEN + 2];
		snprintf(sid, sizeof(sid), "%.11s", parts.id);
		ref_build(body, sizeof(body), "ptk", sid, parts.secret);
		CHECK(!parse_str("ptk", body), "id one short accepted");
		snprintf(sid, sizeof(sid), "%sA", parts.id);
		ref_build(body, sizeof(body), "ptk", sid, parts.secret);
		CHECK(!parse_str("ptk", body), "id one long accepted");
		snprintf(ssec, sizeof(ssec), "%.31s", parts.secret);
		ref_build(body, sizeof(body), "ptk", parts.id, ssec);
		CHECK(!parse_str("ptk", body), "secret one short accepted");
		snprintf(ssec, sizeof(ssec), "%sA", parts.secret);
		ref_build(body, sizeof(body), "ptk", parts.id, ssec);
		CHECK(!parse_str("ptk", body), "secret one long accepted");
		token_parts p;
		CHECK(!parse_exact("ptk", tok, len - 1, &p), "token minus last char");
		memcpy(body, tok, len);
		body[len] = '0';
		CHECK(!parse_exact("ptk", body, len + 1, &p), "token plus a char");
		/* 5 check digits: the leading zero dropped from a CRC < 62^5 */
		CHECK(!parse_exact("ptk", tok + 1, len - 1, &p),
		      "token minus first char");
	}

	/* Every single-byte change of several valid tokens fails (CRC-32
	 * detects every error burst of up to 32 bits, and the 6 check digits
	 * spell one number only). */
	for (int round = 0; round < 20; round++) {
		token_parts p0;
		char t0[TOKEN_TEXT_MAX + 1];
		fresh("ptk", t0, sizeof(t0), &p0);
		size_t l0 = strlen(t0);
		int accepted = 0;
		for (size_t pos = 0; pos < l0; pos++) {
			for (int v = 0; v < 256; v++) {
				if ((unsigned char)t0[pos] == v)
					continue;
				char t1[TOKEN_TEXT_MAX + 1];
				memcpy(t1, t0, l0);
				t1[pos] = (char)v;
				token_parts p;
				if (parse_exact("ptk", t1, l0, &p) && accepted++ < 3)
					CHECK(0, "change at %zu to 0x%02x accepted",
					      pos, v);
			}
		}
		CHECK(accepted == 0, "%d single-byte changes accepted", accepted);
		/* Adjacent transpositions too (an ordinary typo). */
		int tacc = 0;
		for (size_t pos = 0; pos + 1 < l0; pos++) {
			if (t0[pos] == t0[pos + 1])
				continue;
			char t1[TOKEN_TEXT_MAX + 1];
			memcpy(t1, t0, l0);
			t1[pos] = t0[pos + 1];
			t1[pos + 1] = t0[pos];
			token_parts p;
			if (parse_exact("ptk", t1, l0, &p))
				tacc++;
		}
		CHECK(tacc == 0, "%d transpositions accepted", tacc);
	}

	/* NUL inside: the token followed by a NUL, len counting it; a NUL
	 * in the middle; the token cut at a NUL with the rest after it. */
	{
		token_parts p;
		char t1[TOKEN_TEXT_MAX + 2];
		memcpy(t1, tok, len + 1); /* includes the NUL */
		CHECK(!parse_exact("ptk", t1, len + 1, &p),
		      "token + NUL (len counts the NUL) accepted");
		memcpy(t1, tok, len);
		t1[20] = '\0';
		CHECK(!parse_exact("ptk", t1, len, &p), "NUL inside accepted");
		/* NUL + token: the prefix compare must not stop at a NUL */
		t1[0] = '\0';
		memcpy(t1 + 1, tok, len);
		CHECK(!parse_exact("ptk", t1, len + 1, &p), "NUL + token accepted");
	}

	/* Degenerate lengths. */
	{
		token_parts p;
		CHECK(!parse_exact("ptk", "", 0, &p), "empty accepted");
		CHECK(!token_parse("ptk", "", 0, &p), "empty (literal) accepted");
		CHECK(!token_parse("ptk", NULL, 0, &p), "NULL accepted");
		CHECK(!parse_exact("ptk", "p", 1, &p), "1 byte accepted");
		CHECK(!parse_exact("ptk", "ptk_", 4, &p), "prefix only accepted");
		size_t big = 1024 * 1024;
		char *a = malloc(big);
		if (!a)
			abort();
		memset(a, 'A', big);
		CHECK(!token_parse("ptk", a, big, &p), "1 MiB of 'A' accepted");
		/* 1 MiB that starts with a valid token */
		memcpy(a, tok, len);
		CHECK(!token_parse("ptk", a, big, &p),
		      "valid token followed by 1 MiB accepted");
		free(a);
		/* an ordinary password */
		CHECK(!parse_str("ptk", "correct horse battery staple"),
		      "password accepted");
		CHECK(!parse_str("ptk", "hunter2"), "password accepted");
	}

	/* A body of 50 valid characters with check digits that spell a
	 * number >= 2^32 ("zzzzzz"): must not wrap around to match. */
	{
		char t1[TOKEN_TEXT_MAX + 1];
		memcpy(t1, tok, len + 1);
		memcpy(t1 + len - 6, "zzzzzz", 6);
		CHECK(!parse_str("ptk", t1), "check zzzzzz accepted");
	}
	/* The reference building a token from the product's parts gives a
	 * text the product accepts (the two agree, in both directions). */
	ref_build(buf, sizeof(buf), "ptk", parts.id, parts.secret);
	CHECK(strcmp(buf, tok) == 0, "reference build differs: %s vs %s", buf,
	      tok);
	/* And hand-built tokens from arbitrary base62 fields parse, with the
	 * parts copied out exactly. */
	{
		token_parts p;
		ref_build(buf, sizeof(buf), "ptk", "000000000000",
			  "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz");
		memset(&p, 0x41, sizeof(p));
		CHECK(parse_exact("ptk", buf, strlen(buf), &p) &&
			      strcmp(p.id, "000000000000") == 0 &&
			      strcmp(p.secret, "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz") == 0,
		      "hand-built token did not parse to its parts");
	}
	token_parts_wipe(&parts);
}

static void test_prefix(void)
{
	CHECK(token_prefix_valid("ptk"), "ptk");
	CHECK(token_prefix_valid("a"), "one char");
	CHECK(token_prefix_valid("Z9"), "Z9");
	CHECK(token_prefix_valid("0123456789abcdef"), "16 chars");
	CHECK(!token_prefix_valid("0123456789abcdefg"), "17 chars");
	CHECK(!token_prefix_valid(""), "empty");
	CHECK(!token_prefix_valid(NULL), "NULL");
	CHECK(!token_prefix_valid("pt_k"), "underscore");
	CHECK(!token_prefix_valid("pt-k"), "dash");
	CHECK(!token_prefix_valid("ptk "), "trailing space");
	CHECK(!token_prefix_valid(" ptk"), "leading space");
	CHECK(!token_prefix_valid("pt\xc3\xa9"), "non-ASCII");
	CHECK(!token_prefix_valid("pt\n"), "newline");

	/* Generation honours the prefix rules and the output size. */
	token_parts parts;
	char text[TOKEN_TEXT_MAX + 1];
	CHECK(token_generate("", &parts, text, sizeof(text)) != 0,
	      "generate with empty prefix");
	CHECK(token_generate("bad_prefix", &parts, text, sizeof(text)) != 0,
	      "generate with bad prefix");
	CHECK(token_generate("0123456789abcdefg", &parts, text, sizeof(text)) != 0,
	      "generate with 17-char prefix");
	/* 16-char prefix: the longest token fits TOKEN_TEXT_MAX exactly */
	CHECK(token_generate("0123456789abcdef", &parts, text, sizeof(text)) == 0 &&
		      strlen(text) == TOKEN_TEXT_MAX &&
		      ref_shape("0123456789abcdef", text) &&
		      parse_str("0123456789abcdef", text),
	      "16-char prefix token");
	/* outlen one short of what the token needs must fail cleanly */
	char small[TOKEN_LEN_PTK + 1];
	memset(small, 0x7e, sizeof(small));
	CHECK(token_generate("ptk", &parts, small, TOKEN_LEN_PTK) != 0,
	      "generate into a buffer with no room for the NUL");
	CHECK(token_generate("ptk", &parts, small, sizeof(small)) == 0 &&
		      strlen(small) == TOKEN_LEN_PTK,
	      "generate into an exact buffer");

	/* token_id_valid */
	CHECK(token_id_valid("0123456789aZ"), "id valid");
	CHECK(!token_id_valid("0123456789a"), "id 11");
	CHECK(!token_id_valid("0123456789aZb"), "id 13");
	CHECK(!token_id_valid("0123456789a_"), "id with _");
	CHECK(!token_id_valid(""), "empty id");
	CHECK(!token_id_valid(NULL), "NULL id");
}

static void test_generate_for_id(void)
{
	token_parts a, b;
	char ta[TOKEN_TEXT_MAX + 1], tb[TOKEN_TEXT_MAX + 1];
	const char *id = "AbCdEf012345";

	CHECK(token_generate_for_id("ptk", id, &a, ta, sizeof(ta)) == 0,
	      "generate_for_id");
	CHECK(token_generate_for_id("ptk", id, &b, tb, sizeof(tb)) == 0,
	      "generate_for_id again");
	CHECK(strcmp(a.id, id) == 0 && strcmp(b.id, id) == 0, "id kept");
	CHECK(strncmp(ta, "ptk_AbCdEf012345_", 17) == 0, "id in the text: %s", ta);
	CHECK(strcmp(a.secret, b.secret) != 0, "same secret twice");
	CHECK(ref_shape("ptk", ta) && ref_shape("ptk", tb), "shape");
	token_parts p;
	CHECK(parse_exact("ptk", ta, strlen(ta), &p) && strcmp(p.id, id) == 0 &&
		      strcmp(p.secret, a.secret) == 0,
	      "rotated token parses to its parts");
	char want[7];
	ref_check(ta, strlen(ta) - 6, want);
	CHECK(strcmp(ta + strlen(ta) - 6, want) == 0, "rotated check digits");
	CHECK(token_generate_for_id("ptk", "short", &a, ta, sizeof(ta)) != 0,
	      "bad id accepted");
	CHECK(token_generate_for_id("ptk", "AbCdEf01234_", &a, ta, sizeof(ta)) != 0,
	      "id with _ accepted");
	CHECK(token_generate_for_id("p_k", id, &a, ta, sizeof(ta)) != 0,
	      "bad prefix accepted");

	/* token_parts_wipe really wipes */
	token_parts w;
	memset(&w, 'x', sizeof(w));
	token_parts_wipe(&w);
	static const token_parts zero;
	CHECK(memcmp(&w, &zero, sizeof(w)) == 0, "wipe left bytes");
}

int main(void)
{
	test_reference_crc();
	test_prefix();
	test_generate_many();
	test_parse_rejects();
	test_generate_for_id();
	return th_summary("test_token: all passed");
}
