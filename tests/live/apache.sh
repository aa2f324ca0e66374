#!/usr/bin/env bash
# Apache 2.4 + mod_authnz_pam on 127.0.0.1 and ::1, threads as www-data
# (event MPM), with mod_remoteip so a proxied client's address is what a
# token's --allow-from rules see.
here=$(dirname "$0")
. "$here/lib.sh"

have_apache || skip "apache2 or libapache2-mod-authnz-pam not installed"

live_setup www-data
web_stacks apache

start_apache "only=$only" "either=$either" || { finish; exit; }
users=$(ps -o user= --ppid "$(cat "$WORK/httpd.pid")" | sort -u | tr -d ' ')
expect "Apache children run as www-data" www-data "$users"

v4=http://127.0.0.1:$port
v6=http://[::1]:$port
tok=$(mint)
expect "valid token over IPv4 -> 200" 200 "$(http_code "$v4/only/" "$TUSER" "$tok")"
expect "valid token over IPv6 -> 200" 200 "$(http_code "$v6/only/" "$TUSER" "$tok")"
expect "wrong secret -> 401" 401 "$(http_code "$v4/only/" "$TUSER" "$(wrong_secret "$tok")")"
expect "plain password, tokens only -> 401" 401 "$(http_code "$v4/only/" "$TUSER" "$TPASS")"
expect "plain password, tokens or passwords -> 200" 200 "$(http_code "$v4/either/" "$TUSER" "$TPASS")"
expect "token, tokens or passwords -> 200" 200 "$(http_code "$v4/either/" "$TUSER" "$tok")"
expect "wrong password, tokens or passwords -> 401" 401 "$(http_code "$v4/either/" "$TUSER" "x$TPASS")"
if old=$(mint_expired); then
	expect "expired token -> 401" 401 "$(http_code "$v4/only/" "$TUSER" "$old")"
fi
gone=$(mint)
"$TOKENADM" --config "$CONF" revoke "$(token_id "$gone")" >/dev/null 2>&1
expect "revoked token -> 401" 401 "$(http_code "$v4/only/" "$TUSER" "$gone")"

# Address rules through mod_remoteip: the proxy on 127.0.0.1 says the
# client is 10.1.2.3, and that is what PAM_RHOST carries.
office=$(mint --allow-from 10.0.0.0/8)
xff() { # xff ADDR USER SECRET URL
	local cfg=$WORK/curl.$RANDOM
	( umask 077; printf 'user = "%s:%s"\nheader = "X-Forwarded-For: %s"\n' "$2" "$3" "$1" > "$cfg" )
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 -K "$cfg" "$4"
	rm -f "$cfg"
}
expect "token for 10.0.0.0/8, client 10.1.2.3 via remoteip -> 200" 200 \
	"$(xff 10.1.2.3 "$TUSER" "$office" "$v4/only/")"
expect "token for 10.0.0.0/8, client 192.0.2.9 via remoteip -> 401" 401 \
	"$(xff 192.0.2.9 "$TUSER" "$office" "$v4/only/")"
expect "token for 10.0.0.0/8, direct from 127.0.0.1 -> 401" 401 \
	"$(http_code "$v4/only/" "$TUSER" "$office")"
# ::1 is not a trusted proxy: its X-Forwarded-For is ignored.
expect "X-Forwarded-For from an untrusted peer is not believed -> 401" 401 \
	"$(xff 10.1.2.3 "$TUSER" "$office" "$v6/only/")"
v6tok=$(mint --allow-from ::1/128)
expect "token for ::1 over IPv6 -> 200" 200 "$(http_code "$v6/only/" "$TUSER" "$v6tok")"
expect "token for ::1 over IPv4 -> 401" 401 "$(http_code "$v4/only/" "$TUSER" "$v6tok")"
last=$("$TOKENADM" --config "$CONF" show "$(token_id "$office")" --json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["last_rhost"])')
expect "last use recorded with the client address from remoteip" 10.1.2.3 "$last"
finish
