/* tokenadm init: the store directory, the site key and an empty store. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fleet_records.h"
#include "init_fleet.h"
#include "lastused.h"
#include "tokenadm.h"

/* Create dir (one level) if missing; an existing one must be a real
 * directory, not a symlink an attacker planted. */
static int ensure_dir(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -1;
	const char *dir = dirname(copy);
	struct stat st;
	int rc = -1;

	if (lstat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			warnx_("%s exists and is not a directory", dir);
		else if (st.st_mode & (S_IWGRP | S_IWOTH))
			warnx_("%s is writable by group or others", dir);
		else
			rc = 0;
	} else if (errno == ENOENT && mkdir(dir, 0700) == 0 &&
		   chmod(dir, 0755) == 0) {
		/* Explicit mode: tokenadm runs with umask 077, and services
		 * in the store's group must be able to reach the files. */
		say("created directory %s", dir);
		rc = 0;
	} else {
		warnx_("cannot create %s: %s", dir, strerror(errno));
	}
	free(copy);
	return rc;
}

/* <db>.lastused/: where the module notes each token's last use. Services
 * in the store's group write there (that is all they may write), with the
 * setgid bit so every file keeps the group and the sticky bit so one
 * service account cannot delete or replace another's files. */
static int make_lastused_dir(tool *t, gid_t gid)
{
	char *dir = lastused_dir(&t->cfg);
	struct stat st;
	int rc = EXIT_REFUSED;

	if (!dir)
		return EXIT_REFUSED;
	if (lstat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			say("directory %s already exists; kept", dir);
			rc = EXIT_OK;
		} else {
			warnx_("%s exists and is not a directory", dir);
		}
	} else if (mkdir(dir, 0700) != 0 ||
		   (gid != (gid_t)-1 &&
		    (chown(dir, (uid_t)-1, gid) != 0 || chmod(dir, 03770) != 0))) {
		warnx_("cannot create %s: %s", dir, strerror(errno));
	} else {
		say("created directory %s", dir);
		rc = EXIT_OK;
	}
	free(dir);
	return rc;
}

typedef struct init_opts {
	const char *group; /* NULL: root only (mode 0600) */
	bool signing;      /* --signing: the authority's signing key too */
	bool import_only;  /* --import-only: a host of the fleet */
	const char *site_key, *trusted_key; /* with --import-only */
} init_opts;

static int init_parse(int argc, char **argv, void *opts, int64_t now)
{
	static const struct option longopts[] = {
		{ "group", required_argument, NULL, 'g' },
		{ "signing", no_argument, NULL, 's' },
		{ "import-only", no_argument, NULL, 'i' },
		{ "site-key", required_argument, NULL, 'k' },
		{ "trusted-key", required_argument, NULL, 't' },
		{ 0 },
	};
	init_opts *o = opts;
	int c;

	(void)now;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'g': o->group = optarg; break;
		case 's': o->signing = true; break;
		case 'i': o->import_only = true; break;
		case 'k': o->site_key = optarg; break;
		case 't': o->trusted_key = optarg; break;
		default: goto usage;
		}
	}
	if (optind != argc || (o->signing && o->import_only) ||
	    (o->import_only && (!o->site_key || !o->trusted_key)) ||
	    (!o->import_only && (o->site_key || o->trusted_key)))
		goto usage;
	return EXIT_OK;
usage:
	warnx_("usage: init [--group GROUP] [--signing | --import-only "
	       "--site-key FILE --trusted-key FILE]");
	return EXIT_USAGE;
}

static int init_transact(tool *t, void *opts)
{
	init_opts *o = opts;
	gid_t gid = (gid_t)-1;
	mode_t mode = 0600;
	char err[256];
	struct stat st;

	/* Unprivileged, anyone may set up a private store (tests do); through
	 * a setuid tokenadm only root may create the system's. */
	if (t->privileged && t->uid != 0) {
		warnx_("init is for root");
		return EXIT_DENIED;
	}
	if (o->group) {
		struct group *gr = getgrnam(o->group);
		if (!gr) {
			warnx_("no group %s", o->group);
			return EXIT_USAGE;
		}
		/* Services in this group (www-data, tomcat) may read the key
		 * and the store, never write them. */
		gid = gr->gr_gid;
		mode = 0640;
	}
	if (o->signing && t->cfg.role != ROLE_AUTHORITY) {
		warnx_("--signing is for the authority; this host is "
		       "import-only");
		return EXIT_DENIED;
	}
	if (o->import_only && t->cfg.role_set &&
	    t->cfg.role != ROLE_IMPORT_ONLY) {
		warnx_("%s says role = authority; --import-only would make a "
		       "second authority's store a host's", t->conf_path);
		return EXIT_DENIED;
	}
	if (ensure_dir(t->cfg.key_path) != 0 || ensure_dir(t->cfg.db_path) != 0)
		return EXIT_REFUSED;
	char *trusted = NULL;
	if (o->import_only) {
		int rc = init_install_site_key(t, o->site_key, mode, gid);
		if (rc == EXIT_OK)
			rc = init_install_trusted_key(t, o->trusted_key, &trusted);
		if (rc == EXIT_OK)
			rc = init_mark_import_only(t, trusted);
		free(trusted);
		if (rc != EXIT_OK)
			return rc;
		/* From here on this host is import-only. */
		t->cfg.role = ROLE_IMPORT_ONLY;
	} else if (lstat(t->cfg.key_path, &st) == 0) {
		say("site key %s already exists; kept", t->cfg.key_path);
	} else if (site_key_create(t->cfg.key_path, mode, gid, err,
				   sizeof(err)) != 0) {
		warnx_("%s", err);
		return EXIT_REFUSED;
	} else {
		say("created site key %s", t->cfg.key_path);
	}
	if (tool_key(t) != 0)
		return EXIT_REFUSED;
	if (lstat(t->cfg.db_path, &st) == 0) {
		say("store %s already exists; kept", t->cfg.db_path);
		/* The upgrade step (the package runs init at every upgrade):
		 * format-1 records become format 2, bound to their owners. */
		int up = store_upgrade_records(t);
		if (up != EXIT_OK)
			return up;
	} else if (store_create(t->cfg.db_path, mode, gid, err,
				sizeof(err)) != 0) {
		warnx_("%s", err);
		return EXIT_REFUSED;
	} else {
		say("created store %s", t->cfg.db_path);
		/* An authority's store starts at generation 1, so that it can
		 * be exported (and a host's first import is newer than
		 * nothing) before anyone mints. */
		store_txn *txn = NULL;
		if (t->cfg.role == ROLE_AUTHORITY &&
		    (tool_begin(t, &txn) != 0 || tool_commit(t, txn) != 0))
			return EXIT_REFUSED;
	}
	int rc = make_lastused_dir(t, gid);
	if (rc == EXIT_OK && o->signing)
		rc = init_signing_key(t);
	return rc;
}

const command cmd_init = {
	.name = "init",
	.opts_size = sizeof(init_opts),
	.parse = init_parse,
	.transact = init_transact,
};
