/* The privileged start of tokenadm, in the manner of passwd(1) and doas(1):
 * trust nothing the caller handed us (descriptors, environment, limits). */
#ifndef TOKENADM_PRIVILEGE_H
#define TOKENADM_PRIVILEGE_H

#include <stdbool.h>

/* Make fds 0-2 valid (open /dev/null on any that is closed, so a later
 * open() cannot become our stdout) and close every other inherited fd. */
int sanitize_fds(void);

/* Replace the environment with a minimal fixed one (PATH only), keeping
 * nothing a caller could use to steer us (LD_*, locale paths, TZ files,
 * PAM_APITOKEN_CONF). Returns 0 or -1. */
int sanitize_env(void);

/* No core dumps and no ptrace from the caller: the process holds token
 * secrets and the site key. */
int disable_core_dumps(void);

#include <sys/types.h>

/* When we are root: lift the resource limits a caller could set to break a
 * transaction half-way (file size, CPU time, address space, data, stack,
 * open files) and undo a positive nice; as far as the kernel lets us (a
 * hard limit stays without CAP_SYS_RESOURCE). */
void raise_limits(void);

/* Move this process into the root cgroup of cgroup v2 and of the v1
 * freezer (or, where the root takes no process, a leaf "tokenadm" of
 * root's beside it), out of any cgroup delegated to the caller, who could
 * otherwise freeze (cgroup.freeze), throttle or kill us while we hold the
 * writers' lock. Returns 0, or -1 if we are left in a cgroup the caller
 * owns. */
int leave_caller_cgroup(uid_t caller);

/* Who ran us, remembered before we change our own ids. */
typedef struct caller_ids {
	uid_t uid;
	gid_t gid;
} caller_ids;

/* Are we running with more privilege than the caller has (setuid or
 * setgid)? */
bool running_privileged(void);

/* Setuid root: remember the caller, then make all three uids root. The
 * kernel lets a user signal (SIGSTOP!) and trace any process whose real
 * uid is theirs; a tokenadm stopped while it holds the writers' lock would
 * block every revoke on the host. Returns 0 or -1. */
int become_root(caller_ids *caller);

/* Run as the caller for a while (the argument parsing), keeping root in
 * the saved ids; privilege_resume takes root back for the transaction. A
 * no-op unless we are root on behalf of another user. Returns 0 or -1. */
int privilege_suspend(const caller_ids *caller);
int privilege_resume(const caller_ids *caller);

/* Default dispositions and an empty mask for every signal (an inherited
 * "ignore SIGTERM" or blocked SIGALRM must not change how we behave), and
 * job-control stops from the terminal ignored. */
void reset_signals(void);

/* Drop to the caller's uid/gid for good and prove it cannot be undone.
 * Returns 0, or -1 (the caller must exit). */
int drop_privilege(const caller_ids *caller);

#endif
