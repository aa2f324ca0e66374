#!/usr/bin/env bash
# Live test: Tomcat 10 from Debian's packages with the JAAS bridge
# (contrib/jaas) in front of pam_apitoken.
#
# A private Tomcat instance (CATALINA_BASE in a temp dir; connectors on
# 127.0.0.1 and ::1 only, no shutdown port) runs as the real `tomcat` user
# and serves two tiny apps protected by HTTP Basic auth through JAASRealm ->
# PamLoginModule -> libpam -> /etc/pam.d/<test service>:
#   /only  tokens only          (auth required pam_apitoken)
#   /orpw  tokens or passwords  (auth sufficient pam_apitoken, then pam_unix)
# ClientAddressValve (server.xml, <Host>) passes the client address as
# PAM_RHOST; tokens limited to 10.0.0.0/8, 127.0.0.1 and ::1/128 prove it.
#
# Environment: PAM_APITOKEN_SO (built module), TOKENADM (built tool);
# optional FAKETIME (path of faketime, for the expired-token case) and
# JAAS_SRC (contrib/jaas; found next to this script otherwise).
# Needs root (it adds /etc/pam.d files, a group and a user, all removed at
# exit). Exit 77 (skip) without tomcat10, a JDK, libjna-java, curl, setpriv.
# Prints TAP-like ok/not ok lines; exit 1 if any case fails.
set -u

skip() { echo "SKIP: $*"; exit 77; }
bail() { echo "Bail out! $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root (creates /etc/pam.d services, a user and a group)"
[ -z "${PTK_SANITIZED:-}" ] || skip "sanitizer build: Tomcat's JVM cannot load a sanitizer-built module"
if [ -z "${PAM_APITOKEN_SO:-}" ] || [ -z "${TOKENADM:-}" ]; then
	bail "set PAM_APITOKEN_SO and TOKENADM (meson test does)"
fi
[ -r "$PAM_APITOKEN_SO" ] || bail "no module at $PAM_APITOKEN_SO"
[ -x "$TOKENADM" ] || bail "no tokenadm at $TOKENADM"

HERE=$(cd "$(dirname "$0")" && pwd)
JAAS_SRC=${JAAS_SRC:-$HERE/../contrib/jaas}
CATALINA_HOME=${CATALINA_HOME:-/usr/share/tomcat10}
JNA_JAR=${JNA_JAR:-/usr/share/java/jna.jar}

[ -r "$CATALINA_HOME/bin/bootstrap.jar" ] || skip "tomcat10 is not installed"
[ -r "$JNA_JAR" ] || skip "libjna-java is not installed"
for t in java javac jar; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not found (default-jdk-headless)"
done
for t in curl setpriv useradd chpasswd groupadd gpasswd ss; do
	command -v "$t" >/dev/null 2>&1 || skip "$t not found"
done
getent passwd tomcat >/dev/null || skip "no tomcat user (tomcat10 creates it)"
[ -x "$JAAS_SRC/build.sh" ] || bail "no $JAAS_SRC/build.sh"

START=$(date +%s%N)
elapsed() { echo $(( ($(date +%s%N) - START) / 1000000 )); }

# ---- state the trap undoes -------------------------------------------------
TAG=$$
T=
TC_PID=
GROUP=ptk-tomcat-$TAG            # the store's group; tomcat joins it
TUSER=ptktc$TAG                  # a real user with a real password
SVC_ONLY=ptk-test-tomcat-only-$TAG
SVC_ORPW=ptk-test-tomcat-or-pw-$TAG
made_group=0 made_user=0 added_member=0 failed=0

stop_tomcat() { # returns 1 if SIGTERM was not enough
	local rc=0
	[ -n "$TC_PID" ] || return 0
	if kill -0 "$TC_PID" 2>/dev/null; then
		kill -TERM "$TC_PID" 2>/dev/null
		for _ in $(seq 1 100); do
			kill -0 "$TC_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$TC_PID" 2>/dev/null; then
			echo "# tomcat (pid $TC_PID) ignored SIGTERM for 10 s: SIGKILL"
			kill -KILL "$TC_PID" 2>/dev/null
			rc=1
		fi
	fi
	wait "$TC_PID" 2>/dev/null
	TC_PID=
	return "$rc"
}

cleanup() {
	local rc=$?
	stop_tomcat
	if [ "$failed" -ne 0 ] && [ -n "$T" ]; then
		for f in "$T"/base/logs/catalina.out "$T"/base/logs/catalina.*.log; do
			[ -f "$f" ] || continue
			echo "# --- last lines of ${f##*/} ---"
			tail -n 40 "$f" | sed 's/^/#   /'
		done
	fi
	rm -f "/etc/pam.d/$SVC_ONLY" "/etc/pam.d/$SVC_ORPW"
	[ "$made_user" -eq 1 ] && retry userdel "$TUSER" 2>/dev/null
	[ "$added_member" -eq 1 ] && retry gpasswd -d tomcat "$GROUP" >/dev/null 2>&1
	[ "$made_group" -eq 1 ] && retry groupdel "$GROUP" 2>/dev/null
	if [ -n "$T" ]; then
		if [ -n "${KEEP_TMP:-}" ]; then
			echo "# kept $T"
		else
			rm -rf "$T"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

n=0
ok()     { n=$((n + 1)); echo "ok $n - $*"; }
skip_case() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $*"; }

# useradd & co. fail at once when another process (a test beside us) holds
# the lock on /etc/passwd or /etc/group: try a few times.
retry() {
	local i
	for i in 1 2 3 4 5 6 7 8 9 10; do
		"$@" && return 0
		sleep 0.3
	done
	return 1
}

# ---- files ------------------------------------------------------------------
# tomcat must be able to reach everything below: /tmp, not a $TMPDIR that
# may sit in root's home.
T=$(mktemp -d /tmp/ptk-live-tomcat.XXXXXX) || bail "mktemp"
chmod 0711 "$T"
umask 022

# Build the bridge out of tree (the source tree stays untouched).
if ! "$JAAS_SRC/build.sh" "$T/jar" >"$T/build.log" 2>&1; then
	sed 's/^/# /' "$T/build.log"
	bail "contrib/jaas/build.sh failed"
fi
JAR=$T/jar/pam-apitoken-jaas.jar

# The group that may read the key and store (mode 0640 root:GROUP): the
# access model README.md documents, with a name of our own so that tests
# running beside us are not disturbed.
retry groupadd --system "$GROUP" || bail "groupadd $GROUP"
made_group=1
retry gpasswd -a tomcat "$GROUP" >/dev/null || bail "gpasswd -a tomcat $GROUP"
added_member=1

# A real user with a real password, owner of the test tokens.
PASSWORD=Pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
retry useradd --no-create-home --shell /usr/sbin/nologin "$TUSER" || bail "useradd"
made_user=1
set_password() { chpasswd <<<"$TUSER:$PASSWORD"; }   # not in argv
retry set_password || bail "chpasswd"

# Module config, site key and store.
mkdir -m 0755 "$T/ptk"
CONF=$T/ptk/pam_apitoken.conf
cat >"$CONF" <<EOF
db = $T/ptk/tokens.db
key = $T/ptk/site.key
EOF
"$TOKENADM" --config "$CONF" init --group "$GROUP" >"$T/init.log" 2>&1 ||
	{ sed 's/^/# /' "$T/init.log"; bail "tokenadm init"; }

# The module as its own root-owned copy, so the JVM (user tomcat) can
# load it whatever the modes of the build tree.
install -m 0644 "$PAM_APITOKEN_SO" "$T/ptk/pam_apitoken.so"
SO=$T/ptk/pam_apitoken.so

# The PAM services (libpam in the JVM reads /etc/pam.d).
cat >"/etc/pam.d/$SVC_ONLY" <<EOF
# pam_apitoken live test (tests/live_tomcat.sh): tokens only
auth     required   $SO conf=$CONF
account  required   $SO conf=$CONF
EOF
cat >"/etc/pam.d/$SVC_ORPW" <<EOF
# pam_apitoken live test (tests/live_tomcat.sh): tokens or passwords
# (nodelay: pam_unix's 2 s delay after a failure would only slow the test)
auth     sufficient $SO conf=$CONF
auth     required   pam_unix.so nodelay
account  sufficient $SO conf=$CONF
account  required   pam_unix.so
EOF

# ---- tokens -----------------------------------------------------------------
mint() { # mint NAME [tokenadm create options...]  -> token on stdout
	local name=$1
	shift
	"$TOKENADM" --config "$CONF" create --name "$name" --user "$TUSER" "$@" \
		2>>"$T/tokenadm.log"
}
TOK_OK=$(mint valid) || bail "tokenadm create"
TOK_NET10=$(mint net10 --allow-from 10.0.0.0/8) || bail "create --allow-from 10/8"
TOK_LO4=$(mint lo4 --allow-from 127.0.0.1) || bail "create --allow-from 127.0.0.1"
TOK_LO6=$(mint lo6 --allow-from ::1/128) || bail "create --allow-from ::1/128"
TOK_REV=$(mint revoked) || bail "create (to revoke)"
rev_id=${TOK_REV#*_}
rev_id=${rev_id%%_*}
"$TOKENADM" --config "$CONF" revoke "$rev_id" 2>>"$T/tokenadm.log" ||
	bail "tokenadm revoke $rev_id"
TOK_EXP=
FAKETIME=${FAKETIME:-$(command -v faketime 2>/dev/null)}
if [ -n "$FAKETIME" ] && [ -x "$FAKETIME" ]; then
	TOK_EXP=$("$FAKETIME" -f '-2d' "$TOKENADM" --config "$CONF" create \
		--name expired --user "$TUSER" --expires 1d 2>>"$T/tokenadm.log") ||
		bail "faketime tokenadm create --expires 1d"
fi
# The valid token with one secret character changed and the check digits
# recomputed (CRC-32, base62), so the module takes it for a token and must
# refuse it on the digest, not on the shape.
TOK_WRONG=
if command -v python3 >/dev/null 2>&1; then
	TOK_WRONG=$(printf '%s\n' "$TOK_OK" | python3 -c '
import sys, zlib
a = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
def check(body):
    c = zlib.crc32(body.encode()) & 0xffffffff
    d = ""
    for _ in range(6):
        d = a[c % 62] + d
        c //= 62
    return d
t = sys.stdin.read().strip()
body = t[:-6]
if check(body) != t[-6:]:
    sys.exit("check digits are not CRC-32/base62 as tokenadm(8) says")
i = len(body) - 1
body = body[:i] + ("B" if body[i] == "A" else "A")
print(body + check(body))
')
fi
if [ -z "$TOK_WRONG" ]; then
	# No python3 (or an unexpected check): a wrong last character is
	# still a wrong token, refused one way or the other.
	last=${TOK_OK: -1}
	[ "$last" = A ] && repl=B || repl=A
	TOK_WRONG=${TOK_OK%?}$repl
fi

# ---- the Tomcat instance ----------------------------------------------------
port_free() { # nothing listening on $1, TCP, any address
	[ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
}
PORT=
for _ in $(seq 1 50); do
	p=$(( 20000 + RANDOM % 40000 ))
	if port_free "$p"; then PORT=$p; break; fi
done
[ -n "$PORT" ] || bail "no free port"

B=$T/base
mkdir -p "$B"/{conf/Catalina/localhost,lib,webapps,logs,temp,work}
chown tomcat:tomcat "$B/logs" "$B/temp" "$B/work" "$B/conf/Catalina" \
	"$B/conf/Catalina/localhost"
chmod 0750 "$B/logs" "$B/temp" "$B/work"
for f in catalina.properties logging.properties web.xml context.xml; do
	install -m 0644 "$CATALINA_HOME/etc/$f" "$B/conf/$f"
done
# No TLD scan of every jar: it costs a second per application.
echo 'tomcat.util.scan.StandardJarScanFilter.jarsToSkip=*.jar' >>"$B/conf/catalina.properties"
install -m 0644 "$JAR" "$B/lib/pam-apitoken-jaas.jar"
ln -s "$JNA_JAR" "$B/lib/jna.jar"

cat >"$B/conf/server.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- pam_apitoken live test: loopback only, no shutdown port. -->
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector address="127.0.0.1" port="$PORT" protocol="HTTP/1.1"
               connectionTimeout="10000" maxThreads="16" />
    <Connector address="::1" port="$PORT" protocol="HTTP/1.1"
               connectionTimeout="10000" maxThreads="16" />
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false"
            autoDeploy="false">
        <!-- Host valves run before the Context's authenticator. -->
        <Valve className="org.pamapitoken.jaas.ClientAddressValve" />
      </Host>
      <!-- The same application without the valve (Host: novalve): the
           login module must refuse rather than run PAM without PAM_RHOST. -->
      <Host name="novalve" appBase="webapps-novalve" unpackWARs="false"
            autoDeploy="false" />
      <!-- The valve in the application's META-INF/context.xml instead
           (Host: ctxvalve): it still runs before the authenticator. -->
      <Host name="ctxvalve" appBase="webapps-ctxvalve" unpackWARs="false"
            autoDeploy="false" />
    </Engine>
  </Service>
</Server>
EOF

cat >"$B/conf/jaas.config" <<EOF
PamApiTokenOnly {
    org.pamapitoken.jaas.PamLoginModule required
        service="$SVC_ONLY" roles="api" debug="true";
};
PamApiTokenOrPassword {
    org.pamapitoken.jaas.PamLoginModule required
        service="$SVC_ORPW" roles="api" debug="true";
};
EOF

make_app() { # make_app PATH JAAS_APP_NAME [APPBASE] [CONTEXT_EXTRA]
	local d=$B/${3:-webapps}/$1
	mkdir -p "$d/WEB-INF" "$d/META-INF"
	echo "hello from $1" >"$d/index.txt"
	cat >"$d/META-INF/context.xml" <<EOF
<Context>
  <Realm className="org.apache.catalina.realm.JAASRealm" appName="$2"
         userClassNames="org.pamapitoken.jaas.PamUserPrincipal"
         roleClassNames="org.pamapitoken.jaas.PamRolePrincipal"
         useContextClassLoader="false" />
  ${4:-}
</Context>
EOF
	cat >"$d/WEB-INF/web.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="https://jakarta.ee/xml/ns/jakartaee https://jakarta.ee/xml/ns/jakartaee/web-app_6_0.xsd"
         version="6.0">
  <security-constraint>
    <web-resource-collection>
      <web-resource-name>api</web-resource-name>
      <url-pattern>/*</url-pattern>
    </web-resource-collection>
    <auth-constraint><role-name>api</role-name></auth-constraint>
  </security-constraint>
  <login-config>
    <auth-method>BASIC</auth-method>
    <realm-name>API</realm-name>
  </login-config>
  <security-role><role-name>api</role-name></security-role>
</web-app>
EOF
}
make_app only PamApiTokenOnly
make_app orpw PamApiTokenOrPassword
make_app only PamApiTokenOnly webapps-novalve
make_app only PamApiTokenOnly webapps-ctxvalve '<Valve className="org.pamapitoken.jaas.ClientAddressValve" />'
mkdir -p "$B/conf/Catalina/novalve" "$B/conf/Catalina/ctxvalve"
chown tomcat:tomcat "$B/conf/Catalina/novalve" "$B/conf/Catalina/ctxvalve"

# Supplementary groups of the JVM: tomcat's own (now with $GROUP, as
# initgroups gives them) plus shadow, given to this process only: pam_unix
# reads /etc/shadow itself to check another user's password (its helper
# unix_chkpwd checks only the caller's own). README.md explains the choice.
groups=$(id -G tomcat | tr ' ' ',')
shadow_gid=$(getent group shadow | cut -d: -f3)
[ -n "$shadow_gid" ] && groups=$groups,$shadow_gid

# Started straight from bootstrap.jar (what catalina.sh run does) so that
# $TC_PID is the JVM itself: setpriv and env exec, they do not fork.
setpriv --reuid=tomcat --regid=tomcat --groups="$groups" --inh-caps=-all -- \
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME="$B/temp" \
	java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
	-Djava.awt.headless=true \
	--add-opens=java.base/java.lang=ALL-UNNAMED \
	--add-opens=java.base/java.lang.reflect=ALL-UNNAMED \
	--add-opens=java.base/java.io=ALL-UNNAMED \
	--add-opens=java.base/java.util=ALL-UNNAMED \
	--add-opens=java.base/java.util.concurrent=ALL-UNNAMED \
	--add-opens=java.rmi/sun.rmi.transport=ALL-UNNAMED \
	-Djava.util.logging.manager=org.apache.juli.ClassLoaderLogManager \
	-Djava.util.logging.config.file="$B/conf/logging.properties" \
	-Djava.security.auth.login.config="$B/conf/jaas.config" \
	-Dcatalina.home="$CATALINA_HOME" -Dcatalina.base="$B" \
	-Djava.io.tmpdir="$B/temp" \
	-classpath "$CATALINA_HOME/bin/bootstrap.jar:$CATALINA_HOME/bin/tomcat-juli.jar" \
	org.apache.catalina.startup.Bootstrap start \
	>"$B/logs/catalina.out" 2>&1 </dev/null &
TC_PID=$!

# Ready when both connectors answer (Tomcat opens them after deploying).
http_code() { # http_code URL [curl options...]
	local url=$1
	shift
	curl -sS -g --max-time 10 -o /dev/null -w '%{http_code}' "$@" "$url" 2>/dev/null
}
ready=0
deadline=$((SECONDS + 40))
while [ "$SECONDS" -lt "$deadline" ]; do
	kill -0 "$TC_PID" 2>/dev/null || break
	c4=$(http_code "http://127.0.0.1:$PORT/only/index.txt")
	c6=$(http_code "http://[::1]:$PORT/only/index.txt")
	if [ "$c4" = 401 ] && [ "$c6" = 401 ]; then ready=1; break; fi
	sleep 0.1
done
if [ "$ready" -ne 1 ]; then
	failed=1
	if kill -0 "$TC_PID" 2>/dev/null; then
		bail "tomcat did not answer on 127.0.0.1 and [::1]:$PORT within 40 s"
	fi
	bail "tomcat exited before it answered (port $PORT taken?)"
fi
echo "# tomcat (pid $TC_PID, user tomcat) up on 127.0.0.1 and [::1] port $PORT after $(elapsed) ms"

# ---- cases ------------------------------------------------------------------
# The JVM runs as tomcat and listens on loopback only.
owner=$(ps -o user= -p "$TC_PID" | tr -d ' ')
if [ "$owner" = tomcat ]; then
	ok "tomcat runs as user tomcat"
else
	not_ok "tomcat runs as user tomcat (got '$owner')"
fi
listen=$(ss -Htlnp 2>/dev/null | grep "pid=$TC_PID," | awk '{print $4}' | sort -u | tr '\n' ' ')
# (Java binds IPv4 through an IPv6 socket: 127.0.0.1 shows as ::ffff:127.0.0.1.)
bad=$(echo "$listen" | tr ' ' '\n' | grep -v -e '^$' -e "^127\.0\.0\.1:$PORT\$" \
	-e "^\[::ffff:127\.0\.0\.1\]:$PORT\$" -e "^\[::1\]:$PORT\$")
if [ -n "$listen" ] && [ -z "$bad" ]; then
	ok "listens on loopback only ($listen)"
else
	not_ok "listens on loopback only (got: $listen)"
fi

# Credentials go to curl in a 0600 file, never in argv.
CRED=$T/cred
cred_code() { # cred_code URL USER SECRET [curl options...]
	local url=$1
	( umask 077; printf 'user = "%s:%s"\n' "$2" "$3" >"$CRED" )
	shift 3
	http_code "$url" -K "$CRED" "$@"
}
check() { # check EXPECTED APP ADDR USER SECRET DESCRIPTION
	local want=$1 app=$2 addr=$3 user=$4 secret=$5 desc=$6 host got
	[ "$addr" = 6 ] && host="[::1]" || host=127.0.0.1
	got=$(cred_code "http://$host:$PORT/$app/index.txt" "$user" "$secret")
	if [ "$got" = "$want" ]; then
		ok "$desc -> $want (/$app via $host)"
	else
		not_ok "$desc -> want $want, got $got (/$app via $host)"
	fi
}

check 200 only 4 "$TUSER" "$TOK_OK"     "valid token"
check 200 only 6 "$TUSER" "$TOK_OK"     "valid token over IPv6"
check 401 only 4 "$TUSER" "$TOK_WRONG"  "wrong secret"
check 401 only 4 root     "$TOK_OK"     "another user's token"
check 401 only 4 "$TUSER" "$TOK_REV"    "revoked token"
if [ -n "$TOK_EXP" ]; then
	check 401 only 4 "$TUSER" "$TOK_EXP" "expired token"
else
	skip_case "expired token (no faketime)"
fi
check 401 only 4 "$TUSER" "$TOK_NET10"  "token --allow-from 10.0.0.0/8 from 127.0.0.1"
check 401 only 6 "$TUSER" "$TOK_NET10"  "token --allow-from 10.0.0.0/8 from ::1"
check 200 only 4 "$TUSER" "$TOK_LO4"    "token --allow-from 127.0.0.1 from 127.0.0.1"
check 401 only 6 "$TUSER" "$TOK_LO4"    "token --allow-from 127.0.0.1 from ::1"
check 200 only 6 "$TUSER" "$TOK_LO6"    "token --allow-from ::1/128 from ::1"
check 401 only 4 "$TUSER" "$TOK_LO6"    "token --allow-from ::1/128 from 127.0.0.1"
check 401 only 4 "$TUSER" "$PASSWORD"   "plain password, tokens-only stack"
code=$(http_code "http://127.0.0.1:$PORT/only/index.txt")
if [ "$code" = 401 ]; then
	ok "no credentials -> 401"
else
	not_ok "no credentials -> want 401, got $code"
fi

# Valve placement. Without it the module refuses (requireClientAddress
# defaults to true) instead of running PAM with no PAM_RHOST.
check_host() { # check_host EXPECTED HOST SECRET DESCRIPTION
	local got
	got=$(cred_code "http://127.0.0.1:$PORT/only/index.txt" "$TUSER" "$3" -H "Host: $2")
	if [ "$got" = "$1" ]; then
		ok "$4 -> $1"
	else
		not_ok "$4 -> want $1, got $got"
	fi
}
check_host 401 novalve "$TOK_OK" "no ClientAddressValve: valid token refused"
if grep -q 'no client address for user' "$B"/logs/catalina.out; then
	ok "no ClientAddressValve: the refusal is explained in the log"
else
	not_ok "no ClientAddressValve: the refusal is explained in the log"
fi
check_host 200 ctxvalve "$TOK_LO4" "valve in context.xml: token --allow-from 127.0.0.1"
check_host 401 ctxvalve "$TOK_NET10" "valve in context.xml: token --allow-from 10.0.0.0/8"

check 200 orpw 4 "$TUSER" "$PASSWORD"   "plain password, tokens-or-passwords stack"
check 401 orpw 4 "$TUSER" "${PASSWORD}x" "wrong password, tokens-or-passwords stack"
check 200 orpw 6 "$TUSER" "$TOK_OK"     "valid token, tokens-or-passwords stack"
check 401 orpw 4 "$TUSER" "$TOK_REV"    "revoked token, tokens-or-passwords stack"
check 401 orpw 4 "$TUSER" "$TOK_NET10"  "token --allow-from 10.0.0.0/8, tokens-or-passwords stack"

# Many logins at once, good and bad interleaved: each must get its own
# answer (one PAM handle and one conversation state per login).
PAR=$T/par
mkdir -m 0700 "$PAR"
for i in $(seq 1 12); do
	( umask 077
	  printf 'user = "%s:%s"\n' "$TUSER" "$TOK_OK" >"$PAR/good$i"
	  printf 'user = "%s:%s"\n' "$TUSER" "$TOK_WRONG" >"$PAR/bad$i" )
done
for i in $(seq 1 12); do
	[ $((i % 2)) = 0 ] && host="[::1]" || host=127.0.0.1
	{ http_code "http://$host:$PORT/only/index.txt" -K "$PAR/good$i"; echo; } >"$PAR/good$i.code" &
	{ http_code "http://$host:$PORT/only/index.txt" -K "$PAR/bad$i"; echo; } >"$PAR/bad$i.code" &
done
wait_curls() { local j; for j in $(jobs -p); do [ "$j" = "$TC_PID" ] || wait "$j"; done; }
wait_curls
g=$(cat "$PAR"/good*.code | grep -c '^200$')
b=$(cat "$PAR"/bad*.code | grep -c '^401$')
if [ "$g" = 12 ] && [ "$b" = 12 ]; then
	ok "24 concurrent logins: 12 valid -> 200, 12 wrong -> 401"
else
	not_ok "24 concurrent logins: want 12x200 and 12x401, got $g and $b"
fi

# The module saw the address the Valve passed: last-used rhost recorded.
if "$TOKENADM" --config "$CONF" list --all --json 2>/dev/null |
	grep -q '"last_rhost": *"\(0:0:0:0:0:0:0:1\|::1\|127\.0\.0\.1\)"'; then
	ok "tokenadm list shows the client address as last_rhost"
else
	skip_case "last_rhost not recorded (best effort)"
fi

# No token or password in Tomcat's logs.
if grep -rqF -e "$TOK_OK" -e "$PASSWORD" "$B/logs" 2>/dev/null; then
	not_ok "no token or password in Tomcat's logs"
else
	ok "no token or password in Tomcat's logs"
fi

pid=$TC_PID
if stop_tomcat && ! kill -0 "$pid" 2>/dev/null &&
	[ "$(http_code "http://127.0.0.1:$PORT/only/index.txt")" = 000 ]; then
	ok "tomcat (pid $pid) stopped by SIGTERM, port closed"
else
	not_ok "tomcat (pid $pid) stopped by SIGTERM, port closed"
fi

echo "1..$n"
echo "# total $(elapsed) ms"
[ "$failed" -eq 0 ]
