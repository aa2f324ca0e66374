# Shared set-up for the live service tests (sourced, bash).
#
# Each test runs a real server from Debian's packages on 127.0.0.1 and ::1
# only, as the service's real unprivileged user, against a private token
# store that the documented access model admits it to: key and store
# 0640 root:<group>, the service account in <group>. Everything is undone
# by live_cleanup (trap), and servers are stopped by PID.
#
# env: PAM_APITOKEN_SO, TOKENADM; optional FAKETIME.

set -u
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
expect() { # expect DESCRIPTION WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (got $3, want $2)"; fi
}
skip() { echo "SKIP: $*"; exit 77; }
finish() {
	echo "$((n - failed)) passed, $failed failed"
	[ "$failed" = 0 ]
}

[ "$(id -u)" = 0 ] || skip "needs root (users, groups, /etc/pam.d, servers)"
# Servers are not built with the sanitizer, so they cannot load a module
# that is; the ordinary builds run these tests.
[ -z "${PTK_SANITIZED:-}" ] || skip "sanitizer build"
for v in PAM_APITOKEN_SO TOKENADM; do
	[ -n "${!v:-}" ] || skip "$v not set"
done

LIVE_ID=$$
WORK=$(mktemp -d /tmp/ptk-live.XXXXXX)
chmod 755 "$WORK"
CONF=$WORK/pam_apitoken.conf
GROUP=ptklive$LIVE_ID
TUSER=ptklu$LIVE_ID
TPASS=plain-Pass-$LIVE_ID
PAM_FILES=()
PIDFILES=()
SERVICE_ACCOUNTS=()

live_cleanup() {
	local p
	for p in "${PIDFILES[@]}"; do stop_pidfile "$p"; done
	for p in "${PAM_FILES[@]}"; do rm -f "/etc/pam.d/$p"; done
	userdel "$TUSER" 2>/dev/null
	for p in "${SERVICE_ACCOUNTS[@]}"; do gpasswd -d "$p" "$GROUP" >/dev/null 2>&1; done
	groupdel "$GROUP" 2>/dev/null
	rm -rf "$WORK"
}
trap live_cleanup EXIT

stop_pidfile() {
	local pid
	pid=$(cat "$1" 2>/dev/null) || return 0
	[ -n "$pid" ] || return 0
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() { # wait_port PORT SECONDS
	local i
	for i in $(seq $(($2 * 10))); do
		(exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# The store, the key and a plain-password user; the service account $1..
# joins the group that may read the store.
live_setup() {
	groupadd "$GROUP" || exit 1
	local acct
	for acct in "$@"; do
		usermod -aG "$GROUP" "$acct" || exit 1
		SERVICE_ACCOUNTS+=("$acct")
	done
	cat > "$CONF" <<CONF
db = $WORK/store/tokens.db
key = $WORK/store/site.key
CONF
	chmod 644 "$CONF"
	"$TOKENADM" --config "$CONF" init --group "$GROUP" >/dev/null 2>&1 ||
		{ echo "tokenadm init failed"; exit 1; }
	useradd -M -N -g nogroup -s /bin/sh "$TUSER" || exit 1
	echo "$TUSER:$TPASS" | chpasswd || exit 1
}

# mint [tokenadm create flags]: a token for $TUSER on stdout.
mint() {
	"$TOKENADM" --config "$CONF" create --user "$TUSER" --name "t$RANDOM" "$@" 2>/dev/null
}
mint_expired() {
	[ -n "${FAKETIME:-}" ] || return 1
	"$FAKETIME" -f '-2d' "$TOKENADM" --config "$CONF" create --user "$TUSER" \
		--name expired --expires 1d 2>/dev/null
}
token_id() { sed -n 's/^[0-9A-Za-z]*_\([0-9A-Za-z]\{12\}\)_.*/\1/p' <<<"$1"; }
# The same id and a different secret, with a correct check: refused as a
# wrong secret, not passed on as "not a token".
wrong_secret() {
	python3 - "$1" <<'PY'
import sys, zlib
t = sys.argv[1]
prefix, ident, rest = t.split("_")
secret = rest[:32]
secret = ("A" if secret[0] != "A" else "B") + secret[1:]
body = f"{prefix}_{ident}_{secret}"
crc = zlib.crc32(body.encode()) & 0xffffffff
digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
out = ""
for _ in range(6):
    out = digits[crc % 62] + out
    crc //= 62
print(body + out)
PY
}

# userdb_for_service ACCOUNT: a pam_userdb database ($USERDB, without the
# .db suffix) holding $TUSER's plain password, readable by ACCOUNT: the
# password module of the tokens-or-passwords stacks of services that do
# not run as root.
userdb_for_service() {
	USERDB=$WORK/userdb
	/usr/bin/python3 - "$USERDB" "$TUSER" "$TPASS" <<'PY' || exit 1
import dbm.ndbm, sys
db = dbm.ndbm.open(sys.argv[1], "c", 0o640)
db[sys.argv[2].encode()] = sys.argv[3].encode()
db.close()
PY
	chgrp "$GROUP" "$USERDB.db" && chmod 640 "$USERDB.db"
}

# web_stacks NAME: the two PAM services of the web-server tests, for a
# server running as www-data: $only (tokens only) and $either (tokens or
# passwords, the passwords from pam_userdb: pam_unix cannot check another
# user's password when the service is not root, as unix_chkpwd checks only
# the caller's own).
web_stacks() {
	only=ptk-live-$1-only-$LIVE_ID
	either=ptk-live-$1-either-$LIVE_ID
	pam_service "$only" "auth required $PAM_APITOKEN_SO conf=$CONF
account required $PAM_APITOKEN_SO conf=$CONF"
	userdb_for_service www-data
	pam_service "$either" "auth sufficient $PAM_APITOKEN_SO conf=$CONF
auth required pam_userdb.so db=$USERDB crypt=none
account sufficient $PAM_APITOKEN_SO conf=$CONF
account required pam_permit.so"
}

# pam_service NAME CONTENT: a service file in /etc/pam.d, removed at exit.
pam_service() {
	printf '%s\n' "$2" > "/etc/pam.d/$1"
	PAM_FILES+=("$1")
}

# http_code URL USER SECRET: the HTTP status, with the credentials in a
# 0600 curl config file rather than curl's argv.
http_code() {
	local cfg=$WORK/curl.$RANDOM
	( umask 077; printf 'user = "%s:%s"\n' "$2" "$3" > "$cfg" )
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 -K "$cfg" "$1"
	rm -f "$cfg"
}

APACHE=/usr/sbin/apache2
APACHE_MODS=/usr/lib/apache2/modules
have_apache() { [ -x "$APACHE" ] && [ -f "$APACHE_MODS/mod_authnz_pam.so" ]; }

# The same Apache set-up as the demo (scripts/apache-conf.sh).
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/apache-conf.sh"

# start_apache NAME=PAMSERVICE...: a private Apache on 127.0.0.1 and ::1
# serving /NAME/ behind Basic auth with PAM service PAMSERVICE. Sets $port.
start_apache() {
	local pair
	port=$(free_port)
	mkdir -p "$WORK/htdocs" "$WORK/run"
	for pair in "$@"; do
		mkdir -p "$WORK/htdocs/${pair%%=*}"
		echo page > "$WORK/htdocs/${pair%%=*}/index.html"
	done
	chmod -R a+rX "$WORK/htdocs"
	apache_conf "$WORK" "$port" 1 "$@" > "$WORK/httpd.conf"
	PIDFILES+=("$WORK/httpd.pid")
	"$APACHE" -f "$WORK/httpd.conf" -k start || { bad "apache starts"; return 1; }
	wait_port "$port" 20 || { bad "apache listens"; cat "$WORK/error.log"; return 1; }
	sleep 0.3
}
