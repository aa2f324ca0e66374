#!/usr/bin/env bash
# The web page (issue 18) end to end: the real Apache on 127.0.0.1 with the
# shipped snippet (etc/apache2/apitoken-web.conf) and mod_cgid, the CGI
# (a test copy whose tokenadm is the setuid tokenadm-privtest), the shipped
# PAM service apitoken-web (etc/pam.d/apitoken-web: common-auth, so real
# pam_unix passwords), Debian's chromium driven by playwright-core
# (tests/web/e2e.mjs), and curl for what a browser would not send.
#
# Apache runs in a private mount namespace with its own /etc/pam.d (a copy
# of the system's plus apitoken-web and a token-only stack) and its own
# /dev/log (a socket this test reads), so the system's PAM files and
# syslog are never touched. Screenshots go to $ARTIFACTS.
#
# env: PRIVTEST, PRIVTEST_CONF, PAM_APITOKEN_SO, FAKETIME, WEB_CGI,
# WEB_TOKENADM, WEB_RATE_DIR (the paths compiled into WEB_CGI), WEB_PAGE
# (the built page), SRC (the source tree), NODE_CACHE (where npm ci puts
# playwright-core), ARTIFACTS.
here=$(cd "$(dirname "$0")" && pwd)
TOKENADM=${PRIVTEST:-}
. "$here/live/lib.sh"
T0=$(date +%s)

have_apache || skip "apache2 or libapache2-mod-authnz-pam not installed"
[ -x /usr/bin/chromium ] || skip "chromium is not installed (scripts/deps.sh installs it; apt-get install chromium)"
for m in cgid headers alias; do
	[ -f "$APACHE_MODS/mod_$m.so" ] || skip "Apache's mod_$m is missing"
done
for p in node npm pamtester unshare nsenter python3 curl; do
	command -v "$p" >/dev/null || skip "$p is not installed"
done
[ -n "${FAKETIME:-}" ] || skip "faketime is not installed"
for v in PRIVTEST_CONF WEB_CGI WEB_TOKENADM WEB_RATE_DIR WEB_PAGE SRC NODE_CACHE ARTIFACTS; do
	[ -n "${!v:-}" ] || skip "$v not set"
done
[ -f "$WEB_PAGE/index.html" ] || skip "the page is not built (-Dweb=enabled)"
unshare -m --propagation private true 2>/dev/null || skip "mount namespaces not permitted (unshare -m)"

# playwright-core from the npm registry, once per build directory.
mkdir -p "$NODE_CACHE"
cp "$SRC/tests/web/package.json" "$SRC/tests/web/package-lock.json" "$SRC/tests/web/e2e.mjs" "$NODE_CACHE/"
if ! cmp -s "$SRC/tests/web/package-lock.json" "$NODE_CACHE/node_modules/.lock-stamp" 2>/dev/null; then
	(cd "$NODE_CACHE" && npm ci --no-audit --no-fund --loglevel=error) ||
		{ echo "npm ci of playwright-core failed"; exit 1; }
	cp "$SRC/tests/web/package-lock.json" "$NODE_CACHE/node_modules/.lock-stamp"
fi

MEMBER=ptkwm$LIVE_ID ADMIN=ptkwa$LIVE_ID OUTSIDER=ptkwo$LIVE_ID LEAVER=ptkwl$LIVE_ID
USERS=ptkwgu$LIVE_ID ADMINS=ptkwga$LIVE_ID
MEMBER_PW="Member pw $LIVE_ID!" ADMIN_PW="Admin-pw-$LIVE_ID" OUTSIDER_PW="Outsider-pw-$LIVE_ID"
confdir=$(dirname "$PRIVTEST_CONF")
LOGGER_PID=
web_cleanup() {
	[ -n "$LOGGER_PID" ] && kill "$LOGGER_PID" 2>/dev/null
	for u in "$MEMBER" "$ADMIN" "$OUTSIDER" "$LEAVER"; do userdel "$u" 2>/dev/null; done
	groupdel "$USERS" 2>/dev/null; groupdel "$ADMINS" 2>/dev/null
	rm -rf "$confdir" "$WEB_RATE_DIR" "$WEB_TOKENADM"
	live_cleanup
}
trap web_cleanup EXIT

live_setup www-data
groupadd "$USERS" && groupadd "$ADMINS" || exit 1
useradd -M -N -g nogroup -G "$USERS" -s /usr/sbin/nologin "$MEMBER" || exit 1
useradd -M -N -g nogroup -G "$USERS" -s /usr/sbin/nologin "$LEAVER" || exit 1
useradd -M -N -g nogroup -G "$ADMINS" -s /bin/sh "$ADMIN" || exit 1
useradd -M -N -g nogroup -s /usr/sbin/nologin "$OUTSIDER" || exit 1
printf '%s:%s\n' "$MEMBER" "$MEMBER_PW" "$ADMIN" "$ADMIN_PW" "$OUTSIDER" "$OUTSIDER_PW" | chpasswd || exit 1

mkdir -p "$confdir" && chmod 755 "$confdir"
cat > "$PRIVTEST_CONF" <<CONF
db = $WORK/store/tokens.db
key = $WORK/store/site.key
admin_group = $ADMINS
[group $USERS]
max_lifetime = 30d
CONF
chmod 644 "$PRIVTEST_CONF"
# The CGI runs this path: the setuid tool, as installed.
mkdir -p "$(dirname "$WEB_TOKENADM")"
cp "$PRIVTEST" "$WEB_TOKENADM" && chown root:root "$WEB_TOKENADM" && chmod 4755 "$WEB_TOKENADM" || exit 1
rm -rf "$WEB_RATE_DIR" && install -d -m 0700 -o www-data -g www-data "$WEB_RATE_DIR" || exit 1

# A token of someone who then left the permitted group (deactivated), and
# one of the member's, minted with the CLI, to type as a password.
runuser -u "$LEAVER" -- "$WEB_TOKENADM" create --name left-group >/dev/null 2>&1 ||
	{ bad "the leaver mints a token with the CLI"; exit 1; }
gpasswd -d "$LEAVER" "$USERS" >/dev/null || exit 1
MEMBER_CLI_TOKEN=$(runuser -u "$MEMBER" -- "$WEB_TOKENADM" create --name cli 2>/dev/null)
[ -n "$MEMBER_CLI_TOKEN" ] || { bad "the member mints a token with the CLI"; exit 1; }

# The namespace's /etc/pam.d: the system's, the shipped apitoken-web, and
# a token-only stack for trying tokens.
cp -a /etc/pam.d "$WORK/pam.d"
install -m 0644 "$SRC/etc/pam.d/apitoken-web" "$WORK/pam.d/apitoken-web"
svc=ptk-web-tokens-$LIVE_ID
printf 'auth required %s conf=%s\naccount required %s conf=%s\n' \
	"$PAM_APITOKEN_SO" "$PRIVTEST_CONF" "$PAM_APITOKEN_SO" "$PRIVTEST_CONF" > "$WORK/pam.d/$svc"

# /dev/log for the namespace: datagrams appended to $WORK/syslog.
SYSLOG=$WORK/syslog
python3 - "$WORK/log.sock" "$SYSLOG" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); os.chmod(sys.argv[1], 0o666)
with open(sys.argv[2], "ab", buffering=0) as f:
    while True:
        f.write(s.recv(65536) + b"\n")
PY
LOGGER_PID=$!
for _ in $(seq 50); do [ -S "$WORK/log.sock" ] && break; sleep 0.1; done

# Apache: the live tests' server with the token-only location, plus the
# shipped snippet with this build's paths.
port=$(free_port)
mkdir -p "$WORK/htdocs/api" "$WORK/run" "$WORK/dev"
echo page > "$WORK/htdocs/api/index.html"
chmod -R a+rX "$WORK/htdocs"
sed -e "s|@WEBDIR@|$WEB_PAGE|g" -e "s|@CGIDIR@|$(dirname "$WEB_CGI")|g" \
	-e "s|@CGI@|$WEB_CGI|g" "$SRC/etc/apache2/apitoken-web.conf" > "$WORK/apitoken-web.conf"
{
	apache_conf "$WORK" "$port" 0 "api=$svc"
	cat <<CONF
LoadModule alias_module   $APACHE_MODS/mod_alias.so
LoadModule cgid_module    $APACHE_MODS/mod_cgid.so
LoadModule headers_module $APACHE_MODS/mod_headers.so
ScriptSock "$WORK/run/cgid.sock"
LogFormat "%h %l %u %t \"%r\" %>s %b \"%{Referer}i\" \"%{User-Agent}i\"" combined
CustomLog "$WORK/access.log" combined
Include "$WORK/apitoken-web.conf"
CONF
} > "$WORK/httpd.conf"
# (mod_log_config is built into Debian's apache2; load it where it is not.)
if [ -f "$APACHE_MODS/mod_log_config.so" ] && ! "$APACHE" -l | grep -q mod_log_config; then
	sed -i "1i LoadModule log_config_module $APACHE_MODS/mod_log_config.so" "$WORK/httpd.conf"
fi
"$APACHE" -t -f "$WORK/httpd.conf" >"$WORK/configtest" 2>&1 ||
	{ bad "the shipped snippet passes apache2 -t"; cat "$WORK/configtest"; exit 1; }
ok "the shipped snippet passes apache2 -t (with mod_cgid and mod_headers)"

cat > "$WORK/ns.sh" <<'NS'
set -e
W=$1
mount -t tmpfs -o mode=0755 ptk-web-dev "$W/dev"
for d in null zero full random urandom tty; do
	[ -e "/dev/$d" ] || continue
	touch "$W/dev/$d" && mount --bind "/dev/$d" "$W/dev/$d"
done
mkdir "$W/dev/shm" "$W/dev/pts"
mount --bind /dev/shm "$W/dev/shm"
[ -d /dev/pts ] && mount --bind /dev/pts "$W/dev/pts"
ln -s /proc/self/fd "$W/dev/fd"
ln -s "$W/log.sock" "$W/dev/log"
mount --move "$W/dev" /dev
mount --bind "$W/pam.d" /etc/pam.d
exec "$2" -f "$W/httpd.conf" -k start
NS
PIDFILES+=("$WORK/httpd.pid")
unshare -m --propagation private bash "$WORK/ns.sh" "$WORK" "$APACHE" ||
	{ bad "apache starts in its namespace"; cat "$WORK/error.log"; exit 1; }
wait_port "$port" 20 || { bad "apache listens"; cat "$WORK/error.log"; exit 1; }
for _ in $(seq 50); do [ -s "$WORK/httpd.pid" ] && break; sleep 0.1; done
APID=$(cat "$WORK/httpd.pid")
BASE=http://127.0.0.1:$port

# A token through pamtester in Apache's namespace at a shifted clock.
cat > "$WORK/pamcheck" <<SH
#!/bin/bash
# pamcheck USER OFFSET  (the token on stdin)
if nsenter -m -t $APID "$FAKETIME" -f "\$2" pamtester "$svc" "\$1" authenticate >/dev/null 2>&1; then
	echo accepted
else
	echo refused
fi
SH
chmod 700 "$WORK/pamcheck"

# ---- what a browser would not send: curl ----
api() { # api ACTION [curl args]: the status and headers in $WORK/h
	local action=$1 cfg=$WORK/curl.cfg
	shift
	( umask 077; printf 'user = "%s:%s"\n' "$MEMBER" "$MEMBER_PW" > "$cfg" )
	curl -s -o "$WORK/body" -D "$WORK/h" -w '%{http_code}' --max-time 30 -K "$cfg" \
		"$@" "$BASE/apitoken/api/$action"
	rm -f "$cfg"
}
same=(-H "Origin: $BASE" -H 'X-Apitoken-Request: 1' -H 'Content-Type: application/json')
expect "a same-origin request with the header -> 200" 200 "$(api policy "${same[@]}" --data '{}')"
grep -q '"may_hold":true' "$WORK/body" && ok "... and relays tokenadm's policy JSON" ||
	bad "policy body: $(head -c 300 "$WORK/body")"
grep -qi '^Cache-Control: no-store' "$WORK/h" && grep -qi '^X-Content-Type-Options: nosniff' "$WORK/h" &&
	grep -qi '^Content-Type: application/json' "$WORK/h" && ok "API answers are no-store, nosniff, application/json" ||
	bad "API headers: $(tr -d '\r' < "$WORK/h" | tr '\n' '|')"
expect "another origin -> 403" 403 "$(api policy -H 'Origin: http://evil.example' -H 'X-Apitoken-Request: 1' \
	-H 'Content-Type: application/json' --data '{}')"
expect "no Origin -> 403" 403 "$(api policy -H 'X-Apitoken-Request: 1' -H 'Content-Type: application/json' --data '{}')"
expect "without the custom header -> 403" 403 "$(api policy -H "Origin: $BASE" \
	-H 'Content-Type: application/json' --data '{}')"
grep -q '"error":' "$WORK/body" && grep -q '"field":' "$WORK/body" && ok "a refusal is JSON {error, field}" ||
	bad "refusal body: $(head -c 200 "$WORK/body")"
expect "a form post (text/plain, what a cross-site form can send) -> 415" 415 \
	"$(api policy -H "Origin: $BASE" -H 'X-Apitoken-Request: 1' -H 'Content-Type: text/plain' --data '{}')"
expect "GET -> 405" 405 "$(api policy -H "Origin: $BASE" -H 'X-Apitoken-Request: 1')"
head -c 20000 /dev/zero | tr '\0' ' ' > "$WORK/big"
big=$(api list "${same[@]}" --data-binary @"$WORK/big")
case $big in 413) ok "a 20 kB body -> 413" ;; *) bad "a 20 kB body -> $big" ;; esac
expect "bad JSON -> 400" 400 "$(api list "${same[@]}" --data '{"all":tru}')"
expect "an unknown field -> 400" 400 "$(api create "${same[@]}" --data '{"name":"x","allow_form":["10.0.0.1"]}')"
wrong() {
	local cfg=$WORK/curl.cfg
	( umask 077; printf 'user = "%s:wrong-%s"\n' "$MEMBER" "$LIVE_ID" > "$cfg" )
	curl -s -o "$WORK/body" -D "$WORK/h" -w '%{http_code}' --max-time 30 -K "$cfg" "${same[@]}" \
		--data '{}' "$BASE/apitoken/api/policy"
	rm -f "$cfg"
}
expect "a wrong password -> 401" 401 "$(wrong)"
grep -qi '^WWW-Authenticate' "$WORK/h" && bad "a 401 carries WWW-Authenticate" ||
	ok "a 401 never carries WWW-Authenticate (no browser prompt)"
page_h=$(curl -s -D - -o /dev/null "$BASE/apitoken/" | tr -d '\r')
grep -q "^Content-Security-Policy: default-src 'self'.*frame-ancestors 'none'" <<<"$page_h" &&
	grep -q '^X-Frame-Options: DENY' <<<"$page_h" && ok "the page is served with the CSP and no framing" ||
	bad "page headers: $(tr '\n' '|' <<<"$page_h")"

# ---- the browser ----
(cd "$NODE_CACHE" && BASE=$BASE TOKEN_API="$BASE/api/" MEMBER=$MEMBER MEMBER_PW=$MEMBER_PW \
	ADMIN=$ADMIN ADMIN_PW=$ADMIN_PW OUTSIDER=$OUTSIDER OUTSIDER_PW=$OUTSIDER_PW \
	LEAVER=$LEAVER MEMBER_CLI_TOKEN=$MEMBER_CLI_TOKEN ARTIFACTS=$ARTIFACTS \
	PAMCHECK="$WORK/pamcheck" SYSLOG=$SYSLOG timeout 150 node e2e.mjs) > "$WORK/e2e.out" 2>&1
rc=$?
while IFS= read -r line; do
	case $line in
	"ok "*) ok "${line#ok * - }" ;;
	"not ok "*) bad "${line#not ok * - }" ;;
	esac
done < "$WORK/e2e.out"
[ "$rc" = 0 ] || { bad "e2e.mjs exited $rc"; cat "$WORK/e2e.out"; }

# Nothing secret in Apache's logs.
for f in "$WORK/access.log" "$WORK/error.log"; do
	[ -f "$f" ] || continue
	if grep -qF -e "$MEMBER_PW" -e "$ADMIN_PW" -e "$OUTSIDER_PW" -e "$MEMBER_CLI_TOKEN" "$f"; then
		bad "$(basename "$f") holds a password or token"
	else
		ok "$(basename "$f") holds no password or token"
	fi
done
[ "$failed" = 0 ] || { echo "--- error.log"; tail -30 "$WORK/error.log"; echo "--- syslog"; tail -20 "$SYSLOG"; }
echo "web test took $(( $(date +%s) - T0 ))s; screenshots in $ARTIFACTS"
finish
