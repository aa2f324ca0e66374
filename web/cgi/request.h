/* The web API's requests, checked and turned into tokenadm's argv: a
 * pure unit (no I/O, no globals), so that the tests and the fuzz target
 * drive exactly what the CGI program runs.
 *
 *   POST /apitoken/api/<action>  with a JSON object body, where action is
 *   policy, list, show, create, rotate, revoke, disable or enable.
 *
 * A request passes, in this order (the first failure answers):
 *   method POST (405); header X-Apitoken-Request: 1 and an Origin equal to
 *   the request's own scheme://Host, and Sec-Fetch-Site same-origin when
 *   sent (403: another site cannot drive the API from a browser); HTTPS,
 *   unless the client is on loopback (403); Content-Type application/json
 *   (415); a Content-Length of at most WEB_BODY_MAX (411, 413); a known
 *   action (404); an Authorization: Basic header with a user name and a
 *   password (401, never with WWW-Authenticate); a flat JSON object with
 *   only the action's fields, each of its type and shape (400). */
#ifndef APITOKEN_WEB_REQUEST_H
#define APITOKEN_WEB_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "jsonflat.h"

#define WEB_BODY_MAX 16384
#define WEB_USER_MAX 256
#define WEB_PASSWORD_MAX 1024
#define WEB_ARGS_MAX 80

/* The CGI variables a request is judged by (NULL when unset). */
typedef struct web_env {
	const char *method;         /* REQUEST_METHOD */
	const char *content_type;   /* CONTENT_TYPE */
	const char *content_length; /* CONTENT_LENGTH */
	const char *path_info;      /* PATH_INFO: "/<action>" */
	const char *authorization;  /* HTTP_AUTHORIZATION (CGIPassAuth On) */
	const char *origin;         /* HTTP_ORIGIN */
	const char *host;           /* HTTP_HOST */
	const char *https;          /* HTTPS: "on" under mod_ssl */
	const char *xrequest;       /* HTTP_X_APITOKEN_REQUEST */
	const char *fetch_site;     /* HTTP_SEC_FETCH_SITE */
	const char *remote_addr;    /* REMOTE_ADDR */
} web_env;

typedef struct web_error {
	int status;          /* HTTP status */
	const char *message; /* static, for people */
	const char *field;   /* static or in the request, or NULL */
} web_error;

typedef enum web_action {
	WA_POLICY, WA_LIST, WA_SHOW, WA_CREATE, WA_ROTATE, WA_REVOKE,
	WA_DISABLE, WA_ENABLE, WA_COUNT
} web_action;

typedef struct web_request {
	web_action action;
	char user[WEB_USER_MAX + 1];
	char password[WEB_PASSWORD_MAX + 1]; /* wiped by web_request_wipe */
	/* tokenadm's argv (argv[0] is the path given to web_parse), NULL
	 * terminated; the strings live in argbuf. */
	char *argv[WEB_ARGS_MAX + 1];
	size_t argc;
	char argbuf[WEB_BODY_MAX + 2048];
	size_t argoff;
	char arena[WEB_BODY_MAX + 1];
	jf_doc doc;
} web_request;

/* Everything that can be judged before reading the body. On success
 * *body_len is the Content-Length. Returns 0 or -1 with *err set. */
int web_check_headers(const web_env *e, size_t *body_len, web_error *err);

/* The action, the credentials and the body into r (which the caller
 * zeroes first), with tokenadm's argv. Returns 0 or -1 with *err set. */
int web_parse(const web_env *e, const char *body, size_t len,
	      const char *tokenadm, web_request *r, web_error *err);

/* The action named by PATH_INFO, or -1. */
int web_action_of(const char *path_info);

/* The HTTP status for tokenadm's exit code and its stdout (the
 * {"error","exit","field"} object on failure); *failed_login is set when
 * tokenadm refused the password. 502 when tokenadm did not answer as
 * its contract says. */
int web_status_for(int exit_code, const char *out, size_t len,
		   bool *failed_login);

/* {"error":..., "field":...} into buf; returns its length (0 when it does
 * not fit, which a buffer of 512 bytes rules out for the static
 * messages). */
size_t web_error_json(const web_error *err, char *buf, size_t cap);

/* "Status: 200 OK"-style reason phrase. */
const char *web_reason(int status);

void web_request_wipe(web_request *r);

#endif
