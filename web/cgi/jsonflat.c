/* See jsonflat.h. A cursor over the input; every step checks the end. */
#include <string.h>

#include "jsonflat.h"

typedef struct cur {
	const unsigned char *p, *end;
	char *arena, *aend;
	const char *why;
} cur;

static int fail(cur *c, const char *why)
{
	if (!c->why)
		c->why = why;
	return -1;
}

static void skip_ws(cur *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
				 *c->p == '\n' || *c->p == '\r'))
		c->p++;
}

static int hex4(cur *c, unsigned *out)
{
	unsigned v = 0;
	if (c->end - c->p < 4)
		return fail(c, "a \\u escape is cut short");
	for (int i = 0; i < 4; i++) {
		unsigned char ch = *c->p++;
		unsigned d;
		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else if (ch >= 'A' && ch <= 'F')
			d = ch - 'A' + 10;
		else
			return fail(c, "a \\u escape is not hexadecimal");
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static int put(cur *c, unsigned char ch)
{
	if (c->arena >= c->aend)
		return fail(c, "the request is too large");
	*c->arena++ = (char)ch;
	return 0;
}

/* One code point as UTF-8; control characters are never wanted here. */
static int put_cp(cur *c, unsigned cp)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
		return fail(c, "a text holds a control character");
	if (cp < 0x80)
		return put(c, (unsigned char)cp);
	if (cp < 0x800)
		return put(c, 0xc0 | cp >> 6) || put(c, 0x80 | (cp & 0x3f));
	if (cp < 0x10000)
		return put(c, 0xe0 | cp >> 12) || put(c, 0x80 | (cp >> 6 & 0x3f)) ||
		       put(c, 0x80 | (cp & 0x3f));
	return put(c, 0xf0 | cp >> 18) || put(c, 0x80 | (cp >> 12 & 0x3f)) ||
	       put(c, 0x80 | (cp >> 6 & 0x3f)) || put(c, 0x80 | (cp & 0x3f));
}

/* One raw UTF-8 sequence starting at c->p (its first byte >= 0x80). */
static int utf8_seq(cur *c, unsigned *cp)
{
	unsigned char b = *c->p;
	int n;
	unsigned v, min;
	if (b >= 0xc2 && b <= 0xdf)
		n = 1, v = b & 0x1f, min = 0x80;
	else if (b >= 0xe0 && b <= 0xef)
		n = 2, v = b & 0x0f, min = 0x800;
	else if (b >= 0xf0 && b <= 0xf4)
		n = 3, v = b & 0x07, min = 0x10000;
	else
		return fail(c, "a text is not valid UTF-8");
	if (c->end - c->p <= n)
		return fail(c, "a text is not valid UTF-8");
	for (int i = 1; i <= n; i++) {
		if ((c->p[i] & 0xc0) != 0x80)
			return fail(c, "a text is not valid UTF-8");
		v = v << 6 | (c->p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return fail(c, "a text is not valid UTF-8");
	c->p += n + 1;
	*cp = v;
	return 0;
}

/* A string at c->p (the opening quote); *out points into the arena. */
static int string(cur *c, const char **out, size_t max)
{
	if (c->p >= c->end || *c->p != '"')
		return fail(c, "a text was expected");
	c->p++;
	char *start = c->arena;
	for (;;) {
		if (c->p >= c->end)
			return fail(c, "a text is not closed");
		unsigned char ch = *c->p;
		unsigned cp;
		if (ch == '"') {
			c->p++;
			break;
		}
		if (ch < 0x20)
			return fail(c, "a text holds a control character");
		if (ch == '\\') {
			c->p++;
			if (c->p >= c->end)
				return fail(c, "a text is not closed");
			ch = *c->p++;
			switch (ch) {
			case '"': case '\\': case '/': cp = ch; break;
			case 'b': cp = '\b'; break;
			case 'f': cp = '\f'; break;
			case 'n': cp = '\n'; break;
			case 'r': cp = '\r'; break;
			case 't': cp = '\t'; break;
			case 'u':
				if (hex4(c, &cp))
					return -1;
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return fail(c, "a text holds a lone surrogate");
				if (cp >= 0xd800 && cp <= 0xdbff) {
					unsigned lo;
					if (c->end - c->p < 2 || c->p[0] != '\\' || c->p[1] != 'u')
						return fail(c, "a text holds a lone surrogate");
					c->p += 2;
					if (hex4(c, &lo))
						return -1;
					if (lo < 0xdc00 || lo > 0xdfff)
						return fail(c, "a text holds a lone surrogate");
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				break;
			default:
				return fail(c, "a text holds an unknown escape");
			}
		} else if (ch >= 0x80) {
			if (utf8_seq(c, &cp))
				return -1;
		} else {
			cp = ch;
			c->p++;
		}
		if (put_cp(c, cp))
			return -1;
		if ((size_t)(c->arena - start) > max)
			return fail(c, "a text is too long");
	}
	if (put(c, 0))
		return -1;
	*out = start;
	return 0;
}

static int literal(cur *c, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
		return fail(c, "the request is not valid JSON");
	c->p += n;
	return 0;
}

/* -?(0|[1-9][0-9]*), no fraction or exponent, within +-10^15. */
static int integer(cur *c, long long *out)
{
	bool neg = false;
	long long v = 0;
	int digits = 0;
	if (c->p < c->end && *c->p == '-') {
		neg = true;
		c->p++;
	}
	if (c->p >= c->end || *c->p < '0' || *c->p > '9')
		return fail(c, "the request is not valid JSON");
	if (*c->p == '0' && c->end - c->p > 1 && c->p[1] >= '0' && c->p[1] <= '9')
		return fail(c, "a number has a leading zero");
	while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
		if (++digits > 15)
			return fail(c, "a number is too large");
		v = v * 10 + (*c->p++ - '0');
	}
	if (c->p < c->end && (*c->p == '.' || *c->p == 'e' || *c->p == 'E'))
		return fail(c, "a number must be a whole number");
	*out = neg ? -v : v;
	return 0;
}

static int value(cur *c, jf_field *f)
{
	if (c->p >= c->end)
		return fail(c, "the request is not valid JSON");
	switch (*c->p) {
	case 'n':
		f->type = JF_NULL;
		return literal(c, "null");
	case 't':
		f->type = JF_BOOL;
		f->b = true;
		return literal(c, "true");
	case 'f':
		f->type = JF_BOOL;
		f->b = false;
		return literal(c, "false");
	case '"':
		f->type = JF_STRING;
		return string(c, &f->s, JF_STRING_MAX);
	case '[':
		f->type = JF_ARRAY;
		c->p++;
		skip_ws(c);
		if (c->p < c->end && *c->p == ']') {
			c->p++;
			return 0;
		}
		for (;;) {
			if (f->n >= JF_ARRAY_MAX)
				return fail(c, "a list is too long");
			skip_ws(c);
			if (string(c, &f->a[f->n], JF_STRING_MAX))
				return fail(c, "a list may hold only texts");
			f->n++;
			skip_ws(c);
			if (c->p < c->end && *c->p == ',') {
				c->p++;
				continue;
			}
			if (c->p < c->end && *c->p == ']') {
				c->p++;
				return 0;
			}
			return fail(c, "a list is not closed");
		}
	case '{':
		return fail(c, "nested objects are not accepted");
	default:
		f->type = JF_INT;
		return integer(c, &f->i);
	}
}

int jf_parse(const char *in, size_t len, char *arena, size_t arena_len,
	     jf_doc *doc, const char **why)
{
	cur c = { (const unsigned char *)in, (const unsigned char *)in + len,
		  arena, arena + arena_len, NULL };
	memset(doc, 0, sizeof(*doc));
	skip_ws(&c);
	if (c.p >= c.end || *c.p != '{') {
		fail(&c, "the request must be a JSON object");
		goto bad;
	}
	c.p++;
	skip_ws(&c);
	if (c.p < c.end && *c.p == '}') {
		c.p++;
	} else {
		for (;;) {
			const char *key;
			if (doc->n >= JF_FIELDS_MAX) {
				fail(&c, "the request has too many fields");
				goto bad;
			}
			skip_ws(&c);
			if (string(&c, &key, JF_KEY_MAX))
				goto bad;
			if (strlen(key) > JF_KEY_MAX || jf_get(doc, key)) {
				fail(&c, strlen(key) > JF_KEY_MAX ? "a field name is too long"
								  : "a field appears twice");
				goto bad;
			}
			jf_field *f = &doc->f[doc->n];
			strcpy(f->key, key);
			skip_ws(&c);
			if (c.p >= c.end || *c.p != ':') {
				fail(&c, "the request is not valid JSON");
				goto bad;
			}
			c.p++;
			skip_ws(&c);
			if (value(&c, f))
				goto bad;
			doc->n++;
			skip_ws(&c);
			if (c.p < c.end && *c.p == ',') {
				c.p++;
				continue;
			}
			if (c.p < c.end && *c.p == '}') {
				c.p++;
				break;
			}
			fail(&c, "the request is not valid JSON");
			goto bad;
		}
	}
	skip_ws(&c);
	if (c.p != c.end) {
		fail(&c, "the request has bytes after its object");
		goto bad;
	}
	return 0;
bad:
	memset(doc, 0, sizeof(*doc));
	*why = c.why ? c.why : "the request is not valid JSON";
	return -1;
}

const jf_field *jf_get(const jf_doc *doc, const char *key)
{
	for (size_t i = 0; i < doc->n; i++)
		if (strcmp(doc->f[i].key, key) == 0)
			return &doc->f[i];
	return NULL;
}

static int append(char *buf, size_t cap, size_t *off, const char *s, size_t n)
{
	if (*off + n >= cap) {
		if (cap)
			buf[*off < cap ? *off : cap - 1] = 0;
		return -1;
	}
	memcpy(buf + *off, s, n);
	*off += n;
	buf[*off] = 0;
	return 0;
}

int jf_put_string(char *buf, size_t cap, size_t *off, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (append(buf, cap, off, "\"", 1))
		return -1;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char esc[7];
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			if (append(buf, cap, off, esc, 2))
				return -1;
		} else if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>' || *p == '&') {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			if (append(buf, cap, off, esc, 6))
				return -1;
		} else if (append(buf, cap, off, (const char *)p, 1)) {
			return -1;
		}
	}
	return append(buf, cap, off, "\"", 1);
}
