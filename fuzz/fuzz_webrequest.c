/* The web API's request checks (web/cgi/request.c, jsonflat.c):
 * web_check_headers, web_parse, web_status_for.
 *
 * Input: lines "K=value" that override a good request's CGI variables
 * (K one of M method, T content type, L length, P path info,
 * A authorization, O origin, H host, S https, X X-Apitoken-Request,
 * F Sec-Fetch-Site, R remote address; "K=-" unsets), an empty line, then
 * the body. The body is also given to web_status_for as tokenadm's
 * answer, with an exit code from its first byte.
 *
 * Checks: an accepted request's argv is tokenadm, --login,
 * --client-addr=ADDR, a known action, --json, then only
 * "--option[=value]" arguments and at most one last plain argument (a
 * 12-character id); no argument holds a control
 * character; the password is in no argument (unless the body holds
 * the same text), has no newline or NUL and
 * is not empty; the user name is non-empty and never starts with '-';
 * every refusal has a status >= 400 and a message, and renders as JSON
 * that jf_parse reads back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "jsonflat.h"
#include "request.h"

static void check_error(const web_error *err)
{
	char buf[2048];
	static char arena[2048];
	jf_doc d;
	const char *why;
	FUZZ_CHECK(err->status >= 400 && err->status < 600, "status %d", err->status);
	FUZZ_CHECK(err->message && *err->message, "no message");
	size_t n = web_error_json(err, buf, sizeof(buf));
	FUZZ_CHECK(n > 0, "error JSON does not fit");
	FUZZ_CHECK(jf_parse(buf, n, arena, sizeof(arena), &d, &why) == 0,
		   "error JSON does not parse: %s (%s)", buf, why);
	const jf_field *e = jf_get(&d, "error");
	FUZZ_CHECK(e && e->type == JF_STRING && strcmp(e->s, err->message) == 0,
		   "error text changed: %s", buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	memcpy(in, data, size);
	in[size] = 0;
	web_env e = {
		"POST", "application/json", NULL, "/create",
		"Basic YWxpY2U6czNjcmV0IHBhc3M=", "http://127.0.0.1:8080",
		"127.0.0.1:8080", NULL, "1", NULL, "127.0.0.1",
	};
	char *body = in;
	size_t body_len = size;
	char *sep = strstr(in, "\n\n");
	if (sep) {
		*sep = 0;
		body = sep + 2;
		body_len = size - (size_t)(body - in);
		for (char *line = strtok(in, "\n"); line; line = strtok(NULL, "\n")) {
			if (strlen(line) < 2 || line[1] != '=')
				continue;
			const char *v = strcmp(line + 2, "-") == 0 ? NULL : line + 2;
			switch (line[0]) {
			case 'M': e.method = v; break;
			case 'T': e.content_type = v; break;
			case 'L': e.content_length = v; break;
			case 'P': e.path_info = v; break;
			case 'A': e.authorization = v; break;
			case 'O': e.origin = v; break;
			case 'H': e.host = v; break;
			case 'S': e.https = v; break;
			case 'X': e.xrequest = v; break;
			case 'F': e.fetch_site = v; break;
			case 'R': e.remote_addr = v; break;
			}
		}
	}
	char lenbuf[32];
	if (!e.content_length) {
		snprintf(lenbuf, sizeof(lenbuf), "%zu", body_len);
		e.content_length = lenbuf;
	}

	web_error err = { 0, NULL, NULL };
	size_t declared = 0;
	if (web_check_headers(&e, &declared, &err) != 0) {
		check_error(&err);
	} else {
		FUZZ_CHECK(declared <= WEB_BODY_MAX, "length %zu", declared);
		web_request *r = calloc(1, sizeof(*r));
		size_t n = declared < body_len ? declared : body_len;
		if (web_parse(&e, body, n, "/usr/bin/tokenadm", r, &err) != 0) {
			check_error(&err);
		} else {
			FUZZ_CHECK(r->argc >= 5 && r->argv[r->argc] == NULL, "argc %zu", r->argc);
			FUZZ_CHECK(strcmp(r->argv[0], "/usr/bin/tokenadm") == 0 &&
				   strcmp(r->argv[1], "--login") == 0 &&
				   strncmp(r->argv[2], "--client-addr=", 14) == 0, "argv head");
			char p[40];
			snprintf(p, sizeof(p), "/%s", r->argv[3]);
			FUZZ_CHECK(web_action_of(p) == (int)r->action, "action %s", r->argv[3]);
			FUZZ_CHECK(strcmp(r->argv[4], "--json") == 0, "argv[4] %s", r->argv[4]);
			size_t pl = strlen(r->password);
			FUZZ_CHECK(pl > 0 && !strchr(r->password, '\n'), "password shape");
			FUZZ_CHECK(r->user[0] && r->user[0] != '-', "user '%s'", r->user);
			for (size_t i = 1; i < r->argc; i++) {
				const char *a = r->argv[i];
				for (const unsigned char *q = (const unsigned char *)a; *q; q++)
					FUZZ_CHECK(*q >= 0x20 && *q != 0x7f, "control byte in argv");
				/* Only where the body itself holds the same text. */
				FUZZ_CHECK(!strstr(a, r->password) ||
					   memmem(body, n, r->password, pl) != NULL,
					   "password in argv");
				if (i >= 5 && strncmp(a, "--", 2) != 0)
					FUZZ_CHECK(i == r->argc - 1 && strlen(a) == 12 && a[0] != '-',
						   "plain argument '%s' at %zu", a, i);
			}
		}
		web_request_wipe(r);
		free(r);
	}

	bool fl = false;
	int code = size ? data[0] % 7 - 1 : 0;
	int st = web_status_for(code, body, body_len, &fl);
	FUZZ_CHECK(st == 200 || st == 400 || st == 401 || st == 403 || st == 404 ||
		   st == 409 || st == 502, "status %d", st);
	FUZZ_CHECK(!fl || (code == 3 && st == 401), "failed login with %d/%d", code, st);
	FUZZ_CHECK(code == 0 || st != 200, "exit %d gave 200", code);
	free(in);
	return 0;
}
