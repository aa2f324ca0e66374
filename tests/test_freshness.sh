#!/bin/bash
# A frozen mirror must not keep revoked tokens alive silently (issue 21.1).
#
# The reviewer's scenario, as they ran it: max_bundle_age = 5s on a host
# that pulls one bundle's URL with the shipped pam-apitoken-pull; the
# authority revokes a token, but the mirror keeps serving the bundle the
# host already has. Time moves with faketime. Then: the pull fails (not
# "already installed", exit 0), status says stale, a warning is logged,
# and with stale_action = refuse the module (real PAM, pamtester) refuses
# the revoked token, and every other one. A heartbeat (the same
# generation signed anew) makes the host fresh again without rebuilding
# its store (same inode, same bytes).
#
# env: TOKENADM, PAM_APITOKEN_SO, PULL (the pull script), FAKETIME,
# SYSLOG_SHIM (optional)
set -u
export LC_ALL=C
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (a PAM service for pamtester)"; exit 77; }
command -v pamtester >/dev/null || { echo "SKIP: no pamtester"; exit 77; }
[[ -z ${PTK_SANITIZED:-} ]] || { echo "SKIP: sanitizer build (pamtester, libfaketime)"; exit 77; }
[[ -x ${FAKETIME:-} ]] || { echo "SKIP: no faketime"; exit 77; }
T=${TOKENADM:?} SO=${PAM_APITOKEN_SO:?} PULL=${PULL:?}
# libfaketime reads FAKETIME as the time to fake: not the program's path.
FT=$FAKETIME
unset FAKETIME

W=$(mktemp -d /tmp/ptk-fresh.XXXXXX) || exit 1
SVC=ptk-fresh-$$
trap 'rm -f "/etc/pam.d/$SVC"; [[ -n ${KEEP:-} ]] || rm -rf "$W"' EXIT
chmod 755 "$W"
. "$(dirname "$0")/fleet_common.sh"
mkhost auth
mkhost host
A() { "$T" --config "$W/auth/conf" "$@"; }
# The clock of everything on the host, moved by $SKEW (faketime's -f).
SKEW=+0s
H() { "$FT" -f "$SKEW" "$T" --config "$W/host/conf" "$@"; }
# What the pull script runs as tokenadm: the host's, at the host's time,
# with syslog captured when the shim is there.
# (faketime sets LD_PRELOAD itself: with the shim, its library is
# preloaded beside the shim by hand.)
libft=$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime\.so\.1$' | head -1)
if [[ -n ${SYSLOG_SHIM:-} && -n $libft ]]; then
	cat >"$W/tokenadm-host" <<SH
#!/bin/sh
FAKETIME="\$SKEW" LD_PRELOAD="$SYSLOG_SHIM:$libft" exec "$T" --config "$W/host/conf" "\$@"
SH
else
	SYSLOG_SHIM=
	cat >"$W/tokenadm-host" <<SH
#!/bin/sh
exec "$FT" -f "\$SKEW" "$T" --config "$W/host/conf" "\$@"
SH
fi
chmod 755 "$W/tokenadm-host"
pull() { # pull URL: $RC, stderr in $W/err
	env SKEW="$SKEW" TOKENADM="$W/tokenadm-host" \
		PULL_STATE_DIR="$W/host/pull" PTK_SYSLOG_FILE="$W/syslog" \
		"$PULL" "$1" >"$W/out" 2>"$W/err"
	RC=$?
}
login() { # login TOKEN: 0 accepted
	"$FT" -f "$SKEW" pamtester "$SVC" root authenticate <<<"$1" >/dev/null 2>&1
}

A init --signing >/dev/null 2>&1 || { nok "authority init"; exit 1; }
revoked=$(A create --name leaked --user root 2>/dev/null)
other=$(A create --name other --user root 2>/dev/null)
H init --import-only --site-key "$W/auth/keys/site.key" \
	--trusted-key "$W/auth/keys/signing.key.pub" >/dev/null 2>&1 ||
	{ nok "host init"; exit 1; }
echo "max_bundle_age = 5s" >>"$W/host/conf"
echo "auth required $SO conf=$W/host/conf" >"/etc/pam.d/$SVC"
mkdir -m 755 "$W/mirror"
url=file://$W/mirror/bundle

# --- the mirror serves the current bundle; the host pulls it
A export --out "$W/mirror/bundle" >/dev/null 2>&1
pull "$url"
check "first pull of the bundle's URL installs it" eval '[[ $RC == 0 ]]'
check "the pull of a bundle's URL says what to change (publish a directory)" \
	grep -q "tokenadm publish" "$W/err"
check "(control: the token logs in on the host)" login "$revoked"

# --- the authority revokes; the mirror freezes
A revoke "$(id_of "$revoked")" >/dev/null 2>&1
A export --out "$W/newer" >/dev/null 2>&1
SKEW=+60s
: >"$W/syslog"
pull "$url"
check "frozen mirror: the pull fails (no 'already installed', exit 0)" \
	eval '[[ $RC != 0 ]] && grep -q "too old" "$W/err"'
if [[ -n ${SYSLOG_SHIM:-} ]]; then
	check "frozen mirror: a warning is logged" \
		grep -q "pri=4 import refused: too.old" "$W/syslog"
else
	echo "# SKIP the warning line: no SYSLOG_SHIM"
fi
H status >"$W/out" 2>"$W/err"
check "frozen mirror: status says STALE" grep -q "^STALE: *stale:" "$W/out"
H status --json >"$W/out" 2>"$W/err"
check "frozen mirror: status --json has stale true and a reason" \
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["stale"] is True and "max_bundle_age" in s["stale_reason"] and s["fresh_as_of"], s' "$W/out"
check "stale_action = warn (the default): the stale host still accepts" \
	login "$revoked"
echo "stale_action = refuse" >>"$W/host/conf"
check "stale_action = refuse: the revoked token is refused" \
	eval '! login "$revoked"'
check "stale_action = refuse: every token is refused (fail closed)" \
	eval '! login "$other"'
H status >"$W/out" 2>"$W/err"
check "status says tokens are refused" grep -q "stale_action = refuse" "$W/out"

# --- the mirror catches up; then the authority only beats
cp "$W/newer" "$W/mirror/bundle"
SKEW=+0s
pull "$url"
check "the newer bundle installs" eval '[[ $RC == 0 ]]'
check "fresh again: the revoked token is refused as revoked" \
	eval '! login "$revoked"'
check "fresh again: the other token logs in under refuse" login "$other"
ino=$(stat -c %i "$W/host/store/tokens.db")
sum=$(sha256sum <"$W/host/store/tokens.db")
SKEW=+60s
check "a minute later the host is stale again (refused)" \
	eval '! login "$other"'
"$FT" -f +60s "$T" --config "$W/auth/conf" export --out "$W/mirror/bundle" >/dev/null 2>&1
pull "$url"
check "heartbeat (same generation, signed anew): the pull succeeds" \
	eval '[[ $RC == 0 ]] && grep -q "freshness renewed" "$W/err"'
check "heartbeat: the store was not rebuilt (same inode, same bytes)" \
	eval '[[ $(stat -c %i "$W/host/store/tokens.db") == "$ino" && $(sha256sum <"$W/host/store/tokens.db") == "$sum" ]]'
check "heartbeat: the host is fresh, tokens log in under refuse" login "$other"
H status --json >"$W/out" 2>"$W/err"
check "heartbeat: status --json stale false" \
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert s["stale"] is False and s["stale_reason"] is None, s' "$W/out"
# Freshness comes only from the verified record: without it the host is
# stale even though its store was installed just now.
rm -f "$W/host/store/tokens.db.freshness"
SKEW=+0s
check "no freshness record at all: stale under refuse" eval '! login "$other"'

echo "$((n - fails)) passed, $fails failed"
[[ $fails == 0 ]]
