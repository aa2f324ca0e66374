#!/usr/bin/env bash
# Issue #3's story end to end: a person in an allowed group mints their own
# token with the setuid tokenadm, uses it with curl against Apache, sees its
# last use in `tokenadm list`, rotates it without a single refused request,
# and an administrator revokes it.
#
# env: PRIVTEST, PRIVTEST_CONF (a tokenadm whose default config is that
# path, copied setuid root here), PAM_APITOKEN_SO.
here=$(dirname "$0")
TOKENADM=${PRIVTEST:-}
. "$here/lib.sh"
have_apache || skip "apache2 or libapache2-mod-authnz-pam not installed"
[ -n "${PRIVTEST_CONF:-}" ] || skip "PRIVTEST_CONF not set"

PERSON=ptkp$LIVE_ID ADMIN=ptkadm$LIVE_ID
USERS=ptkgu$LIVE_ID ADMINS=ptkga$LIVE_ID
confdir=$(dirname "$PRIVTEST_CONF")
extra_cleanup() {
	userdel "$PERSON" 2>/dev/null; userdel "$ADMIN" 2>/dev/null
	groupdel "$USERS" 2>/dev/null; groupdel "$ADMINS" 2>/dev/null
	rm -rf "$confdir"
	live_cleanup
}
trap extra_cleanup EXIT

live_setup www-data
groupadd "$USERS" && groupadd "$ADMINS" || exit 1
useradd -M -N -g nogroup -G "$USERS" -s /bin/sh "$PERSON" || exit 1
useradd -M -N -g nogroup -G "$ADMINS" -s /bin/sh "$ADMIN" || exit 1

# The site's policy, at the path the setuid tool reads.
mkdir -p "$confdir" && chmod 755 "$confdir"
cat > "$PRIVTEST_CONF" <<CONF
db = $WORK/store/tokens.db
key = $WORK/store/site.key
admin_group = $ADMINS
[group $USERS]
max_lifetime = 30d
CONF
chmod 644 "$PRIVTEST_CONF"
mkdir "$WORK/bin" && cp "$PRIVTEST" "$WORK/bin/tokenadm" &&
	chmod 4755 "$WORK/bin/tokenadm" || exit 1
tokenadm=$WORK/bin/tokenadm
as() { local u=$1; shift; runuser -u "$u" -- "$@"; }

svc=ptk-live-self-$LIVE_ID
pam_service "$svc" "auth required $PAM_APITOKEN_SO conf=$PRIVTEST_CONF
account required $PAM_APITOKEN_SO conf=$PRIVTEST_CONF"
start_apache "api=$svc" || { finish; exit; }
url=http://127.0.0.1:$port/api/

tok=$(as "$PERSON" "$tokenadm" create --name laptop 2>/dev/null)
[ -n "$(token_id "$tok")" ] && ok "the person mints a token with 'tokenadm create --name laptop'" ||
	bad "tokenadm create --name laptop printed no token"
id=$(token_id "$tok")
days=$(as "$PERSON" "$tokenadm" show "$id" --json 2>/dev/null | python3 -c '
import json, sys, datetime as d
t = json.load(sys.stdin)
e = d.datetime.strptime(t["expires"], "%Y-%m-%dT%H:%M:%SZ")
c = d.datetime.strptime(t["created"], "%Y-%m-%dT%H:%M:%SZ")
print((e - c).days)')
expect "without --expires the token gets the group's 30-day maximum" 30 "$days"
expect "curl -u person:TOKEN -> 200" 200 "$(http_code "$url" "$PERSON" "$tok")"

row=$(as "$PERSON" "$tokenadm" list 2>/dev/null | awk -v id="$id" '$1 == id')
case "$row" in *127.0.0.1*) ok "tokenadm list shows the last use from 127.0.0.1" ;;
*) bad "last use in tokenadm list: '$row'" ;; esac

# Rotation without a moment of refusal: a client keeps calling with the old
# token while the new one is minted, then switches over.
( for _ in $(seq 40); do http_code "$url" "$PERSON" "$tok"; echo; done ) > "$WORK/during" &
loop=$!
new=$(as "$PERSON" "$tokenadm" rotate "$id" --grace 1h 2>/dev/null)
wait "$loop"
codes=$(sort "$WORK/during" | uniq -c | tr -s ' ')
expect "40 requests with the old token during the rotation all get 200" "40 200" "$(echo $codes)"
expect "the new token -> 200" 200 "$(http_code "$url" "$PERSON" "$new")"
expect "the old token still -> 200 within the grace period" 200 "$(http_code "$url" "$PERSON" "$tok")"

as "$ADMIN" "$tokenadm" revoke "$id" >/dev/null 2>&1
expect "an administrator revokes the person's token" 0 $?
expect "after revocation the new token -> 401" 401 "$(http_code "$url" "$PERSON" "$new")"
expect "after revocation the old token -> 401" 401 "$(http_code "$url" "$PERSON" "$tok")"
state=$(as "$PERSON" "$tokenadm" show "$id" --json 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
expect "the person sees it revoked" revoked "$state"
[ "$failed" = 0 ] || cat "$WORK/error.log" >&2
finish
