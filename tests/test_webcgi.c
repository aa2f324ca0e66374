/* The web API's request checks (web/cgi/request.c, jsonflat.c,
 * ratelimit.c) as a pure unit: hostile headers, bodies and JSON, the argv
 * given to tokenadm, the status for its answers, the rate table. The CGI
 * program itself is driven through Apache by tests/test_web.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "jsonflat.h"
#include "ratelimit.h"
#include "request.h"

static web_env good_env(void)
{
	web_env e = {
		.method = "POST", .content_type = "application/json",
		.content_length = "2", .path_info = "/policy",
		/* alice:s3cret pass */
		.authorization = "Basic YWxpY2U6czNjcmV0IHBhc3M=",
		.origin = "https://tokens.example.org", .host = "tokens.example.org",
		.https = "on", .xrequest = "1", .fetch_site = NULL,
		.remote_addr = "192.0.2.7",
	};
	return e;
}

static int headers_status(const web_env *e)
{
	web_error err = { 0, NULL, NULL };
	size_t n = 0;
	return web_check_headers(e, &n, &err) == 0 ? 0 : err.status;
}

static void test_headers(void)
{
	web_env e = good_env();
	CHECK(headers_status(&e) == 0, "a good request passes");
	e.method = "GET";
	CHECK(headers_status(&e) == 405, "GET");
	e = good_env(); e.method = NULL;
	CHECK(headers_status(&e) == 405, "no method");
	e = good_env(); e.xrequest = NULL;
	CHECK(headers_status(&e) == 403, "no X-Apitoken-Request");
	e = good_env(); e.xrequest = "true";
	CHECK(headers_status(&e) == 403, "X-Apitoken-Request: true");
	e = good_env(); e.origin = NULL;
	CHECK(headers_status(&e) == 403, "POST without Origin");
	e = good_env(); e.origin = "https://evil.example.net";
	CHECK(headers_status(&e) == 403, "another origin");
	e = good_env(); e.origin = "null";
	CHECK(headers_status(&e) == 403, "Origin: null");
	e = good_env(); e.origin = "http://tokens.example.org";
	CHECK(headers_status(&e) == 403, "origin over http for an https request");
	e = good_env(); e.origin = "https://tokens.example.org.evil.net";
	CHECK(headers_status(&e) == 403, "origin with the host as a prefix");
	e = good_env(); e.origin = "https://tokens.example.org:8443";
	CHECK(headers_status(&e) == 403, "origin on another port");
	e = good_env(); e.origin = "https://TOKENS.example.org";
	CHECK(headers_status(&e) == 0, "origin differing only in case");
	e = good_env(); e.host = "tokens.example.org/x"; e.origin = "https://tokens.example.org/x";
	CHECK(headers_status(&e) == 403, "a Host with a path");
	e = good_env(); e.host = NULL;
	CHECK(headers_status(&e) == 403, "no Host");
	e = good_env(); e.host = ""; e.origin = "https://";
	CHECK(headers_status(&e) == 403, "empty Host");
	e = good_env(); e.fetch_site = "cross-site";
	CHECK(headers_status(&e) == 403, "Sec-Fetch-Site: cross-site");
	e = good_env(); e.fetch_site = "same-site";
	CHECK(headers_status(&e) == 403, "Sec-Fetch-Site: same-site");
	e = good_env(); e.fetch_site = "same-origin";
	CHECK(headers_status(&e) == 0, "Sec-Fetch-Site: same-origin");
	e = good_env(); e.https = NULL; e.origin = "http://tokens.example.org";
	CHECK(headers_status(&e) == 403, "plain HTTP from afar");
	e.remote_addr = "127.0.0.1";
	CHECK(headers_status(&e) == 0, "plain HTTP from loopback");
	e.remote_addr = "::1";
	CHECK(headers_status(&e) == 0, "plain HTTP from ::1");
	e.remote_addr = "1270.0.0.1";
	CHECK(headers_status(&e) == 403, "plain HTTP from 1270.0.0.1");
	e = good_env(); e.content_type = "text/plain";
	CHECK(headers_status(&e) == 415, "text/plain (a simple CORS request)");
	e = good_env(); e.content_type = "application/x-www-form-urlencoded";
	CHECK(headers_status(&e) == 415, "form");
	e = good_env(); e.content_type = "application/json; charset=UTF-8";
	CHECK(headers_status(&e) == 0, "json with charset");
	e = good_env(); e.content_type = "application/jsonp";
	CHECK(headers_status(&e) == 415, "application/jsonp");
	e = good_env(); e.content_type = "application/json; charset=latin1";
	CHECK(headers_status(&e) == 415, "latin1");
	e = good_env(); e.content_length = NULL;
	CHECK(headers_status(&e) == 411, "no length");
	e = good_env(); e.content_length = "16385";
	CHECK(headers_status(&e) == 413, "16 KiB + 1");
	e = good_env(); e.content_length = "16384";
	CHECK(headers_status(&e) == 0, "16 KiB");
	e = good_env(); e.content_length = "99999999999999999999999";
	CHECK(headers_status(&e) == 413, "a huge length");
	e = good_env(); e.content_length = "-1";
	CHECK(headers_status(&e) == 400, "a negative length");
	e = good_env(); e.content_length = "1e3";
	CHECK(headers_status(&e) == 400, "length 1e3");
}

/* Parse body for action with the good headers; returns the status (0 ok). */
static int parse(web_request *r, const char *action, const char *auth, const char *body)
{
	web_env e = good_env();
	char path[64];
	web_error err = { 0, NULL, NULL };
	snprintf(path, sizeof(path), "/%s", action);
	e.path_info = path;
	if (auth)
		e.authorization = auth;
	memset(r, 0, sizeof(*r));
	return web_parse(&e, body, strlen(body), "/usr/bin/tokenadm", r, &err) == 0 ? 0 : err.status;
}

static char *joined(const web_request *r)
{
	static char buf[8192];
	buf[0] = 0;
	for (size_t i = 0; i < r->argc; i++) {
		if (i)
			strcat(buf, " ");
		strcat(buf, r->argv[i]);
	}
	return buf;
}

static void test_actions(void)
{
	web_request *r = malloc(sizeof(*r));
	CHECK(parse(r, "policy", NULL, "{}") == 0, "policy");
	CHECK(strcmp(joined(r), "/usr/bin/tokenadm --login --client-addr=192.0.2.7 policy --json") == 0, "%s", joined(r));
	CHECK(strcmp(r->user, "alice") == 0 && strcmp(r->password, "s3cret pass") == 0,
	      "credentials decoded");
	CHECK(r->argv[r->argc] == NULL, "argv ends in NULL");
	for (size_t i = 0; i < r->argc; i++)
		CHECK(!strstr(r->argv[i], "s3cret"), "the password is not in argv");
	CHECK(parse(r, "nope", NULL, "{}") == 404, "unknown action");
	CHECK(parse(r, "policy/../list", NULL, "{}") == 404, "a path");
	CHECK(parse(r, "policy", NULL, "{\"x\":1}") == 400, "policy takes no field");
	{
		web_env e = good_env();
		web_error err;
		e.path_info = "/policy";
		e.remote_addr = "1.2.3.4 --all";
		memset(r, 0, sizeof(*r));
		CHECK(web_parse(&e, "{}", 2, "/t", r, &err) == -1 && err.status == 403,
		      "a client address that is not an address");
	}

	CHECK(parse(r, "list", NULL, "{\"all\":true,\"user\":\"bob\",\"state\":\"inactive\","
			"\"expiring_within\":\"14d\",\"unused_for\":\"90d\",\"limit\":500}") == 0, "list");
	CHECK(strcmp(joined(r), "/usr/bin/tokenadm --login --client-addr=192.0.2.7 list --json --all --user=bob "
			       "--state=inactive --expiring-within=14d --unused-for=90d "
			       "--limit=500") == 0, "%s", joined(r));
	CHECK(parse(r, "list", NULL, "{\"all\":false}") == 0 &&
	      strcmp(joined(r), "/usr/bin/tokenadm --login --client-addr=192.0.2.7 list --json") == 0, "all false");
	CHECK(parse(r, "list", NULL, "{\"all\":\"yes\"}") == 400, "all as a text");
	CHECK(parse(r, "list", NULL, "{\"user\":\"-x\"}") == 400, "user like an option");
	CHECK(parse(r, "list", NULL, "{\"user\":\"a b\"}") == 400, "user with a space");
	CHECK(parse(r, "list", NULL, "{\"state\":\"all\"}") == 400, "unknown state");
	CHECK(parse(r, "list", NULL, "{\"limit\":0}") == 400, "limit 0");
	CHECK(parse(r, "list", NULL, "{\"limit\":-5}") == 400, "limit -5");
	CHECK(parse(r, "list", NULL, "{\"limit\":1.5}") == 400, "limit 1.5");
	CHECK(parse(r, "list", NULL, "{\"limit\":1e3}") == 400, "limit 1e3");
	CHECK(parse(r, "list", NULL, "{\"limit\":\"5\"}") == 400, "limit as text");

	CHECK(parse(r, "show", NULL, "{\"id\":\"AbCdEf012345\"}") == 0 &&
	      strcmp(joined(r), "/usr/bin/tokenadm --login --client-addr=192.0.2.7 show --json AbCdEf012345") == 0,
	      "show %s", joined(r));
	CHECK(parse(r, "revoke", NULL, "{}") == 400, "revoke without id");
	CHECK(parse(r, "revoke", NULL, "{\"id\":null}") == 400, "revoke with null id");
	CHECK(parse(r, "revoke", NULL, "{\"id\":\"--all-tokens\"}") == 400, "id like an option");
	CHECK(parse(r, "disable", NULL, "{\"id\":\"AbCdEf01234\"}") == 400, "short id");
	CHECK(parse(r, "enable", NULL, "{\"id\":\"AbCdEf0123 5\"}") == 400, "id with space");
	CHECK(parse(r, "enable", NULL, "{\"id\":\"AbCdEf012345\"}") == 0 &&
	      strcmp(joined(r), "/usr/bin/tokenadm --login --client-addr=192.0.2.7 enable --json AbCdEf012345") == 0,
	      "enable");

	CHECK(parse(r, "create", NULL, "{\"name\":\"laptop \\u00e9\",\"expires\":\"30d\","
			"\"allow_from\":[\"10.0.0.0/8\",\"2001:db8::/32\"],\"services\":[\"dovecot\"]}") == 0,
	      "create");
	CHECK(strcmp(joined(r), "/usr/bin/tokenadm --login --client-addr=192.0.2.7 create --json --name=laptop \xc3\xa9 "
			       "--expires=30d --allow-from=10.0.0.0/8 --allow-from=2001:db8::/32 "
			       "--service=dovecot") == 0, "%s", joined(r));
	CHECK(parse(r, "create", NULL, "{\"name\":\"x\",\"allow_from\":[\"10.0.0.1; rm -rf /\"]}") == 400,
	      "allow_from with a command");
	CHECK(parse(r, "create", NULL, "{\"name\":\"x\",\"allow_form\":[\"10.0.0.1\"]}") == 400,
	      "a misspelt restriction is refused, not dropped");
	CHECK(parse(r, "create", NULL, "{\"name\":\"x\",\"services\":[\"-x\"]}") == 400, "service -x");
	CHECK(parse(r, "create", NULL, "{\"name\":\"x\",\"services\":\"sshd\"}") == 400,
	      "services as a text");
	CHECK(parse(r, "create", NULL, "{\"name\":\"\"}") == 400, "empty name");
	CHECK(parse(r, "create", NULL, "{\"name\":\"a\\nb\"}") == 400, "name with a newline");
	CHECK(parse(r, "create", NULL, "{\"name\":\"a\\u0000b\"}") == 400, "name with NUL");
	CHECK(parse(r, "create", NULL, "{\"name\":\"x\",\"expires\":\"1 d\"}") == 400, "expires 1 d");
	CHECK(parse(r, "create", NULL, "{\"name\":\"-x\"}") == 0 &&
	      strcmp(r->argv[5], "--name=-x") == 0, "a name like an option stays the name's value");
	CHECK(parse(r, "rotate", NULL, "{\"id\":\"AbCdEf012345\",\"grace\":\"1h\"}") == 0 &&
	      strcmp(joined(r), "/usr/bin/tokenadm --login --client-addr=192.0.2.7 rotate --json --grace=1h AbCdEf012345") == 0,
	      "rotate %s", joined(r));
	{
		/* 40 services do not fit: refused, not cut short. */
		char body[4096] = "{\"name\":\"x\",\"services\":[";
		for (int i = 0; i < 40; i++)
			strcat(body, i ? ",\"s\"" : "\"s\"");
		strcat(body, "]}");
		CHECK(parse(r, "create", NULL, body) == 400, "40 services");
	}
	web_request_wipe(r);
	free(r);
}

static void test_auth(void)
{
	web_request *r = malloc(sizeof(*r));
	CHECK(parse(r, "policy", "", "{}") == 401, "empty Authorization");
	CHECK(parse(r, "policy", "Bearer abc", "{}") == 401, "Bearer");
	CHECK(parse(r, "policy", "Basic", "{}") == 401, "Basic alone");
	CHECK(parse(r, "policy", "Basic !!!!", "{}") == 401, "not base64");
	CHECK(parse(r, "policy", "Basic YWxpY2U=", "{}") == 401, "no colon");
	CHECK(parse(r, "policy", "Basic YWxpY2U6", "{}") == 401, "empty password");
	CHECK(parse(r, "policy", "Basic OnB3", "{}") == 401, "empty user");
	/* "alice:a\nb" */
	CHECK(parse(r, "policy", "Basic YWxpY2U6YQpi", "{}") == 401, "password with a newline");
	/* "alice:a\0b" */
	CHECK(parse(r, "policy", "Basic YWxpY2U6YQBi", "{}") == 401, "password with NUL");
	/* "-alice:pw" */
	CHECK(parse(r, "policy", "Basic LWFsaWNlOnB3", "{}") == 401, "user like an option");
	/* "al\nce:pw" */
	CHECK(parse(r, "policy", "Basic YWwKY2U6cHc=", "{}") == 401, "user with a newline");
	CHECK(parse(r, "policy", "Basic YWxpY2U6czNjcmV0IHBhc3M", "{}") == 401, "no padding");
	CHECK(parse(r, "policy", "Basic YWxpY2U6czNjcmV0IHBhc3N=", "{}") == 401,
	      "non-zero bits under the padding");
	CHECK(parse(r, "policy", "Basic YWxp Y2U6czNjcmV0IHBhc3M=", "{}") == 401, "a space inside");
	CHECK(parse(r, "policy", "basic YWxpY2U6czNjcmV0IHBhc3M=", "{}") == 0, "scheme in lower case");
	/* "alice:p:w" keeps the second colon in the password */
	CHECK(parse(r, "policy", "Basic YWxpY2U6cDp3", "{}") == 0 &&
	      strcmp(r->password, "p:w") == 0, "colon in the password");
	{
		static char big[8192];
		strcpy(big, "Basic ");
		memset(big + 6, 'Q', 4000);
		CHECK(parse(r, "policy", big, "{}") == 401, "a huge Authorization header");
	}
	free(r);
}

static int json_ok(const char *s)
{
	static char arena[WEB_BODY_MAX + 1];
	jf_doc d;
	const char *why = NULL;
	int rc = jf_parse(s, strlen(s), arena, sizeof(arena), &d, &why);
	CHECK(rc == 0 || why != NULL, "a refusal says why");
	return rc == 0;
}

static void test_json(void)
{
	CHECK(json_ok("{}"), "{}");
	CHECK(json_ok(" \n{ \"a\" : [ ] , \"b\":null }\r\n"), "whitespace");
	CHECK(!json_ok(""), "empty");
	CHECK(!json_ok("[]"), "an array");
	CHECK(!json_ok("{"), "unclosed");
	CHECK(!json_ok("{\"a\":1,}"), "trailing comma");
	CHECK(!json_ok("{\"a\":1}{}"), "two objects");
	CHECK(!json_ok("{\"a\":1} x"), "trailing garbage");
	CHECK(!json_ok("{\"a\":1,\"a\":2}"), "duplicate key");
	CHECK(!json_ok("{\"a\":{\"b\":1}}"), "nested object");
	CHECK(!json_ok("{\"a\":[[\"x\"]]}"), "nested array");
	CHECK(!json_ok("{\"a\":[1]}"), "array of numbers");
	CHECK(!json_ok("{'a':1}"), "single quotes");
	CHECK(!json_ok("{a:1}"), "bare key");
	CHECK(!json_ok("{\"a\":01}"), "leading zero");
	CHECK(!json_ok("{\"a\":1234567890123456}"), "16 digits");
	CHECK(!json_ok("{\"a\":tru}"), "tru");
	CHECK(!json_ok("{\"a\":\"\\x41\"}"), "unknown escape");
	CHECK(!json_ok("{\"a\":\"\\ud800\"}"), "lone high surrogate");
	CHECK(!json_ok("{\"a\":\"\\udc00\"}"), "lone low surrogate");
	CHECK(json_ok("{\"a\":\"\\ud83d\\ude00\"}"), "surrogate pair");
	CHECK(!json_ok("{\"a\":\"\xc0\xaf\"}"), "overlong UTF-8");
	CHECK(!json_ok("{\"a\":\"\xed\xa0\x80\"}"), "UTF-8 surrogate");
	CHECK(!json_ok("{\"a\":\"\xf4\x90\x80\x80\"}"), "beyond U+10FFFF");
	CHECK(!json_ok("{\"a\":\"\xe2\x82\"}"), "cut UTF-8");
	CHECK(!json_ok("{\"a\":\"\xff\"}"), "0xff");
	CHECK(!json_ok("{\"a\":\"tab\there\"}"), "raw tab");
	CHECK(!json_ok("{\"a\":\"\\u001b[31m\"}"), "escaped ESC");
	CHECK(!json_ok("{\"a\":\"\\u0085\"}"), "C1 control");
	CHECK(!json_ok("{\"a\":\"\\u00"), "cut escape");
	CHECK(!json_ok("{\"a\":\"x"), "cut string");
	{
		/* 17 fields, a 33-byte key, a 33-element array. */
		char b[2048] = "{";
		for (int i = 0; i < 17; i++)
			sprintf(b + strlen(b), "%s\"k%d\":1", i ? "," : "", i);
		strcat(b, "}");
		CHECK(!json_ok(b), "17 fields");
		CHECK(!json_ok("{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1}"), "33-byte key");
		strcpy(b, "{\"a\":[");
		for (int i = 0; i < 33; i++)
			strcat(b, i ? ",\"x\"" : "\"x\"");
		strcat(b, "]}");
		CHECK(!json_ok(b), "33 elements");
	}
	{
		/* 10,000 opening brackets: refused at once, no recursion. */
		static char deep[10010];
		strcpy(deep, "{\"a\":");
		memset(deep + 5, '[', 10000);
		deep[10005] = 0;
		CHECK(!json_ok(deep), "deep nesting");
	}
	{
		/* A text longer than JF_STRING_MAX. */
		static char b[WEB_BODY_MAX];
		strcpy(b, "{\"a\":\"");
		memset(b + 6, 'x', JF_STRING_MAX + 1);
		strcpy(b + 6 + JF_STRING_MAX + 1, "\"}");
		CHECK(!json_ok(b), "a text too long");
	}
	/* Output: escaping for people's texts. */
	char out[256];
	size_t off = 0;
	CHECK(jf_put_string(out, sizeof(out), &off, "a\"b\\c\n<script>&") == 0 &&
	      strcmp(out, "\"a\\\"b\\\\c\\u000a\\u003cscript\\u003e\\u0026\"") == 0, "%s", out);
	off = 0;
	CHECK(jf_put_string(out, 4, &off, "abcdef") == -1 && strlen(out) < 4, "truncation");
	web_error err = { 400, "bad \"thing\"", "name" };
	size_t n = web_error_json(&err, out, sizeof(out));
	CHECK(n > 0 && strcmp(out, "{\"error\":\"bad \\\"thing\\\"\",\"field\":\"name\"}\n") == 0,
	      "%s", out);
	err.field = NULL;
	web_error_json(&err, out, sizeof(out));
	CHECK(strstr(out, "\"field\":null") != NULL, "%s", out);
}

static void test_status(void)
{
	bool fl;
#define ST(code, s) web_status_for(code, s, strlen(s), &fl)
	CHECK(ST(0, "{\"id\":\"x\"}") == 200 && !fl, "0 -> 200");
	CHECK(ST(0, "[]") == 200, "0 list -> 200");
	CHECK(ST(0, "") == 502, "0 with nothing -> 502");
	CHECK(ST(1, "{\"error\":\"limit\",\"exit\":1,\"field\":null}") == 409, "1 -> 409");
	CHECK(ST(1, "{\"error\":\"bad\",\"exit\":1,\"field\":\"name\"}") == 400, "1 field -> 400");
	CHECK(ST(2, "{\"error\":\"usage\",\"exit\":2,\"field\":\"expires\"}") == 400, "2 -> 400");
	CHECK(ST(3, "{\"error\":\"no\",\"exit\":3,\"field\":null}") == 403 && !fl, "3 -> 403");
	CHECK(ST(3, "{\"error\":\"no\",\"exit\":3,\"field\":\"password\"}") == 401 && fl,
	      "3 password -> 401, a failed sign-in");
	CHECK(ST(4, "{\"error\":\"none\",\"exit\":4,\"field\":\"id\"}") == 404, "4 -> 404");
	CHECK(ST(5, "{\"error\":\"x\",\"exit\":5,\"field\":null}") == 502, "5 -> 502");
	CHECK(ST(-1, "") == 502, "killed -> 502");
	CHECK(ST(3, "Segmentation fault") == 502, "not JSON -> 502");
	CHECK(ST(3, "{\"exit\":3}") == 502, "no error text -> 502");
#undef ST
}

static void test_rate(void)
{
	char k[40];
	CHECK(rate_key("192.0.2.1", k) == 0 && strcmp(k, "192.0.2.1") == 0, "v4 key");
	CHECK(rate_key("::ffff:192.0.2.1", k) == 0 && strcmp(k, "192.0.2.1") == 0, "mapped key");
	CHECK(rate_key("2001:db8:1:2:3:4:5:6", k) == 0 &&
	      strcmp(k, "2001:0db8:0001:0002::/64") == 0, "v6 key %s", k);
	char k2[40];
	CHECK(rate_key("2001:db8:1:2::99", k2) == 0 && strcmp(k, k2) == 0, "same /64");
	CHECK(rate_key("not an address", k) == -1 && rate_key(NULL, k) == -1, "junk key");

	rate_slot *tab = calloc(RATE_SLOTS, sizeof(*tab));
	int64_t t = 1000000;
	int admitted = 0;
	for (int i = 0; i < RATE_REQUESTS + 5; i++)
		if (rate_admit(tab, RATE_SLOTS, "192.0.2.1", t) == 0)
			admitted++;
	CHECK(admitted == RATE_REQUESTS, "requests per window: %d", admitted);
	CHECK(rate_admit(tab, RATE_SLOTS, "192.0.2.2", t) == 0, "another address is not held");
	CHECK(rate_admit(tab, RATE_SLOTS, "192.0.2.1", t + RATE_WINDOW) == 0, "next window");
	for (int i = 0; i < RATE_FAILURES; i++)
		rate_failed(tab, RATE_SLOTS, "192.0.2.3", t);
	int64_t wait = rate_admit(tab, RATE_SLOTS, "192.0.2.3", t + 10);
	CHECK(wait == RATE_FAIL_WINDOW - 10, "after %d failures: wait %lld", RATE_FAILURES,
	      (long long)wait);
	CHECK(rate_admit(tab, RATE_SLOTS, "192.0.2.3", t + RATE_FAIL_WINDOW) == 0,
	      "the failures window ends");
	for (int i = 0; i < RATE_FAILURES - 1; i++)
		rate_failed(tab, RATE_SLOTS, "192.0.2.4", t);
	CHECK(rate_admit(tab, RATE_SLOTS, "192.0.2.4", t) == 0, "one failure short");
	/* Many other addresses evict, but never lend their allowance. */
	for (int i = 0; i < 20000; i++) {
		char a[40];
		snprintf(a, sizeof(a), "10.%d.%d.1", i / 256, i % 256);
		rate_admit(tab, RATE_SLOTS, a, t);
	}
	free(tab);
}

int main(void)
{
	test_headers();
	test_actions();
	test_auth();
	test_json();
	test_status();
	test_rate();
	return th_summary("web request checks");
}
