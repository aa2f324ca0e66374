#!/usr/bin/env bash
# nginx + auth_pam on 127.0.0.1 and ::1, workers as www-data: tokens only
# and tokens-or-passwords locations.
here=$(dirname "$0")
. "$here/lib.sh"

NGINX=/usr/sbin/nginx
MOD=/usr/lib/nginx/modules/ngx_http_auth_pam_module.so
[ -x "$NGINX" ] && [ -f "$MOD" ] || skip "nginx or libnginx-mod-http-auth-pam not installed"
id www-data >/dev/null 2>&1 || skip "no www-data user"

live_setup www-data
web_stacks nginx

port=$(free_port)
mkdir -p "$WORK/www/only" "$WORK/www/either" "$WORK/tmp"
echo secret-page > "$WORK/www/only/index.html"
echo secret-page > "$WORK/www/either/index.html"
chmod -R a+rX "$WORK/www"
cat > "$WORK/nginx.conf" <<CONF
load_module $MOD;
user www-data;
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/error.log;
events { worker_connections 64; }
http {
    access_log $WORK/access.log;
    client_body_temp_path $WORK/tmp/body;
    proxy_temp_path $WORK/tmp/proxy;
    fastcgi_temp_path $WORK/tmp/fastcgi;
    uwsgi_temp_path $WORK/tmp/uwsgi;
    scgi_temp_path $WORK/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        listen [::1]:$port;
        root $WORK/www;
        location /only/ {
            auth_pam "api";
            auth_pam_service_name "$only";
        }
        location /either/ {
            auth_pam "api";
            auth_pam_service_name "$either";
        }
    }
}
CONF
PIDFILES+=("$WORK/nginx.pid")
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK" || { bad "nginx starts"; finish; exit; }
wait_port "$port" 20 || { bad "nginx listens"; cat "$WORK/error.log"; finish; exit; }
worker_user=$(ps -o user= --ppid "$(cat "$WORK/nginx.pid")" | sort -u | tr -d ' ')
expect "nginx workers run as www-data" www-data "$worker_user"

v4=http://127.0.0.1:$port
v6=http://[::1]:$port
tok=$(mint)
expect "valid token over IPv4 -> 200" 200 "$(http_code "$v4/only/" "$TUSER" "$tok")"
expect "valid token over IPv6 -> 200" 200 "$(http_code "$v6/only/" "$TUSER" "$tok")"
expect "wrong secret -> 401" 401 "$(http_code "$v4/only/" "$TUSER" "$(wrong_secret "$tok")")"
expect "valid token for another user name -> 401" 401 "$(http_code "$v4/only/" nobody "$tok")"
expect "plain password, tokens only -> 401" 401 "$(http_code "$v4/only/" "$TUSER" "$TPASS")"
expect "plain password, tokens or passwords -> 200" 200 "$(http_code "$v4/either/" "$TUSER" "$TPASS")"
expect "wrong password, tokens or passwords -> 401" 401 "$(http_code "$v4/either/" "$TUSER" "x$TPASS")"
expect "valid token, tokens or passwords -> 200" 200 "$(http_code "$v4/either/" "$TUSER" "$tok")"

far=$(mint --allow-from 10.0.0.0/8)
expect "token limited to 10.0.0.0/8, from 127.0.0.1 -> 401" 401 "$(http_code "$v4/only/" "$TUSER" "$far")"
near=$(mint --allow-from 127.0.0.1 --allow-from ::1)
expect "token limited to loopback, IPv4 -> 200" 200 "$(http_code "$v4/only/" "$TUSER" "$near")"
expect "token limited to loopback, IPv6 -> 200" 200 "$(http_code "$v6/only/" "$TUSER" "$near")"
v6only=$(mint --allow-from ::1/128)
expect "token limited to ::1, from 127.0.0.1 -> 401" 401 "$(http_code "$v4/only/" "$TUSER" "$v6only")"

if old=$(mint_expired); then
	expect "expired token -> 401" 401 "$(http_code "$v4/only/" "$TUSER" "$old")"
else
	echo "# skipped the expired case: no faketime"
fi
gone=$(mint)
"$TOKENADM" --config "$CONF" revoke "$(token_id "$gone")" >/dev/null 2>&1
expect "revoked token -> 401" 401 "$(http_code "$v4/only/" "$TUSER" "$gone")"
expect "no credentials -> 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$v4/only/")"

# Recorded by the worker (www-data) through the group-writable directory.
last=$("$TOKENADM" --config "$CONF" show "$(token_id "$tok")" --json |
	python3 -c 'import json,sys; t=json.load(sys.stdin); print(t["last_rhost"])')
case "$last" in 127.0.0.1|::1) ok "last use recorded by the www-data worker ($last)" ;;
*) bad "last use recorded (got '$last')" ;; esac
cat "$WORK/error.log" >&2; finish
