/* See request.h. Every check refuses by default: a field is accepted only
 * when its shape is one the action documents. tokenadm checks the
 * meaning again (it trusts nothing from the web side); the checks here
 * keep the argv free of anything but those shapes. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "request.h"

static const char *const action_names[WA_COUNT] = {
	"policy", "list", "show", "create", "rotate", "revoke", "disable", "enable",
};

static int refuse(web_error *err, int status, const char *message, const char *field)
{
	err->status = status;
	err->message = message;
	err->field = field;
	return -1;
}

static bool is_loopback(const char *a)
{
	if (!a)
		return false;
	return strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0 ||
	       strncasecmp(a, "::ffff:127.", 11) == 0;
}

/* Host as a browser would send it: name or address, optional port; no
 * user info, path or spaces. */
static bool host_ok(const char *h)
{
	size_t n = h ? strlen(h) : 0;
	if (n == 0 || n > 255)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = h[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' ||
		      c == '[' || c == ']'))
			return false;
	}
	return true;
}

/* Origin must be exactly <scheme>://<Host> (case-insensitive: both are
 * host names), the scheme being the one this request came in on. */
static bool same_origin(const web_env *e)
{
	const char *scheme = e->https && strcasecmp(e->https, "on") == 0 ? "https://" : "http://";
	size_t sl = strlen(scheme);
	if (!e->origin || !host_ok(e->host))
		return false;
	if (strncasecmp(e->origin, scheme, sl) != 0)
		return false;
	return strcasecmp(e->origin + sl, e->host) == 0;
}

static bool media_type_json(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;
	if (!ct || strncasecmp(ct, want, n) != 0)
		return false;
	const char *rest = ct + n;
	while (*rest == ' ')
		rest++;
	if (*rest == 0)
		return true;
	if (*rest != ';')
		return false;
	rest++;
	while (*rest == ' ')
		rest++;
	return strcasecmp(rest, "charset=utf-8") == 0 ||
	       strcasecmp(rest, "charset=\"utf-8\"") == 0;
}

int web_check_headers(const web_env *e, size_t *body_len, web_error *err)
{
	if (!e->method || strcmp(e->method, "POST") != 0)
		return refuse(err, 405, "only POST is accepted", NULL);
	if (!e->xrequest || strcmp(e->xrequest, "1") != 0)
		return refuse(err, 403, "the request lacks the header X-Apitoken-Request: 1", NULL);
	if (!same_origin(e))
		return refuse(err, 403, "the request does not come from this site's own page", NULL);
	if (e->fetch_site && strcmp(e->fetch_site, "same-origin") != 0)
		return refuse(err, 403, "the request does not come from this site's own page", NULL);
	if (!(e->https && strcasecmp(e->https, "on") == 0) && !is_loopback(e->remote_addr))
		return refuse(err, 403, "this page must be used over HTTPS", NULL);
	if (!media_type_json(e->content_type))
		return refuse(err, 415, "the request must be application/json", NULL);
	const char *cl = e->content_length;
	if (!cl || !*cl)
		return refuse(err, 411, "the request must state its length", NULL);
	size_t n = 0;
	for (const char *p = cl; *p; p++) {
		if (*p < '0' || *p > '9' || p - cl > 8)
			return refuse(err, *p >= '0' && *p <= '9' ? 413 : 400,
				      *p >= '0' && *p <= '9' ? "the request is too large"
							     : "the request's length is not a number",
				      NULL);
		n = n * 10 + (size_t)(*p - '0');
	}
	if (n > WEB_BODY_MAX)
		return refuse(err, 413, "the request is too large", NULL);
	*body_len = n;
	return 0;
}

int web_action_of(const char *path_info)
{
	if (!path_info || path_info[0] != '/')
		return -1;
	for (int i = 0; i < WA_COUNT; i++)
		if (strcmp(path_info + 1, action_names[i]) == 0)
			return i;
	return -1;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z') return c - 'A';
	if (c >= 'a' && c <= 'z') return c - 'a' + 26;
	if (c >= '0' && c <= '9') return c - '0' + 52;
	if (c == '+') return 62;
	if (c == '/') return 63;
	return -1;
}

/* Strict base64 (padding required, nothing else allowed) into out[0..cap);
 * returns the length or -1. */
static long b64_decode(const char *in, unsigned char *out, size_t cap)
{
	size_t n = strlen(in), o = 0;
	if (n == 0 || n % 4 != 0)
		return -1;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		int pad = 0;
		for (int k = 0; k < 4; k++) {
			if (in[i + k] == '=' && i + 4 == n && k >= 2) {
				v[k] = 0;
				pad++;
			} else if (pad) {
				return -1; /* data after '=' */
			} else if ((v[k] = b64_value((unsigned char)in[i + k])) < 0) {
				return -1;
			}
		}
		unsigned long w = (unsigned long)v[0] << 18 | (unsigned long)v[1] << 12 |
				  (unsigned long)v[2] << 6 | (unsigned long)v[3];
		unsigned char bytes[3] = { (unsigned char)(w >> 16), (unsigned char)(w >> 8),
					   (unsigned char)w };
		/* Unused bits of a padded group must be zero (one encoding only). */
		if ((pad == 1 && (w & 0xff)) || (pad == 2 && (w & 0xffff)))
			return -1;
		for (int k = 0; k < 3 - pad; k++) {
			if (o >= cap)
				return -1;
			out[o++] = bytes[k];
		}
	}
	return (long)o;
}

/* A login name as tokenadm may be asked about: [A-Za-z0-9._@$-], not
 * starting with '-'. */
static bool user_ok(const char *u, size_t n)
{
	if (n == 0 || n > WEB_USER_MAX || u[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = u[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' ||
		      c == '$' || c == '-'))
			return false;
	}
	return true;
}

static int credentials(const char *h, web_request *r, web_error *err)
{
	unsigned char raw[((WEB_USER_MAX + WEB_PASSWORD_MAX + 1) / 3 + 1) * 3];
	int rc = -1;
	if (!h || !*h)
		return refuse(err, 401, "sign in with your user name and password", "password");
	if (strncasecmp(h, "Basic ", 6) != 0)
		return refuse(err, 401, "sign in with your user name and password", "password");
	const char *b = h + 6;
	while (*b == ' ')
		b++;
	if (strlen(b) > ((WEB_USER_MAX + WEB_PASSWORD_MAX + 1) / 3 + 1) * 4)
		return refuse(err, 401, "the user name or password is too long", "password");
	long n = b64_decode(b, raw, sizeof(raw));
	if (n < 0) {
		refuse(err, 401, "the credentials are malformed", "password");
		goto out;
	}
	unsigned char *colon = memchr(raw, ':', (size_t)n);
	if (!colon) {
		refuse(err, 401, "the credentials are malformed", "password");
		goto out;
	}
	size_t ul = (size_t)(colon - raw), pl = (size_t)n - ul - 1;
	if (!user_ok((const char *)raw, ul)) {
		refuse(err, 401, "that is not a valid user name", "user");
		goto out;
	}
	if (pl == 0 || pl > WEB_PASSWORD_MAX) {
		refuse(err, 401, pl ? "the password is too long" : "enter your password",
		       "password");
		goto out;
	}
	/* tokenadm reads the password as one line of its standard input. */
	for (size_t i = 0; i < pl; i++)
		if (colon[1 + i] == 0 || colon[1 + i] == '\n' || colon[1 + i] == '\r') {
			refuse(err, 401, "the password holds a character it cannot hold",
			       "password");
			goto out;
		}
	memcpy(r->user, raw, ul);
	r->user[ul] = 0;
	memcpy(r->password, colon + 1, pl);
	r->password[pl] = 0;
	rc = 0;
out:
	explicit_bzero(raw, sizeof(raw));
	return rc;
}

/* ---- argv ---- */

static int arg(web_request *r, const char *a, const char *b)
{
	size_t la = strlen(a), lb = b ? strlen(b) : 0;
	if (r->argc >= WEB_ARGS_MAX || r->argoff + la + lb + 1 > sizeof(r->argbuf))
		return -1;
	char *p = r->argbuf + r->argoff;
	memcpy(p, a, la);
	if (b)
		memcpy(p + la, b, lb);
	p[la + lb] = 0;
	r->argoff += la + lb + 1;
	r->argv[r->argc++] = p;
	r->argv[r->argc] = NULL;
	return 0;
}

/* ---- field shapes ---- */

static bool chars_in(const char *s, size_t min, size_t max, const char *extra, bool alnum)
{
	size_t n = strlen(s);
	if (n < min || n > max || s[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool an = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!(alnum && an) && !(!alnum && (c >= '0' && c <= '9')) && !strchr(extra, c))
			return false;
	}
	return true;
}

static bool id_ok(const char *s)       { return chars_in(s, 12, 12, "", true); }
/* A duration ("90d"), "never", or an RFC 3339 time. */
static bool when_ok(const char *s)     { return chars_in(s, 1, 32, ":+.", true); }
static bool addr_ok(const char *s)     { return chars_in(s, 1, 64, "abcdefABCDEF.:/", false); }
static bool service_ok(const char *s)  { return chars_in(s, 1, 64, "._@+-", true); }
static bool state_ok(const char *s)
{
	return !strcmp(s, "active") || !strcmp(s, "expired") || !strcmp(s, "revoked") ||
	       !strcmp(s, "disabled") || !strcmp(s, "inactive");
}
/* A token's name: 1..64 bytes of text (UTF-8 already checked, no control
 * characters); tokenadm applies its own rule on top. */
static bool name_ok(const char *s)     { size_t n = strlen(s); return n >= 1 && n <= 64; }

typedef struct field_rule {
	const char *key;
	jf_type type;
	const char *opt;        /* tokenadm option; NULL: positional */
	bool (*ok)(const char *);
	const char *field;      /* the field an error names */
} field_rule;

static bool user_text_ok(const char *s) { return user_ok(s, strlen(s)); }

static const field_rule rules_list[] = {
	{ "all", JF_BOOL, "--all", NULL, "all" },
	{ "user", JF_STRING, "--user=", user_text_ok, "user" },
	{ "state", JF_STRING, "--state=", state_ok, "state" },
	{ "expiring_within", JF_STRING, "--expiring-within=", when_ok, "expiring_within" },
	{ "unused_for", JF_STRING, "--unused-for=", when_ok, "unused_for" },
	{ "limit", JF_INT, "--limit=", NULL, "limit" },
	{ NULL, JF_NULL, NULL, NULL, NULL },
};
static const field_rule rules_id[] = {
	{ "id", JF_STRING, NULL, id_ok, "id" },
	{ NULL, JF_NULL, NULL, NULL, NULL },
};
static const field_rule rules_create[] = {
	{ "name", JF_STRING, "--name=", name_ok, "name" },
	{ "expires", JF_STRING, "--expires=", when_ok, "expires" },
	{ "allow_from", JF_ARRAY, "--allow-from=", addr_ok, "allow_from" },
	{ "services", JF_ARRAY, "--service=", service_ok, "service" },
	{ NULL, JF_NULL, NULL, NULL, NULL },
};
static const field_rule rules_rotate[] = {
	{ "id", JF_STRING, NULL, id_ok, "id" },
	{ "grace", JF_STRING, "--grace=", when_ok, "grace" },
	{ NULL, JF_NULL, NULL, NULL, NULL },
};
static const field_rule rules_none[] = {
	{ NULL, JF_NULL, NULL, NULL, NULL },
};

static const field_rule *rules_for(web_action a)
{
	switch (a) {
	case WA_LIST: return rules_list;
	case WA_CREATE: return rules_create;
	case WA_ROTATE: return rules_rotate;
	case WA_SHOW: case WA_REVOKE: case WA_DISABLE: case WA_ENABLE: return rules_id;
	default: return rules_none;
	}
}

static int fields(web_request *r, web_error *err)
{
	const field_rule *rules = rules_for(r->action);
	/* Unknown fields first: a typo must not silently drop a restriction
	 * (an allow_from spelt wrong would mint a token usable anywhere). */
	for (size_t i = 0; i < r->doc.n; i++) {
		const field_rule *k = rules;
		while (k->key && strcmp(k->key, r->doc.f[i].key) != 0)
			k++;
		if (!k->key)
			return refuse(err, 400, "the request has a field this action does not take",
				      r->doc.f[i].key);
	}
	const char *positional = NULL;
	for (const field_rule *k = rules; k->key; k++) {
		const jf_field *f = jf_get(&r->doc, k->key);
		if (!f || f->type == JF_NULL) {
			if (k->opt == NULL)
				return refuse(err, 400, "this field is required", k->field);
			continue;
		}
		if (f->type != k->type) {
			return refuse(err, 400,
				      k->type == JF_BOOL ? "this field must be true or false" :
				      k->type == JF_INT ? "this field must be a whole number" :
				      k->type == JF_STRING ? "this field must be a text" :
							     "this field must be a list of texts",
				      k->field);
		}
		int rc = 0;
		switch (k->type) {
		case JF_BOOL:
			if (f->b)
				rc = arg(r, k->opt, NULL);
			break;
		case JF_INT: {
			char num[24];
			if (f->i < 1 || f->i > 1000000)
				return refuse(err, 400, "this number is out of range", k->field);
			snprintf(num, sizeof(num), "%lld", f->i);
			rc = arg(r, k->opt, num);
			break;
		}
		case JF_STRING:
			if (!k->ok(f->s))
				return refuse(err, 400, "this value has a shape that is not accepted",
					      k->field);
			if (k->opt)
				rc = arg(r, k->opt, f->s);
			else
				positional = f->s;
			break;
		case JF_ARRAY:
			for (size_t j = 0; j < f->n && rc == 0; j++) {
				if (!k->ok(f->a[j]))
					return refuse(err, 400,
						      "this value has a shape that is not accepted",
						      k->field);
				rc = arg(r, k->opt, f->a[j]);
			}
			break;
		case JF_NULL:
			break;
		}
		if (rc)
			return refuse(err, 413, "the request is too large", NULL);
	}
	/* The id last: shapes already keep it from looking like an option. */
	if (positional && arg(r, positional, NULL))
		return refuse(err, 413, "the request is too large", NULL);
	return 0;
}

int web_parse(const web_env *e, const char *body, size_t len,
	      const char *tokenadm, web_request *r, web_error *err)
{
	int a = web_action_of(e->path_info);
	const char *why = NULL;
	if (a < 0)
		return refuse(err, 404, "no such action", NULL);
	r->action = (web_action)a;
	if (credentials(e->authorization, r, err))
		return -1;
	if (len > WEB_BODY_MAX)
		return refuse(err, 413, "the request is too large", NULL);
	if (jf_parse(body, len, r->arena, sizeof(r->arena), &r->doc, &why))
		return refuse(err, 400, why, NULL);
	r->argc = 0;
	r->argoff = 0;
	/* The client's address goes to PAM (PAM_RHOST): the refusal line of a
	 * failed sign-in names it, for fail2ban. Only a literal address. */
	unsigned char ip[16];
	if (!e->remote_addr || (inet_pton(AF_INET, e->remote_addr, ip) != 1 &&
				inet_pton(AF_INET6, e->remote_addr, ip) != 1))
		return refuse(err, 403, "the client address is unknown", NULL);
	if (arg(r, tokenadm, NULL) || arg(r, "--login", NULL) ||
	    arg(r, "--client-addr=", e->remote_addr) ||
	    arg(r, action_names[a], NULL) || arg(r, "--json", NULL))
		return refuse(err, 500, "internal error", NULL);
	if (fields(r, err))
		return -1;
	return 0;
}

int web_status_for(int exit_code, const char *out, size_t len, bool *failed_login)
{
	*failed_login = false;
	if (exit_code == 0)
		return len > 0 && (out[0] == '{' || out[0] == '[') ? 200 : 502;
	if (exit_code < 1 || exit_code > 4)
		return 502;
	/* A failure is one small flat object; anything else is no answer. */
	char arena[8192];
	jf_doc doc;
	const char *why;
	if (len >= sizeof(arena) || jf_parse(out, len, arena, sizeof(arena), &doc, &why))
		return 502;
	const jf_field *error = jf_get(&doc, "error"), *field = jf_get(&doc, "field");
	if (!error || error->type != JF_STRING)
		return 502;
	bool has_field = field && field->type == JF_STRING;
	switch (exit_code) {
	case 1: return has_field ? 400 : 409;
	case 2: return 400;
	case 3:
		if (has_field && strcmp(field->s, "password") == 0) {
			*failed_login = true;
			return 401;
		}
		return 403;
	default: return 404;
	}
}

size_t web_error_json(const web_error *err, char *buf, size_t cap)
{
	size_t off = 0;
	if (cap == 0)
		return 0;
	buf[0] = 0;
	if (snprintf(buf, cap, "{\"error\":") >= (int)cap)
		return 0;
	off = strlen(buf);
	if (jf_put_string(buf, cap, &off, err->message ? err->message : "error"))
		return 0;
	if (off + 9 >= cap)
		return 0;
	memcpy(buf + off, ",\"field\":", 9);
	off += 9;
	buf[off] = 0;
	if (err->field) {
		if (jf_put_string(buf, cap, &off, err->field))
			return 0;
	} else {
		if (off + 4 >= cap)
			return 0;
		memcpy(buf + off, "null", 4);
		off += 4;
	}
	if (off + 2 >= cap)
		return 0;
	memcpy(buf + off, "}\n", 3);
	return off + 2;
}

const char *web_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 429: return "Too Many Requests";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

void web_request_wipe(web_request *r)
{
	explicit_bzero(r, sizeof(*r));
}
