#!/usr/bin/env bash
# What one person's tokenadm command may cost everyone else, and what it
# may tell them (issue 21, parts 3, 4 and 6), tried as real users through
# the setuid copy: a member's command is bounded in memory, in audit lines
# and in when it takes the writers' lock; a member's dead tokens never fill
# the store for the others; store activity, the store's directory and
# verify's verdicts are not open to every local user. Needs root.
#
# env: PRIVTEST, PRIVTEST_CONF (see priv_common.sh), SYSLOG_SHIM
PRIV_CONF_EXTRA=""
. "$(dirname "$0")/priv_common.sh"

U_CAROL=ptkc$$ U_SVC=ptks$$ G_SVC=ptksvc$$
cleanup_more() {
	for u in $U_CAROL $U_SVC; do userdel "$u" 2>/dev/null; done
	groupdel $G_SVC 2>/dev/null
	cleanup
}
trap cleanup_more EXIT
useradd -M -N -g nogroup -G "$G_USERS" -s /bin/sh "$U_CAROL" || exit 1
groupadd $G_SVC && useradd -M -N -g nogroup -G $G_SVC -s /bin/sh "$U_SVC" || exit 1
count() { python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# ---------------------------------------------------------------- part 3
tok=$(as $U_ALICE "$suid" create --name mine --expires 1d 2>/dev/null)
id=$(id_of <<<"$tok")
[ -n "$id" ] || { bad "alice creates a token"; exit 1; }

# One id named 100,000 times: the root process's peak memory must not grow
# with the command line (a whole record per argument was 300 MB).
maxrss_kb=$(python3 - "$U_ALICE" "$suid" "$id" <<'PY'
import os, pwd, resource, subprocess, sys
user, tool, tid = sys.argv[1:]
pw = pwd.getpwnam(user)
# 100,000 arguments pass ARG_MAX (a quarter of the stack limit) at 8 MB;
# runuser would reset the limit (pam_limits), so become the user here.
resource.setrlimit(resource.RLIMIT_STACK, (64 << 20, resource.RLIM_INFINITY))
def become():
    os.setgroups(os.getgrouplist(user, pw.pw_gid))
    os.setgid(pw.pw_gid)
    os.setuid(pw.pw_uid)
r = subprocess.run([tool, "enable"] + [tid] * 100000, preexec_fn=become,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if r.returncode == 0
      else "exit %d" % r.returncode)
PY
)
if [[ $maxrss_kb =~ ^[0-9]+$ ]] && [ "$maxrss_kb" -lt 65536 ]; then
	ok "enable with one id 100,000 times peaks at ${maxrss_kb} KB (< 64 MB)"
else
	bad "enable with one id 100,000 times: peak $maxrss_kb KB"
fi

# More distinct ids than a member can hold: refused as a usage error.
many=$(python3 -c 'import random,string; a=string.ascii_letters+string.digits; print(" ".join("".join(random.choice(a) for _ in range(12)) for _ in range(101)))')
# shellcheck disable=SC2086
as $U_ALICE "$suid" disable $many >/dev/null 2>"$work/err"
check "a member naming 101 distinct ids is refused (exit 2)" 2 $?
grep -q 'at most 100 token ids' "$work/err" && ok "... saying how many are allowed" ||
	bad "message: $(cat "$work/err")"

# Refusals come before the writers' lock: with the lock file made
# unusable (a symlink, which the writer never follows), a command that
# tried to lock would fail on it; a refused one must never get there.
id_b=$(id_of <<<"$("$suid" create --name bobs --user $U_BOB 2>/dev/null)")
lock="$store/tokens.db.lock"
rm -f "$lock" && ln -s /nonexistent-ptk-lock "$lock"
"$suid" revoke "$id_b" >/dev/null 2>"$work/err"
[ $? = 1 ] && grep -q 'lock' "$work/err" &&
	ok "(the planted lock stops root's writes: the probe below is sound)" ||
	bad "the planted lock did not stop a write: $(cat "$work/err")"
nolock() { # nolock DESCRIPTION WANT-EXIT USER ARGS...
	local d=$1 want=$2 u=$3; shift 3
	as "$u" "$suid" "$@" >/dev/null 2>"$work/err"
	local rc=$?
	if [ $rc = "$want" ] && ! grep -q 'lock' "$work/err"; then ok "$d"
	else bad "$d (exit $rc: $(head -c 200 "$work/err"))"; fi
}
nolock "a user in no group prunes without taking the lock" 0 $U_BOB prune
nolock "a member with nothing dead prunes without taking the lock" 0 $U_CAROL prune
nolock "revoke of someone else's id is answered before the lock" 4 $U_ALICE revoke "$id_b"
nolock "disable of a made-up id is answered before the lock" 4 $U_BOB disable AAAAAAAAAAAA
nolock "rotate of someone else's id is answered before the lock" 4 $U_BOB rotate "$id"
# shellcheck disable=SC2086
nolock "101 ids are refused before the lock" 2 $U_ALICE enable $many
nolock "one bad id among good ones: refused before the lock" 4 $U_ALICE revoke "$id" "$id_b"
rm -f "$lock"
"$suid" show "$id" --json 2>/dev/null | grep -q '"active"' &&
	ok "the member's token is untouched by the refused revoke" || bad "token state changed"

# ---------------------------------------------------------------- part 4
# A member's revoked (dead) tokens: 10 rounds of create+revoke with a
# per-user limit of 3 and room for 6 more records in the store. Their dead
# records must be theirs to pay for: every round works, they never hold
# more than 3 records, and another member can still create.
total=$("$suid" list --all --json 2>/dev/null | count)
write_conf "max_tokens_per_user = 3
max_store_tokens = $((total + 6))"
fails=0
for i in $(seq 10); do
	t=$(as $U_ALICE "$suid" create --name "churn$i" --expires 1d 2>>"$work/churn.err") || fails=$((fails + 1))
	as $U_ALICE "$suid" revoke "$(id_of <<<"$t")" >/dev/null 2>&1
done
[ $fails = 0 ] && ok "10 rounds of create+revoke all succeed" ||
	bad "$fails of 10 creates refused: $(tail -1 "$work/churn.err")"
held=$("$suid" list --user $U_ALICE --json 2>/dev/null | count)
[ "$held" -le 3 ] && ok "the member holds at most 3 records (has $held)" ||
	bad "the member holds $held records"
as $U_CAROL "$suid" create --name room --expires 1d >/dev/null 2>"$work/err"
check "another member can still create" 0 $?
# The live token the member had stays (only dead ones are reclaimed).
"$suid" show "$id" >/dev/null 2>&1
check "the member's live token was not reclaimed" 0 $?
write_conf ""

# ---------------------------------------------------------------- part 6
# status: the store's generation and change times for administrators only.
as $U_BOB "$suid" status --json >"$work/st.json" 2>/dev/null
check "status --json as a user in no group" 0 $?
python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["role"]=="authority" and s["generation"] is None and s["created"] is None and s["last_import"] is None and s["admin"] is False, s' "$work/st.json" &&
	ok "... gives the role and admin:false, no generation or times" || bad "status: $(cat "$work/st.json")"
as $U_BOB "$suid" status 2>/dev/null | grep -q '^last change' &&
	bad "the text status shows a user the last change" || ok "the text status shows no change time"
as $U_ADMIN "$suid" status --json 2>/dev/null |
	python3 -c 'import json,sys; s=json.load(sys.stdin); assert isinstance(s["generation"], int) and s["generation"] > 0 and s["created"] and s["admin"] is True, s' &&
	ok "an administrator sees the generation and its time" || bad "status as the administrator"

# The store's directory: 0700 without a group (priv_common's init), 0750
# with the services' group; an older 0755 one is closed by init, unless it
# holds files that are not ours.
[ "$(stat -c %a "$store")" = 700 ] && ok "init without --group: the store's directory is 0700" ||
	bad "store directory: $(stat -c '%a %U %G' "$store")"
d=$work/grp; mkdir -m 755 "$d"
printf 'db = %s\nkey = %s\nadmin_group = %s\n' "$d/store/tokens.db" "$d/store/site.key" $G_ADMINS >"$d/conf"
"$PRIVTEST" --config "$d/conf" init --group $G_SVC >/dev/null 2>&1
check "init --group into a new directory" 0 $?
[ "$(stat -c '%a %U %G' "$d/store")" = "750 root $G_SVC" ] &&
	ok "the new store directory is 0750 root:$G_SVC" || bad "directory: $(stat -c '%a %U %G' "$d/store")"
as $U_BOB ls "$d/store" >/dev/null 2>&1 && bad "a user outside the group lists the store's directory" ||
	ok "a user outside the group cannot list the store's directory"
svc_tok=$("$PRIVTEST" --config "$d/conf" create --name svc --user $U_SVC 2>/dev/null)
as $U_SVC "$PRIVTEST" --config "$d/conf" verify --user $U_SVC <<<"$svc_tok" >/dev/null 2>&1
check "a service user in the group still reads the store (verify accepts)" 0 $?
chmod 755 "$d/store"
"$PRIVTEST" --config "$d/conf" init --group $G_SVC >/dev/null 2>&1
check "init again over an older 0755 directory" 0 $?
[ "$(stat -c '%a %G' "$d/store")" = "750 $G_SVC" ] && ok "init closes the older 0755 directory" ||
	bad "after init: $(stat -c '%a %G' "$d/store")"
chmod 755 "$d/store" && touch "$d/store/someone-elses"
"$PRIVTEST" --config "$d/conf" init --group $G_SVC >/dev/null 2>&1
[ "$(stat -c %a "$d/store")" = 755 ] && ok "a directory shared with other files is left alone" ||
	bad "a shared directory was changed: $(stat -c %a "$d/store")"

# verify logs each verdict like the module (authpriv), never the token;
# the tool unprivileged as alice, on a store of her own, with the shim.
if [ -z "${SYSLOG_SHIM:-}" ]; then
	echo "# SKIP verify/audit logging: no SYSLOG_SHIM"
else
	o=$work/own; mkdir -m 700 "$o" && chown $U_ALICE "$o"
	printf 'db = %s\nkey = %s\nadmin_group = %s\n[group %s]\nmax_lifetime = 30d\n' \
		"$o/s/tokens.db" "$o/s/site.key" $G_ADMINS $G_USERS >"$o/conf"
	chmod 644 "$o/conf"
	log=$o/syslog
	ta() { as $U_ALICE env PTK_SYSLOG_FILE="$log" LD_PRELOAD="$SYSLOG_SHIM" "$PRIVTEST" --config "$o/conf" "$@"; }
	ta init >/dev/null 2>&1
	t1=$(ta create --name v1 --expires 1d 2>/dev/null); i1=$(id_of <<<"$t1")
	t2=$(ta create --name v2 --expires 1d 2>/dev/null); i2=$(id_of <<<"$t2")
	: >"$log"
	ta disable "$i1" "$i1" "$i2" "$i1" >/dev/null 2>&1
	check "disable naming one id three times and another once" 0 $?
	[ "$(grep -c " disabled token=$i1 " "$log")" = 1 ] && [ "$(grep -c " disabled token=$i2 " "$log")" = 1 ] &&
		[ "$(grep -c . "$log")" = 2 ] && ok "... logs one audit line per distinct token" ||
		bad "audit lines: $(cat "$log")"
	ta enable "$i1" "$i2" >/dev/null 2>&1
	: >"$log"
	ta verify --user $U_ALICE --rhost 192.0.2.9 --service web <<<"$t1" >/dev/null 2>&1
	check "verify of her own token accepts" 0 $?
	grep -q "^fac=10 .*verify accepted for user $U_ALICE; rhost=192.0.2.9 service=web token=$i1 by=$U_ALICE" "$log" &&
		ok "verify logs the acceptance (authpriv, user, rhost, token id)" || bad "log: $(cat "$log")"
	forged=$(python3 - "$t1" <<'PY'
import sys, zlib
t = sys.argv[1]; a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
body = t[:-6-32] + ("Q" * 32)
c = zlib.crc32(body.encode()); s = ""
for _ in range(6): s = a[c % 62] + s; c //= 62
print(body + s)
PY
)
	: >"$log"
	ta verify --user $U_ALICE --rhost 192.0.2.9 <<<"$forged" >/dev/null 2>&1
	check "verify of a wrong secret refuses" 1 $?
	grep -q "verify failure; logname=$U_ALICE uid=$(id -u $U_ALICE) .* rhost=192.0.2.9  user=$U_ALICE service= token=$i1 reason=wrong secret" "$log" &&
		ok "verify logs the refusal in pam_unix's shape with the reason" || bad "log: $(cat "$log")"
	secret=${t1#*_*_}
	grep -q -e "${secret:0:16}" -e "QQQQQQQQQQQQQQQQ" "$log" &&
		bad "a secret appears in the log" || ok "no secret in verify's log lines"
fi

echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
