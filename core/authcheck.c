#include "authcheck.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "addr.h"
#include "groups.h"
#include "ownercheck.h"
#include "secure.h"
#include "sitekey.h"
#include "store.h"
#include "token.h"

const char *token_state_name(token_state state)
{
	switch (state) {
	case TOKEN_ACTIVE: return "active";
	case TOKEN_EXPIRED: return "expired";
	case TOKEN_REVOKED: return "revoked";
	case TOKEN_DISABLED: return "disabled";
	case TOKEN_INACTIVE: return "inactive";
	}
	return "unknown";
}

token_state record_death(const token_record *rec, int64_t now)
{
	if (rec->flags & RECORD_REVOKED)
		return TOKEN_REVOKED;
	if (rec->expires != 0 && now >= rec->expires)
		return TOKEN_EXPIRED;
	return TOKEN_ACTIVE;
}

token_state record_state(const apitoken_config *cfg, const token_record *rec,
			 int64_t now, const char **reason)
{
	*reason = "";
	if (rec->flags & RECORD_REVOKED) {
		*reason = "revoked";
		return TOKEN_REVOKED;
	}
	if (rec->flags & RECORD_DISABLED) {
		/* tokenadm list/show complete it with the date (idle_since). */
		*reason = (rec->flags & RECORD_DISABLED_IDLE) ? "idle since" :
								"disabled";
		return TOKEN_DISABLED;
	}
	if (rec->expires != 0 && now >= rec->expires) {
		*reason = "expired";
		return TOKEN_EXPIRED;
	}
	/* The account behind the name, and the issuer behind the token
	 * (ownercheck.h). */
	if (owner_check(cfg, rec, &owner_lookup_nss, reason) != 0)
		return TOKEN_INACTIVE;
	/* Only while group sections exist, and only for tokens the owner
	 * minted for themselves under that policy (pam_apitoken.conf(5),
	 * GROUP SECTIONS). */
	if ((rec->flags & RECORD_GROUP_BOUND) && cfg->n_groups > 0) {
		int64_t lifetime;
		int r = user_allowed_lifetime(cfg, rec->user, &lifetime);
		/* An administrator's own token lives as long as they are one. */
		if (r == 0 && cfg->admin_group)
			r = user_in_group(rec->user, cfg->admin_group);
		if (r < 0) {
			/* Cannot tell: fail closed. */
			*reason = "group membership lookup failed";
			return TOKEN_INACTIVE;
		}
		if (r == 0) {
			*reason = "owner is in no group allowed to hold tokens";
			return TOKEN_INACTIVE;
		}
	}
	return TOKEN_ACTIVE;
}

static void set(auth_result *res, auth_outcome outcome, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set(auth_result *res, auth_outcome outcome, const char *fmt, ...)
{
	va_list ap;

	res->outcome = outcome;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

static bool word_in_list(const char *list, const char *word)
{
	size_t wl = strlen(word);
	const char *p = list;

	while (*p) {
		p += strspn(p, " ,");
		size_t n = strcspn(p, " ,");
		if (n == wl && n > 0 && memcmp(p, word, n) == 0)
			return true;
		p += n;
	}
	return false;
}

/* Host rules: the global ones and the token's own must both pass. */
static bool host_allowed(const apitoken_config *cfg, const token_record *rec,
			 const char *rhost, auth_result *res)
{
	addr_client client;
	addr_list allow = { 0 }, deny = { 0 };
	char err[128];

	addr_client_parse(rhost, &client);
	addr_verdict v = addr_check(&cfg->allow_from, &cfg->deny_from, &client);
	if (v == ADDR_ALLOWED) {
		if (addr_list_parse(rec->allow_from, &allow, err, sizeof(err)) != 0 ||
		    addr_list_parse(rec->deny_from, &deny, err, sizeof(err)) != 0) {
			addr_list_free(&allow);
			set(res, AUTH_REFUSED, "token host rules unreadable: %s", err);
			return false;
		}
		v = addr_check(&allow, &deny, &client);
		addr_list_free(&allow);
		addr_list_free(&deny);
		if (v != ADDR_ALLOWED) {
			set(res, AUTH_REFUSED, "%s by the token's host rules",
			    v == ADDR_BAD_RHOST ? "client address unusable" :
						  "host not allowed");
			return false;
		}
		return true;
	}
	set(res, AUTH_REFUSED, "%s by the global host rules",
	    v == ADDR_BAD_RHOST ? "client address unusable" : "host not allowed");
	return false;
}

static bool service_allowed(const apitoken_config *cfg, const token_record *rec,
			    const char *service, auth_result *res)
{
	if (!service || !*service) {
		set(res, AUTH_REFUSED, "no PAM service name");
		return false;
	}
	if (rec->services[0]) {
		if (!word_in_list(rec->services, service)) {
			set(res, AUTH_REFUSED,
			    "service not allowed for this token");
			return false;
		}
		/* Only a token root made opens a deny_services service (su,
		 * sudo...): an administrator who is not root, or a member,
		 * must not mint their way to root (tokenadm(8), PERMISSIONS).
		 * Judged at use, so tokens made before the rule are held to
		 * it too. */
		if (config_service_denied(cfg, service) && rec->creator_uid != 0) {
			set(res, AUTH_REFUSED,
			    "service in deny_services, and the token was not "
			    "made by root");
			return false;
		}
		return true;
	}
	/* A token that does not name a privileged service explicitly can never
	 * be used for it: a leaked API token must not become root. */
	if (config_service_denied(cfg, service)) {
		set(res, AUTH_REFUSED,
		    "service denied for tokens unless a token names it");
		return false;
	}
	return true;
}

/* Everything after the secret: owner, state, service, host. */
static void check_record(const apitoken_config *cfg, const token_record *rec,
			 const auth_request *req, auth_result *res)
{
	const char *why;

	res->expires = rec->expires;
	if (!req->user || strcmp(req->user, rec->user) != 0) {
		set(res, AUTH_REFUSED, "token belongs to another user");
		return;
	}
	if (record_state(cfg, rec, req->now, &why) != TOKEN_ACTIVE) {
		set(res, AUTH_REFUSED, "token %s", why);
		return;
	}
	if ((!req->skip_service_rules &&
	     !service_allowed(cfg, rec, req->service, res)) ||
	    !host_allowed(cfg, rec, req->rhost, res))
		return;
	set(res, AUTH_ACCEPT, "accepted");
}

/* Of a record only the digests are worth an attacker's while (they can
 * be brute-forced offline); wipe those, not 3 KB of names and rules. */
static void wipe_digests(token_record *rec)
{
	secure_wipe(rec->digest, MAC_LEN);
	secure_wipe(rec->prev_digest, MAC_LEN);
}

/* Fetch and decode the record for id. Returns 1 with *rec filled, 0 if the
 * id is unknown, -1 with res set on any failure. */
static int load_record(const record_source *src, const char *id,
		       token_record *rec, auth_result *res)
{
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len = 0;
	char err[256] = "";
	int rc;

	if (!src->key) {
		set(res, AUTH_UNAVAILABLE, "%s",
		    src->key_error ? src->key_error : "site key unavailable");
		return -1;
	}
	store_status st = src->fetch(src->ctx, id, buf, sizeof(buf), &len, err,
				     sizeof(err));
	if (st == STORE_ERROR) {
		set(res, AUTH_UNAVAILABLE, "%s", err);
		return -1;
	}
	if (st == STORE_NOTFOUND) {
		/* Read the store's decoy entry, so an unknown id costs about
		 * what a real record does (see STORE_DECOY_KEY; measured with
		 * tests/timing_refusals: within 1%). A store made before the
		 * decoy existed gets a dummy decode instead. */
		if (src->fetch(src->ctx, STORE_DECOY_KEY, buf, sizeof(buf), &len,
			       err, sizeof(err)) != STORE_OK) {
			token_record dummy;
			memset(buf, 0, STORE_DECOY_LEN);
			len = STORE_DECOY_LEN;
			(void)record_decode(id, buf, len, src->key, &dummy);
		}
		rc = 0;
	} else if ((rc = record_decode(id, buf, len, src->key, rec)) != 0) {
		if (rc == RECORD_ERR_NEWER)
			set(res, AUTH_UNAVAILABLE,
			    /* In the store (unsigned), a higher version
			     * byte is a newer tokenadm's record or a flipped
			     * bit: say both. */
			    "record %s is of a format newer than this module "
			    "reads (upgrade pam_apitoken) or failed its "
			    "integrity check (corrupt)", id);
		else
			set(res, AUTH_UNAVAILABLE,
			    "record %s failed its integrity check (corrupt or "
			    "tampered)", id);
		rc = -1;
	} else {
		rc = 1;
	}
	secure_wipe(buf, len < sizeof(buf) ? len : sizeof(buf));
	return rc;
}

/* Is rec's previous secret (one a rotation with grace left behind) still
 * accepted at now? The one statement of the grace rule, for the login and
 * both account checks. */
static bool previous_in_grace(const token_record *rec, int64_t now)
{
	return rec->prev_until != 0 && now < rec->prev_until;
}

void auth_check_token(const apitoken_config *cfg, const record_source *src,
		      const auth_request *req, auth_result *res,
		      token_record *accepted)
{
	token_parts parts;
	token_record rec;
	uint8_t digest[MAC_LEN];

	memset(res, 0, sizeof(*res));
	memset(rec.digest, 0, MAC_LEN);
	memset(rec.prev_digest, 0, MAC_LEN);
	if (!token_parse(cfg->prefix, req->password, req->pwlen, &parts)) {
		/* Only the shape was looked at: nothing of the password goes
		 * into the reason, which is logged. */
		if (req->tokens_only)
			set(res, AUTH_REFUSED,
			    "password is not a token (tokens only)");
		else
			set(res, AUTH_NOT_TOKEN, "not a token");
		return;
	}
	memcpy(res->token_id, parts.id, sizeof(res->token_id));

	int found = load_record(src, parts.id, &rec, res);
	if (found < 0)
		goto out;
	if (record_token_digest(src->key, &parts, digest) != 0) {
		set(res, AUTH_NOMEM, "HMAC failed");
		goto out;
	}
	if (found == 0) {
		set(res, AUTH_REFUSED, "unknown token id");
		goto out;
	}
	/* Both comparisons always run, in constant time, so neither the
	 * timing nor the order reveals which secret came close. */
	bool current = secure_equal(digest, rec.digest, MAC_LEN);
	bool previous = secure_equal(digest, rec.prev_digest, MAC_LEN) &&
			rec.prev_until != 0;
	if (!current && !previous) {
		set(res, AUTH_REFUSED, "wrong secret");
		goto out;
	}
	if (!current && !previous_in_grace(&rec, req->now)) {
		set(res, AUTH_REFUSED, "secret replaced by rotation, grace ended");
		goto out;
	}
	check_record(cfg, &rec, req, res);
	if (res->outcome == AUTH_ACCEPT) {
		res->secret.via_previous = !current;
		memcpy(res->secret.tag, current ? rec.digest : rec.prev_digest,
		       AUTH_SECRET_TAG_LEN);
	}
	/* Handed out only once the secret matched and every check passed,
	 * and without the digests (which the account check does not need). */
	if (res->outcome == AUTH_ACCEPT && accepted) {
		*accepted = rec;
		wipe_digests(accepted);
	}
out:
	secure_wipe(&parts, sizeof(parts));
	secure_wipe(digest, sizeof(digest));
	wipe_digests(&rec);
}

/* Is the secret authentication matched still good for rec at now: the
 * token's current one, or its previous one within the grace? A rotation
 * since authentication ends a session that used the old secret. */
static bool secret_still_valid(const token_record *rec,
			       const auth_secret *matched, int64_t now)
{
	if (memcmp(rec->digest, matched->tag, AUTH_SECRET_TAG_LEN) == 0)
		return true;
	return memcmp(rec->prev_digest, matched->tag, AUTH_SECRET_TAG_LEN) == 0 &&
	       previous_in_grace(rec, now);
}

void auth_recheck_id(const apitoken_config *cfg, const record_source *src,
		     const char *id, const auth_request *req,
		     const auth_secret *matched, auth_result *res)
{
	token_record rec;

	memset(res, 0, sizeof(*res));
	memset(rec.digest, 0, MAC_LEN);
	memset(rec.prev_digest, 0, MAC_LEN);
	if (!token_id_valid(id)) {
		set(res, AUTH_REFUSED, "bad token id");
		return;
	}
	memcpy(res->token_id, id, TOKEN_ID_LEN + 1);
	int found = load_record(src, id, &rec, res);
	if (found == 0)
		set(res, AUTH_REFUSED, "token no longer exists");
	else if (found > 0 && !secret_still_valid(&rec, matched, req->now))
		set(res, AUTH_REFUSED, "secret replaced by rotation");
	else if (found > 0)
		check_record(cfg, &rec, req, res);
	wipe_digests(&rec);
}

void auth_recheck_record(const apitoken_config *cfg, const token_record *rec,
			 const auth_request *req, const auth_secret *matched,
			 auth_result *res)
{
	memset(res, 0, sizeof(*res));
	memcpy(res->token_id, rec->id, TOKEN_ID_LEN + 1);
	/* The same record as then (the store is unchanged), but time moves:
	 * a session on the previous secret ends with the grace. */
	if (matched->via_previous && !previous_in_grace(rec, req->now)) {
		set(res, AUTH_REFUSED, "secret replaced by rotation, grace ended");
		return;
	}
	check_record(cfg, rec, req, res);
}
