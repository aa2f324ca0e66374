/* Host rules (pam_apitoken(8), HOST RULES). Everything here is numeric:
 * inet_pton only, never a resolver, so a login can neither trigger nor be
 * steered by DNS. */
#include "addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* More rules than anyone writes by hand; the bound keeps a hostile or broken
 * list from making every login scan megabytes. */
#define ADDR_MAX_RULES 4096

/* How much of an offending word an error message shows. */
#define ADDR_ERR_WORD_MAX 40

/* Longest word worth looking at: a full IPv6 text plus "/128". Anything
 * longer cannot be valid, so we refuse it before copying it anywhere. */
#define ADDR_WORD_MAX (INET6_ADDRSTRLEN - 1 + 4)

static const char LOCAL_WORD[] = "local";

static bool is_separator(char c)
{
	return c == ' ' || c == '\t' || c == ',';
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static unsigned max_prefix(int family)
{
	return family == AF_INET ? 32 : 128;
}

/* "::ffff:a.b.c.d": an IPv4 client seen through an IPv6 socket. */
static bool is_v4_mapped(const uint8_t a[16])
{
	static const uint8_t head[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					  0xff, 0xff };
	return memcmp(a, head, sizeof(head)) == 0;
}

/* Zero every bit past the first prefix bits. */
static void mask_host_bits(uint8_t *a, size_t len, unsigned prefix)
{
	size_t whole = prefix / 8;
	unsigned rest = prefix % 8;

	if (whole >= len)
		return;
	if (rest) {
		a[whole] &= (uint8_t)(0xffu << (8 - rest));
		whole++;
	}
	memset(a + whole, 0, len - whole);
}

/* Do the first prefix bits of a and b agree? */
static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned prefix)
{
	size_t whole = prefix / 8;
	unsigned rest = prefix % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest) {
		uint8_t m = (uint8_t)(0xffu << (8 - rest));
		if ((a[whole] & m) != (b[whole] & m))
			return false;
	}
	return true;
}

/* A prefix length: plain decimal digits, no sign, no spaces, no leading zero
 * (so "08" is not quietly read as 8 or as octal), at most max. strtoul is
 * avoided on purpose: it accepts "+8", " 8" and wraps "-1". */
static int parse_prefix(const char *s, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		if (v > max) /* also stops any overflow */
			return -1;
	}
	*out = v;
	return 0;
}

/* Parse one word of a list into r. Returns NULL, or why it was refused. */
static const char *parse_word(const char *word, size_t len, addr_rule *r)
{
	char buf[ADDR_WORD_MAX + 1];
	uint8_t a[16];
	char *slash;
	int family;
	unsigned prefix;

	memset(r, 0, sizeof(*r));
	if (len == sizeof(LOCAL_WORD) - 1 &&
	    memcmp(word, LOCAL_WORD, len) == 0) {
		r->family = 0;
		return NULL;
	}
	if (len > ADDR_WORD_MAX)
		return "too long for an address";
	memcpy(buf, word, len);
	buf[len] = '\0';

	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	/* A zone only means something on one host's interface; a rule with one
	 * would match nothing or the wrong thing, so say so clearly. */
	if (strchr(buf, '%'))
		return "IPv6 zone ids are not allowed";

	/* inet_pton is strict: no hostnames, no "10.1" or "0x0a.0.0.1" shorthand,
	 * no octal-looking "010.0.0.1". */
	family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(family, buf, a) != 1)
		return "not an IP address, CIDR range or \"local\"";

	prefix = max_prefix(family);
	if (slash && parse_prefix(slash + 1, prefix, &prefix) != 0)
		return family == AF_INET ? "bad prefix length (want /0../32)"
					 : "bad prefix length (want /0../128)";

	if (family == AF_INET6 && is_v4_mapped(a)) {
		/* Clients in ::ffff:0:0/96 are matched as IPv4, so the rule must
		 * be IPv4 too. A shorter prefix would reach outside that range
		 * and has no IPv4 meaning: refuse rather than guess. */
		if (prefix < 96)
			return "prefix on an IPv4-mapped address must be /96 or more";
		memmove(a, a + 12, 4);
		family = AF_INET;
		prefix -= 96;
	}

	r->family = family;
	r->prefix = prefix;
	memcpy(r->addr, a, addr_len(family));
	/* 10.1.2.3/8 means 10.0.0.0/8: forgiving, and the stored rule is the
	 * range it matches, so formatting shows what is really enforced. */
	mask_host_bits(r->addr, addr_len(family), prefix);
	return NULL;
}

/* Report a bad word. The word came from a file or command line and may be
 * huge or binary: show a bounded, printable-ASCII excerpt. */
static void word_error(char *err, size_t errlen, const char *word, size_t len,
		       const char *why)
{
	char shown[ADDR_ERR_WORD_MAX + 4];
	size_t n = len < ADDR_ERR_WORD_MAX ? len : ADDR_ERR_WORD_MAX;
	size_t i;

	if (!err || errlen == 0)
		return;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)word[i];
		shown[i] = (char)((c >= 0x20 && c < 0x7f) ? c : '?');
	}
	if (n < len) {
		memcpy(shown + n, "...", 3);
		n += 3;
	}
	shown[n] = '\0';
	snprintf(err, errlen, "\"%s\": %s", shown, why);
}

static void set_error(char *err, size_t errlen, const char *why)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", why);
}

/* Make room for want rules. Returns 0 or -1 (errno set). */
static int reserve(addr_list *list, size_t *cap, size_t want)
{
	addr_rule *p;
	size_t ncap;

	if (want <= *cap)
		return 0;
	ncap = *cap ? *cap * 2 : 8;
	if (ncap < want)
		ncap = want;
	if (ncap > SIZE_MAX / sizeof(addr_rule)) {
		errno = ENOMEM;
		return -1;
	}
	p = realloc(list->rules, ncap * sizeof(addr_rule));
	if (!p)
		return -1;
	list->rules = p;
	*cap = ncap;
	return 0;
}

int addr_list_parse(const char *text, addr_list *out, char *err, size_t errlen)
{
	addr_list list = { NULL, 0 };
	size_t cap = 0;
	const char *p = text ? text : "";

	out->rules = NULL;
	out->n = 0;
	if (err && errlen)
		err[0] = '\0';

	for (;;) {
		const char *word;
		size_t len;
		const char *why;
		addr_rule r;

		while (is_separator(*p))
			p++;
		if (*p == '\0')
			break;
		word = p;
		while (*p && !is_separator(*p))
			p++;
		len = (size_t)(p - word);

		why = parse_word(word, len, &r);
		if (why) {
			word_error(err, errlen, word, len, why);
			goto fail;
		}
		/* Fail closed on an oversized list rather than keep a prefix
		 * of it: a truncated deny list would let through what it
		 * was meant to stop. */
		if (list.n >= ADDR_MAX_RULES) {
			set_error(err, errlen, "too many host rules (limit 4096)");
			goto fail;
		}
		if (reserve(&list, &cap, list.n + 1) != 0) {
			set_error(err, errlen, "out of memory");
			goto fail;
		}
		list.rules[list.n++] = r;
	}
	*out = list;
	return 0;

fail:
	free(list.rules);
	return -1;
}

int addr_list_append(addr_list *dst, const addr_list *src)
{
	size_t dn = dst->n, sn = src->n, cap = dst->n;

	if (sn == 0)
		return 0;
	/* Same limit as parsing, so whatever we build can be written out with
	 * addr_list_format and read back. */
	if (sn > ADDR_MAX_RULES || dn > ADDR_MAX_RULES - sn) {
		errno = E2BIG;
		return -1;
	}
	if (reserve(dst, &cap, dn + sn) != 0)
		return -1;
	/* src->rules is read only now: when a list is appended to itself,
	 * reserve has just moved it. */
	memcpy(dst->rules + dn, src->rules, sn * sizeof(addr_rule));
	dst->n = dn + sn;
	return 0;
}

void addr_list_free(addr_list *list)
{
	if (!list)
		return;
	free(list->rules);
	list->rules = NULL;
	list->n = 0;
}

int addr_client_format(const addr_client *client, char *buf, size_t buflen)
{
	if (client->kind != ADDR_CLIENT_IP ||
	    !inet_ntop(client->family, client->addr, buf, (socklen_t)buflen))
		return -1;
	return 0;
}

int addr_list_format(const addr_list *list, char *buf, size_t buflen)
{
	size_t used = 0;
	size_t i;

	if (!buf || buflen == 0)
		return -1;
	buf[0] = '\0';
	for (i = 0; list && i < list->n; i++) {
		const addr_rule *r = &list->rules[i];
		char ip[INET6_ADDRSTRLEN];
		int w;

		if (r->family == 0) {
			w = snprintf(buf + used, buflen - used, "%s%s",
				     i ? " " : "", LOCAL_WORD);
		} else {
			if (!inet_ntop(r->family, r->addr, ip, sizeof(ip)))
				goto fail;
			w = snprintf(buf + used, buflen - used, "%s%s/%u",
				     i ? " " : "", ip, r->prefix);
		}
		if (w < 0 || (size_t)w >= buflen - used)
			goto fail;
		used += (size_t)w;
	}
	return 0;

fail:
	/* Leave nothing rather than a prefix of the list that could be
	 * mistaken for all of it. */
	buf[0] = '\0';
	return -1;
}

void addr_client_parse(const char *rhost, addr_client *out)
{
	uint8_t a[16];

	memset(out, 0, sizeof(*out));
	if (!rhost || rhost[0] == '\0') {
		out->kind = ADDR_CLIENT_LOCAL;
		return;
	}
	/* Anything that does not parse as a bare numeric address is INVALID,
	 * never looked up: a hostname in PAM_RHOST comes from reverse DNS,
	 * which whoever controls the client's address space also controls. */
	out->kind = ADDR_CLIENT_INVALID;
	if (strnlen(rhost, INET6_ADDRSTRLEN) >= INET6_ADDRSTRLEN)
		return;
	if (inet_pton(AF_INET, rhost, a) == 1) {
		out->family = AF_INET;
		memcpy(out->addr, a, 4);
	} else if (inet_pton(AF_INET6, rhost, a) == 1) {
		if (is_v4_mapped(a)) {
			out->family = AF_INET;
			memcpy(out->addr, a + 12, 4);
		} else {
			out->family = AF_INET6;
			memcpy(out->addr, a, 16);
		}
	} else {
		return;
	}
	out->kind = ADDR_CLIENT_IP;
}

static bool rule_match(const addr_rule *r, const addr_client *c)
{
	if (r->family == 0)
		return c->kind == ADDR_CLIENT_LOCAL;
	if (c->kind != ADDR_CLIENT_IP || c->family != r->family)
		return false;
	/* A corrupt prefix must not read past the address. */
	if (r->prefix > max_prefix(r->family))
		return false;
	return prefix_equal(r->addr, c->addr, r->prefix);
}

bool addr_list_match(const addr_list *list, const addr_client *client)
{
	size_t i;

	if (!list || !client)
		return false;
	for (i = 0; i < list->n; i++)
		if (rule_match(&list->rules[i], client))
			return true;
	return false;
}

addr_verdict addr_check(const addr_list *allow, const addr_list *deny,
			const addr_client *client)
{
	size_t n_allow = allow ? allow->n : 0;
	size_t n_deny = deny ? deny->n : 0;

	if (n_allow == 0 && n_deny == 0)
		return ADDR_ALLOWED;
	/* Rules exist but we cannot tell who this is: fail closed, even for a
	 * deny-only list, because "not in the deny list" is unknowable. */
	if (!client || client->kind == ADDR_CLIENT_INVALID)
		return ADDR_BAD_RHOST;
	if (addr_list_match(deny, client))
		return ADDR_DENIED;
	/* No PAM_RHOST: only an explicit "local" in the allow list admits
	 * it. A deny-only list cannot tell whether an unnamed client is in a
	 * denied range, and a remote service that forgot to set PAM_RHOST
	 * must not slip past address rules. */
	if (client->kind == ADDR_CLIENT_LOCAL)
		return addr_list_match(allow, client) ? ADDR_ALLOWED :
							ADDR_BAD_RHOST;
	if (n_allow > 0 && !addr_list_match(allow, client))
		return ADDR_DENIED;
	return ADDR_ALLOWED;
}
