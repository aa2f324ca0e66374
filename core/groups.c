#include "groups.h"

#include <errno.h>
#include <stdbool.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* One NSS query into a caller-sized buffer: returns getpwnam_r's (or its
 * kin's) error number and sets *found. */
typedef int (*nss_query)(void *ctx, char *buf, size_t size, bool *found);

/* The reentrant NSS calls want a buffer of a size nobody can know in
 * advance (a group with thousands of members, an LDAP entry): run query
 * with a heap buffer in *buf, doubling it on ERANGE up to max bytes.
 * Returns 1 (found), 0 (no such entry) or -1 (NSS failed, no memory). */
static int nss_lookup(nss_query query, void *ctx, size_t size, size_t max,
		      char **buf)
{
	for (;;) {
		char *b = realloc(*buf, size);
		if (!b)
			return -1;
		*buf = b;
		bool found = false;
		int e = query(ctx, b, size, &found);
		if (e == ERANGE && size < max) {
			size *= 2;
			continue;
		}
		if (e != 0)
			return -1;
		return found ? 1 : 0;
	}
}

typedef struct user_query {
	const char *name; /* NULL: by uid */
	uid_t uid;
	struct passwd *pw;
} user_query;

static int query_user(void *ctx, char *buf, size_t size, bool *found)
{
	user_query *q = ctx;
	struct passwd *res = NULL;
	int e = q->name ? getpwnam_r(q->name, q->pw, buf, size, &res) :
			  getpwuid_r(q->uid, q->pw, buf, size, &res);

	*found = res != NULL;
	return e;
}

int lookup_user(const char *name, uid_t uid, struct passwd *pw, char **buf)
{
	/* Zeroed first, so *pw is defined whatever NSS leaves in it. */
	memset(pw, 0, sizeof(*pw));
	user_query q = { name, uid, pw };

	return nss_lookup(query_user, &q, 1024, 1u << 20, buf);
}

typedef struct group_query {
	const char *name;
	struct group *gr;
} group_query;

static int query_group(void *ctx, char *buf, size_t size, bool *found)
{
	group_query *q = ctx;
	struct group *res = NULL;
	int e = getgrnam_r(q->name, q->gr, buf, size, &res);

	*found = res != NULL;
	return e;
}

static int lookup_group(const char *group, struct group *gr, char **buf)
{
	/* Zeroed first, as lookup_user's, so *gr is defined whatever NSS
	 * leaves in it. */
	memset(gr, 0, sizeof(*gr));
	group_query q = { group, gr };

	return nss_lookup(query_group, &q, 4096, 1u << 24, buf);
}

int passwd_in_group(const struct passwd *pw, const char *group)
{
	struct group gr;
	char *grbuf = NULL;
	gid_t *list = NULL;
	int rc = -1;

	int found = lookup_group(group, &gr, &grbuf);
	if (found <= 0) {
		rc = found;
		goto out;
	}
	if (pw->pw_gid == gr.gr_gid) {
		rc = 1;
		goto out;
	}
	/* getgrouplist asks every NSS source (files, sssd, LDAP), not just
	 * the member list of one /etc/group line. */
	int n = 32;
	for (;;) {
		gid_t *l = realloc(list, (size_t)n * sizeof(*l));
		if (!l)
			goto out;
		list = l;
		int want = n;
		if (getgrouplist(pw->pw_name, pw->pw_gid, list, &want) >= 0) {
			n = want;
			break;
		}
		if (want <= n || want > 65536)
			goto out;
		n = want;
	}
	rc = 0;
	for (int i = 0; i < n; i++)
		if (list[i] == gr.gr_gid)
			rc = 1;
out:
	free(list);
	free(grbuf);
	return rc;
}

int user_in_group(const char *user, const char *group)
{
	struct passwd pw;
	char *pwbuf = NULL;

	int rc = lookup_user(user, 0, &pw, &pwbuf);
	if (rc == 1)
		rc = passwd_in_group(&pw, group);
	free(pwbuf);
	return rc;
}

int user_allowed_lifetime(const apitoken_config *cfg, const char *user,
			  int64_t *lifetime)
{
	int member = 0;

	for (size_t i = 0; i < cfg->n_groups; i++) {
		int r = user_in_group(user, cfg->groups[i].name);
		if (r < 0)
			return -1;
		if (r == 0)
			continue;
		int64_t l = cfg->groups[i].max_lifetime;
		if (!member || l == LIFETIME_NEVER ||
		    (*lifetime != LIFETIME_NEVER && l > *lifetime))
			*lifetime = l;
		member = 1;
	}
	return member;
}
