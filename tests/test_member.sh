#!/usr/bin/env bash
# What an ordinary member can do to everyone else through the setuid
# tokenadm, tried as a real member: hostile resource limits, nice, umask and
# descriptors; a cgroup of their own that they freeze; minting without end.
# Each must end in a clear answer (never a signal death), leave no debris,
# and never hold up an administrator's writes. Needs root; skipped otherwise.
#
# env: PRIVTEST, PRIVTEST_CONF (see priv_common.sh)
PRIV_CONF_EXTRA=""
. "$(dirname "$0")/priv_common.sh"

debris() { find "$store" -name '*.tmp.*' | wc -l; }
live_count() { # live_count USER: the user's tokens, as root lists them
	"$suid" list --user "$1" --json 2>/dev/null |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

# --- resource limits the member sets before running the tool
# Soft limits (ulimit -S) the tool raises to the hard ones: it must work.
# bash's ulimit -f counts KiB: 1 KiB is far less than the store's copy.
out=$(as $U_ALICE bash -c "ulimit -S -f 1; exec \"$suid\" create --name fsize --expires 1d" 2>"$work/err")
check "ulimit -S -f 1: create still succeeds (no SIGXFSZ death)" 0 $?
[ -n "$(id_of <<<"$out")" ] && ok "ulimit -S -f 1: the token is printed" ||
	bad "ulimit -S -f 1: no token ($(cat "$work/err"))"
as $U_ALICE bash -c "ulimit -S -n 5; exec \"$suid\" create --name nofile --expires 1d" >/dev/null 2>"$work/err"
check "ulimit -S -n 5: create still succeeds" 0 $?
# CPU time, address space and data size are not tried this way: a run of
# milliseconds in a few MB succeeds under any limit the tool can start
# with. That the tool raises them is checked below, on the limits it runs
# under while it waits for the lock.
# Hard limits too, where root holds CAP_SYS_RESOURCE (bit 24; some
# containers take it away). Without it the limit stays and must end in a
# clear refusal, never in a signal death (exit > 128).
bnd=$(awk '/^CapBnd/ {print $2}' /proc/self/status)
if (( (0x$bnd >> 24) & 1 )); then want_hard=0; else want_hard=1
	echo "# hard limits cannot be raised here (no CAP_SYS_RESOURCE): expecting clean refusals"
fi
for lim in "-f 1" "-n 5"; do
	n_before=$(live_count $U_ALICE)
	out=$(as $U_ALICE bash -c "ulimit $lim; exec \"$suid\" create --name hard --expires 1d" 2>"$work/err")
	rc=$?
	check "ulimit $lim (hard): create answers $want_hard, not a signal" $want_hard $rc
	if [ $want_hard = 1 ]; then
		[ -s "$work/err" ] && ok "ulimit $lim (hard): says why ($(head -c 80 "$work/err"))" ||
			bad "ulimit $lim (hard): no message"
		[ "$(live_count $U_ALICE)" = "$n_before" ] && ok "ulimit $lim (hard): nothing minted" ||
			bad "ulimit $lim (hard): a token was minted"
	fi
	[ "$(debris)" = 0 ] && ok "ulimit $lim (hard): no temporary copy left behind" ||
		bad "ulimit $lim (hard): debris: $(find "$store" -name '*.tmp.*')"
done
"$suid" list >/dev/null 2>&1
check "the store is intact after the limited runs" 0 $?

# --- umask 000 and 777 change no mode in the store directory
modes() { stat -c '%n %a %U %G' "$store"/* | sort; }
before=$(modes)
as $U_ALICE bash -c "umask 000; exec \"$suid\" create --name umask0 --expires 1d" >/dev/null 2>&1
check "umask 000: create succeeds" 0 $?
as $U_ALICE bash -c "umask 777; exec \"$suid\" create --name umask7 --expires 1d" >/dev/null 2>&1
check "umask 777: create succeeds" 0 $?
[ "$before" = "$(modes)" ] && ok "the store's files keep their modes and owners" ||
	bad "modes changed: $before -> $(modes)"

# --- odd descriptors
n_before=$(live_count $U_ALICE)
as $U_ALICE bash -c "exec \"$suid\" create --name rdonly --expires 1d 1</dev/null" 2>"$work/err"
check "stdout open read-only: create refuses (exit 1) rather than lose the token" 1 $?
[ -s "$work/err" ] && ok "... and says why on stderr" || bad "no message for a read-only stdout"
[ "$(live_count $U_ALICE)" = "$n_before" ] && ok "... and mints nothing" || bad "a token was minted"
out=$(as $U_ALICE bash -c "exec \"$suid\" create --name noerr --expires 1d 2>&- 0<&-")
check "stderr and stdin closed: create succeeds" 0 $?
[ -n "$(id_of <<<"$out")" ] && ok "... and the token still reaches stdout" || bad "no token with fd 2 closed"

# --- what a member sets on their process, undone while their tokenadm
# waits for the lock (held here with flock); and, where a writable
# cgroup v2 is at hand, a cgroup of the member's that they freeze then.
cg_root=
for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
	[ "$(stat -f -c %T "$d" 2>/dev/null)" = cgroup2fs ] && { cg_root=$d; break; }
done
cg=${cg_root:+$cg_root/ptk-member-$$}
if [ -z "$cg_root" ] || ! mkdir "$cg" 2>/dev/null; then
	echo "# SKIP frozen-cgroup cases: no writable cgroup v2 hierarchy here"
	cg=
else
	# Delegated as systemd delegates a user slice.
	chown $U_ALICE "$cg" "$cg/cgroup.procs" "$cg/cgroup.freeze" \
		"$cg/cgroup.threads" "$cg/cgroup.subtree_control"
	trap 'echo 0 > "$cg/cgroup.freeze" 2>/dev/null; pkill -KILL -f "create --name frozen$$" 2>/dev/null; sleep 0.2; rmdir "$cg" 2>/dev/null; cleanup' EXIT
fi
victim=$("$suid" create --name victim --user $U_BOB 2>/dev/null)
flock "$store/tokens.db.lock" sleep 4 &
holder=$!
sleep 0.3
# Everything a member can set on their process, at once: low limits,
# nice 19, SCHED_IDLE, one CPU, the idle I/O class, a niced autogroup
# (of a session of its own, so the test's session keeps its own), and
# the delegated cgroup if there is one (entered by root, as the user
# manager would have put the session there).
( if [ -n "$cg" ]; then echo $BASHPID > "$cg/cgroup.procs" || exit 1; fi
  exec setsid runuser -u $U_ALICE -- bash -c \
	"ulimit -S -f 1; ulimit -S -t 5; ulimit -S -v 300000; ulimit -S -d 300000; ulimit -S -n 16; echo 10 > /proc/self/autogroup 2>/dev/null; exec chrt -i 0 taskset -c 0 ionice -c 3 nice -n 19 \"$suid\" create --name frozen$$ --expires 1d" \
	>"$work/frozen.out" 2>"$work/frozen.err" ) &
pid=$(tool_pid "create --name frozen$$")
if [ -z "$pid" ]; then
	bad "the member's tokenadm did not start ($(cat "$work/frozen.err"))"
else
	sleep 0.3 # let it reach the lock wait
	lim=$(cat /proc/$pid/limits)
	grep -Eq '^Max file size +unlimited' <<<"$lim" &&
		grep -Eq '^Max cpu time +unlimited' <<<"$lim" &&
		grep -Eq '^Max address space +unlimited' <<<"$lim" &&
		grep -Eq '^Max data size +unlimited' <<<"$lim" &&
		[ "$(awk '/^Max open files/ {print $4}' <<<"$lim")" -ge 1024 ] &&
		ok "in its transaction the tool runs without the member's limits" ||
		bad "limits inside the tool: $lim"
	[ "$(ps -o ni= -p $pid | tr -d ' ')" = 0 ] &&
		ok "... and without the member's nice 19" ||
		bad "nice inside the tool: $(ps -o ni= -p $pid)"
	chrt -p $pid | grep -q 'SCHED_OTHER' &&
		ok "... and without the member's SCHED_IDLE" ||
		bad "scheduling inside the tool: $(chrt -p $pid)"
	[ "$(taskset -p $pid | sed 's/.*: //')" = "$(taskset -p $$ | sed 's/.*: //')" ] &&
		ok "... and on every CPU, not pinned to the member's one" ||
		bad "affinity inside the tool: $(taskset -p $pid)"
	ionice -p $pid | grep -qv idle &&
		ok "... and not in the idle I/O class" ||
		bad "I/O class inside the tool: $(ionice -p $pid)"
	if [ -r /proc/$pid/autogroup ]; then
		grep -q ' nice 0$' /proc/$pid/autogroup &&
			ok "... and without the member's autogroup nice 10" ||
			bad "autogroup inside the tool: $(cat /proc/$pid/autogroup)"
	else
		echo "# SKIP autogroup: the kernel has no /proc/PID/autogroup"
	fi
	if [ -n "$cg" ]; then
		grep -q "ptk-member-$$" /proc/$pid/cgroup &&
			bad "the tool is still in the member's cgroup: $(cat /proc/$pid/cgroup)" ||
			ok "the tool has left the member's cgroup"
		as $U_ALICE sh -c "echo 1 > '$cg/cgroup.freeze'"
		check "the member freezes their own cgroup" 0 $?
		for _ in $(seq 20); do
			grep -q 'frozen 1' "$cg/cgroup.events" && break; sleep 0.1
		done
		grep -q 'frozen 1' "$cg/cgroup.events" && ok "the cgroup is frozen" ||
			bad "the cgroup did not freeze"
	fi
fi
kill $holder 2>/dev/null; wait $holder 2>/dev/null
# With the lock free, the member's tool finishes (despite the freeze), and
# the administrator's write is never held up.
timeout 10 "$suid" revoke "$(id_of <<<"$victim")" >/dev/null 2>&1
check "root's revoke goes through within a bounded wait" 0 $?
for _ in $(seq 50); do [ -s "$work/frozen.out" ] && break; sleep 0.1; done
[ -n "$(id_of <"$work/frozen.out")" ] &&
	ok "the member's create completed${cg:+ although its cgroup is frozen}" ||
	bad "the member's create did not complete: $(cat "$work/frozen.err")"
[ "$(debris)" = 0 ] && ok "no debris after the lock wait" || bad "debris after the lock wait"
[ -z "$cg" ] || echo 0 > "$cg/cgroup.freeze"
wait

# --- arguments are parsed as the caller, not as root: import opens its
# input in the parse step, so a file only root may read stays closed.
as $U_ALICE "$suid" import /etc/shadow >/dev/null 2>"$work/err"
rc=$?
[ $rc = 1 ] && grep -q 'cannot open /etc/shadow: Permission denied' "$work/err" &&
	ok "the parse step runs with the caller's rights (root-only file not opened)" ||
	bad "import /etc/shadow as a member: exit $rc, $(cat "$work/err")"

# --- the default token limit (max_tokens_per_user unset)
"$suid" policy | grep -q '^max_tokens_per_user: 20 for members' &&
	ok "policy shows the default limit of 20 for members" || bad "policy: $("$suid" policy)"
have=$(live_count $U_ALICE)
made=0
while [ $((have + made)) -lt 20 ]; do
	as $U_ALICE "$suid" create --name "fill$made" --expires 1d >/dev/null 2>&1 || break
	made=$((made + 1))
done
[ "$(live_count $U_ALICE)" = 20 ] && ok "a member creates up to 20 tokens by default" ||
	bad "a member has $(live_count $U_ALICE) tokens after filling"
as $U_ALICE "$suid" create --name over --expires 1d >/dev/null 2>"$work/err"
check "the 21st is refused (not permitted)" 3 $?
grep -q 'already has 20 tokens' "$work/err" && ok "... saying so" || bad "message: $(cat "$work/err")"
# (root: an administrator who is not root mints only for themselves and
# for service_accounts, test_permissions.sh)
"$suid" create --name by-root --user $U_ALICE >/dev/null 2>&1
check "an administrator (root) is not held to the members' default" 0 $?
write_conf "max_tokens_per_user = 0"
as $U_ALICE "$suid" create --name unlimited --expires 1d >/dev/null 2>&1
check "max_tokens_per_user = 0 written by the administrator: no limit" 0 $?

# --- the store's record count: a member cannot push it past max_store_tokens
total=$("$suid" list --all --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
write_conf "max_tokens_per_user = 0
max_store_tokens = $total"
as $U_ALICE "$suid" create --name full --expires 1d >/dev/null 2>"$work/err"
check "a full store (max_store_tokens) refuses a member's create" 3 $?
grep -q 'max_store_tokens' "$work/err" && ok "... naming the setting" || bad "message: $(cat "$work/err")"
"$suid" create --name root-can --user $U_BOB >/dev/null 2>&1
check "an administrator can still write to a full store" 0 $?
write_conf "max_tokens_per_user = 0
max_store_tokens = $((total + 2))"
as $U_ALICE "$suid" create --name room --expires 1d >/dev/null 2>&1
check "with room again, the member's create succeeds" 0 $?

echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
