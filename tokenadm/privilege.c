#include "privilege.h"

#include <dirent.h>
#include <stdio.h>
#include <sched.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <grp.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/stat.h>
#include <sys/statfs.h>
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

/* Raise a limit to at least want, soft and hard. Without CAP_SYS_RESOURCE
 * (some containers take it even from root) the hard limit stays: then the
 * soft one goes up to it, and what is left bites as a clean error (EFBIG,
 * EMFILE, ENOMEM; SIGXFSZ and SIGXCPU are ignored), never half-way through
 * by a signal. */
static void raise_limit(int resource, rlim_t want)
{
	struct rlimit rl, up;

	if (getrlimit(resource, &rl) != 0)
		return;
	up = rl;
	if (up.rlim_cur != RLIM_INFINITY &&
	    (want == RLIM_INFINITY || up.rlim_cur < want))
		up.rlim_cur = want;
	if (up.rlim_max != RLIM_INFINITY &&
	    (up.rlim_cur == RLIM_INFINITY || up.rlim_max < up.rlim_cur))
		up.rlim_max = up.rlim_cur;
	if (setrlimit(resource, &up) == 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(resource, &rl);
}

/* The other ways a caller can make us crawl while we hold the lock, all
 * inherited across exec: SCHED_IDLE or SCHED_BATCH, a CPU affinity of one
 * busy CPU, the idle I/O class, a niced autogroup. Each is put back to
 * the default; a real-time policy (only root can set one) is kept. */
static void undo_slowdowns(void)
{
	int policy = sched_getscheduler(0);
	if (policy == SCHED_IDLE || policy == SCHED_BATCH) {
		struct sched_param sp = { .sched_priority = 0 };
		(void)sched_setscheduler(0, SCHED_OTHER, &sp);
	}
	cpu_set_t all;
	CPU_ZERO(&all);
	for (int c = 0; c < CPU_SETSIZE; c++)
		CPU_SET(c, &all);
	/* The kernel keeps what the cpuset allows of it. */
	(void)sched_setaffinity(0, sizeof(all), &all);
	/* ioprio: class in the top bits (IOPRIO_CLASS_IDLE = 3); no glibc
	 * wrapper. Best effort, level 4, is the kernel's default. */
	long io = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
	if (io >= 0 && (io >> 13) == 3)
		(void)syscall(SYS_ioprio_set, 1, 0, (2L << 13) | 4);
	/* The autogroup is the whole session's: only a positive nice (the
	 * caller slowing us) is undone, never root's negative one. Reads
	 * "/autogroup-N nice K". Best effort: it is only a nice value. */
	int fd = open("/proc/self/autogroup", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		char buf[64];
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		buf[n > 0 ? n : 0] = '\0';
		const char *k = strstr(buf, " nice ");
		/* (write, not pwrite: a seq_file refuses pwrite; this one
		 * ignores the offset.) */
		if (k && strtol(k + 6, NULL, 10) > 0 && write(fd, "0", 1) != 1) {
			/* nothing more to try */
		}
		close(fd);
	}
}

void raise_limits(void)
{
	if (geteuid() != 0)
		return; /* the caller's own limits bind only the caller */
	/* Each of these, set low by the caller, would kill us (SIGXFSZ,
	 * SIGXCPU) or fail an allocation, open or write half-way through a
	 * transaction. They stay raised until exit: tokenadm runs for
	 * milliseconds and does nothing unbounded. */
	raise_limit(RLIMIT_FSIZE, RLIM_INFINITY);
	raise_limit(RLIMIT_CPU, RLIM_INFINITY);
	raise_limit(RLIMIT_AS, RLIM_INFINITY);
	raise_limit(RLIMIT_DATA, RLIM_INFINITY);
	raise_limit(RLIMIT_STACK, (rlim_t)8 << 20);
	raise_limit(RLIMIT_NOFILE, 1024);
	/* A member's "nice 19" would only slow us, but slowly is how long
	 * everyone else waits for the lock. A negative nice (root's) stays. */
	errno = 0;
	int prio = getpriority(PRIO_PROCESS, 0);
	if (errno == 0 && prio > 0)
		(void)setpriority(PRIO_PROCESS, 0, 0);
	undo_slowdowns();
}

/* Where a user can be handed a cgroup of their own (systemd delegates
 * user slices on cgroup v2; the v1 freezer on older hybrids). */
static const char *const freezable_hierarchies[] = {
	"/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/freezer",
};

/* Write "0" (this process) into dir/sub/cgroup.procs. */
static int join(int dir, const char *sub)
{
	char path[64];
	snprintf(path, sizeof(path), "%s%scgroup.procs", sub, *sub ? "/" : "");
	int fd = openat(dir, path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	int ok = fd >= 0 && write(fd, "0\n", 2) == 2;
	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* Is this process's cgroup in hierarchy dir, or any cgroup above it,
 * owned by uid (delegated to it: freezing an ancestor freezes us too)?
 * From /proc/self/cgroup: the "0::/path" line on cgroup v2, the
 * "N:...freezer...:/path" line on the v1 freezer. */
static bool in_cgroup_of(int dir, bool v2, uid_t uid)
{
	char line[4096];
	bool theirs = false;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return false;
	while (!theirs && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *ctl = strchr(line, ':');
		char *path = ctl ? strchr(ctl + 1, ':') : NULL;
		if (!path)
			continue;
		*path++ = '\0';
		ctl++;
		bool mine = v2 ? strcmp(line, "0") == 0 && *ctl == '\0' :
				 strstr(ctl, "freezer") != NULL;
		if (!mine || path[0] != '/')
			continue;
		/* "/a/b/c": check "a/b/c", then "a/b", then "a". */
		char *rel = path + 1;
		while (*rel && !theirs) {
			struct stat st;
			theirs = fstatat(dir, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
				 st.st_uid == uid;
			char *cut = strrchr(rel, '/');
			if (!cut)
				break;
			*cut = '\0';
		}
	}
	fclose(f);
	return theirs;
}

int leave_caller_cgroup(uid_t caller)
{
	int failed = 0;

	for (size_t i = 0; i < sizeof(freezable_hierarchies) /
				       sizeof(freezable_hierarchies[0]); i++) {
		struct statfs fs;
		int dir = open(freezable_hierarchies[i],
			       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dir < 0)
			continue;
		/* /sys/fs/cgroup is a tmpfs of v1 mounts on hybrids: skip
		 * anything that is not a cgroup hierarchy itself. */
		if (fstatfs(dir, &fs) != 0 ||
		    (fs.f_type != CGROUP2_SUPER_MAGIC &&
		     fs.f_type != CGROUP_SUPER_MAGIC)) {
			close(dir);
			continue;
		}
		/* The root cgroup is root's; "0" means this process. The
		 * caller can neither freeze it nor move us back. */
		if (join(dir, "") == 0) {
			close(dir);
			continue;
		}
		/* A namespace root with controllers enabled takes no process
		 * (cgroup v2's no-internal-process rule): a leaf of root's own
		 * beside it does. Kept for the next run. */
		struct stat st;
		if (fs.f_type == CGROUP2_SUPER_MAGIC &&
		    (mkdirat(dir, "tokenadm", 0755) == 0 || errno == EEXIST) &&
		    fstatat(dir, "tokenadm", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode) && st.st_uid == 0 &&
		    join(dir, "tokenadm") == 0) {
			close(dir);
			continue;
		}
		/* Still in a cgroup the caller was given: they could freeze
		 * us while we hold the lock. Elsewhere, staying is harmless. */
		if (in_cgroup_of(dir, fs.f_type == CGROUP2_SUPER_MAGIC, caller))
			failed = -1;
		close(dir);
	}
	return failed;
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

int privilege_suspend(const caller_ids *caller)
{
	if (geteuid() != 0 || caller->uid == 0)
		return 0; /* nothing to suspend */
	/* The saved ids stay root, so privilege_resume can take it back;
	 * effective and real become the caller's, so nothing parse does can
	 * reach further than the caller could. */
	if (setresgid(caller->gid, caller->gid, 0) != 0 ||
	    setresuid(caller->uid, caller->uid, 0) != 0)
		return -1;
	/* Still not traceable: the saved uid (root) already keeps the
	 * caller's ptrace out, and a changed uid may have reset this. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		return -1;
	return geteuid() == caller->uid && getegid() == caller->gid ? 0 : -1;
}

int privilege_resume(const caller_ids *caller)
{
	uid_t r, e, saved;

	if (getresuid(&r, &e, &saved) != 0)
		return -1;
	if (saved != 0 || caller->uid == 0)
		return 0; /* never had it, or never suspended */
	if (setresuid(0, 0, 0) != 0 || setresgid(0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0 ? 0 : -1;
}

void reset_signals(void)
{
	sigset_t none;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	struct itimerval off = { { 0, 0 }, { 0, 0 } };

	/* Interval timers survive exec: a caller's ITIMER_PROF or
	 * ITIMER_VIRTUAL would end us with a signal at a moment of their
	 * choosing (after the commit, before the audit line). */
	setitimer(ITIMER_REAL, &off, NULL);
	setitimer(ITIMER_VIRTUAL, &off, NULL);
	setitimer(ITIMER_PROF, &off, NULL);

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &dfl, NULL);
	/* A terminal's ^Z comes from the kernel, not from a user's kill(2):
	 * it is allowed even now, so ignore it rather than stop holding the
	 * lock. ^C still ends us, which the store survives. */
	signal(SIGTSTP, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	/* Should a limit we could not raise still bite, a write fails with
	 * EFBIG and the transaction is abandoned with a message, instead of a
	 * signal death that leaves its temporary copy behind; past the soft
	 * CPU limit we go on until the hard one. */
	signal(SIGXFSZ, SIG_IGN);
	signal(SIGXCPU, SIG_IGN);
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
