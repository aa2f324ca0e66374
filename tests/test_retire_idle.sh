#!/bin/bash
# tokenadm retire-idle (tokenadm(8)): a token unused past max_idle is
# disabled with the reason "idle since DATE"; one used recently on another
# host (the fleet's merged last use) is not; stale fleet reports retire
# nothing; --dry-run changes nothing; the owner may enable it again. The
# clock is moved with faketime (LD_PRELOAD into tokenadm).
#
# env: TOKENADM (the built tokenadm; run unprivileged or as root with a
# private --config).
set -u
export LC_ALL=C
T=${TOKENADM:?set TOKENADM}
command -v faketime >/dev/null || { echo "SKIP: faketime not installed"; exit 77; }
# faketime is an LD_PRELOAD, which cannot go in front of a sanitizer's
# runtime; the ordinary builds run this.
[ -z "${PTK_SANITIZED:-}" ] || { echo "SKIP: sanitizer build (faketime)"; exit 77; }
W=$(mktemp -d "${TMPDIR:-/tmp}/test_retire.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

me=$(id -un)
cat >"$W/conf" <<EOF
db = $W/s/tokens.db
key = $W/k/site.key
max_idle = 30d
$([[ $(id -u) == 0 ]] || echo "admin_group = $(id -gn)")
EOF
# at DAYS ARGS...: tokenadm with the clock DAYS days ahead.
at() { local d=$1; shift; faketime -f "+${d}d" "$T" --config "$W/conf" "$@"; }
state() { # state ID -> "STATE|REASON"
	at "$1" show "$2" --json 2>/dev/null | python3 -c '
import json, sys
t = json.load(sys.stdin)
print("%s|%s" % (t["state"], t["reason"] or ""))'
}

at 0 init >/dev/null 2>&1 || { echo "not ok 1 - init"; exit 1; }
for nm in idle usedhere usedfleet young; do
	at 0 create --name "$nm" --user "$me" --expires 365d >"$W/$nm" 2>/dev/null ||
		{ echo "not ok 1 - create $nm"; exit 1; }
done
id_of() { sed -n 's/^[^_]*_\([0-9A-Za-z]\{12\}\)_.*/\1/p' "$W/$1"; }
idle=$(id_of idle) usedfleet=$(id_of usedfleet)
# "young" is made 20 days later: not idle at day 40.
at 20 create --name young2 --user "$me" --expires 365d >"$W/young2" 2>/dev/null
young2=$(id_of young2)

# The fleet reported a use of usedfleet on host web7 at day 35, merged at
# day 39 (a fresh report: younger than max_idle/4).
now=$(date +%s)
printf 'pam_apitoken-lastused 1\nhost web7\n%s %s 192.0.2.7\n' \
	"$usedfleet" $((now + 35 * 86400)) >"$W/web7.lu"
at 39 lastused merge "$W/web7.lu" >/dev/null 2>&1
check "the fleet's last-use report merges" test $? -eq 0
# faketime moves the process's clock, not the kernel's file times: date
# the merged table as a merge at day 39 would have.
touch -d "@$((now + 39 * 86400))" "$W/s/tokens.db.lastused.fleet"

# Not set: nothing.
sed 's/^max_idle.*//' "$W/conf" >"$W/conf.off"
faketime -f +40d "$T" --config "$W/conf.off" retire-idle >"$W/out" 2>&1
check "without max_idle retire-idle does nothing (exit 0)" test $? -eq 0
check "... and says so" grep -q "max_idle is not set" "$W/out"
check "... and the idle token is still active" test "$(state 40 "$idle")" = "active|"

# --dry-run names it and changes nothing.
cp "$W/s/tokens.db" "$W/before.db"
at 40 retire-idle --dry-run >"$W/dry" 2>&1
check "--dry-run succeeds" test $? -eq 0
check "--dry-run names the idle token" grep -q "would disable token $idle" "$W/dry"
check "--dry-run does not name the token used on another host" \
	bash -c "! grep -q $usedfleet '$W/dry'"
check "--dry-run leaves the store byte for byte" cmp -s "$W/s/tokens.db" "$W/before.db"

# The real run at day 40.
at 40 retire-idle --json >"$W/real.json" 2>"$W/real.err"
check "retire-idle succeeds" test $? -eq 0
st=$(state 40 "$idle")
check "the idle token is disabled with 'idle since DATE' ($st)" \
	bash -c "[[ '$st' == disabled\|idle\ since\ 20* ]]"
check "the token used on another host 5 days ago is not ($(state 40 "$usedfleet"))" \
	test "$(state 40 "$usedfleet")" = "active|"
check "a token 20 days old is not" test "$(state 40 "$young2")" = "active|"
python3 - "$W/real.json" "$idle" <<'EOF' && ok "--json lists what was disabled" || nok "--json: $(cat "$W/real.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert [x["id"] for x in r if x["disabled"]] == [sys.argv[2]] or \
       sorted(x["id"] for x in r if x["disabled"]).count(sys.argv[2]) == 1, r
assert all(x["idle_since"] for x in r)
EOF
at 40 list --json 2>/dev/null | grep -q "idle since" &&
	ok "list shows the reason" || nok "list does not show 'idle since'"

# The owner may enable it again, and the clock restarts.
at 41 enable "$idle" >/dev/null 2>&1
check "the owner enables an idle-retired token" test $? -eq 0
check "... it is active again" test "$(state 41 "$idle")" = "active|"
at 42 retire-idle >/dev/null 2>&1
check "... and the next day's run leaves it alone" test "$(state 42 "$idle")" = "active|"

# Stale fleet reports (last merge at day 39; max_idle/4 = 7.5 days): at
# day 60 nothing is retired, and it says why (exit 1).
at 60 retire-idle >"$W/stale" 2>&1
check "stale fleet reports: exit 1" test $? -eq 1
check "... says why" grep -q "last-use reports were last merged" "$W/stale"
# --json: exactly one document on stdout, the error object (tokenadm(8),
# JSON OUTPUT), not an empty list before it.
at 60 retire-idle --json >"$W/stale.json" 2>/dev/null
python3 - "$W/stale.json" <<'EOF' && ok "stale --json prints the error object alone" || nok "stale --json: $(cat "$W/stale.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["exit"] == 1 and "last-use reports" in r["error"], r
EOF
check "... and retires nothing" test "$(state 60 "$usedfleet")" = "active|"

# A single host that never merged reports goes by its own last use.
rm -f "$W/s/tokens.db.lastused.fleet"
at 80 retire-idle >/dev/null 2>&1
check "without fleet reports the host's own last use counts" \
	bash -c "[[ '$(state 80 "$usedfleet")' == disabled\|idle\ since* ]]"

# On an import-only host: nothing.
cp "$W/conf" "$W/conf.io" && echo "role = import-only" >>"$W/conf.io"
faketime -f +90d "$T" --config "$W/conf.io" retire-idle --dry-run >"$W/io" 2>&1
check "on an import-only host it does nothing (exit 0)" test $? -eq 0
check "... and says the authority retires" grep -q "import-only" "$W/io"

echo "1..$n"
[[ $fails -eq 0 ]]
