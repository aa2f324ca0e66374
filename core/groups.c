#include "groups.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* getpwnam_r into a heap buffer, growing it on ERANGE. */
static int lookup_user(const char *user, struct passwd *pw, char **buf)
{
	size_t size = 1024;
	struct passwd *res = NULL;

	for (;;) {
		char *b = realloc(*buf, size);
		if (!b)
			return -1;
		*buf = b;
		int e = getpwnam_r(user, pw, b, size, &res);
		if (e == ERANGE && size < (1u << 20)) {
			size *= 2;
			continue;
		}
		if (e != 0)
			return -1;
		return res ? 1 : 0;
	}
}

static int lookup_group(const char *group, struct group *gr, char **buf)
{
	size_t size = 4096;
	struct group *res = NULL;

	for (;;) {
		char *b = realloc(*buf, size);
		if (!b)
			return -1;
		*buf = b;
		int e = getgrnam_r(group, gr, b, size, &res);
		if (e == ERANGE && size < (1u << 24)) {
			size *= 2;
			continue;
		}
		if (e != 0)
			return -1;
		return res ? 1 : 0;
	}
}

int user_in_group(const char *user, const char *group)
{
	struct passwd pw;
	struct group gr;
	char *pwbuf = NULL, *grbuf = NULL;
	gid_t *list = NULL;
	int rc = -1;

	int found = lookup_user(user, &pw, &pwbuf);
	if (found <= 0) {
		rc = found;
		goto out;
	}
	found = lookup_group(group, &gr, &grbuf);
	if (found <= 0) {
		rc = found;
		goto out;
	}
	if (pw.pw_gid == gr.gr_gid) {
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
		if (getgrouplist(user, pw.pw_gid, list, &want) >= 0) {
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
	free(pwbuf);
	free(grbuf);
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
