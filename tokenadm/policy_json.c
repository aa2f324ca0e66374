/* tokenadm policy --json: what the web page needs to know about the
 * person signed in (or, for an administrator, --user): who they are,
 * whether they administer, the host's role, whether they may hold tokens
 * (and why not, in words), the lifetimes they may choose. tokenadm(8),
 * JSON OUTPUT, is the contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "authcheck.h"
#include "groups.h"
#include "json_out.h"
#include "policy_json.h"

/* How long before expiry a token is shown as expiring soon. */
#define EXPIRY_WARNING_SECONDS (14 * 86400)
/* What create picks without --expires (cmd_create.c, DEFAULT_LIFETIME). */
#define CREATE_DEFAULT_LIFETIME (90 * 86400)

static const struct {
	const char *label, *value;
	int64_t seconds; /* LIFETIME_NEVER: no expiry */
} presets[] = {
	{ "1 day", "1d", 86400 },
	{ "7 days", "7d", 7 * 86400 },
	{ "30 days", "30d", 30 * 86400 },
	{ "60 days", "60d", 60 * 86400 },
	{ "90 days", "90d", 90 * 86400 },
	{ "180 days", "180d", 180 * 86400 },
	{ "1 year", "365d", 365 * 86400 },
	{ "No expiry", "never", LIFETIME_NEVER },
};

static void json_lifetime(int64_t l)
{
	char buf[32];

	if (l == LIFETIME_NEVER) {
		fputs("\"never\"", stdout);
		return;
	}
	json_format_duration(l, buf);
	json_string(buf);
}

static void json_uint_or_null(unsigned v)
{
	if (v)
		printf("%u", v);
	else
		fputs("null", stdout);
}

static void json_names(char *const *names, size_t n)
{
	putchar('[');
	for (size_t i = 0; i < n; i++) {
		if (i)
			putchar(',');
		json_string(names[i]);
	}
	putchar(']');
}

/* The presets up to max (LIFETIME_NEVER: all), and max itself when it is
 * none of them. */
static void json_lifetimes(int64_t max)
{
	bool first = true, max_listed = false;

	putchar('[');
	for (size_t i = 0; i < sizeof(presets) / sizeof(presets[0]); i++) {
		int64_t s = presets[i].seconds;
		if (max != LIFETIME_NEVER && (s == LIFETIME_NEVER || s > max))
			continue;
		if (s == max)
			max_listed = true;
		printf("%s{\"label\":", first ? "" : ",");
		json_string(presets[i].label);
		fputs(",\"value\":", stdout);
		json_string(presets[i].value);
		printf(",\"seconds\":");
		if (s == LIFETIME_NEVER)
			fputs("null}", stdout);
		else
			printf("%lld}", (long long)s);
		first = false;
	}
	if (max != LIFETIME_NEVER && !max_listed) {
		char value[32], label[64];
		json_format_duration(max, value);
		if (max % 86400 == 0)
			snprintf(label, sizeof(label), "%lld days (the most allowed)",
				 (long long)(max / 86400));
		else
			snprintf(label, sizeof(label), "%s (the most allowed)",
				 value);
		printf("%s{\"label\":", first ? "" : ",");
		json_string(label);
		fputs(",\"value\":", stdout);
		json_string(value);
		printf(",\"seconds\":%lld}", (long long)max);
	}
	putchar(']');
}

/* The effective configuration, for administrators (read-only on the
 * page). Paths are the administrator's own to see. */
static void json_config(const tool *t)
{
	const apitoken_config *c = &t->cfg;
	char rules[4096];

	fputs("{\"config\":", stdout);
	if (c->path)
		json_string(c->path);
	else
		fputs("null", stdout);
	fputs(",\"db\":", stdout);
	json_string(c->db_path);
	fputs(",\"key\":", stdout);
	json_string(c->key_path);
	fputs(",\"prefix\":", stdout);
	json_string(c->prefix);
	fputs(",\"allow_from\":", stdout);
	addr_list_format(&c->allow_from, rules, sizeof(rules));
	json_string_list(rules);
	fputs(",\"deny_from\":", stdout);
	addr_list_format(&c->deny_from, rules, sizeof(rules));
	json_string_list(rules);
	fputs(",\"deny_services\":", stdout);
	json_names(c->deny_services, c->n_deny_services);
	fputs(",\"admin_group\":", stdout);
	if (c->admin_group)
		json_string(c->admin_group);
	else
		fputs("null", stdout);
	fputs(",\"max_tokens_per_user\":", stdout);
	json_uint_or_null(config_token_limit(c, false));
	fputs(",\"max_tokens_per_admin\":", stdout);
	json_uint_or_null(config_token_limit(c, true));
	fputs(",\"max_store_tokens\":", stdout);
	json_uint_or_null(c->max_store_tokens);
	printf(",\"log_success_interval_seconds\":%lld,\"groups\":[",
	       (long long)c->log_success_interval);
	for (size_t i = 0; i < c->n_groups; i++) {
		printf("%s{\"name\":", i ? "," : "");
		json_string(c->groups[i].name);
		fputs(",\"max_lifetime\":", stdout);
		json_lifetime(c->groups[i].max_lifetime);
		fputs(",\"max_lifetime_seconds\":", stdout);
		if (c->groups[i].max_lifetime == LIFETIME_NEVER)
			fputs("null}", stdout);
		else
			printf("%lld}", (long long)c->groups[i].max_lifetime);
	}
	printf("],\"role\":\"%s\"}",
	       c->role == ROLE_IMPORT_ONLY ? "import-only" : "authority");
}

typedef struct held_ctx {
	unsigned n;
} held_ctx;

static int count_held(tool *t, void *ctx, const token_record *rec)
{
	/* As create counts against max_tokens_per_user: not revoked or
	 * expired (a disabled one can be enabled again). */
	if (record_death(rec, t->now) == TOKEN_ACTIVE)
		((held_ctx *)ctx)->n++;
	return 0;
}

/* "Why you cannot create tokens", for a person, not an administrator. */
static void json_why_not(const tool *t)
{
	const apitoken_config *c = &t->cfg;
	char text[1024];
	size_t len = 0;

	if (c->n_groups == 0) {
		json_string("On this host only administrators create API tokens. "
			    "Ask an administrator if you need one.");
		return;
	}
	len = (size_t)snprintf(text, sizeof(text),
			       "Your account is not in a group that may hold API "
			       "tokens (%s ", c->n_groups > 1 ? "groups" : "group");
	for (size_t i = 0; i < c->n_groups && len < sizeof(text); i++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%s",
					i ? ", " : "", c->groups[i].name);
	if (len < sizeof(text))
		snprintf(text + len, sizeof(text) - len,
			 "). Ask an administrator to add you to one.");
	json_string(text);
}

int policy_json(tool *t, const char *user, bool store_open)
{
	const apitoken_config *c = &t->cfg;
	struct passwd pw;
	char *pwbuf = NULL;
	int64_t lifetime = 0;

	int found = lookup_user(user, 0, &pw, &pwbuf);
	uid_t uid = found == 1 ? pw.pw_uid : 0;
	free(pwbuf);
	if (found != 1) {
		json_fail_field("user");
		warnx_("no such user '%.64s'", user);
		return EXIT_REFUSED;
	}
	int member = user_allowed_lifetime(c, user, &lifetime);
	int in_admin = c->admin_group ? user_in_group(user, c->admin_group) : 0;
	if (member < 0 || in_admin < 0) {
		warnx_("cannot look up the groups of %s", user);
		return EXIT_REFUSED;
	}
	bool admin = uid == 0 || in_admin == 1;
	bool may_hold = admin || member == 1;
	bool authority = c->role != ROLE_IMPORT_ONLY;
	/* Administrators issue what they like; members up to their group's
	 * maximum (cmd_create.c, check_policy). */
	int64_t max = admin ? LIFETIME_NEVER : member == 1 ? lifetime : 0;
	int64_t dflt = CREATE_DEFAULT_LIFETIME;
	if (!admin && max != LIFETIME_NEVER && max > 0 && max < dflt)
		dflt = max;

	held_ctx held = { 0 };
	bool counted = store_open &&
		       tool_foreach_record_of(t, NULL, user, count_held, &held) == 0;

	fputs("{\"user\":", stdout);
	json_string(user);
	printf(",\"uid\":%u,\"admin\":%s,\"role\":\"%s\",\"via_web\":%s",
	       (unsigned)uid, admin ? "true" : "false",
	       authority ? "authority" : "import-only",
	       t->via_web ? "true" : "false");
	printf(",\"may_hold\":%s,\"why_not\":", may_hold ? "true" : "false");
	if (may_hold)
		fputs("null", stdout);
	else
		json_why_not(t);
	printf(",\"may_create\":%s,\"why_not_create\":",
	       may_hold && authority ? "true" : "false");
	if (!may_hold)
		json_why_not(t);
	else if (!authority)
		json_string("This host only imports tokens from the fleet's "
			    "authority: create and rotate tokens there. Here you "
			    "can still revoke or disable them.");
	else
		fputs("null", stdout);
	fputs(",\"max_lifetime\":", stdout);
	if (may_hold)
		json_lifetime(max);
	else
		fputs("null", stdout);
	fputs(",\"max_lifetime_seconds\":", stdout);
	if (may_hold && max != LIFETIME_NEVER)
		printf("%lld", (long long)max);
	else
		fputs("null", stdout);
	fputs(",\"default_lifetime\":", stdout);
	if (may_hold)
		json_lifetime(dflt);
	else
		fputs("null", stdout);
	fputs(",\"lifetimes\":", stdout);
	if (may_hold)
		json_lifetimes(max);
	else
		fputs("[]", stdout);
	fputs(",\"max_tokens_per_user\":", stdout);
	json_uint_or_null(config_token_limit(c, admin));
	fputs(",\"tokens_held\":", stdout);
	if (counted)
		printf("%u", held.n);
	else
		fputs("null", stdout);
	printf(",\"expiry_warning_seconds\":%d,\"deny_services\":",
	       EXPIRY_WARNING_SECONDS);
	json_names(c->deny_services, c->n_deny_services);
	/* null: any service name, but those in deny_services only root may
	 * put in a token (pam_apitoken.conf(5)). */
	fputs(",\"services_allowed_to_name\":null", stdout);
	if (t->admin) {
		fputs(",\"policy\":", stdout);
		json_config(t);
	}
	puts("}");
	return EXIT_OK;
}
