/* tokenadm create: mint a token and print it, once. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "authcheck.h"
#include "duration.h"
#include "fleet.h"
#include "groups.h"
#include "json_out.h"
#include "secure.h"
#include "tokenadm.h"

#define DEFAULT_LIFETIME (90 * 86400)

typedef struct create_opts {
	const char *name;
	const char *user;
	const char *expires;
	int64_t expires_at; /* from --expires (when set): 0 = never */
	addr_list allow, deny;
	char services[RECORD_SERVICES_MAX + 1];
	bool json;
	/* Filled by transact for report. */
	token_record rec;
	minted token;
} create_opts;

static int add_rules(addr_list *list, const char *text)
{
	addr_list one;
	char err[128];

	if (addr_list_parse(text, &one, err, sizeof(err)) != 0) {
		warnx_("bad address rule: %s", err);
		return -1;
	}
	/* An empty value ("--allow-from $NET" with NET unset) must not
	 * quietly mint a token usable from anywhere. */
	if (one.n == 0) {
		warnx_("empty address rule: give ADDR, ADDR/PREFIX or local");
		return -1;
	}
	int rc = addr_list_append(list, &one);
	addr_list_free(&one);
	if (rc != 0)
		warnx_("too many address rules");
	return rc;
}

static int add_service(char *services, const char *name)
{
	if (!valid_service_name(name)) {
		warnx_("bad service name '%.64s'", name);
		return -1;
	}
	size_t have = strlen(services), n = strlen(name);
	if (have + n + 2 > RECORD_SERVICES_MAX + 1) {
		warnx_("too many services");
		return -1;
	}
	if (have)
		services[have++] = ' ';
	memcpy(services + have, name, n + 1);
	return 0;
}

static int create_parse(int argc, char **argv, void *opts, int64_t now)
{
	create_opts *o = opts;
	static const struct option longopts[] = {
		{ "name", required_argument, NULL, 'n' },
		{ "user", required_argument, NULL, 'u' },
		{ "expires", required_argument, NULL, 'e' },
		{ "allow-from", required_argument, NULL, 'a' },
		{ "deny-from", required_argument, NULL, 'd' },
		{ "service", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o->name = optarg; break;
		case 'u': o->user = optarg; break;
		case 'e': o->expires = optarg; break;
		case 'a':
			if (add_rules(&o->allow, optarg)) {
				json_fail_field("allow_from");
				return EXIT_USAGE;
			}
			break;
		case 'd':
			if (add_rules(&o->deny, optarg)) {
				json_fail_field("deny_from");
				return EXIT_USAGE;
			}
			break;
		case 's':
			if (add_service(o->services, optarg)) {
				json_fail_field("service");
				return EXIT_USAGE;
			}
			break;
		case 'j': o->json = true; break;
		default: return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		warnx_("unexpected argument '%.64s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (!o->name) {
		json_fail_field("name");
		warnx_("create needs --name NAME");
		return EXIT_USAGE;
	}
	if (!valid_token_name(o->name)) {
		json_fail_field("name");
		warnx_("a name is 1-%d letters, digits, spaces and ._-@:+",
		       RECORD_NAME_MAX);
		return EXIT_USAGE;
	}
	if (o->expires) {
		if (expiry_parse(o->expires, now, &o->expires_at) != 0) {
			json_fail_field("expires");
			warnx_("bad --expires '%.64s': use 30m, 12h, 90d, 4w, "
			       "2027-01-31, an RFC 3339 time or never",
			       o->expires);
			return EXIT_USAGE;
		}
		if (o->expires_at != 0 && o->expires_at <= now) {
			json_fail_field("expires");
			warnx_("--expires is in the past");
			return EXIT_USAGE;
		}
	}
	/* Into the record now: more rules than it holds is a usage error,
	 * found before anything privileged runs. */
	if (addr_list_format(&o->allow, o->rec.allow_from,
			     sizeof(o->rec.allow_from)) ||
	    addr_list_format(&o->deny, o->rec.deny_from,
			     sizeof(o->rec.deny_from))) {
		warnx_("too many address rules");
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

typedef struct count_ctx {
	unsigned n;
} count_ctx;

static int count_live(tool *t, void *ctx, const token_record *rec)
{
	count_ctx *c = ctx;

	/* Only the owner's records come here (tool_walk_records). Dead
	 * tokens do not count against the limit; prune removes them. A
	 * disabled one counts: it can be enabled again. */
	if (record_death(rec, t->now) == TOKEN_ACTIVE)
		c->n++;
	return 0;
}

/* Inside the transaction, so that two creates racing cannot both slip
 * under a limit. Returns EXIT_OK, EXIT_DENIED or EXIT_REFUSED (reported). */
static int check_limits(tool *t, store_txn *txn, const char *owner)
{
	unsigned limit = config_token_limit(&t->cfg, t->admin);
	bool store_cap = !t->admin && t->cfg.max_store_tokens;
	count_ctx c = { 0 };
	unsigned long entries = 0;

	if (!limit && !store_cap)
		return EXIT_OK;
	/* One walk for both: the owner's live tokens are decoded, everyone
	 * else's only counted. */
	if (tool_walk_records(t, txn, owner, count_live, &c, &entries) < 0)
		return EXIT_REFUSED;
	if (limit && c.n >= limit) {
		warnx_("%s already has %u tokens, the most allowed; "
		       "revoke one first", owner, c.n);
		return EXIT_DENIED;
	}
	/* The whole store, dead records included (they take disk until
	 * pruned): what members together may grow it to. Administrators are
	 * not held back, they are who prunes. */
	if (store_cap && entries >= t->cfg.max_store_tokens) {
		warnx_("the store holds %lu tokens, the most allowed "
		       "(max_store_tokens); ask an administrator", entries);
		return EXIT_DENIED;
	}
	return EXIT_OK;
}

/* Policy for the owner: may they hold this token, and is the expiry
 * within what their group allows? Administrators issue what they like. */
static int check_policy(tool *t, const char *owner, int64_t expires,
			bool *group_bound)
{
	int64_t lifetime = 0;
	int member = user_allowed_lifetime(&t->cfg, owner, &lifetime);

	if (member < 0) {
		warnx_("cannot look up the groups of %s", owner);
		return EXIT_REFUSED;
	}
	/* tokenadm(8), PERMISSIONS: a token its owner mints for themselves is
	 * bound to their membership of an allowed group (or of admin_group,
	 * for an administrator's own). Root's are not: root is always an
	 * admin. */
	*group_bound = strcmp(owner, t->user) == 0 && t->uid != 0;
	if (t->admin)
		return EXIT_OK;
	if (member == 0) {
		warnx_(t->cfg.n_groups ?
			       "you are in no group allowed to create tokens" :
			       "only administrators create tokens (no [group] "
			       "sections in the config)");
		return EXIT_DENIED;
	}
	if (lifetime == LIFETIME_NEVER)
		return EXIT_OK;
	if (expires == 0 || expires - t->now > lifetime) {
		char buf[32];
		json_fail_field("expires");
		warnx_("your group allows tokens of at most %lld days; pick "
		       "an --expires up to %s",
		       (long long)(lifetime / 86400),
		       fmt_time(t->now + lifetime, "?", buf));
		return EXIT_DENIED;
	}
	return EXIT_OK;
}

/* 90 days, or the group's maximum when that is shorter, so that a plain
 * "tokenadm create --name laptop" works for every member. */
static int64_t default_lifetime(tool *t, const char *owner)
{
	int64_t lifetime = 0;

	if (!t->admin && user_allowed_lifetime(&t->cfg, owner, &lifetime) == 1 &&
	    lifetime != LIFETIME_NEVER && lifetime < DEFAULT_LIFETIME)
		return lifetime;
	return DEFAULT_LIFETIME;
}

static int owner_exists(const char *user)
{
	struct passwd pw;
	char *buf = NULL;
	int found = lookup_user(user, 0, &pw, &buf);

	free(buf);
	return found == 1;
}

static int create_transact(tool *t, void *opts)
{
	create_opts *o = opts;
	token_record *rec = &o->rec;
	store_txn *txn = NULL;

	int rc = fleet_require_authority(t, "tokens are created");
	if (rc != EXIT_OK)
		return rc;
	const char *owner = o->user ? o->user : t->user;
	if (strcmp(owner, t->user) != 0 && !t->admin) {
		json_fail_field("user");
		warnx_("only administrators create tokens for other users");
		return EXIT_DENIED;
	}
	if (strlen(owner) > RECORD_USER_MAX || !owner_exists(owner)) {
		json_fail_field("user");
		warnx_("no such user '%.64s'", owner);
		return EXIT_REFUSED;
	}
	rec->expires = o->expires ? o->expires_at :
					t->now + default_lifetime(t, owner);
	bool bound = false;
	rc = check_policy(t, owner, rec->expires, &bound);
	if (rc != EXIT_OK)
		return rc;

	snprintf(rec->user, sizeof(rec->user), "%s", owner);
	snprintf(rec->name, sizeof(rec->name), "%s", o->name);
	memcpy(rec->services, o->services, sizeof(rec->services));
	rec->created = t->now;
	rec->creator_uid = (uint32_t)t->uid;
	rec->flags = bound ? RECORD_GROUP_BOUND : 0;

	if (require_writable_stdout() != 0 || tool_begin(t, &txn) != 0)
		return EXIT_REFUSED;
	rc = check_limits(t, txn, owner);
	if (rc != EXIT_OK) {
		tool_abort(t, txn);
		return rc;
	}
	if (tool_mint(t, txn, rec, true, &o->token, "created", NULL) != 0)
		return EXIT_REFUSED;
	return EXIT_OK;
}

static int create_report(tool *t, void *opts, int rc)
{
	create_opts *o = opts;

	(void)t;
	if (rc != EXIT_OK)
		return rc;
	return print_new_token(&o->rec, o->token.text, o->json, "created") == 0 ?
		       EXIT_OK : EXIT_REFUSED;
}

static void create_cleanup(void *opts)
{
	create_opts *o = opts;

	minted_wipe(&o->token, &o->rec);
	addr_list_free(&o->allow);
	addr_list_free(&o->deny);
}

const command cmd_create = {
	.name = "create",
	.opts_size = sizeof(create_opts),
	.parse = create_parse,
	.transact = create_transact,
	.report = create_report,
	.cleanup = create_cleanup,
};
