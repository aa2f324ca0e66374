/* Table-driven tests of core/addr.c: host-rule parsing, formatting, client
 * classification and the allow/deny verdict of pam_apitoken(8), HOST
 * RULES. */
#include "addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "harness.h"

static int checks;

/* A failure of the table row written at line (of this file). */
#define FAIL(line, ...) th_fail_at("test_addr.c", (line), __VA_ARGS__)

static const char *verdict_name(addr_verdict v)
{
	switch (v) {
	case ADDR_ALLOWED:
		return "ALLOWED";
	case ADDR_DENIED:
		return "DENIED";
	case ADDR_BAD_RHOST:
		return "BAD_RHOST";
	}
	return "?";
}

static const char *kind_name(addr_client_kind k)
{
	switch (k) {
	case ADDR_CLIENT_LOCAL:
		return "LOCAL";
	case ADDR_CLIENT_IP:
		return "IP";
	case ADDR_CLIENT_INVALID:
		return "INVALID";
	}
	return "?";
}

/* Printable form of a possibly NULL string for messages. */
static const char *show(const char *s)
{
	return s ? s : "(null)";
}

/* ---- verdicts ---------------------------------------------------------- */

struct verdict_row {
	int line;
	const char *allow;
	const char *deny;
	const char *rhost; /* NULL: PAM_RHOST absent */
	addr_verdict want;
};

#define V(a, d, r, w) { __LINE__, a, d, r, ADDR_##w }

static const struct verdict_row verdict_rows[] = {
	/* No rules at all: anyone, even an unusable rhost. */
	V("", "", "192.0.2.1", ALLOWED),
	V("", "", NULL, ALLOWED),
	V("", "", "UNKNOWN", ALLOWED),
	V("", "", "fe80::1%eth0", ALLOWED),
	V(" , ,", "\t", "host.example.com", ALLOWED),

	/* IPv4 exact. */
	V("10.0.0.1", "", "10.0.0.1", ALLOWED),
	V("10.0.0.1", "", "10.0.0.2", DENIED),
	V("10.0.0.1", "", "10.0.0.0", DENIED),
	V("192.0.2.255/32", "", "192.0.2.255", ALLOWED),
	V("192.0.2.255/32", "", "192.0.2.254", DENIED),

	/* IPv4 CIDR: first/last inside, one either side outside. */
	V("10.0.0.0/8", "", "10.0.0.0", ALLOWED),
	V("10.0.0.0/8", "", "10.255.255.255", ALLOWED),
	V("10.0.0.0/8", "", "9.255.255.255", DENIED),
	V("10.0.0.0/8", "", "11.0.0.0", DENIED),
	V("172.16.0.0/12", "", "172.16.0.0", ALLOWED),
	V("172.16.0.0/12", "", "172.31.255.255", ALLOWED),
	V("172.16.0.0/12", "", "172.15.255.255", DENIED),
	V("172.16.0.0/12", "", "172.32.0.0", DENIED),
	V("192.168.1.2/31", "", "192.168.1.2", ALLOWED),
	V("192.168.1.2/31", "", "192.168.1.3", ALLOWED),
	V("192.168.1.2/31", "", "192.168.1.1", DENIED),
	V("192.168.1.2/31", "", "192.168.1.4", DENIED),
	V("0.0.0.0/0", "", "255.255.255.255", ALLOWED),
	V("0.0.0.0/0", "", "0.0.0.0", ALLOWED),
	V("0.0.0.0/0", "", "::1", DENIED),
	V("0.0.0.0/0", "", "::ffff:8.8.8.8", ALLOWED),
	/* Host bits are masked: 10.1.2.3/8 is 10.0.0.0/8. */
	V("10.1.2.3/8", "", "10.200.0.1", ALLOWED),
	V("10.1.2.3/8", "", "11.1.2.3", DENIED),

	/* IPv6 exact and CIDR. */
	V("::1", "", "::1", ALLOWED),
	V("::1", "", "::2", DENIED),
	V("::1/128", "", "0:0:0:0:0:0:0:1", ALLOWED), /* Tomcat's form */
	V("::1/128", "", "0:0:0:0:0:0:0:2", DENIED),
	V("2001:db8::/32", "", "2001:db8::", ALLOWED),
	V("2001:db8::/32", "", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", ALLOWED),
	V("2001:db8::/32", "", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", DENIED),
	V("2001:db8::/32", "", "2001:db9::", DENIED),
	V("2001:DB8::/32", "", "2001:db8::1", ALLOWED),
	V("2001:db8::2/127", "", "2001:db8::2", ALLOWED),
	V("2001:db8::2/127", "", "2001:db8::3", ALLOWED),
	V("2001:db8::2/127", "", "2001:db8::1", DENIED),
	V("2001:db8::2/127", "", "2001:db8::4", DENIED),
	V("2001:db8:0:80::/57", "", "2001:db8:0:80::", ALLOWED),
	V("2001:db8:0:80::/57", "", "2001:db8:0:ff:ffff:ffff:ffff:ffff", ALLOWED),
	V("2001:db8:0:80::/57", "", "2001:db8:0:7f:ffff:ffff:ffff:ffff", DENIED),
	V("2001:db8:0:80::/57", "", "2001:db8:0:100::", DENIED),
	V("::/0", "", "fe80::1", ALLOWED),
	V("::/0", "", "10.0.0.1", DENIED),
	/* A mapped client is IPv4, so an IPv6-only /0 does not take it. */
	V("::/0", "", "::ffff:10.0.0.1", DENIED),

	/* ::ffff:a.b.c.d both ways. */
	V("10.0.0.0/8", "", "::ffff:10.1.2.3", ALLOWED),
	V("10.0.0.0/8", "", "::ffff:11.1.2.3", DENIED),
	V("10.0.0.1", "", "::ffff:a00:1", ALLOWED),
	V("10.0.0.1", "", "0:0:0:0:0:ffff:10.0.0.1", ALLOWED),
	V("::ffff:10.0.0.0/104", "", "10.9.9.9", ALLOWED),
	V("::ffff:10.0.0.0/104", "", "11.0.0.0", DENIED),
	V("::ffff:192.0.2.1", "", "192.0.2.1", ALLOWED),
	V("::ffff:192.0.2.1", "", "::ffff:192.0.2.1", ALLOWED),
	V("::ffff:192.0.2.1", "", "192.0.2.2", DENIED),
	V("::ffff:0.0.0.0/96", "", "203.0.113.9", ALLOWED),
	V("::ffff:0.0.0.0/96", "", "::1", DENIED),
	V("", "::ffff:10.0.0.0/104", "10.1.1.1", DENIED),
	V("", "10.0.0.0/8", "::ffff:10.1.1.1", DENIED),

	/* "local": a login with no remote host, and nothing else. */
	V("local", "", NULL, ALLOWED),
	V("local", "", "", ALLOWED),
	V("local", "", "127.0.0.1", DENIED),
	V("local", "", "::1", DENIED),
	V("10.0.0.0/8", "", NULL, BAD_RHOST),
	V("10.0.0.0/8", "", "", BAD_RHOST),
	V("10.0.0.0/8 local", "", "", ALLOWED),
	V("10.0.0.0/8 local", "", "10.2.3.4", ALLOWED),
	V("", "local", NULL, DENIED),
	V("", "local", "10.0.0.1", ALLOWED),
	V("", "10.0.0.0/8", NULL, BAD_RHOST), /* deny-only: unknowable */
	V("0.0.0.0/0 ::/0 local", "10.0.0.0/8", NULL, ALLOWED),
	V("local", "local", NULL, DENIED),

	/* Deny beats allow. */
	V("10.0.0.0/8", "10.66.0.0/16", "10.66.1.1", DENIED),
	V("10.0.0.0/8", "10.66.0.0/16", "10.66.255.255", DENIED),
	V("10.0.0.0/8", "10.66.0.0/16", "10.67.0.0", ALLOWED),
	V("10.0.0.0/8", "10.66.0.0/16", "10.65.255.255", ALLOWED),
	V("10.0.0.1", "10.0.0.1", "10.0.0.1", DENIED),
	V("::/0", "2001:db8::/32", "2001:db8::1", DENIED),
	V("::/0", "2001:db8::/32", "2001:db9::1", ALLOWED),
	V("", "10.66.0.0/16", "192.0.2.1", ALLOWED),
	V("", "10.66.0.0/16", "10.66.0.1", DENIED),

	/* Unusable rhost with rules: refused, whatever the rules say. */
	V("10.0.0.0/8", "", "host.example.com", BAD_RHOST),
	V("", "10.0.0.0/8", "UNKNOWN", BAD_RHOST),
	V("local", "", "garbage", BAD_RHOST),
	V("local", "", "localhost", BAD_RHOST),
	V("::/0", "", "fe80::1%eth0", BAD_RHOST),
	V("::/0", "", "[::1]", BAD_RHOST),
	V("0.0.0.0/0", "", "10.0.0.1 ", BAD_RHOST),
	V("0.0.0.0/0", "", " 10.0.0.1", BAD_RHOST),
	V("0.0.0.0/0", "", "10.1", BAD_RHOST),
	V("0.0.0.0/0", "", "010.0.0.1", BAD_RHOST),
	V("0.0.0.0/0", "", "0x7f.0.0.1", BAD_RHOST),
	V("0.0.0.0/0", "", "2130706433", BAD_RHOST),
	V("0.0.0.0/0", "", "256.0.0.1", BAD_RHOST),
	V("0.0.0.0/0", "", "10.0.0.1/32", BAD_RHOST),
	V("::ffff:0.0.0.0/96", "", "::ffff:1.2.3.4%eth0", BAD_RHOST),
	V("local", "", "\x01\xff", BAD_RHOST),
	V("0.0.0.0/0 ::/0 local", "", "0000:0000:0000:0000:0000:0000:0000:0001:", BAD_RHOST),
	V("0.0.0.0/0 ::/0", "",
	  "11111111111111111111111111111111111111111111111111111111111111111111",
	  BAD_RHOST),
	/* The longest legal text (45 chars) still parses. */
	V("0.0.0.0/0", "", "0000:0000:0000:0000:0000:ffff:255.255.255.255", ALLOWED),

	/* Separators: commas, spaces, tabs, any mix, leading and trailing. */
	V("192.0.2.1,192.0.2.2", "", "192.0.2.2", ALLOWED),
	V("192.0.2.1 , , 192.0.2.2\t", "", "192.0.2.2", ALLOWED),
	V(",,192.0.2.1,,", "", "192.0.2.1", ALLOWED),
	V(",,192.0.2.1,,", "", "192.0.2.3", DENIED),
	V("192.0.2.1\t::1", "", "::1", ALLOWED),
	V("192.0.2.1", "198.51.100.0/24,\t203.0.113.0/24", "203.0.113.7", DENIED),
};

static void test_verdicts(void)
{
	size_t i;

	for (i = 0; i < sizeof(verdict_rows) / sizeof(verdict_rows[0]); i++) {
		const struct verdict_row *t = &verdict_rows[i];
		addr_list allow, deny;
		addr_client c;
		char err[128];
		addr_verdict got;

		checks++;
		if (addr_list_parse(t->allow, &allow, err, sizeof(err)) != 0) {
			FAIL(t->line, "allow \"%s\" did not parse: %s",
			     t->allow, err);
			continue;
		}
		if (addr_list_parse(t->deny, &deny, err, sizeof(err)) != 0) {
			FAIL(t->line, "deny \"%s\" did not parse: %s",
			     t->deny, err);
			addr_list_free(&allow);
			continue;
		}
		addr_client_parse(t->rhost, &c);
		got = addr_check(&allow, &deny, &c);
		if (got != t->want)
			FAIL(t->line,
			     "allow \"%s\" deny \"%s\" rhost \"%s\": got %s, want %s",
			     t->allow, t->deny, show(t->rhost),
			     verdict_name(got), verdict_name(t->want));
		addr_list_free(&allow);
		addr_list_free(&deny);
	}
}

/* ---- parse errors ------------------------------------------------------- */

struct parse_row {
	int line;
	const char *text;
	int should_fail;
	const char *named; /* text the error must quote, or NULL */
};

#define P_OK(t) { __LINE__, t, 0, NULL }
#define P_BAD(t, w) { __LINE__, t, 1, w }

static const struct parse_row parse_rows[] = {
	P_OK(""),
	P_OK("   "),
	P_OK(",\t,"),
	P_OK("local"),
	P_OK("0.0.0.0/0"),
	P_OK("10.0.0.0/32"),
	P_OK("::/0"),
	P_OK("::/128"),
	P_OK("::ffff:1.2.3.4/96"),
	P_OK("::ffff:1.2.3.4/128"),
	P_OK("10.0.0.0/8,local,::1"),

	/* Bad prefixes. */
	P_BAD("10.0.0.0/33", "10.0.0.0/33"),
	P_BAD("::/129", "::/129"),
	P_BAD("::ffff:1.2.3.4/129", "::ffff:1.2.3.4/129"),
	P_BAD("10.0.0.0/-1", "10.0.0.0/-1"),
	P_BAD("10.0.0.0/+8", "10.0.0.0/+8"),
	P_BAD("10.0.0.0/08", "10.0.0.0/08"),
	P_BAD("10.0.0.0/00", "10.0.0.0/00"),
	P_BAD("10.0.0.0/", "10.0.0.0/"),
	P_BAD("10.0.0.0/ 8", "10.0.0.0/"),
	P_BAD("10.0.0.0/1x", "10.0.0.0/1x"),
	P_BAD("10.0.0.0/0x8", "10.0.0.0/0x8"),
	P_BAD("10.0.0.0/8/8", "10.0.0.0/8/8"),
	P_BAD("10.0.0.0/4294967304", "10.0.0.0/4294967304"),
	P_BAD("::/99999999999999999999", "::/99999999999999999999"),
	P_BAD("/8", "/8"),
	/* Past the last digit of the max: caught only by the digit check. */
	P_BAD("10.0.0.0/2:", "10.0.0.0/2:"),
	P_BAD("::/1a", "::/1a"),
	P_BAD("::ffff:10.0.0.0/95", "::ffff:10.0.0.0/95"),

	/* Not addresses. */
	P_BAD("example.com", "example.com"),
	P_BAD("localhost", "localhost"),
	P_BAD("LOCAL", "LOCAL"),
	P_BAD("local/8", "local/8"),
	P_BAD("*", "*"),
	P_BAD("-", "-"),
	P_BAD("10.0.0.1-10.0.0.9", "10.0.0.1-10.0.0.9"),
	P_BAD("10.0.0.0/8;", "10.0.0.0/8;"),
	P_BAD("[::1]", "[::1]"),
	P_BAD("1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8:9"),
	P_BAD("::1::2", "::1::2"),
	P_BAD("fe80::1%eth0", "fe80::1%eth0"),
	P_BAD("fe80::1%eth0/64", "fe80::1%eth0/64"),
	P_BAD("fe80::1%eth0", "zone id"),
	P_BAD("::ffff:10.0.0.1%1/128", "zone id"),
	/* Longer than any address: refused before it is copied anywhere. */
	P_BAD("2001:0db8:0000:0000:0000:0000:0000:0001/128/128/128/128/128/128/128",
	      "too long"),
	P_BAD("10.1", "10.1"),
	P_BAD("10.0.1", "10.0.1"),
	P_BAD("010.0.0.1", "010.0.0.1"),
	P_BAD("0x0a.0.0.1", "0x0a.0.0.1"),
	P_BAD("167772161", "167772161"),
	P_BAD("256.0.0.0", "256.0.0.0"),
	P_BAD("1.2.3.4.5", "1.2.3.4.5"),
	P_BAD("10.0.0.0/8\n", "10.0.0.0/8?"),
	P_BAD("\xff\xfe", "??"),
	/* One bad word spoils the list, and the error names that word. */
	P_BAD("10.0.0.0/8 bogus ::1", "\"bogus\""),
	P_BAD("local,10.0.0.0/8,,2001:db8::/33x", "2001:db8::/33x"),
};

static void test_parse(void)
{
	size_t i;

	for (i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
		const struct parse_row *t = &parse_rows[i];
		addr_rule dummy;
		addr_list l = { &dummy, 123 };
		char err[128] = "untouched";
		int rc;

		checks++;
		rc = addr_list_parse(t->text, &l, err, sizeof(err));
		if (t->should_fail) {
			if (rc != -1) {
				FAIL(t->line, "\"%s\" parsed, want an error",
				     t->text);
				addr_list_free(&l);
				continue;
			}
			if (l.n != 0 || l.rules != NULL)
				FAIL(t->line, "\"%s\": list not empty after error",
				     t->text);
			if (t->named && !strstr(err, t->named))
				FAIL(t->line, "\"%s\": error \"%s\" does not name \"%s\"",
				     t->text, err, t->named);
		} else {
			if (rc != 0)
				FAIL(t->line, "\"%s\" failed: %s", t->text, err);
			else if (err[0] != '\0')
				FAIL(t->line, "\"%s\": err not cleared on success",
				     t->text);
			addr_list_free(&l);
		}
	}
}

/* ---- format round trip -------------------------------------------------- */

struct format_row {
	int line;
	const char *text;
	const char *canonical;
};

#define F(t, c) { __LINE__, t, c }

static const struct format_row format_rows[] = {
	F("", ""),
	F(" ,\t", ""),
	F("local", "local"),
	F("10.0.0.1", "10.0.0.1/32"),
	F("10.1.2.3/8", "10.0.0.0/8"),
	F("1.2.3.4/0", "0.0.0.0/0"),
	F("255.255.255.255/31", "255.255.255.254/31"),
	F("172.31.1.1/12", "172.16.0.0/12"),
	F("10.0.0.0/8, 2001:db8::/32 local", "10.0.0.0/8 2001:db8::/32 local"),
	F("::ffff:10.0.0.0/104", "10.0.0.0/8"),
	F("::ffff:192.0.2.1", "192.0.2.1/32"),
	F("::ffff:192.0.2.1/96", "0.0.0.0/0"),
	F("0:0:0:0:0:0:0:1", "::1/128"),
	F("2001:DB8:0:0:1::/64", "2001:db8::/64"),
	F("2001:db8::ffff/127", "2001:db8::fffe/127"),
	F("2001:db8:0:ff::/57", "2001:db8:0:80::/57"),
	F("0.0.0.0/0 ::/0", "0.0.0.0/0 ::/0"),
	F("local,local", "local local"),
};

static void test_format(void)
{
	size_t i;

	for (i = 0; i < sizeof(format_rows) / sizeof(format_rows[0]); i++) {
		const struct format_row *t = &format_rows[i];
		addr_list l, again;
		char err[128], buf[512], buf2[512];

		checks++;
		if (addr_list_parse(t->text, &l, err, sizeof(err)) != 0) {
			FAIL(t->line, "\"%s\" did not parse: %s", t->text, err);
			continue;
		}
		if (addr_list_format(&l, buf, sizeof(buf)) != 0) {
			FAIL(t->line, "\"%s\" did not format", t->text);
		} else if (strcmp(buf, t->canonical) != 0) {
			FAIL(t->line, "\"%s\" formatted as \"%s\", want \"%s\"",
			     t->text, buf, t->canonical);
		} else if (addr_list_parse(buf, &again, err, sizeof(err)) != 0) {
			FAIL(t->line, "canonical \"%s\" did not parse: %s", buf, err);
		} else {
			if (addr_list_format(&again, buf2, sizeof(buf2)) != 0 ||
			    strcmp(buf, buf2) != 0)
				FAIL(t->line, "\"%s\" did not round-trip (\"%s\")",
				     buf, buf2);
			else if (again.n != l.n ||
				 (l.n && memcmp(again.rules, l.rules,
						l.n * sizeof(addr_rule)) != 0))
				FAIL(t->line, "\"%s\" reparsed to different rules",
				     buf);
			addr_list_free(&again);
		}
		addr_list_free(&l);
	}
}

/* ---- clients ------------------------------------------------------------ */

struct client_row {
	int line;
	const char *rhost;
	addr_client_kind kind;
	const char *canonical; /* inet_ntop of the stored address, IP only */
};

#define C(r, k, c) { __LINE__, r, ADDR_CLIENT_##k, c }

static const struct client_row client_rows[] = {
	C(NULL, LOCAL, NULL),
	C("", LOCAL, NULL),
	C("127.0.0.1", IP, "127.0.0.1"),
	C("::1", IP, "::1"),
	C("0:0:0:0:0:0:0:1", IP, "::1"),
	C("::ffff:192.0.2.1", IP, "192.0.2.1"),
	C("::FFFF:C000:0201", IP, "192.0.2.1"),
	C("::192.0.2.1", IP, "::192.0.2.1"), /* compatible, not mapped */
	C("2001:db8::1", IP, "2001:db8::1"),
	C("UNKNOWN", INVALID, NULL),
	C("host.example.com", INVALID, NULL),
	C("fe80::1%eth0", INVALID, NULL),
	C("[::1]", INVALID, NULL),
	C("::1 ", INVALID, NULL),
	C("192.0.2.1\n", INVALID, NULL),
	C("10.1", INVALID, NULL),
	C("0000:0000:0000:0000:0000:0000:0000:00001", INVALID, NULL),
	C("0000:0000:0000:0000:0000:ffff:255.255.255.2555", INVALID, NULL),
};

static void test_clients(void)
{
	size_t i;
	addr_client a, b;

	for (i = 0; i < sizeof(client_rows) / sizeof(client_rows[0]); i++) {
		const struct client_row *t = &client_rows[i];
		addr_client c;
		char ip[INET6_ADDRSTRLEN];

		checks++;
		memset(&c, 0xa5, sizeof(c));
		addr_client_parse(t->rhost, &c);
		if (c.kind != t->kind) {
			FAIL(t->line, "rhost \"%s\": kind %s, want %s",
			     show(t->rhost), kind_name(c.kind),
			     kind_name(t->kind));
			continue;
		}
		if (!t->canonical)
			continue;
		if (!inet_ntop(c.family, c.addr, ip, sizeof(ip)))
			FAIL(t->line, "rhost \"%s\": bad family %d",
			     t->rhost, c.family);
		else if (strcmp(ip, t->canonical) != 0)
			FAIL(t->line, "rhost \"%s\": stored as %s, want %s",
			     t->rhost, ip, t->canonical);
	}

	/* Tomcat's fully expanded loopback is the same client as ::1. */
	checks++;
	addr_client_parse("0:0:0:0:0:0:0:1", &a);
	addr_client_parse("::1", &b);
	if (a.kind != ADDR_CLIENT_IP || b.kind != ADDR_CLIENT_IP ||
	    a.family != AF_INET6 || b.family != AF_INET6 ||
	    memcmp(a.addr, b.addr, sizeof(a.addr)) != 0)
		FAIL(__LINE__, "0:0:0:0:0:0:0:1 differs from ::1");

	/* And a mapped client is exactly the IPv4 one. */
	checks++;
	addr_client_parse("::ffff:10.0.0.1", &a);
	addr_client_parse("10.0.0.1", &b);
	if (a.kind != ADDR_CLIENT_IP || a.family != AF_INET ||
	    b.family != AF_INET || memcmp(a.addr, b.addr, 4) != 0)
		FAIL(__LINE__, "::ffff:10.0.0.1 differs from 10.0.0.1");
}

/* ---- odds and ends ------------------------------------------------------ */

/* Build "10.0.0.1 10.0.0.1 ..." with n words; caller frees. */
static char *repeat_words(size_t n)
{
	static const char w[] = "10.0.0.1 ";
	char *s = malloc(n * (sizeof(w) - 1) + 1);
	size_t i;

	if (!s) {
		perror("malloc");
		exit(2);
	}
	for (i = 0; i < n; i++)
		memcpy(s + i * (sizeof(w) - 1), w, sizeof(w) - 1);
	s[n * (sizeof(w) - 1)] = '\0';
	return s;
}

static void test_limits(void)
{
	addr_list l, one;
	char err[128];
	char *text;
	char huge[10000];
	size_t i;

	/* 4096 rules are fine, 4097 are refused outright. */
	checks++;
	text = repeat_words(4096);
	if (addr_list_parse(text, &l, err, sizeof(err)) != 0 || l.n != 4096)
		FAIL(__LINE__, "4096 rules refused: %s", err);
	free(text);

	checks++;
	text = repeat_words(4097);
	if (addr_list_parse(text, &one, err, sizeof(err)) != -1 ||
	    one.n != 0 || one.rules != NULL)
		FAIL(__LINE__, "4097 rules accepted");
	free(text);

	/* Appending past the limit fails and leaves dst as it was. */
	checks++;
	if (addr_list_parse("local", &one, err, sizeof(err)) != 0) {
		FAIL(__LINE__, "local: %s", err);
	} else {
		if (addr_list_append(&l, &one) != -1 || l.n != 4096)
			FAIL(__LINE__, "append past 4096 rules accepted");
		addr_list_free(&one);
	}
	addr_list_free(&l);
	if (l.n != 0 || l.rules != NULL)
		FAIL(__LINE__, "addr_list_free left a list behind");
	addr_list_free(&l); /* twice is harmless */
	addr_list_free(NULL);

	/* A huge binary word: the error is bounded and printable. */
	checks++;
	memset(huge, 'A', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	huge[3] = '\x01';
	huge[5] = '\x7f';
	huge[7] = '\xc3';
	if (addr_list_parse(huge, &l, err, sizeof(err)) != -1) {
		FAIL(__LINE__, "huge word accepted");
		addr_list_free(&l);
	} else {
		if (strlen(err) > 100 || !strstr(err, "AAA?A?A?AAA") ||
		    !strstr(err, "..."))
			FAIL(__LINE__, "huge word error: \"%s\"", err);
		for (i = 0; err[i]; i++)
			if ((unsigned char)err[i] < 0x20 ||
			    (unsigned char)err[i] >= 0x7f) {
				FAIL(__LINE__, "unprintable byte in error");
				break;
			}
	}

	/* A tiny or absent err buffer is still safe. */
	checks++;
	memset(err, 'x', sizeof(err));
	if (addr_list_parse("bogus", &l, err, 6) != -1 || strlen(err) != 5)
		FAIL(__LINE__, "small err buffer not truncated: %.8s", err);
	if (addr_list_parse("bogus", &l, NULL, 0) != -1)
		FAIL(__LINE__, "bogus accepted with no err buffer");
	if (addr_list_parse(NULL, &l, NULL, 0) != 0 || l.n != 0)
		FAIL(__LINE__, "NULL text is not an empty list");
}

static void test_append_and_format(void)
{
	addr_list a, b, empty = { NULL, 0 };
	addr_client c;
	char err[128], buf[64];

	checks++;
	if (addr_list_parse("10.0.0.0/8", &a, err, sizeof(err)) != 0 ||
	    addr_list_parse("local ::1", &b, err, sizeof(err)) != 0) {
		FAIL(__LINE__, "setup: %s", err);
		return;
	}
	addr_client_parse(NULL, &c);
	if (addr_list_match(&a, &c))
		FAIL(__LINE__, "local client matched before append");
	if (addr_list_append(&a, &b) != 0 || a.n != 3)
		FAIL(__LINE__, "append failed");
	if (!addr_list_match(&a, &c))
		FAIL(__LINE__, "local client not matched after append");
	if (addr_list_append(&a, &empty) != 0 || a.n != 3)
		FAIL(__LINE__, "appending an empty list changed the list");
	/* Appending a list to itself. */
	if (addr_list_append(&a, &a) != 0 || a.n != 6)
		FAIL(__LINE__, "self-append failed");
	if (addr_list_format(&a, buf, sizeof(buf)) != 0 ||
	    strcmp(buf, "10.0.0.0/8 local ::1/128 10.0.0.0/8 local ::1/128"))
		FAIL(__LINE__, "after appends: \"%s\"", buf);
	addr_list_free(&a);
	addr_list_free(&b);

	/* Format into exactly enough room, one byte short, and none. */
	checks++;
	if (addr_list_parse("10.0.0.0/8 ::1", &a, err, sizeof(err)) != 0) {
		FAIL(__LINE__, "setup: %s", err);
		return;
	}
	/* "10.0.0.0/8 ::1/128" is 18 characters. */
	memset(buf, 'x', sizeof(buf));
	if (addr_list_format(&a, buf, 19) != 0 ||
	    strcmp(buf, "10.0.0.0/8 ::1/128") != 0)
		FAIL(__LINE__, "exact fit: \"%s\"", buf);
	memset(buf, 'x', sizeof(buf));
	if (addr_list_format(&a, buf, 18) != -1 || buf[0] != '\0')
		FAIL(__LINE__, "one byte short: not refused or not emptied");
	memset(buf, 'x', sizeof(buf));
	if (addr_list_format(&a, buf, 5) != -1 || buf[0] != '\0')
		FAIL(__LINE__, "first rule too long: not refused or not emptied");
	buf[0] = 'x';
	if (addr_list_format(&a, buf, 0) != -1 || buf[0] != 'x')
		FAIL(__LINE__, "zero-length buffer written to");
	if (addr_list_format(&empty, buf, 1) != 0 || buf[0] != '\0')
		FAIL(__LINE__, "empty list does not fit in one byte");
	addr_list_free(&a);
}

/* The canonical spelling a listing shows for a client address. */
static void test_client_format(void)
{
	static const struct {
		int line;
		const char *rhost, *want; /* want NULL: not formattable */
	} rows[] = {
		{ __LINE__, "0:0:0:0:0:0:0:1", "::1" },
		{ __LINE__, "::ffff:10.0.0.1", "10.0.0.1" },
		{ __LINE__, "2001:DB8:0:0::1", "2001:db8::1" },
		{ __LINE__, "192.0.2.7", "192.0.2.7" },
		{ __LINE__, NULL, NULL },
		{ __LINE__, "example.com", NULL },
	};
	char buf[64];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		addr_client c;
		checks++;
		addr_client_parse(rows[i].rhost, &c);
		int rc = addr_client_format(&c, buf, sizeof(buf));
		if (!rows[i].want ? rc != -1 :
				    (rc != 0 || strcmp(buf, rows[i].want) != 0))
			FAIL(rows[i].line, "format of \"%s\"", show(rows[i].rhost));
	}
}

int main(void)
{
	test_client_format();
	test_verdicts();
	test_parse();
	test_format();
	test_clients();
	test_limits();
	test_append_and_format();

	if (th_count.fail) {
		printf("test_addr: %d failure(s) in %d checks\n", th_count.fail,
		       checks);
		return 1;
	}
	printf("test_addr: all %d checks passed\n", checks);
	return 0;
}
