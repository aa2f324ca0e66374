/* Host rules (pam_apitoken(8), HOST RULES): addr_list_parse,
 * addr_list_format, addr_client_parse, addr_check, addr_list_append.
 *
 * Input: "ALLOW\nDENY\nRHOST" (missing parts are empty; an RHOST of exactly
 * "-" means PAM_RHOST unset). Every part is a C string: bytes after a NUL
 * are not seen, as they would not be by the module.
 *
 * Checks:
 *  - a refused list leaves an empty list and a printable, terminated error
 *    (it ends up in logs and on terminals);
 *  - format -> parse -> format is the identity on what was parsed, and gives
 *    the same rules; a buffer one byte short fails and leaves "";
 *  - an address that addr_client_parse accepts also parses as a rule, and
 *    that rule matches it; a hostname/garbage client is INVALID;
 *  - addr_check equals an independent evaluation of the rule of
 *    pam_apitoken(8), HOST RULES
 *    (as addr.h states it: a client without PAM_RHOST needs an explicit
 *    "local" allow rule once any rule exists) with a bit-by-bit prefix
 *    match;
 *  - appending a list to itself doubles it (or fails cleanly at the limit). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "addr.h"
#include "fuzz_common.h"

#define WORST_RULE_TEXT 64 /* "ffff:...:ffff/128" plus separator */

static size_t alen(int family)
{
	return family == AF_INET ? 4 : 16;
}

static bool bit(const uint8_t *a, unsigned i)
{
	return (a[i / 8] >> (7 - i % 8)) & 1;
}

static bool ref_rule_match(const addr_rule *r, const addr_client *c)
{
	if (r->family == 0)
		return c->kind == ADDR_CLIENT_LOCAL;
	if (c->kind != ADDR_CLIENT_IP || c->family != r->family)
		return false;
	for (unsigned i = 0; i < r->prefix; i++)
		if (bit(r->addr, i) != bit(c->addr, i))
			return false;
	return true;
}

static bool ref_match(const addr_list *l, const addr_client *c)
{
	for (size_t i = 0; i < l->n; i++)
		if (ref_rule_match(&l->rules[i], c))
			return true;
	return false;
}

static addr_verdict ref_check(const addr_list *allow, const addr_list *deny,
			      const addr_client *c)
{
	if (allow->n == 0 && deny->n == 0)
		return ADDR_ALLOWED;
	if (c->kind == ADDR_CLIENT_INVALID)
		return ADDR_BAD_RHOST;
	if (ref_match(deny, c))
		return ADDR_DENIED;
	/* No PAM_RHOST: admitted only by an explicit "local" allow rule. */
	if (c->kind == ADDR_CLIENT_LOCAL)
		return ref_match(allow, c) ? ADDR_ALLOWED : ADDR_BAD_RHOST;
	if (allow->n > 0 && !ref_match(allow, c))
		return ADDR_DENIED;
	return ADDR_ALLOWED;
}

static void check_rule_sane(const addr_rule *r)
{
	FUZZ_CHECK(r->family == 0 || r->family == AF_INET ||
			   r->family == AF_INET6, "family %d", r->family);
	if (r->family == 0)
		return;
	unsigned max = r->family == AF_INET ? 32 : 128;
	FUZZ_CHECK(r->prefix <= max, "prefix %u", r->prefix);
	/* Host bits are masked off. */
	for (unsigned i = r->prefix; i < alen(r->family) * 8; i++)
		FUZZ_CHECK(!bit(r->addr, i), "host bit %u set", i);
	/* An IPv4-mapped IPv6 rule must have been turned into IPv4. */
	if (r->family == AF_INET6) {
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
						    0xff, 0xff };
		FUZZ_CHECK(r->prefix < 96 || memcmp(r->addr, mapped, 12) != 0,
			   "v4-mapped rule kept as IPv6");
	}
}

static bool same_rules(const addr_list *a, const addr_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const addr_rule *x = &a->rules[i], *y = &b->rules[i];
		if (x->family != y->family)
			return false;
		if (x->family && (x->prefix != y->prefix ||
				  memcmp(x->addr, y->addr, alen(x->family)) != 0))
			return false;
	}
	return true;
}

/* Parse text; on success run the round trips. Returns whether it parsed. */
static bool parse_and_check(const char *text, addr_list *out)
{
	char err[96];

	memset(err, 'x', sizeof(err));
	if (addr_list_parse(text, out, err, sizeof(err)) != 0) {
		FUZZ_CHECK(out->n == 0 && out->rules == NULL, "list after failure");
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL,
			   "error not terminated");
		FUZZ_CHECK(err[0] != '\0', "no reason given");
		FUZZ_CHECK(fuzz_printable(err), "unprintable error: %s", err);
		return false;
	}
	for (size_t i = 0; i < out->n; i++)
		check_rule_sane(&out->rules[i]);

	size_t cap = out->n * WORST_RULE_TEXT + 1;
	char *f1 = malloc(cap), *f2 = malloc(cap);
	if (!f1 || !f2)
		FUZZ_FAIL("out of memory");
	FUZZ_CHECK(addr_list_format(out, f1, cap) == 0, "format failed");
	size_t flen = strlen(f1);

	addr_list again;
	FUZZ_CHECK(addr_list_parse(f1, &again, err, sizeof(err)) == 0,
		   "formatted list does not parse: '%s': %s", f1, err);
	FUZZ_CHECK(same_rules(out, &again), "rules changed: '%s'", f1);
	FUZZ_CHECK(addr_list_format(&again, f2, cap) == 0 && strcmp(f1, f2) == 0,
		   "format not stable: '%s' vs '%s'", f1, f2);
	addr_list_free(&again);

	/* Exactly enough room works; one byte less fails and leaves "". */
	FUZZ_CHECK(addr_list_format(out, f2, flen + 1) == 0 &&
			   strcmp(f1, f2) == 0, "exact-size format");
	if (flen > 0) {
		memset(f2, 'x', flen);
		FUZZ_CHECK(addr_list_format(out, f2, flen) == -1 && f2[0] == '\0',
			   "short buffer: '%.*s'", (int)flen, f2);
	}
	free(f1);
	free(f2);
	return true;
}

static char *next_part(char **p)
{
	char *s = *p;
	char *nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = s + strlen(s);
	}
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *input = fuzz_cstr(data, size);
	char *p = input;
	char *allow_text = next_part(&p);
	char *deny_text = next_part(&p);
	char *rhost_text = p;
	const char *rhost = strcmp(rhost_text, "-") == 0 ? NULL : rhost_text;
	addr_list allow = { 0 }, deny = { 0 };
	addr_client client;

	bool allow_ok = parse_and_check(allow_text, &allow);
	bool deny_ok = parse_and_check(deny_text, &deny);
	if (fuzz_verbose())
		fprintf(stderr, "addr: allow %s (%zu), deny %s (%zu)\n",
			allow_ok ? "ok" : "refused", allow.n,
			deny_ok ? "ok" : "refused", deny.n);

	memset(&client, 0xa5, sizeof(client));
	addr_client_parse(rhost, &client);
	if (!rhost || !*rhost) {
		FUZZ_CHECK(client.kind == ADDR_CLIENT_LOCAL, "empty rhost kind");
	} else if (client.kind == ADDR_CLIENT_IP) {
		FUZZ_CHECK(client.family == AF_INET || client.family == AF_INET6,
			   "client family");
		FUZZ_CHECK(!strchr(rhost, '%') && !strchr(rhost, '/'),
			   "client with zone or prefix accepted: %s", rhost);
		/* The same text as a rule matches the client. */
		addr_list one;
		char err[96];
		FUZZ_CHECK(addr_list_parse(rhost, &one, err, sizeof(err)) == 0 &&
				   one.n == 1,
			   "client address '%s' is not a valid rule: %s", rhost,
			   err);
		FUZZ_CHECK(addr_list_match(&one, &client) &&
				   ref_match(&one, &client),
			   "rule '%s' does not match itself", rhost);
		FUZZ_CHECK(one.rules[0].prefix == (client.family == AF_INET ? 32u
									   : 128u),
			   "host rule prefix");
		addr_list_free(&one);
	} else {
		FUZZ_CHECK(client.kind == ADDR_CLIENT_INVALID, "client kind %d",
			   (int)client.kind);
		/* Numeric text inet_pton accepts is never INVALID. */
		uint8_t a[16];
		FUZZ_CHECK(strlen(rhost) >= INET6_ADDRSTRLEN ||
				   (inet_pton(AF_INET, rhost, a) != 1 &&
				    inet_pton(AF_INET6, rhost, a) != 1),
			   "numeric rhost '%s' called invalid", rhost);
	}

	if (allow_ok && deny_ok) {
		addr_verdict v = addr_check(&allow, &deny, &client);
		addr_verdict want = ref_check(&allow, &deny, &client);
		if (fuzz_verbose())
			fprintf(stderr, "addr: client kind %d, verdict %d\n",
				(int)client.kind, (int)v);
		FUZZ_CHECK(v == want, "addr_check %d, reference %d", (int)v,
			   (int)want);
		/* No lists at all: the NULL form agrees. */
		if (allow.n == 0 && deny.n == 0)
			FUZZ_CHECK(addr_check(NULL, NULL, &client) == ADDR_ALLOWED,
				   "NULL lists");
		FUZZ_CHECK(addr_list_match(&allow, &client) ==
				   ref_match(&allow, &client), "match differs");
	}

	/* Self-append: twice the rules, in order, or a clean refusal. */
	if (allow_ok && allow.n > 0) {
		size_t n = allow.n;
		addr_list copy = { 0 };
		FUZZ_CHECK(addr_list_append(&copy, &allow) == 0 && copy.n == n,
			   "append to empty");
		if (addr_list_append(&copy, &copy) == 0) {
			FUZZ_CHECK(copy.n == 2 * n, "self-append count");
			for (size_t i = 0; i < n; i++)
				FUZZ_CHECK(memcmp(&copy.rules[i], &copy.rules[n + i],
						  sizeof(addr_rule)) == 0,
					   "self-append rule %zu", i);
		} else {
			FUZZ_CHECK(copy.n == n, "failed append changed the list");
		}
		addr_list_free(&copy);
	}

	addr_list_free(&allow);
	addr_list_free(&deny);
	free(input);
	return 0;
}
