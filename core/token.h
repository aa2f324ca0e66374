/* The token text of tokenadm(8), TOKEN FORMAT: <prefix>_<id>_<secret><check>.
 *
 * Parsing is pure and cheap (no store, no key) so that an ordinary password
 * is recognised and handed on to the next module without any I/O. */
#ifndef APITOKEN_TOKEN_H
#define APITOKEN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_PREFIX_MAX 16
#define TOKEN_ID_LEN 12
#define TOKEN_SECRET_LEN 32
#define TOKEN_CHECK_LEN 6
/* Longest token text, without the terminating NUL. */
#define TOKEN_TEXT_MAX (TOKEN_PREFIX_MAX + 1 + TOKEN_ID_LEN + 1 + \
			TOKEN_SECRET_LEN + TOKEN_CHECK_LEN)

typedef struct token_parts {
	char id[TOKEN_ID_LEN + 1];
	char secret[TOKEN_SECRET_LEN + 1];
} token_parts;

/* Is prefix usable (1..16 ASCII letters and digits)? */
bool token_prefix_valid(const char *prefix);

/* Is text a syntactically valid token id (12 base62 characters)? */
bool token_id_valid(const char *text);

/* Make a new token: id and secret from the kernel CSPRNG, by rejection
 * sampling so every base62 digit is equally likely. out receives the full
 * text (outlen > TOKEN_TEXT_MAX). Returns 0 or -1. The caller wipes out
 * and parts. */
int token_generate(const char *prefix, token_parts *parts, char *out,
		   size_t outlen);

/* Make a new secret for an existing id (rotation). Same contract. */
int token_generate_for_id(const char *prefix, const char *id,
			  token_parts *parts, char *out, size_t outlen);

/* Split a password of len bytes (any bytes, any length) into parts.
 * Returns true only if it has the site's prefix, the right shape, base62
 * fields and a matching CRC. Never reads past len. */
bool token_parse(const char *prefix, const char *pw, size_t len,
		 token_parts *parts);

void token_parts_wipe(token_parts *parts);

#endif
