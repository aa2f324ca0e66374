#!/usr/bin/env bash
# pam_apitoken end-to-end demo: build and install the module and tokenadm,
# mint an API token for a demo user, and show a private Apache (running PAM
# as www-data through mod_authnz_pam) accepting the token and refusing
# everything else -- wrong tokens, the user's real password, no credentials,
# and the token itself once it is revoked.
#
#   sudo scripts/demo.sh
#   sudo scripts/demo.sh --web   # also the web page for managing tokens
#
# With --web the demo also builds and installs the web page (npm ci from
# the npm registry, then esbuild), serves it at /apitoken/ from the same
# private Apache with the installed snippet (apitoken-web.conf, mod_cgid),
# lets alice hold tokens through a group of its own (apitoken-demo, a
# [group] section appended to the config and taken out on exit), prints
# the page's address and alice's password, and waits for Enter; on exit
# everything it added is undone and alice's password locked again.
#
# It changes the system the way an administrator installing pam_apitoken
# would: packages (scripts/deps.sh), files under /usr, the group
# pam-apitoken (www-data joins it), the site key and store (tokenadm init),
# and a demo user "alice" with no home and no login shell; no
# /etc/security/pam_apitoken.conf (the defaults apply), so the Debian
# package installs over it without a conffile prompt. What it adds only
# for the demo -- the PAM services apitoken-demo*, the Apache instance,
# its temp dir and the token -- is removed or revoked on exit. The system's Apache is never touched.
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD
BUILD=$REPO/build-demo
SERVICE=apitoken-demo            # tokens only
SERVICE_PW=apitoken-demo-pw      # tokens or passwords
DEMO_USER=alice
DEMO_GECOS="pam_apitoken demo user"
GROUP=pam-apitoken
CONF=/etc/security/pam_apitoken.conf
START=$(date +%s)
WEB=0
case ${1:-} in
'') ;;
--web) WEB=1 ;;
*) echo "usage: $0 [--web]" >&2; exit 2 ;;
esac
WEB_GROUP=apitoken-demo
WEB_CONF_SAVED=""
WEB_GROUP_MADE=0
WEB_RUNDIR_MADE=0
WEB_CONF_MADE=0

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run me as root: sudo $0" >&2
	exit 1
fi
umask 022

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }

PASSED=0
FAILED=0
pass() { PASSED=$((PASSED + 1)); printf '    PASS  %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf '    FAIL  %s\n' "$*"; }

# ---- cleanup: everything that exists only for the demo ----
TMP=""
HTTPD_PID=""
TOKEN_ID=""
REVOKED=0
PW_SET=0
cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	if [ -n "$TMP" ] && [ -s "$TMP/httpd.pid" ]; then
		HTTPD_PID=$(cat "$TMP/httpd.pid")
	fi
	if [ -n "$HTTPD_PID" ] && kill -0 "$HTTPD_PID" 2>/dev/null; then
		kill -TERM "$HTTPD_PID" 2>/dev/null
		for _ in $(seq 1 50); do
			kill -0 "$HTTPD_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -0 "$HTTPD_PID" 2>/dev/null && kill -KILL "$HTTPD_PID"
	fi
	if [ -n "$TOKEN_ID" ] && [ "$REVOKED" -eq 0 ]; then
		tokenadm revoke "$TOKEN_ID" >/dev/null 2>&1 &&
			echo "demo: revoked the demo token $TOKEN_ID"
	fi
	rm -f "/etc/pam.d/$SERVICE" "/etc/pam.d/$SERVICE_PW"
	# --web: the config as it was, the demo's group gone.
	if [ -n "$WEB_CONF_SAVED" ] && [ -f "$WEB_CONF_SAVED" ]; then
		cat "$WEB_CONF_SAVED" >"$CONF" && echo "demo: $CONF restored"
	elif [ "$WEB_CONF_MADE" -eq 1 ]; then
		rm -f "$CONF" && echo "demo: $CONF (made for --web) removed"
	fi
	[ "$WEB_GROUP_MADE" -eq 1 ] && groupdel "$WEB_GROUP" 2>/dev/null
	[ "$WEB_RUNDIR_MADE" -eq 1 ] && rm -rf /run/pam-apitoken-web
	# The demo user keeps no usable password once the demo is over.
	[ "$PW_SET" -eq 1 ] && usermod -L "$DEMO_USER" 2>/dev/null
	[ -n "$TMP" ] && rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

TMP=$(mktemp -d /tmp/pam_apitoken-demo.XXXXXX)
# Apache's children (www-data) read htdocs below it; the secrets live in
# the 0700 directory secret/.
chmod 0755 "$TMP"
mkdir -m 0700 "$TMP/secret"

# Run a command quietly; on failure show the end of its output and stop.
quiet() {
	local what=$1
	shift
	if ! "$@" >"$TMP/cmd.log" 2>&1; then
		if grep -q -E 'error|FAILED|ERROR' "$TMP/cmd.log"; then
			grep -E -A3 'error|FAILED|ERROR' "$TMP/cmd.log" | head -n 40 >&2 || true
		else
			tail -n 40 "$TMP/cmd.log" >&2
		fi
		echo "demo: $what failed" >&2
		exit 1
	fi
}

# ---- 1. packages, build, install ----
step "Packages (scripts/deps.sh)"
bash "$REPO/scripts/deps.sh" "$( [ "$WEB" -eq 1 ] && echo demo-web || echo demo)"

step "Build and install (meson, prefix /usr)"
# The module must go where libpam looks: the directory of pam_unix.so.
# (meson's own guess, <libdir>/security, is /usr/lib64/security on a
# Debian without dpkg-dev, where PAM never looks.)
PAMDIR=""
for d in /lib/*/security /usr/lib/*/security /lib/security /usr/lib/security \
	 /lib64/security /usr/lib64/security; do
	[ -e "$d/pam_unix.so" ] && { PAMDIR=$d; break; }
done
[ -n "$PAMDIR" ] || { echo "demo: cannot find PAM's module directory (pam_unix.so)" >&2; exit 1; }
# The web page only with --web (npm and esbuild take a while): the plain
# demo builds what it always built.
SETUP=(--prefix=/usr --buildtype=debugoptimized -Dwerror=true "-Dsecuredir=$PAMDIR"
       "-Dweb=$( [ "$WEB" -eq 1 ] && echo enabled || echo disabled)")
if [ -f "$BUILD/build.ninja" ]; then
	quiet "meson setup" meson setup --reconfigure "$BUILD" "${SETUP[@]}"
else
	quiet "meson setup" meson setup "$BUILD" "${SETUP[@]}"
fi
# Build what gets installed (the module and tokenadm): the test programs
# are scripts/test.sh's business, and a warning in one must not stop this.
mapfile -t TARGETS < <(meson introspect "$BUILD" --targets | python3 -c '
import json, os, sys
src = sys.argv[1]
for t in json.load(sys.stdin):
    if t.get("installed"):
        d = os.path.relpath(os.path.dirname(t["defined_in"]), src)
        print(("" if d == "." else d + "/") + t["name"] + ":" + t["type"].replace(" ", "_"))
' "$REPO")
[ "${#TARGETS[@]}" -gt 0 ] || { echo "demo: meson lists no installable target" >&2; exit 1; }
quiet "meson compile" meson compile -C "$BUILD" "${TARGETS[@]}"
quiet "meson install" meson install -C "$BUILD" --no-rebuild
# Where meson put them (so a stale copy elsewhere in PATH is never used).
installed() {
	meson introspect "$BUILD" --installed | python3 -c '
import json, sys
print("\n".join(v for v in json.load(sys.stdin).values() if v.endswith(sys.argv[1])))' "$1"
}
MODULE=$(installed /pam_apitoken.so)
TOKENADM=$(installed /tokenadm)
if [ ! -f "$MODULE" ] || [ ! -x "$TOKENADM" ]; then
	echo "demo: meson install did not install the module and tokenadm" >&2
	exit 1
fi
tokenadm() { "$TOKENADM" "$@"; }
info "module:   $MODULE"
info "tokenadm: $TOKENADM ($(tokenadm --version), $(stat -c '%A' "$TOKENADM"))"

# ---- 2. site setup ----
step "Group $GROUP (readers of the key and store), site key and store"
if ! getent group "$GROUP" >/dev/null; then
	groupadd --system "$GROUP"
	info "created group $GROUP"
fi
if [[ " $(id -nG www-data) " != *" $GROUP "* ]]; then
	usermod -a -G "$GROUP" www-data
	info "added www-data to $GROUP"
fi
# No config file is written: without $CONF the built-in defaults apply,
# and the Debian package ships $CONF as a conffile -- a copy left here,
# owned by no package, would stop `apt install` of the package at dpkg's
# conffile prompt (tests/test_deb.sh runs this demo, then the package).
if [ -e "$CONF" ]; then
	info "using $CONF"
else
	info "no $CONF: the built-in defaults apply (the Debian package ships one)"
fi
tokenadm init --group "$GROUP" 2>&1 | sed 's/^/    /'
KEY=$(tokenadm policy | sed -n 's/^site key: *//p')
DB=$(tokenadm policy | sed -n 's/^store: *//p')
for f in "$KEY" "$DB"; do
	# An earlier `tokenadm init` without --group leaves 0600 root:root,
	# which www-data cannot read: make it what init --group would make.
	if [ "$(stat -c '%G' "$f")" != "$GROUP" ] ||
	   [ $(( 0$(stat -c '%a' "$f") & 0040 )) -eq 0 ]; then
		chgrp "$GROUP" "$f"
		chmod g+r,g-wx,o-rwx "$f"
		info "made $f group-readable by $GROUP"
	fi
	info "$(stat -c '%A %U:%G %n' "$f")"
done
# tokenadm before 49e4b45 created the store's directory 0700 (umask 077),
# which keeps www-data out: make it the documented 0755.
for d in "$(dirname "$KEY")" "$(dirname "$DB")"; do
	if [ "$(stat -c '%U %a' "$d")" = "root 700" ]; then
		chmod 0755 "$d"
		info "made $d searchable (0755), as tokenadm init documents"
	fi
done

# ---- 3. the demo user and her token ----
step "Demo user $DEMO_USER and a token"
if ! getent passwd "$DEMO_USER" >/dev/null; then
	useradd -M -s /usr/sbin/nologin -c "$DEMO_GECOS" "$DEMO_USER"
	info "created user $DEMO_USER (no home, no login shell)"
fi
if [ "$(getent passwd "$DEMO_USER" | cut -d: -f5)" = "$DEMO_GECOS" ]; then
	# A random password, never shown; set through stdin, not argv.
	PASSWORD=$(python3 -c 'import secrets, string
a = string.ascii_letters + string.digits
print("".join(secrets.choice(a) for _ in range(20)))')
	printf '%s:%s\n' "$DEMO_USER" "$PASSWORD" | chpasswd
	PW_SET=1
	info "gave $DEMO_USER a random password (locked again on exit)"
else
	PASSWORD=""
	info "$DEMO_USER exists and is not the demo's user: her password is left alone"
fi

TOKEN=$(tokenadm create --name demo --user "$DEMO_USER" --expires 1h 2>"$TMP/create.err") || {
	cat "$TMP/create.err" >&2
	echo "demo: tokenadm create failed" >&2
	exit 1
}
if ! [[ "$TOKEN" =~ ^[A-Za-z0-9]{1,16}_[A-Za-z0-9]{12}_[A-Za-z0-9]{38}$ ]]; then
	echo "demo: tokenadm create printed something that is not a token" >&2
	exit 1
fi
TOKEN_ID=${TOKEN#*_}
TOKEN_ID=${TOKEN_ID%%_*}
info "minted token id $TOKEN_ID for $DEMO_USER, valid 1 hour (the secret is not shown)"
sed 's/^/    tokenadm: /' "$TMP/create.err"

# Wrong tokens, derived from the real one without printing any of them:
#  - one secret character changed, check digits left alone: the CRC no
#    longer matches, so it is "not a token" and a tokens-only stack refuses;
#  - a different secret with correct check digits: a real-looking token
#    whose secret is wrong.
read -r BADCRC WRONGSECRET < <(printf '%s\n' "$TOKEN" | python3 -c '
import sys, zlib
tok = sys.stdin.readline().strip()
digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
head, check = tok[:-6], tok[-6:]
prefix, tid, secret = head.split("_")
def flip(c):
    return digits[(digits.index(c) + 1) % 62]
badcrc = "%s_%s_%s%s%s" % (prefix, tid, secret[:-1], flip(secret[-1]), check)
def crc62(text):
    n = zlib.crc32(text.encode()) & 0xffffffff
    out = ""
    for _ in range(6):
        out = digits[n % 62] + out
        n //= 62
    return out
wrong = "%s_%s_%s" % (prefix, tid, "".join(flip(c) for c in secret))
print(badcrc, wrong + crc62(wrong))
')

curl_cfg() { # name user secret: a 0600 curl config, so no secret is in argv
	printf 'user = "%s:%s"\n' "$2" "$3" >"$TMP/secret/$1.curl"
}
curl_cfg token "$DEMO_USER" "$TOKEN"
curl_cfg badcrc "$DEMO_USER" "$BADCRC"
curl_cfg wrongsecret "$DEMO_USER" "$WRONGSECRET"
curl_cfg otheruser bob "$TOKEN"
[ -n "$PASSWORD" ] && curl_cfg password "$DEMO_USER" "$PASSWORD"
unset BADCRC WRONGSECRET

# ---- 3b. --web: alice may hold tokens (a group of the demo's own) ----
if [ "$WEB" -eq 1 ]; then
	step "Web page: group $WEB_GROUP for $DEMO_USER, the rate table's directory"
	if ! getent group "$WEB_GROUP" >/dev/null; then
		groupadd --system "$WEB_GROUP"
		WEB_GROUP_MADE=1
	fi
	usermod -a -G "$WEB_GROUP" "$DEMO_USER"
	# The demo writes no config of its own (the package ships one as a
	# conffile): an existing one is saved and restored, a missing one
	# made for the demo and removed on exit.
	if [ -e "$CONF" ]; then
		WEB_CONF_SAVED=$TMP/secret/pam_apitoken.conf.orig
		cp "$CONF" "$WEB_CONF_SAVED"
	else
		install -m 0644 /dev/null "$CONF"
		WEB_CONF_MADE=1
	fi
	printf '\n# Added by scripts/demo.sh --web (removed on exit)\n[group %s]\nmax_lifetime = 30d\n' \
		"$WEB_GROUP" >>"$CONF"
	if [ ! -d /run/pam-apitoken-web ]; then
		install -d -m 0700 -o www-data -g www-data /run/pam-apitoken-web
		WEB_RUNDIR_MADE=1
	fi
	info "$DEMO_USER is in $WEB_GROUP ([group $WEB_GROUP] appended to $CONF until exit)"
fi

# ---- 4. PAM services ----
step "PAM services"
cat >"/etc/pam.d/$SERVICE" <<'EOF'
# pam_apitoken demo (scripts/demo.sh): API tokens only, passwords refused
# (tokens_only: a password that is not a token is refused and logged).
auth     required  pam_apitoken.so tokens_only
account  required  pam_apitoken.so
EOF
cat >"/etc/pam.d/$SERVICE_PW" <<'EOF'
# pam_apitoken demo (scripts/demo.sh): tokens or passwords.
auth     sufficient  pam_apitoken.so
auth     required    pam_unix.so try_first_pass
account  required    pam_apitoken.so
account  required    pam_unix.so
EOF
info "/etc/pam.d/$SERVICE (tokens only), /etc/pam.d/$SERVICE_PW (tokens or passwords)"

# ---- 5. a private Apache ----
step "Private Apache (mod_authnz_pam, event MPM, runs PAM as www-data)"
HAVE_V6=0
grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null && HAVE_V6=1
free_port() {
	python3 - "$HAVE_V6" <<'EOF'
import socket, sys
v6 = sys.argv[1] == "1"
for _ in range(50):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    ok = True
    if v6:
        t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            t.bind(("::1", port))
        except OSError:
            ok = False
        t.close()
    s.close()
    if ok:
        print(port)
        sys.exit(0)
sys.exit(1)
EOF
}
mkdir -p "$TMP/htdocs/api" "$TMP/run"
echo "hello from behind pam_apitoken" >"$TMP/htdocs/api/hello.txt"
chmod -R a+rX "$TMP/htdocs"

# The same server set-up as the live tests (tests/live/lib.sh).
. "$REPO/scripts/apache-conf.sh"
write_httpd_conf() {
	apache_conf "$TMP" "$1" "$HAVE_V6" "api=$SERVICE" >"$TMP/httpd.conf"
	if [ "$WEB" -eq 1 ]; then
		# The web page with the snippet meson installed, as a2enconf
		# would include it.
		cat >>"$TMP/httpd.conf" <<-EOF
		LoadModule alias_module   /usr/lib/apache2/modules/mod_alias.so
		LoadModule cgid_module    /usr/lib/apache2/modules/mod_cgid.so
		LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so
		ScriptSock "$TMP/run/cgid.sock"
		Include /etc/apache2/conf-available/apitoken-web.conf
		EOF
	fi
}

PORT=""
for attempt in 1 2 3; do
	PORT=$(free_port) || { echo "demo: no free port" >&2; exit 1; }
	write_httpd_conf "$PORT"
	rm -f "$TMP/httpd.pid"
	if apache2 -f "$TMP/httpd.conf" -k start >"$TMP/apache-start.log" 2>&1; then
		for _ in $(seq 1 50); do
			[ -s "$TMP/httpd.pid" ] && break
			sleep 0.2
		done
	fi
	if [ -s "$TMP/httpd.pid" ]; then
		HTTPD_PID=$(cat "$TMP/httpd.pid")
		break
	fi
	cat "$TMP/apache-start.log" "$TMP/error.log" 2>/dev/null | tail -n 20 >&2
	[ "$attempt" -eq 3 ] && { echo "demo: Apache did not start" >&2; exit 1; }
done
URL4="http://127.0.0.1:$PORT/api/hello.txt"
URL6="http://[::1]:$PORT/api/hello.txt"
# Wait until it answers (bounded).
for _ in $(seq 1 50); do
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$URL4" || true)
	[ "$code" = 401 ] && break
	sleep 0.2
done
info "Apache pid $HTTPD_PID on 127.0.0.1:$PORT$( [ "$HAVE_V6" -eq 1 ] && echo " and [::1]:$PORT" ), workers run as $(ps -o user= --ppid "$HTTPD_PID" | sort -u | tr '\n' ' ')"

# ---- 6. the checks ----
step "Preflight"
# Apache runs PAM as www-data: it must be able to reach and read both files
# (group pam-apitoken, and every directory above them searchable).
if runuser -u www-data -- test -r "$KEY" -a -r "$DB"; then
	pass "www-data can read the site key and the store"
else
	fail "www-data cannot read $KEY and $DB: token logins through Apache will fail"
	for f in "$KEY" "$DB"; do
		d=$f
		while d=$(dirname "$d"); [ "$d" != / ]; do
			runuser -u www-data -- test -x "$d" ||
				info "  www-data cannot enter $(stat -c '%A %U:%G %n' "$d")"
		done
		runuser -u www-data -- test -r "$f" ||
			info "  www-data cannot read $(stat -c '%A %U:%G %n' "$f")"
	done
fi

# request URL [config-name]: prints the HTTP status (000 on a failure).
request() {
	local url=$1 cfg=${2:-}
	local args=(-s -o "$TMP/body" -w '%{http_code}' --max-time 10)
	[ -n "$cfg" ] && args=(-K "$TMP/secret/$cfg.curl" "${args[@]}")
	: >"$TMP/body"
	curl "${args[@]}" "$url" || true
}
expect() { # want url config description
	local want=$1 url=$2 cfg=$3 what=$4 got
	got=$(request "$url" "$cfg")
	if [ "$got" = "$want" ]; then
		pass "$what"
	else
		fail "$what (got HTTP $got, wanted $want)"
	fi
}

step "Requests (curl -K <0600 file>, so no secret is in curl's argv)"
got=$(request "$URL4" token)
if [ "$got" = 200 ] && grep -q "hello from behind pam_apitoken" "$TMP/body"; then
	pass "200 OK with the token"
else
	fail "token over 127.0.0.1 (got HTTP $got, wanted 200 and the file)"
fi
if [ "$HAVE_V6" -eq 1 ]; then
	expect 200 "$URL6" token "200 OK with the token over [::1]"
fi
expect 401 "$URL4" badcrc "401 with the token mistyped (check digits wrong: not a token, no password fallback)"
expect 401 "$URL4" wrongsecret "401 with a well-formed token whose secret is wrong"
expect 401 "$URL4" otheruser "401 with alice's token under another user name"
if [ -n "$PASSWORD" ]; then
	expect 401 "$URL4" password "401 with alice's real password (tokens-only stack)"
fi
expect 401 "$URL4" "" "401 with no credentials"

# Threads: concurrent requests through the event MPM all succeed.
codes=""
for i in $(seq 1 24); do
	request "$URL4" token >"$TMP/par.$i" &
done
wait
for i in $(seq 1 24); do codes+="$(cat "$TMP/par.$i") "; done
if [ "$(echo "$codes" | tr ' ' '\n' | grep -c '^200$')" -eq 24 ]; then
	pass "24 concurrent requests with the token: all 200"
else
	fail "24 concurrent requests with the token: got $codes"
fi

step "What tokenadm shows (last use recorded by the module running as www-data)"
{ tokenadm show "$TOKEN_ID" 2>&1 || true; } |
	grep -E '^(id|user|name|state|expires|last used):' | sed 's/^/    /' || true

step "The same user through the tokens-or-passwords stack (pamtester, as root)"
# The same password is right: the tokens-or-passwords stack takes it (and
# the token). pamtester runs as root here, so pam_unix can check it.
if [ -n "$PASSWORD" ]; then
	if printf '%s\n' "$PASSWORD" | pamtester -I rhost=127.0.0.1 "$SERVICE_PW" "$DEMO_USER" \
		authenticate acct_mgmt >"$TMP/pamtester.log" 2>&1; then
		pass "alice's password is accepted by the tokens-or-passwords stack (pamtester)"
	else
		fail "alice's password through $SERVICE_PW: $(tr '\n' ' ' <"$TMP/pamtester.log")"
	fi
fi
if printf '%s\n' "$TOKEN" | pamtester -I rhost=127.0.0.1 "$SERVICE_PW" "$DEMO_USER" \
	authenticate acct_mgmt >"$TMP/pamtester.log" 2>&1; then
	pass "the token is accepted by the tokens-or-passwords stack too (pamtester)"
else
	fail "token through $SERVICE_PW: $(tr '\n' ' ' <"$TMP/pamtester.log")"
fi

WEB_PASSWORD=$PASSWORD
step "Revoke the token: the very next request is refused"
tokenadm revoke "$TOKEN_ID" 2>&1 | sed 's/^/    tokenadm: /'
REVOKED=1
expect 401 "$URL4" token "401 with the revoked token (nothing is cached)"
unset TOKEN PASSWORD

# ---- --web: the page ----
if [ "$WEB" -eq 1 ]; then
	step "Web page (--web)"
	PAGE="http://127.0.0.1:$PORT/apitoken/"
	expect 200 "$PAGE" "" "the page is served at /apitoken/"
	if [ -n "$WEB_PASSWORD" ]; then
		curl_cfg web "$DEMO_USER" "$WEB_PASSWORD"
		got=$(curl -s -o "$TMP/body" -w '%{http_code}' --max-time 30 -K "$TMP/secret/web.curl" \
			-H "Origin: http://127.0.0.1:$PORT" -H 'X-Apitoken-Request: 1' \
			-H 'Content-Type: application/json' --data '{}' "http://127.0.0.1:$PORT/apitoken/api/policy" || true)
		if [ "$got" = 200 ] && grep -q '"may_hold":true' "$TMP/body"; then
			pass "alice signs in to the page's API with her password and may hold tokens"
		else
			fail "the page's API with alice's password (got HTTP $got: $(head -c 200 "$TMP/body"))"
		fi
	fi
	echo
	echo "    Open $PAGE in a browser on this machine"
	echo "    (or through a tunnel: ssh -L $PORT:127.0.0.1:$PORT <this host>)."
	if [ -n "$WEB_PASSWORD" ]; then
		echo "    Sign in as $DEMO_USER with the password: $WEB_PASSWORD"
	else
		echo "    ($DEMO_USER is not the demo's user: sign in with an account of yours.)"
	fi
	echo
	printf '    Press Enter to stop the demo and clean up... '
	read -r _ || true
	echo
fi
unset WEB_PASSWORD

# ---- summary ----
echo
if [ "$FAILED" -ne 0 ] && [ -s "$TMP/error.log" ]; then
	echo "Apache error log (last lines):"
	tail -n 20 "$TMP/error.log" | sed 's/^/    /'
fi
echo "demo: $PASSED passed, $FAILED failed ($(( $(date +%s) - START ))s)"
if [ "$FAILED" -eq 0 ]; then
	echo "demo: PASS"
	exit 0
fi
echo "demo: FAIL"
exit 1
