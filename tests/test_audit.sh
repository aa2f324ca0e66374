#!/usr/bin/env bash
# Every change tokenadm makes is logged to syslog (authpriv) with who did
# it, the token id and the owner, and never the token. syslog(3) is captured
# with an LD_PRELOAD shim (tests/syslog_shim.c), so no daemon is needed;
# tokenadm runs unprivileged here, with a private store.
# env: TOKENADM, SYSLOG_SHIM
set -u
# An LD_PRELOAD shim cannot go in front of the sanitizer's runtime.
[ -z "${PTK_SANITIZED:-}" ] || { echo "SKIP: sanitizer build"; exit 77; }
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=$work/syslog
cat > "$work/conf" <<CONF
db = $work/s/tokens.db
key = $work/s/site.key
CONF
me=$(id -un)
ta() { PTK_SYSLOG_FILE=$log LD_PRELOAD=$SYSLOG_SHIM "$TOKENADM" --config "$work/conf" "$@"; }

ta init >/dev/null 2>&1 || { echo "init failed"; exit 1; }
tok=$(ta create --name audited --user "$me" 2>/dev/null)
id=$(sed -n 's/^ptk_\([0-9A-Za-z]\{12\}\)_.*/\1/p' <<<"$tok")
new=$(ta rotate "$id" --grace 1h 2>/dev/null)
ta disable "$id" >/dev/null 2>&1
ta enable "$id" >/dev/null 2>&1
ta revoke "$id" >/dev/null 2>&1
ta prune >/dev/null 2>&1
ta list >/dev/null 2>&1        # reads change nothing: no audit line
ta revoke AAAAAAAAAAAA >/dev/null 2>&1   # a refused change: no audit line

authpriv=$((LOG_AUTHPRIV = 10))
for action in created rotated disabled enabled revoked pruned; do
	line=$(grep " $action token=$id " "$log")
	if [ -z "$line" ]; then
		bad "'$action' is logged with the token id"
		continue
	fi
	case "$line" in
	"fac=$authpriv "*" user=$me "*"by=$me uid=$(id -u)"*) ok "'$action': authpriv, owner, who did it" ;;
	*) bad "'$action' line lacks facility, owner or actor: $line" ;;
	esac
done
count=$(grep -c . "$log")
[ "$count" = 6 ] && ok "exactly one line per change (reads and refusals log nothing)" ||
	bad "expected 6 lines, got $count"
secret=${tok#ptk_*_}
secret2=${new#ptk_*_}
if grep -q -e "$secret" -e "$secret2" -e "${secret:0:16}" -e "${secret2:0:16}" "$log"; then
	bad "a token's secret appears in the log"
else
	ok "no token secret in the log"
fi
echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
