/* A strict parser for the flat JSON documents of the web API (RFC 8259
 * syntax, a subset of its shapes): one object whose values are null,
 * true/false, integers, strings, or arrays of strings. Nothing nests
 * deeper, so there is no recursion and no depth to exhaust.
 *
 * Strict on purpose, since the values end up in tokenadm's argv: a
 * duplicate key, a number with a fraction or exponent, a leading zero,
 * a string that is not valid UTF-8 (overlong forms and surrogates
 * included) or that holds a control character (escaped or not), trailing
 * bytes after the object: all refused. Decoded strings live in an arena
 * the caller provides; a decoded string is never longer than its encoded
 * form, so an arena as long as the input always suffices. */
#ifndef APITOKEN_WEB_JSONFLAT_H
#define APITOKEN_WEB_JSONFLAT_H

#include <stdbool.h>
#include <stddef.h>

#define JF_KEY_MAX 32      /* longest key, bytes */
#define JF_FIELDS_MAX 16   /* members of the object */
#define JF_ARRAY_MAX 32    /* elements of one array */
#define JF_STRING_MAX 4096 /* longest decoded string, bytes */

typedef enum jf_type { JF_NULL, JF_BOOL, JF_INT, JF_STRING, JF_ARRAY } jf_type;

typedef struct jf_field {
	char key[JF_KEY_MAX + 1];
	jf_type type;
	bool b;
	long long i;
	const char *s;            /* JF_STRING: NUL-terminated, in the arena */
	const char *a[JF_ARRAY_MAX]; /* JF_ARRAY: n strings */
	size_t n;
} jf_field;

typedef struct jf_doc {
	jf_field f[JF_FIELDS_MAX];
	size_t n;
} jf_doc;

/* Parse in[0..len) into doc, strings into arena[0..arena_len). Returns 0,
 * or -1 with *why a static sentence for people. */
int jf_parse(const char *in, size_t len, char *arena, size_t arena_len,
	     jf_doc *doc, const char **why);

/* The member named key, or NULL. */
const jf_field *jf_get(const jf_doc *doc, const char *key);

/* Append s as a JSON string (quotes included) to buf[*off..cap); always
 * NUL-terminates. Returns -1 (buf truncated) when it does not fit.
 * Escapes '"', '\\', control characters and '<', '>', '&' (so the text is
 * inert even where a browser sniffs it as HTML). */
int jf_put_string(char *buf, size_t cap, size_t *off, const char *s);

#endif
