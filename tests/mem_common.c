#include "mem_common.h"

#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int mt_run(char *const argv[], const char *in, char *out, size_t outlen,
	   uid_t as_uid, gid_t as_gid)
{
	int inp[2] = { -1, -1 }, outp[2];
	pid_t pid;
	int status;

	if (pipe2(outp, O_CLOEXEC) != 0)
		return -1;
	if (in && pipe2(inp, O_CLOEXEC) != 0) {
		close(outp[0]);
		close(outp[1]);
		return -1;
	}
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		if (dup2(in ? inp[0] : devnull, 0) < 0 || dup2(outp[1], 1) < 0)
			_exit(126);
		if (as_uid != (uid_t)-1 &&
		    (setgroups(0, NULL) != 0 || setgid(as_gid) != 0 ||
		     setuid(as_uid) != 0))
			_exit(126);
		execv(argv[0], argv);
		_exit(127);
	}
	close(outp[1]);
	if (in) {
		close(inp[0]);
		size_t n = strlen(in);
		/* Short input: fits the pipe buffer, no deadlock. */
		if (write(inp[1], in, n) != (ssize_t)n)
			fprintf(stderr, "mt_run: short write to stdin\n");
		close(inp[1]);
	}
	th_drain(outp[0], out, outlen);
	close(outp[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int mt_create_token(const mt_env *e, const char *user, const char *name,
		    char *out, size_t outlen)
{
	char *argv[] = { (char *)e->tokenadm, "--config", (char *)e->conf,
			 "create", "--name", (char *)name, "--user",
			 (char *)user, NULL };
	int rc = mt_run(argv, NULL, out, outlen, (uid_t)-1, (gid_t)-1);

	if (rc != 0) {
		fprintf(stderr, "tokenadm create for %s failed (%d)\n", user, rc);
		return -1;
	}
	out[strcspn(out, "\r\n")] = '\0';
	return out[0] ? 0 : -1;
}

int mt_login(const mt_env *e, const char *service, const char *user,
	     const struct pam_conv *conv, const char *rhost, int *acct_rc)
{
	pam_handle_t *h = NULL;
	int rc = pam_start_confdir(service, user, conv, e->confdir, &h);

	if (acct_rc)
		*acct_rc = -1;
	if (rc != PAM_SUCCESS)
		return rc;
	if (rhost)
		pam_set_item(h, PAM_RHOST, rhost);
	rc = pam_authenticate(h, PAM_SILENT);
	if (rc == PAM_SUCCESS && acct_rc)
		*acct_rc = pam_acct_mgmt(h, PAM_SILENT);
	pam_end(h, rc);
	return rc;
}

int mt_init(mt_env *e, bool group_readable)
{
	const char *so = getenv("PAM_APITOKEN_SO");
	const char *adm = getenv("TOKENADM");
	char text[4 * PATH_MAX];

	memset(e, 0, sizeof(*e));
	if (!so || !*so || !adm || !*adm) {
		fprintf(stderr, "PAM_APITOKEN_SO and TOKENADM must be set\n");
		return MT_SKIP;
	}
	if (!realpath(so, e->module) || !realpath(adm, e->tokenadm)) {
		fprintf(stderr, "cannot find %s or %s\n", so, adm);
		return MT_SKIP;
	}
	signal(SIGPIPE, SIG_IGN);

	struct passwd *pw = getpwuid(getuid());
	struct group *gr = getgrgid(getgid());
	if (!pw || !gr) {
		fprintf(stderr, "the test user has no passwd/group entry\n");
		return MT_SKIP;
	}
	snprintf(e->user, sizeof(e->user), "%s", pw->pw_name);
	/* admin_group = our primary group: we may create tokens for others. */
	char group[64];
	snprintf(group, sizeof(group), "%s", gr->gr_name);
	const char *others[] = { "nobody", "daemon", "bin" };
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		if (strcmp(others[i], e->user) != 0 && getpwnam(others[i])) {
			snprintf(e->other_user, sizeof(e->other_user), "%s",
				 others[i]);
			break;
		}
	}

	const char *tmp = getenv("TMPDIR");
	if (!tmp || tmp[0] != '/' || strlen(tmp) > 150)
		tmp = "/tmp";
	snprintf(e->dir, sizeof(e->dir), "%s/apitoken-mem-XXXXXX", tmp);
	if (!mkdtemp(e->dir)) {
		perror("mkdtemp");
		return 1;
	}
	/* Traversable (not listable) by others: probes run as nobody. */
	if (chmod(e->dir, 0711) != 0)
		goto fail;
	snprintf(e->conf, sizeof(e->conf), "%s/apitoken.conf", e->dir);
	snprintf(e->confdir, sizeof(e->confdir), "%s/pam.d", e->dir);
	snprintf(text, sizeof(text),
		 "db = %s/tokens.db\nkey = %s/site.key\nadmin_group = %s\n",
		 e->dir, e->dir, group);
	if (th_write_file(e->conf, text, strlen(text), 0644) != 0 ||
	    mkdir(e->confdir, 0755) != 0)
		goto fail;

	char path[512];
	snprintf(path, sizeof(path), "%s/%s", e->confdir, MT_SERVICE);
	snprintf(text, sizeof(text),
		 "auth required %s conf=%s\naccount required %s conf=%s\n",
		 e->module, e->conf, e->module, e->conf);
	if (th_write_file(path, text, strlen(text), 0644) != 0)
		goto fail;
	/* A password the module ignores reaches pam_permit (success); a token
	 * the module accepts or refuses ends the stack ("die" both ways, so
	 * only the IGNORE path can succeed). */
	snprintf(path, sizeof(path), "%s/%s", e->confdir, MT_SERVICE_PW);
	snprintf(text, sizeof(text),
		 "auth [success=die ignore=ignore default=die] %s conf=%s\n"
		 "auth required pam_permit.so\n",
		 e->module, e->conf);
	if (th_write_file(path, text, strlen(text), 0644) != 0)
		goto fail;

	char *init[] = { e->tokenadm, "--config", e->conf, "init", "--group",
			 "nogroup", NULL };
	if (!group_readable)
		init[4] = NULL;
	if (mt_run(init, NULL, NULL, 0, (uid_t)-1, (gid_t)-1) != 0) {
		fprintf(stderr, "tokenadm init failed\n");
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "mt_init: %s\n", strerror(errno));
	mt_cleanup(e);
	return 1;
}

void mt_cleanup(mt_env *e)
{
	if (e->dir[0] && !getenv("MT_KEEP"))
		th_rm_rf(e->dir); /* best effort: the rest still goes */
	e->dir[0] = '\0';
}
