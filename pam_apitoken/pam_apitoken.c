/* pam_apitoken: accept a personal API token in place of a password.
 *
 * Thin glue: gather the PAM inputs, ask the core (authcheck.c) for a
 * decision, map it to a PAM code, log it. Nothing here is global or static
 * and mutable, because hosts call PAM from many threads at once; the one
 * piece of shared state, the cache of config, key and store handle, lives
 * in cache.c behind a mutex. What authentication verified travels to the
 * account check on the PAM handle (pam_set_data), not in the thread. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "authcheck.h"
#include "cache.h"
#include "build_config.h"
#include "config.h"
#include "duration.h"
#include "freshness.h"
#include "lastused.h"
#include "logsafe.h"
#include "secure.h"

#define DATA_VERIFIED "pam_apitoken_verified"
#define EXPORT __attribute__((visibility("default")))

typedef struct module_args {
	const char *conf;     /* conf=, NULL: the built-in default */
	const char *db;       /* db=, overrides the config's db */
	bool debug;
	bool tokens_only;     /* refuse (and log) a password that is no token */
	int64_t warn;         /* warn=DURATION, 0: off */
	bool bad;             /* a security-relevant option did not parse */
} module_args;

static void parse_args(pam_handle_t *pamh, int argc, const char **argv,
		       module_args *args)
{
	memset(args, 0, sizeof(*args));
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strncmp(a, "conf=", 5) == 0 && a[5] == '/') {
			args->conf = a + 5;
		} else if (strncmp(a, "db=", 3) == 0 && a[3] == '/') {
			args->db = a + 3;
		} else if (strncmp(a, "conf=", 5) == 0 ||
			   strncmp(a, "db=", 3) == 0) {
			/* A relative or empty path would depend on the host's
			 * working directory: refuse to guess. */
			pam_syslog(pamh, LOG_ERR, "option %.64s: path must be absolute", a);
			args->bad = true;
		} else if (strcmp(a, "debug") == 0) {
			args->debug = true;
		} else if (strcmp(a, "tokens_only") == 0) {
			args->tokens_only = true;
		} else if (strncmp(a, "warn=", 5) == 0) {
			if (duration_parse(a + 5, &args->warn) != 0) {
				pam_syslog(pamh, LOG_ERR, "option %.64s: bad duration", a);
				args->warn = 0;
			}
		} else if (strcmp(a, "use_first_pass") == 0 ||
			   strcmp(a, "try_first_pass") == 0 ||
			   strcmp(a, "use_authtok") == 0) {
			/* pam_get_authtok reads these itself. */
		} else {
			pam_syslog(pamh, LOG_ERR, "unknown option %.64s, ignored", a);
		}
	}
}

static void log_to_pam(void *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void log_to_pam(void *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pam_vsyslog((pam_handle_t *)ctx, LOG_ERR, fmt, ap);
	va_end(ap);
}

/* Lease the config, key and store from the process-wide cache. Returns
 * PAM_SUCCESS, PAM_SERVICE_ERR (bad options or config, logged) or
 * PAM_BUF_ERR. */
static int lease_config(pam_handle_t *pamh, const module_args *args,
			cache_lease *lease)
{
	if (args->bad)
		return PAM_SERVICE_ERR;
	/* The built-in path may be absent (defaults apply); a path the
	 * administrator named must exist. */
	const char *path = args->conf ? args->conf : APITOKEN_DEFAULT_CONF;
	switch (cache_acquire(path, args->conf == NULL, args->db, lease,
			      log_to_pam, pamh)) {
	case CACHE_OK: return PAM_SUCCESS;
	case CACHE_CONFIG_ERROR: return PAM_SERVICE_ERR;
	case CACHE_NOMEM: return PAM_BUF_ERR;
	}
	return PAM_SERVICE_ERR;
}

static int map_outcome(auth_outcome o)
{
	switch (o) {
	case AUTH_ACCEPT: return PAM_SUCCESS;
	case AUTH_NOT_TOKEN: return PAM_IGNORE;
	case AUTH_REFUSED: return PAM_AUTH_ERR;
	case AUTH_UNAVAILABLE: return PAM_AUTHINFO_UNAVAIL;
	case AUTH_NOMEM: return PAM_BUF_ERR;
	}
	return PAM_SERVICE_ERR; /* unreachable; never success */
}

/* Everything both entry points start with: the options, and the user,
 * client and service of the request (the password is added by the
 * caller that has one). */
static int gather(pam_handle_t *pamh, int argc, const char **argv,
		  module_args *args, auth_request *req)
{
	const void *item;
	int rc;

	parse_args(pamh, argc, argv, args);
	memset(req, 0, sizeof(*req));
	req->now = (int64_t)time(NULL);
	rc = pam_get_user(pamh, &req->user, NULL);
	if (rc != PAM_SUCCESS)
		return rc;
	if (!req->user || !*req->user)
		return PAM_USER_UNKNOWN;
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS)
		req->rhost = item;
	if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
		req->service = item;
	return PAM_SUCCESS;
}

/* One line per decision, in pam_unix's shape so fail2ban can read it; the
 * token id names the token, never the token itself. */
static void log_result(pam_handle_t *pamh, const auth_request *in,
		       const auth_result *res, const char *what)
{
	char user[LOGSAFE_MAX], rhost[LOGSAFE_MAX], service[LOGSAFE_MAX];
	char ruser[LOGSAFE_MAX], tty[LOGSAFE_MAX];
	const void *item = NULL;

	log_safe(in->user, user, sizeof(user));
	log_safe(in->rhost, rhost, sizeof(rhost));
	log_safe(in->service, service, sizeof(service));
	pam_get_item(pamh, PAM_RUSER, &item);
	log_safe(item, ruser, sizeof(ruser));
	item = NULL;
	pam_get_item(pamh, PAM_TTY, &item);
	log_safe(item, tty, sizeof(tty));

	if (res->outcome == AUTH_ACCEPT) {
		pam_syslog(pamh, LOG_INFO,
			   "%s accepted for user %s; rhost=%s service=%s token=%s",
			   what, user, rhost, service, res->token_id);
		return;
	}
	/* "failure" only for a refusal, which the client caused and fail2ban
	 * counts; store, key or memory trouble is the server's and says
	 * "error", so an outage does not get every client banned. */
	bool refused = res->outcome == AUTH_REFUSED;
	pam_syslog(pamh, refused ? LOG_NOTICE : LOG_ERR,
		   "%s %s; logname=%s uid=%d euid=%d tty=%s ruser=%s "
		   "rhost=%s  user=%s service=%s token=%s reason=%s",
		   what, refused ? "failure" : "error", "", (int)getuid(),
		   (int)geteuid(), tty, ruser, rhost, user, service,
		   res->token_id[0] ? res->token_id : "-", res->reason);
}

/* From a successful authentication to the account check on the same
 * handle (which a threaded host may run on another thread): the record as
 * verified, without its digests, and which store file it came from. */
typedef struct verified_token {
	token_record rec;
	cache_store_id store;
	auth_secret secret; /* which secret matched */
} verified_token;

static void free_verified(pam_handle_t *pamh, void *data, int error_status)
{
	/* The core wiped the record's digests; only the matched secret's
	 * tag, a piece of a digest, is left to wipe. */
	secure_wipe(&((verified_token *)data)->secret,
		    sizeof(((verified_token *)data)->secret));
	free(data);
}

/* Put what authentication verified on the handle for the account check.
 * Returns PAM_SUCCESS or PAM_BUF_ERR (nothing kept). */
static int keep_verified(pam_handle_t *pamh, const verified_token *seen)
{
	verified_token *v = malloc(sizeof(*v));

	if (!v)
		return PAM_BUF_ERR;
	*v = *seen;
	if (pam_set_data(pamh, DATA_VERIFIED, v, free_verified) != PAM_SUCCESS) {
		free_verified(pamh, v, 0);
		return PAM_BUF_ERR;
	}
	return PAM_SUCCESS;
}

/* A host whose authority has said nothing for max_bundle_age may hold
 * tokens revoked since: with stale_action = refuse, none is accepted.
 * Checked only for a token that would pass, so refusals and ordinary
 * passwords cost nothing more. */
static void stale_gate(const apitoken_config *cfg, const auth_request *req,
		       auth_result *res)
{
	if (res->outcome == AUTH_ACCEPT &&
	    freshness_gate(cfg, req->now, res->reason,
			   sizeof(res->reason)) != 0)
		res->outcome = AUTH_UNAVAILABLE;
}

EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
			       const char **argv)
{
	module_args args;
	cache_lease lease;
	auth_request req;
	auth_result res;
	const char *pw = NULL;
	int rc;

	/* A previous success on this handle must not outlive a new attempt. */
	pam_set_data(pamh, DATA_VERIFIED, NULL, NULL);
	rc = gather(pamh, argc, argv, &args, &req);
	if (rc != PAM_SUCCESS)
		return rc;
	rc = pam_get_authtok(pamh, PAM_AUTHTOK, &pw, NULL);
	if (rc != PAM_SUCCESS)
		return rc;
	if (!pw)
		return PAM_AUTH_ERR;

	rc = lease_config(pamh, &args, &lease);
	if (rc != PAM_SUCCESS)
		return rc;

	/* strnlen: a token is short; a megabyte of password is simply not
	 * one, and need not be walked to the end. */
	req.password = pw;
	req.pwlen = strnlen(pw, TOKEN_TEXT_MAX + 1);
	req.tokens_only = args.tokens_only;
	/* On the stack, so a refusal costs no allocation: only an accepted
	 * token's record (digests already wiped) goes onto the handle. */
	verified_token seen;
	auth_check_token(lease.cfg, &lease.src, &req, &res, &seen.rec);
	stale_gate(lease.cfg, &req, &res);
	seen.store = lease.fetched;
	seen.secret = res.secret;
	secure_wipe(&res.secret, sizeof(res.secret));
	/* Kept before the last-use record is written: a success that fails
	 * here is an error, logged below, and must not count as the logged
	 * success that silences the next ones. */
	if (res.outcome == AUTH_ACCEPT &&
	    keep_verified(pamh, &seen) != PAM_SUCCESS) {
		res.outcome = AUTH_NOMEM;
		snprintf(res.reason, sizeof(res.reason),
			 "out of memory keeping the verified token");
	}
	secure_wipe(&seen.secret, sizeof(seen.secret));
	/* Refusals are always logged; a success only when the token's
	 * last-use record says none was logged within log_success_interval
	 * (web servers run PAM on every request). */
	bool log_it = true;
	if (res.outcome == AUTH_ACCEPT)
		log_it = lastused_record(lease.cfg, res.token_id, req.rhost,
					 req.now);
	cache_release(&lease);

	if (res.outcome == AUTH_NOT_TOKEN) {
		if (args.debug)
			pam_syslog(pamh, LOG_DEBUG, "password is not a token");
		return PAM_IGNORE;
	}
	if (log_it)
		log_result(pamh, &req, &res, "authentication");
	return map_outcome(res.outcome);
}

EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc,
			  const char **argv)
{
	return PAM_SUCCESS;
}

/* Re-check a session that a token opened: it may have been revoked or
 * expired, or its owner may have left the group, since authentication. */
EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
			    const char **argv)
{
	module_args args;
	cache_lease lease;
	auth_request req;
	auth_result res;
	const void *data = NULL;
	int rc;

	if (pam_get_data(pamh, DATA_VERIFIED, &data) != PAM_SUCCESS || !data)
		return PAM_IGNORE;
	const verified_token *v = data;
	rc = gather(pamh, argc, argv, &args, &req);
	if (rc != PAM_SUCCESS)
		return rc;
	rc = lease_config(pamh, &args, &lease);
	if (rc != PAM_SUCCESS)
		return rc;
	/* The store file authentication read is still the live one: its
	 * record is what a fetch would return, so skip the fetch and MAC.
	 * Otherwise (a revoke, a rotation, any write since) read it anew. */
	if (cache_store_current(&lease, &v->store))
		auth_recheck_record(lease.cfg, &v->rec, &req, &v->secret, &res);
	else
		auth_recheck_id(lease.cfg, &lease.src, v->rec.id, &req, &v->secret,
				&res);
	stale_gate(lease.cfg, &req, &res);
	cache_release(&lease);
	if (res.outcome != AUTH_ACCEPT) {
		log_result(pamh, &req, &res, "account check");
		/* A token that stopped being valid is an expired account in
		 * PAM's terms; store trouble stays what it is. */
		if (res.outcome == AUTH_REFUSED)
			return PAM_ACCT_EXPIRED;
		return map_outcome(res.outcome);
	}
	if (args.warn > 0 && res.expires != 0 && !(flags & PAM_SILENT) &&
	    res.expires - req.now <= args.warn) {
		long long left = (long long)(res.expires - req.now);
		if (left >= 86400)
			pam_info(pamh, "Token %s expires in %lld day(s).",
				 res.token_id, left / 86400);
		else
			pam_info(pamh, "Token %s expires in %lld hour(s).",
				 res.token_id, left / 3600);
	}
	if (args.debug)
		pam_syslog(pamh, LOG_DEBUG, "account check passed for token %s",
			   res.token_id);
	return PAM_SUCCESS;
}
