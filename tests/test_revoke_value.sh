#!/bin/bash
# tokenadm revoke --token - (tokenadm(8)): anyone holding a token may kill
# it, whoever owns it, with no oracle of validity. Run as real users with
# a setuid copy of the tool (priv_common.sh), and through the real module
# (pamtester) for "refused at the next login".
#
# env: PRIVTEST, PRIVTEST_CONF, PAM_APITOKEN_SO
. "$(dirname "$0")/priv_common.sh"
command -v pamtester >/dev/null || { echo "SKIP: pamtester missing"; exit 77; }

svc=ptk-revval-$$
echo "auth required $PAM_APITOKEN_SO conf=$PRIVTEST_CONF" >/etc/pam.d/$svc
login() { pamtester "$svc" "$1" authenticate <<<"$2" >/dev/null 2>&1; }

# The audit line goes through syslog(3) from a setuid process, which no
# LD_PRELOAD shim can reach: where no syslog daemon owns /dev/log, this
# test listens there itself for its run (and removes it after).
log=$work/syslog
listener=
if [ ! -e /dev/log ]; then
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
out = open(sys.argv[1], "ab", buffering=0)
while True:
    out.write(s.recv(65536) + b"\n")' "$log" &
	listener=$!
	for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
fi
trap '[ -n "$listener" ] && kill $listener && rm -f /dev/log; rm -f /etc/pam.d/$svc; cleanup' EXIT

# Alice (a member) mints two tokens; root one for Bob.
tok_a=$(as $U_ALICE "$suid" create --name leaked --expires 1d 2>/dev/null)
tok_a2=$(as $U_ALICE "$suid" create --name other --expires 1d 2>/dev/null)
tok_b=$("$suid" create --name bobs --user $U_BOB 2>/dev/null)
id_a=$(id_of <<<"$tok_a")
[ -n "$id_a" ] && [ -n "$tok_a2" ] && [ -n "$tok_b" ] || { bad "setup: tokens minted"; exit 1; }
login $U_ALICE "$tok_a"
check "alice's token logs in before" 0 $?

# Bob (in no group) found alice's token; he revokes it by value, with a
# junk line and blank lines around it. His own command line never holds it.
# Bob's answers go to a directory he may write.
o=$work/o && mkdir "$o" && chmod 777 "$o"
printf '\n  %s  \nnot-a-token\n\n' "$tok_a" >"$work/finds"
chmod 644 "$work/finds"
as $U_BOB bash -c 'exec "$1" revoke --token - <"$2" >"$3" 2>"$4"' _ \
	"$suid" "$work/finds" "$o/out.live" "$o/err.live"
check "a user in no group revokes a live token by value (exit 0)" 0 $?
login $U_ALICE "$tok_a"
check "the revoked token is refused at the next login (real PAM)" 1 $?
login $U_ALICE "$tok_a2"
check "alice's other token still logs in" 0 $?
"$suid" show "$id_a" --json 2>/dev/null | grep -q '"state":"revoked"'
[ $? = 0 ] && ok "show says revoked" || bad "show does not say revoked"

# The same words and exit for a revoked, an unknown and a wrong-secret one.
as $U_BOB bash -c 'exec "$1" revoke --token - <"$2" >"$3" 2>"$4"' _ \
	"$suid" "$work/finds" "$o/out.again" "$o/err.again"
rc_again=$?
unknown=${tok_a/_${id_a}_/_AAAAAAAAAAAA_}   # an id nobody has; CRC now wrong
unknown=$(python3 - "$unknown" <<'EOF'
import sys, zlib
t = sys.argv[1][:-6]
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
c, d = zlib.crc32(t.encode()), ""
for _ in range(6):
    c, d = c // 62, A[c % 62] + d
print(t + d)
EOF
)
printf '\n  %s  \nnot-a-token\n\n' "$unknown" >"$work/finds.unknown"
chmod 644 "$work/finds.unknown"
as $U_BOB bash -c 'exec "$1" revoke --token - <"$2" >"$3" 2>"$4"' _ \
	"$suid" "$work/finds.unknown" "$o/out.unknown" "$o/err.unknown"
rc_unknown=$?
check "an already revoked token: exit 0" 0 $rc_again
check "an unknown token: exit 0" 0 $rc_unknown
if cmp -s "$o/err.live" "$o/err.again" &&
	cmp -s "$o/err.live" "$o/err.unknown" &&
	cmp -s "$o/out.live" "$o/out.unknown" && [ -s "$o/err.live" ]; then
	ok "live, revoked and unknown get the same words"
else
	bad "the answers differ: $(cat "$o/err.live" "$o/err.again" "$o/err.unknown" | tr '\n' '|')"
fi
grep -q "$id_a" "$o/err.live" "$o/out.live" &&
	bad "a member's answer names the token" || ok "a member's answer names no token"

# Nothing of the token in argv while the tool runs: hold its stdin open.
mkfifo "$work/fifo" && chmod 666 "$work/fifo"
as $U_BOB bash -c 'exec "$1" revoke --token - <"$2" >/dev/null 2>&1' _ \
	"$suid" "$work/fifo" &
bg=$!
exec 7>"$work/fifo"
pid=$(tool_pid "revoke --token")
secret_a2=${tok_a2##*_}
if [ -n "$pid" ]; then
	tr '\0' ' ' <"/proc/$pid/cmdline" >"$work/cmdline"
	printf '%s\n' "$tok_a2" >&7
	grep -qF "$secret_a2" "$work/cmdline" && bad "argv holds the token" ||
		ok "argv holds no token ($(cat "$work/cmdline"))"
else
	bad "the revoking tokenadm was not seen running"
	printf '%s\n' "$tok_a2" >&7
fi
exec 7>&-
wait $bg
check "the revoke through a pipe succeeds" 0 $?
login $U_ALICE "$tok_a2"
check "the token given through the pipe is refused next" 1 $?

# The audit line: revoke-by-value, the token, its owner and who did it.
if [ -n "$listener" ]; then
	grep -aq "revoke-by-value token=$id_a user=$U_ALICE .*by=$U_BOB " "$log"
	[ $? = 0 ] && ok "the audit line names the token, its owner and who revoked it" ||
		bad "no audit line for the revocation by value"
	grep -aqF "${tok_a##*_}" "$log" && bad "the log holds a secret" ||
		ok "the log holds no secret"
else
	echo "# SKIP audit line: a syslog daemon owns /dev/log here (test_audit.sh checks the format)"
fi

# A write that fails on a live token is, to a member, the same answer as
# junk (only the live path writes: its failure would tell). The lock file
# made unusable (a symlink, which the writer never follows) fails it.
tok_c=$(as $U_ALICE "$suid" create --name lockfail --expires 1d 2>/dev/null)
lock="$store/tokens.db.lock"
rm -f "$lock" && ln -s /nonexistent-ptk-lock "$lock"
printf '\n  %s  \nnot-a-token\n\n' "$tok_c" >"$work/finds.fail"
chmod 644 "$work/finds.fail"
as $U_BOB bash -c 'exec "$1" revoke --token - <"$2" >"$3" 2>"$4"' _ \
	"$suid" "$work/finds.fail" "$o/out.fail" "$o/err.fail"
check "a failed write on a live token: still exit 0" 0 $?
cmp -s "$o/err.fail" "$o/err.unknown" && cmp -s "$o/out.fail" "$o/out.unknown" &&
	ok "... and the same words as for an unknown token" ||
	bad "the failed write tells: $(tr '\n' '|' <"$o/err.fail")"
rm -f "$lock"
login $U_ALICE "$tok_c"
check "(the token was indeed not revoked: the write had failed)" 0 $?

# Bounds: more lines than a run reads is a usage error before anything.
python3 -c 'import sys
for i in range(101): print("x%d" % i)' >"$work/many"
chmod 644 "$work/many"
as $U_BOB bash -c 'exec "$1" revoke --token - <"$2" >/dev/null 2>&1' _ "$suid" "$work/many"
check "101 lines: usage error (exit 2)" 2 $?
as $U_BOB "$suid" revoke --token "$tok_b" >/dev/null 2>&1
check "a token in argv is refused (exit 2)" 2 $?
login $U_BOB "$tok_b"
check "and that token was not revoked" 0 $?

# An administrator gets a result per token.
printf '%s\n%s\n' "$tok_b" "$unknown" | "$suid" revoke --token - --json >"$work/adm.json" 2>/dev/null
check "root revokes by value (exit 0)" 0 $?
python3 - "$work/adm.json" "$U_BOB" <<'EOF' && ok "an administrator sees each token's result" || bad "admin results: $(cat "$work/adm.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert [x["result"] for x in r] == ["revoked", "unknown token or wrong secret"], r
assert r[0]["user"] == sys.argv[2] and r[1]["user"] is None
EOF

echo "1..$n"
[ "$failed" = 0 ]
