#!/usr/bin/env bash
# tokenadm --login through the real libpam and the shipped PAM service
# /etc/pam.d/apitoken-web (common-auth, pam_unix), with real accounts
# (useradd, chpasswd; the member's login shell is nologin) and the setuid
# tokenadm run by an unprivileged relay (www-data, as Apache would).
# The right password acts as that person; a wrong one, an API token typed
# as the password and root are refused (exit 3, the JSON error, a log line
# fail2ban matches); the password is in no argv, environment or log.
# Needs root; restores any /etc/pam.d/apitoken-web it finds.
#
# env: PRIVTEST, PRIVTEST_CONF, SYSLOG_SHIM, PAM_SRC (etc/pam.d/apitoken-web),
#      F2B_FILTER
. "$(dirname "$0")/priv_common.sh"

pamfile=/etc/pam.d/apitoken-web
saved=""
if [ -e "$pamfile" ]; then
	saved=$work/apitoken-web.saved
	cp -p "$pamfile" "$saved"
fi
restore_pam() {
	if [ -n "$saved" ]; then cp -p "$saved" "$pamfile"; else rm -f "$pamfile"; fi
}
trap 'restore_pam; cleanup' EXIT
install -m 0644 "$PAM_SRC" "$pamfile" || exit 1

relay=www-data
getent passwd $relay >/dev/null || relay=nobody
PW_A="Al1ce-$$-pw!x" PW_B="B0b-$$-pw#y" PW_ADM="Adm-$$-pw%z"
printf '%s:%s\n' "$U_ALICE" "$PW_A" "$U_BOB" "$PW_B" "$U_ADMIN" "$PW_ADM" | chpasswd || exit 1
usermod -s /usr/sbin/nologin "$U_ALICE" || exit 1

# web USER PASSWORD ARGS...: tokenadm --login as the relay, JSON on $out.
out=$work/out err=$work/err
web() {
	local u=$1 p=$2; shift 2
	printf '%s\n%s\n' "$u" "$p" | as $relay "$suid" --login "$@" --json >"$out" 2>"$err"
	rc=$?
}
is() { # DESCRIPTION PY-EXPR over o (stdout) and rc
	if python3 -c '
import json,sys
o=json.load(open(sys.argv[1])); rc=int(sys.argv[2])
sys.exit(0 if eval(sys.argv[3]) else 1)' "$out" "$rc" "$2" 2>/dev/null; then
		ok "$1"
	else
		bad "$1 (rc=$rc, stdout: $(head -c 300 "$out"), stderr: $(head -c 200 "$err"))"
	fi
}

# --- the right password: acts as that person, within their policy
web "$U_ALICE" "$PW_A" policy
is "policy: the signed-in member, not the relay" "rc==0 and o['user']=='$U_ALICE' and o['via_web'] and not o['admin'] and o['may_hold'] and o['max_lifetime']=='30d'"
web "$U_ALICE" "$PW_A" create --name from-web --expires 7d
is "create: a token for the member (nologin shell)" "rc==0 and o['user']=='$U_ALICE' and o['token'].startswith('ptk_')"
tok=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$out")
id=$(id_of <<<"$tok")
printf '%s' "$tok" | "$suid" verify --user "$U_ALICE" >/dev/null 2>&1
check "the token minted on the web verifies for the member" 0 $?
web "$U_ALICE" "$PW_A" create --name too-long --expires 60d
is "the member's group limit holds on the web (exit 3, field expires)" "rc==3 and o['field']=='expires'"
web "$U_ALICE" "$PW_A" list
is "list: the member's own token" "rc==0 and [t['id'] for t in o]==['$id']"
web "$U_BOB" "$PW_B" show "$id"
is "another user cannot see it (exit 4)" "rc==4 and o['field']=='id'"
web "$U_BOB" "$PW_B" policy
is "a user in no group: may_hold false, why_not in words" "rc==0 and o['may_hold'] is False and len(o['why_not'])>20 and o['lifetimes']==[]"
web "$U_BOB" "$PW_B" create --name nope
is "a user in no group cannot create on the web (exit 3)" "rc==3 and o['exit']==3"
web "$U_ADMIN" "$PW_ADM" list --all
is "an administrator sees every token" "rc==0 and '$id' in [t['id'] for t in o]"
web "$U_ADMIN" "$PW_ADM" policy
is "an administrator gets the effective policy" "rc==0 and o['admin'] and 'policy' in o"
web "$U_ALICE" "$PW_A" revoke "$id"
is "revoke on the web" "rc==0 and o=={'id':'$id','state':'revoked'}"

# --- refusals: exit 3, {"error","exit":3,"field":"password"}
web "$U_ALICE" "wrong-$PW_A" list
is "a wrong password is refused" "rc==3 and o['exit']==3 and o['field']=='password'"
web "no-such-user-$$" "$PW_A" list
is "an unknown user gets the same answer" "rc==3 and o['field']=='password'"
web "$U_ADMIN" "$PW_ADM" create --name t2 --user "$U_ADMIN" --expires 1d
tok2=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$out" 2>/dev/null)
[ -n "$tok2" ] || bad "admin could not create a token"
web "$U_ADMIN" "$tok2" list
is "an API token typed as the password is refused" "rc==3 and o['field']=='password'"
web root "$PW_A" list
is "root does not sign in on the web" "rc==3"
web "$U_ALICE" "" list
is "an empty password is a usage error" "rc==2 and o['field']=='password'"
printf '%s\n%s\n' "$U_ALICE" "$PW_A" | as $relay "$suid" --login --config /dev/null list --json >"$out" 2>"$err"
rc=$?
is "--config with --login is refused when privileged" "rc==3"
mv "$pamfile" "$pamfile.off"
web "$U_ALICE" "$PW_A" list
mv "$pamfile.off" "$pamfile"
is "without /etc/pam.d/apitoken-web every sign-in is refused (no 'other' stack)" "rc==2"

# --- the password is in no argv or environment: looked at during the
# fail delay of a wrong one, while tokenadm holds it
typed="wrong-$PW_A"
printf '%s\n%s\n' "$U_ALICE" "$typed" | as $relay "$suid" --login list --json >/dev/null 2>&1 &
pid=$(tool_pid "[-]-login list")
if [ -n "$pid" ] && args=$(tr '\0' ' ' </proc/$pid/cmdline 2>/dev/null) && [ -n "$args" ]; then
	if grep -qF -- "$typed" </proc/$pid/cmdline ||
		grep -qF -- "$typed" </proc/$pid/environ 2>/dev/null; then
		bad "the password is in tokenadm's argv or environment"
	else
		ok "the password is in neither argv nor environment ($args)"
	fi
else
	bad "could not find the waiting tokenadm (pid '$pid')"
fi
wait

# --- the logs: refusal line for fail2ban, via=web audit, no password.
# Run by root (not elevated), so the syslog shim can be preloaded; the
# same code path and the same real PAM stack.
if [ -n "${SYSLOG_SHIM:-}" ]; then
	log=$work/syslog
	shim() { PTK_SYSLOG_FILE=$log LD_PRELOAD=$SYSLOG_SHIM "$PRIVTEST" "$@"; }
	printf '%s\n%s\n' "$U_ALICE" "wrong-$PW_A" |
		shim --login --client-addr 192.0.2.7 list --json >/dev/null 2>&1
	printf '%s\n%s\n' "$U_ADMIN" "$tok2" |
		shim --login --client-addr 192.0.2.8 list --json >/dev/null 2>&1
	printf '%s\n%s\n' "$U_ALICE" "$PW_A" |
		shim --login --client-addr 192.0.2.9 create --name audited --expires 1d --json >/dev/null 2>&1
	grep -q "tokenadm(apitoken-web:auth): authentication failure; logname= uid=0 euid=0 tty= ruser=root rhost=192.0.2.7  user=$U_ALICE\$" "$log" &&
		ok "a wrong password logs the pam_unix-style refusal line" ||
		bad "no refusal line: $(cat "$log")"
	grep -q "web sign-in refused: user=$U_ADMIN ruser=root rhost=192.0.2.8 reason=an API token was typed as the password" "$log" &&
		ok "a token typed as the password is refused before PAM, and said so" ||
		bad "no 'API token typed' refusal: $(grep refused "$log")"
	grep -q "created token=.* user=$U_ALICE .*by=$U_ALICE uid=$(id -u "$U_ALICE").* via=web" "$log" &&
		ok "the audit line names the person and says via=web" ||
		bad "no via=web audit line: $(grep created "$log")"
	if grep -qF -e "$PW_A" -e "${tok2#ptk_*_}" "$log" "$err"; then
		bad "a password or token appears in the log"
	else
		ok "no password or token in the log"
	fi
	if command -v fail2ban-regex >/dev/null && [ -f /etc/fail2ban/filter.d/common.conf ]; then
		mkdir -p "$work/f2b/filter.d"
		cp /etc/fail2ban/filter.d/common.conf "$F2B_FILTER" "$work/f2b/filter.d/"
		sed 's/^fac=[0-9]* pri=[0-9]* /Dec  8 03:24:29 host tokenadm[1]: /' "$log" >"$work/auth.log"
		got=$(fail2ban-regex -c "$work/f2b" --raw -o ip "$work/auth.log" pam-apitoken 2>/dev/null | sort -u | tr '\n' ' ')
		[ "$got" = "192.0.2.7 192.0.2.8 " ] &&
			ok "the shipped fail2ban filter finds both refused clients" ||
			bad "fail2ban pam-apitoken found '$got'"
		if [ -f /etc/fail2ban/filter.d/pam-generic.conf ]; then
			got=$(fail2ban-regex --raw -o ip "$work/auth.log" 'pam-generic[__pam_auth=tokenadm]' 2>/dev/null | sort -u | tr '\n' ' ')
			[ "$got" = "192.0.2.7 192.0.2.8 " ] &&
				ok "Debian's pam-generic (__pam_auth=tokenadm) finds them too" ||
				bad "pam-generic found '$got'"
		fi
	else
		echo "# SKIP fail2ban checks: fail2ban not installed"
	fi
else
	echo "# SKIP log checks: no SYSLOG_SHIM"
fi

echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
