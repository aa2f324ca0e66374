#!/usr/bin/env bash
# tokenadm's --json outputs (tokenadm(8), JSON OUTPUT: the web page's
# contract) and the error object every failure prints with --json, run
# as a real process on a private store. Each check parses stdout as one
# JSON document and looks at the fields the page relies on.
# env: TOKENADM
set -u
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
me=$(id -un)
grp=$(id -gn)
cat >"$W/conf" <<CONF
db = $W/s/tokens.db
key = $W/s/site.key
admin_group = $grp
[group $grp]
max_lifetime = 45d
CONF
ta() { "$TOKENADM" --config "$W/conf" "$@" >"$W/out" 2>"$W/err"; rc=$?; }
# jq-like check: PY-EXPRESSION over o (stdout parsed), rc.
is() { # DESCRIPTION PY-EXPR
	if python3 -c '
import json,sys
o=json.load(open(sys.argv[1])); rc=int(sys.argv[2])
sys.exit(0 if eval(sys.argv[3]) else 1)' "$W/out" "$rc" "$2" 2>"$W/pyerr"; then
		ok "$1"
	else
		bad "$1 (rc=$rc, stdout: $(head -c 400 "$W/out"), $(tail -1 "$W/pyerr"))"
	fi
}

ta init; [ "$rc" = 0 ] || { echo "init failed"; cat "$W/err"; exit 1; }

ta policy --json
is "policy --json: who, admin, role" 'rc==0 and o["user"]=="'"$me"'" and o["uid"]=='"$(id -u)"' and isinstance(o["admin"],bool) and o["role"]=="authority"'
is "policy --json: lifetimes only up to the group maximum or, for an administrator, all" \
   'all(l["value"] in ("1d","7d","30d","60d","90d","180d","365d","never") or l["seconds"]==45*86400 for l in o["lifetimes"]) and (o["admin"] or all(l["seconds"] is not None and l["seconds"]<=45*86400 for l in o["lifetimes"]))'
is "policy --json: expiry warning window, tokens held 0, deny_services has apitoken-web" \
   'o["expiry_warning_seconds"]>0 and o["tokens_held"]==0 and "apitoken-web" in o["deny_services"]'
is "policy --json: may_hold with no why_not" 'o["may_hold"] is True and o["why_not"] is None'

# create --json, then show/list/rotate/disable/enable/revoke --json.
ta create --name "web one" --expires 7d --allow-from 10.0.0.0/8 --allow-from local --service web --json
is "create --json: id, token, user, name, expires" \
   'rc==0 and set(o)>={"id","token","user","name","expires"} and o["token"].startswith("ptk_"+o["id"]+"_") and o["name"]=="web one"'
id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$W/out")
ta show "$id" --json
is "show --json: the list shape, arrays for rules and services" \
   'o["id"]=="'"$id"'" and o["state"]=="active" and o["reason"] is None and o["allow_from"]==["10.0.0.0/8","local"] and o["deny_from"]==[] and o["services"]==["web"] and o["disabled_by_admin"] is False and o["last_used"] is None'
ta policy --json
is "policy --json counts the token held" 'o["tokens_held"]==1'
ta rotate "$id" --grace 1h --json
is "rotate --json: new token and previous_valid_until" \
   'rc==0 and o["id"] and o["token"].startswith("ptk_") and o["previous_valid_until"] is not None'
ta rotate "$id" --json
is "rotate --json without grace: previous_valid_until null" 'rc==0 and o["previous_valid_until"] is None'
ta disable "$id" --json
is "disable --json: {id, state}" 'rc==0 and o=={"id":o["id"],"state":"disabled"}'
ta list --json --state disabled
is "list --state disabled finds it" 'rc==0 and len(o)==1 and o[0]["state"]=="disabled" and o[0]["reason"]'
ta enable "$id" --json
is "enable --json: active again" 'rc==0 and o["state"]=="active"'
ta revoke "$id" --json
is "revoke --json: revoked" 'rc==0 and o["state"]=="revoked"'

# Filters and --limit, done by tokenadm.
for i in 1 2 3 4 5; do ta create --name "n$i" --expires "${i}d"; done
ta list --json --state active --limit 2
is "list --limit 2 --state active: two active tokens" 'rc==0 and len(o)==2 and all(x["state"]=="active" for x in o)'
ta list --json --expiring-within 2d
is "list --expiring-within 2d: the 1d and 2d tokens only" \
   'rc==0 and sorted(x["name"] for x in o)==["n1","n2"]'
ta list --json --unused-for 1d
is "list --unused-for 1d: none (all created now)" 'rc==0 and o==[]'
ta list --json --state revoked
is "list --state revoked: the revoked one" 'rc==0 and len(o)==1 and o[0]["name"]=="web one"'

# Failures print {error, exit, field} on stdout with the usual exit code.
ta create --name "bad/name" --json
is "error object: bad name -> field name, exit 2" 'rc==2 and o["exit"]==2 and o["field"]=="name" and o["error"]'
ta create --name ok --expires 400d --json
is "error object: over the group maximum -> field expires, exit 3 (or ok for an administrator)" \
   '(rc==3 and o["field"]=="expires" and o["exit"]==3) or (rc==0 and "token" in o)'
ta create --name ok --allow-from 300.1.1.1 --json
is "error object: bad allow-from -> field allow_from" 'rc==2 and o["field"]=="allow_from"'
ta create --name ok --deny-from nonsense --json
is "error object: bad deny-from -> field deny_from" 'rc==2 and o["field"]=="deny_from"'
ta create --name ok --service 'a b' --json
is "error object: bad service -> field service" 'rc==2 and o["field"]=="service"'
ta rotate AAAAAAAAAAAA --grace 1h --json
is "error object: unknown id -> field id, exit 4" 'rc==4 and o=={"error":"no token AAAAAAAAAAAA","exit":4,"field":"id"}'
ta rotate "$id" --grace 99d --json
is "error object: grace too long -> field grace" 'rc==2 and o["field"]=="grace"'
ta revoke not-an-id --json
is "error object: malformed id -> field id" 'rc==4 and o["field"]=="id"'
ta list --json --state bogus
is "error object: bad --state -> field state" 'rc==2 and o["field"]=="state"'
ta list --json --limit 0
is "error object: bad --limit -> field limit" 'rc==2 and o["field"]=="limit"'
ta list --json --bogus-option
is "error object: unknown option -> exit 2, field null, a message" 'rc==2 and o["field"] is None and o["error"]'
ta --login export --out - --json </dev/null
is "error object: --login refuses commands the page does not use" 'rc==2 and "login" in o["error"]'
ta --client-addr 10.0.0.1 list --json
is "error object: --client-addr without --login" 'rc==2'
ta list --json --user someone-else --all
is "error object: usage (--all with --user)" 'rc==2 and o["exit"]==2'
# Without --json a failure prints nothing on stdout.
ta rotate AAAAAAAAAAAA
[ "$rc" = 4 ] && [ ! -s "$W/out" ] && ok "without --json: no error object on stdout" ||
	bad "without --json stdout must stay empty on failure (rc=$rc)"

echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
