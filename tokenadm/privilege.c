#include "privilege.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

int sanitize_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		int n = open("/dev/null", O_RDWR);
		if (n < 0)
			return -1;
		if (n != fd) {
			/* Lower fds are all open, so open() gave us fd. */
			close(n);
			return -1;
		}
	}
	/* Close the rest; close_range exists since Linux 5.9 and glibc 2.34. */
	if (close_range(3, ~0U, 0) == 0)
		return 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int self = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		char *end;
		errno = 0;
		long fd = strtol(e->d_name, &end, 10);
		if (errno == 0 && end != e->d_name && *end == '\0' && fd > 2 &&
		    fd <= INT_MAX && fd != self)
			close((int)fd);
	}
	closedir(d);
	return 0;
}

int sanitize_env(void)
{
	if (clearenv() != 0)
		return -1;
	if (setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1) != 0)
		return -1;
	return 0;
}

int disable_core_dumps(void)
{
	struct rlimit zero = { 0, 0 };

	if (setrlimit(RLIMIT_CORE, &zero) != 0)
		return -1;
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : -1;
}

bool running_privileged(void)
{
	return getuid() != geteuid() || getgid() != getegid();
}

int become_root(caller_ids *caller)
{
	caller->uid = getuid();
	caller->gid = getgid();
	if (geteuid() != 0)
		return 0; /* not setuid root: nothing to become */
	return setresgid(0, 0, 0) == 0 && setresuid(0, 0, 0) == 0 ? 0 : -1;
}

void reset_signals(void)
{
	sigset_t none;
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	/* A terminal's ^Z comes from the kernel, not from a user's kill(2):
	 * it is allowed even now, so ignore it rather than stop holding the
	 * lock. ^C still ends us, which the store survives. */
	signal(SIGTSTP, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

int drop_privilege(const caller_ids *caller)
{
	uid_t uid = caller->uid;
	gid_t gid = caller->gid;

	/* Group first: once the uid is dropped we could no longer change it. */
	if (geteuid() == 0 && uid != 0 && setgroups(0, NULL) != 0)
		return -1;
	if (setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0)
		return -1;
	/* Verify: a process that dropped properly cannot get root back. */
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		return -1;
	if (gid != 0 && uid != 0 && (setgid(0) == 0 || setegid(0) == 0))
		return -1;
	if (geteuid() != uid || getegid() != gid)
		return -1;
	/* setresuid re-enables dumping (per fs.suid_dumpable): keep the
	 * caller from tracing us or reading a core while we still hold the
	 * site key. */
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : -1;
}
