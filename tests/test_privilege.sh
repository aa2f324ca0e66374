#!/usr/bin/env bash
# tokenadm as ordinary users would run it: installed setuid root, under a
# [group] policy, with a hostile environment. Needs root (to create users,
# groups and a setuid copy); skipped otherwise.
#
# env: PRIVTEST (tokenadm-privtest: its default config is $PRIVTEST_CONF),
#      PRIVTEST_CONF, PAM_APITOKEN_SO
PRIV_CONF_EXTRA="max_tokens_per_user = 3"
. "$(dirname "$0")/priv_common.sh"

# --- self-service within policy
tok_a=$(as $U_ALICE "$suid" create --name laptop --expires 7d 2>/dev/null)
check "a member of an allowed group creates a token" 0 $?
id_a=$(id_of <<<"$tok_a")
[ -n "$id_a" ] && ok "the token is printed on stdout" || bad "no token printed"

out=$(as $U_ALICE "$suid" list --json 2>/dev/null)
check "the member lists their own tokens" 0 $?
python3 -c 'import json,sys; a=json.load(sys.stdin); assert [t["id"] for t in a]==[sys.argv[1]], a' "$id_a" <<<"$out" &&
	ok "list shows exactly their token" || bad "list content: $out"

as $U_ALICE "$suid" create --name long --expires 60d >/dev/null 2>&1
check "a lifetime beyond the group's maximum is refused" 3 $?
as $U_ALICE "$suid" create --name forever --expires never >/dev/null 2>&1
check "'never' is refused when the group has a maximum" 3 $?
as $U_ALICE "$suid" create --name other --user $U_BOB >/dev/null 2>&1
check "a member cannot create tokens for someone else" 3 $?
as $U_ALICE "$suid" list --all >/dev/null 2>&1
check "a member cannot list everyone's tokens" 3 $?

as $U_BOB "$suid" create --name nope >/dev/null 2>&1
check "a user in no allowed group cannot create tokens" 3 $?

as $U_ALICE "$suid" create --name t2 --expires 1d >/dev/null 2>&1 &&
	as $U_ALICE "$suid" create --name t3 --expires 1d >/dev/null 2>&1
check "two more tokens fit the per-user limit of 3" 0 $?
as $U_ALICE "$suid" create --name t4 --expires 1d >/dev/null 2>&1
check "a fourth token exceeds max_tokens_per_user" 3 $?

# --- other people's tokens
tok_b=$("$suid" create --name svc --user $U_BOB 2>/dev/null)
id_b=$(id_of <<<"$tok_b")
# Not theirs and not there look the same to a member (exit 4, one message):
# ids cannot be probed. Each command is compared with a made-up id.
for cmd in show revoke disable enable rotate; do
	theirs=$(as $U_ALICE "$suid" $cmd "$id_b" 2>&1 >/dev/null); rc_theirs=$?
	none=$(as $U_ALICE "$suid" $cmd AAAAAAAAAAAA 2>&1 >/dev/null); rc_none=$?
	check "a member cannot $cmd another person's token (told: no such token)" 4 $rc_theirs
	[ "$rc_none" = 4 ] && [ -n "$none" ] &&
		[ "${theirs//$id_b/ID}" = "${none//AAAAAAAAAAAA/ID}" ] &&
		ok "$cmd: another person's id and a missing one get the same answer" ||
		bad "$cmd: '$theirs' ($rc_theirs) vs '$none' ($rc_none)"
done
"$suid" show "$id_b" 2>&1 | grep -q "$U_BOB" &&
	"$suid" show "$id_b" --json 2>/dev/null | grep -q '"active"'
check "the probed token is untouched and root still sees its owner" 0 $?
as $U_ADMIN "$suid" show "$id_b" >/dev/null 2>&1
check "an administrator gets the precise answer (shown)" 0 $?
# Another person's record, damaged (one byte of its body flipped in
# place): to a member still just "no token", to root the integrity failure.
cp -p "$store/tokens.db" "$work/tokens.db.good"
python3 -c '
import sys
p, i = sys.argv[1], sys.argv[2].encode()
b = bytearray(open(p, "rb").read()); at = b.find(i + b"PTKR")
if at < 0: sys.exit(1)
b[at + 12 + 80] ^= 1; open(p, "r+b").write(b)' "$store/tokens.db" "$id_b"
check "setup: another person's record damaged in the store" 0 $?
theirs=$(as $U_ALICE "$suid" show "$id_b" 2>&1 >/dev/null); rc_theirs=$?
[ "$rc_theirs" = 4 ] && [ "${theirs//$id_b/ID}" = "${none//AAAAAAAAAAAA/ID}" ] &&
	ok "a member asking for another person's damaged record: no such token" ||
	bad "damaged record of another: '$theirs' ($rc_theirs)"
"$suid" show "$id_b" 2>&1 >/dev/null | grep -q integrity
check "root is told it failed its integrity check" 0 $?
cp -p "$work/tokens.db.good" "$store/tokens.db"
as $U_ALICE "$suid" verify --user $U_BOB <<<"$tok_b" >/dev/null 2>&1
check "a member cannot verify another person's token" 3 $?
# verify --user self with another person's id and a made-up secret, and
# with a made-up id: the same answer (tokenadm(8), PERMISSIONS).
forge() { # forge ID: a token-shaped text with that id and a random secret
	python3 - "$1" <<'PY'
import secrets, sys, zlib
b62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
body = "ptk_%s_%s" % (sys.argv[1], "".join(secrets.choice(b62) for _ in range(32)))
c = zlib.crc32(body.encode()) & 0xffffffff
d = ""
for _ in range(6):
    d = b62[c % 62] + d
    c //= 62
print(body + d)
PY
}
theirs=$(forge "$id_b" | as $U_ALICE "$suid" verify --user $U_ALICE 2>/dev/null)
none=$(forge AAAAAAAAAAAA | as $U_ALICE "$suid" verify --user $U_ALICE 2>/dev/null)
[ -n "$theirs" ] && [ "${theirs//$id_b/ID}" = "${none//AAAAAAAAAAAA/ID}" ] &&
	ok "verify: another person's id with a wrong secret reads like a missing id" ||
	bad "verify: '$theirs' vs '$none'"
admin_says=$(forge "$id_b" | "$suid" verify --user $U_BOB 2>/dev/null)
[[ $admin_says == *"wrong secret"* ]] && ok "verify: root still gets the precise reason" ||
	bad "verify as root: '$admin_says'"

# --- own tokens: verify, rotate, revoke
as $U_ALICE "$suid" verify --user $U_ALICE <<<"$tok_a" >/dev/null 2>&1
check "a member verifies their own token" 0 $?
tok_a2=$(as $U_ALICE "$suid" rotate "$id_a" --grace 1h 2>/dev/null)
check "a member rotates their own token" 0 $?
as $U_ALICE "$suid" verify --user $U_ALICE <<<"$tok_a2" >/dev/null 2>&1
check "the rotated token works" 0 $?
as $U_ALICE "$suid" verify --user $U_ALICE <<<"$tok_a" >/dev/null 2>&1
check "the old secret works during the grace period" 0 $?

# --- hostile environment and options
as $U_ALICE "$suid" --db "$work/evil.db" list >/dev/null 2>&1
check "--db from a non-root caller is refused" 3 $?
as $U_ALICE "$suid" --config /etc/passwd list >/dev/null 2>&1
check "--config from a non-root caller is refused" 3 $?
cat > "$work/evil.conf" <<CONF
db = $work/evil.db
key = $store/site.key
[group nogroup]
max_lifetime = never
CONF
chmod 644 "$work/evil.conf"
as $U_BOB env PAM_APITOKEN_CONF="$work/evil.conf" "$suid" create --name x >/dev/null 2>&1
check "PAM_APITOKEN_CONF is ignored by a privileged run" 3 $?
[ ! -e "$work/evil.db" ] && ok "no store was created where the caller pointed" || bad "evil.db exists"
as $U_ALICE env LD_PRELOAD="$work/nonexistent.so" LD_LIBRARY_PATH="$work" \
	"$suid" list >/dev/null 2>&1
check "LD_PRELOAD/LD_LIBRARY_PATH do not break or steer the tool" 0 $?

# Closed stdout: a later open() must not land on fd 1 and receive output.
# (glibc gives a setuid program a read-only /dev/null there.)
as $U_ALICE sh -c "exec \"$suid\" list >&- 2>&-"
check "with stdout closed, list fails cleanly (no crash)" 1 $?
before=$(as $U_ALICE "$suid" list --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
as $U_ALICE sh -c "exec \"$suid\" create --name closed --expires 1d <&- >&- 2>&-"
check "with stdout closed, create refuses rather than lose the token" 1 $?
after=$(as $U_ALICE "$suid" list --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
[ "$before" = "$after" ] && ok "no token was created" || bad "tokens: $before -> $after"
"$suid" list >/dev/null 2>&1
check "the store is intact after runs with closed descriptors" 0 $?
grep -qa 'ptk_' "$store/tokens.db" && bad "token text found in the store" ||
	ok "no token text was written into the store"

# A store path that is a symlink is never followed.
cp -a "$store" "$work/store2"
mv "$store/tokens.db" "$store/tokens.real" && ln -s tokens.real "$store/tokens.db"
"$suid" list >/dev/null 2>&1
check "a symlinked store is refused" 1 $?
rm "$store/tokens.db" && mv "$store/tokens.real" "$store/tokens.db"

# --- a caller cannot freeze a privileged tokenadm while it holds the lock
# (the writers' lock would then block every revocation on the host).
flock "$store/tokens.db.lock" sleep 3 &
holder=$!
sleep 0.3
as $U_ALICE "$suid" create --name waiting$$ --expires 1d >/dev/null 2>&1 &
waiter=$!
# $waiter is the shell that runs runuser: the signal must go to the tool.
pid=$(tool_pid "create --name waiting$$")
if [ -z "$pid" ]; then
	bad "the member's tokenadm did not start"
else
	sleep 0.3 # let it reach the lock wait
	as $U_ALICE kill -STOP $pid 2>/dev/null
	check "the caller cannot SIGSTOP the privileged tool (kill fails)" 1 $?
	kill -CONT $pid 2>/dev/null # had it been stopped, it would wait forever
fi
wait $holder; wait $waiter
# A caller whose stderr pipe is full and never drained: the tool writes its
# messages only after releasing the lock, so root's revoke still goes ahead.
victim=$("$suid" create --name victim --user $U_BOB 2>/dev/null)
python3 - "$suid" $U_ALICE <<'PY' &
import fcntl, os, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, fcntl.F_SETFL, os.O_NONBLOCK)
try:
    while True:
        os.write(w, b"x" * 4096)
except BlockingIOError:
    pass
fcntl.fcntl(w, fcntl.F_SETFL, 0)
p = subprocess.Popen(["runuser", "-u", sys.argv[2], "--", sys.argv[1], "revoke",
                      "AAAAAAAAAAAA"], stderr=w, stdout=subprocess.DEVNULL)
time.sleep(4)
p.kill()
PY
blocker=$!
sleep 0.5
timeout 10 "$suid" revoke "$(id_of <<<"$victim")" >/dev/null 2>&1
check "root's revoke is not blocked by a tool stuck on a full stderr pipe" 0 $?
wait $blocker

# --- an administrator's disable is not the owner's to undo
as $U_ADMIN "$suid" disable "$(id_of <<<"$victim")" >/dev/null 2>&1
as $U_ADMIN "$suid" disable "$id_b" >/dev/null 2>&1
check "an administrator disables another person's token" 0 $?
as $U_BOB "$suid" enable "$id_b" >/dev/null 2>&1
check "the owner cannot enable a token an administrator disabled" 3 $?
as $U_ADMIN "$suid" enable "$id_b" >/dev/null 2>&1
check "an administrator enables it again" 0 $?

# --- leaving the group makes the token inactive
gpasswd -d $U_ALICE $G_USERS >/dev/null 2>&1
"$suid" verify --user $U_ALICE <<<"$tok_a2" >/dev/null 2>&1
check "after leaving the group the token is refused" 1 $?
st=$("$suid" show "$id_a" --json 2>/dev/null |
	python3 -c 'import json,sys; t=json.load(sys.stdin); print(t["state"], bool(t["reason"]))')
[ "$st" = "inactive True" ] && ok "list shows it inactive with a reason" || bad "state: $st"
# Through the module too, not only tokenadm's verify.
if command -v pamtester >/dev/null && [ -n "${PAM_APITOKEN_SO:-}" ]; then
	svc=ptk-privtest-$$
	echo "auth required $PAM_APITOKEN_SO conf=$PRIVTEST_CONF" > /etc/pam.d/$svc
	pamtester $svc $U_ALICE authenticate <<<"$tok_a2" >/dev/null 2>&1
	check "the module refuses the inactive token" 1 $?
	gpasswd -a $U_ALICE $G_USERS >/dev/null 2>&1
	pamtester $svc $U_ALICE authenticate <<<"$tok_a2" >/dev/null 2>&1
	check "back in the group, the module accepts it again" 0 $?
	rm -f /etc/pam.d/$svc
fi
# A token an administrator issued for an account is not bound to groups.
"$suid" verify --user $U_BOB <<<"$tok_b" >/dev/null 2>&1
check "an administrator-issued token is not subject to the group check" 0 $?

# --- administrators see and manage everything
out=$(as $U_ADMIN "$suid" list --all --json 2>/dev/null)
check "an administrator lists all tokens" 0 $?
python3 -c 'import json,sys; a=json.load(sys.stdin); assert {t["user"] for t in a} >= {sys.argv[1], sys.argv[2]}, a' \
	$U_ALICE $U_BOB <<<"$out" && ok "the list has every user's tokens" || bad "admin list: $out"
as $U_ADMIN "$suid" revoke "$id_a" >/dev/null 2>&1
check "an administrator revokes another person's token" 0 $?
as $U_ALICE "$suid" verify --user $U_ALICE <<<"$tok_a2" >/dev/null 2>&1
check "the revoked token is refused" 1 $?

# --- an administrator's own token lives only while they are one
tok_adm=$(as $U_ADMIN "$suid" create --name own 2>/dev/null)
"$suid" verify --user $U_ADMIN <<<"$tok_adm" >/dev/null 2>&1
check "an administrator's own token works" 0 $?
gpasswd -d $U_ADMIN $G_ADMINS >/dev/null 2>&1
"$suid" verify --user $U_ADMIN <<<"$tok_adm" >/dev/null 2>&1
check "after leaving admin_group (and in no [group]) it is inactive" 1 $?

echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
