#!/bin/bash
# The pull path through a real web server (nginx from Debian, a private
# instance on 127.0.0.1): the authority publishes a directory
# (tokenadm publish), nginx serves it, an import-only host runs the shipped
# pam-apitoken-pull. nginx's access log shows what moved:
#   - the first pull: the pointer and the full bundle;
#   - a pull with nothing new: one request, the pointer, 304, no body;
#   - a pull after one revocation: the pointer and a delta, not the full
#     bundle; the revoked token is then refused on the host;
#   - a heartbeat (publish with nothing changed): the pointer only, and the
#     host's store file untouched (same inode);
#   - a tampered delta on the server: refused, the full bundle fetched
#     instead, every piece checked against the signed pointer;
#   - a corrupted pointer served once: the pull fails and keeps neither
#     it nor its ETag, so the good one is fetched whole at the next pull;
#   - a pointer cut short (200, curl exit 18): likewise not kept.
#
# env: TOKENADM, PULL (the pull script)
set -u
export LC_ALL=C
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (nginx as www-data)"; exit 77; }
NGINX=/usr/sbin/nginx
[[ -x $NGINX ]] || { echo "SKIP: nginx not installed"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: no curl"; exit 77; }
T=${TOKENADM:?} PULL=${PULL:?}

W=$(mktemp -d /tmp/ptk-pull.XXXXXX) || exit 1
chmod 755 "$W"
cleanup() {
	local pid
	pid=$(cat "$W/nginx.pid" 2>/dev/null) && [[ -n $pid ]] && kill "$pid" 2>/dev/null
	for _ in $(seq 50); do [[ -n ${pid:-} ]] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -rf "$W"
}
trap cleanup EXIT
. "$(dirname "$0")/../fleet_common.sh"
NOK_LOGS=log
mkhost auth
mkhost host
A() { "$T" --config "$W/auth/conf" "$@"; }
H() { "$T" --config "$W/host/conf" "$@"; }
A init --signing >/dev/null 2>&1 || { nok "authority init"; exit 1; }
for i in $(seq 40); do A create --name "t$i" --user root >/dev/null 2>&1; done
tok=$(A create --name leaked --user root 2>/dev/null)
H init --import-only --site-key "$W/auth/keys/site.key" \
	--trusted-key "$W/auth/keys/signing.key.pub" >/dev/null 2>&1 ||
	{ nok "host init"; exit 1; }
echo "max_bundle_age = 2h" >>"$W/host/conf"

# The published directory: its group is the web server's, files 0640.
mkdir -p "$W/www/fleet" "$W/tmp"
chmod 755 "$W/www"
chgrp www-data "$W/www/fleet" && chmod 750 "$W/www/fleet"
A publish "$W/www/fleet" >/dev/null 2>"$W/err"
check "publish writes the pointer and the full bundle, group www-data, 0640" \
	eval '[[ -s $W/www/fleet/latest ]] && [[ $(stat -c "%a %G" "$W/www/fleet/latest") == "640 www-data" ]] && ls "$W/www/fleet" | grep -q "^full-[0-9]*\.bundle$"'

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$W/nginx.conf" <<CONF
user www-data;
worker_processes 1;
pid $W/nginx.pid;
error_log $W/error.log;
events { worker_connections 64; }
http {
    log_format pull '\$request_method \$uri \$status \$body_bytes_sent';
    access_log $W/access.log pull;
    client_body_temp_path $W/tmp/body;
    proxy_temp_path $W/tmp/proxy;
    fastcgi_temp_path $W/tmp/fastcgi;
    uwsgi_temp_path $W/tmp/uwsgi;
    scgi_temp_path $W/tmp/scgi;
    server {
        listen 127.0.0.1:$port;
        root $W/www;
    }
}
CONF
"$NGINX" -c "$W/nginx.conf" -p "$W" || { nok "nginx starts"; exit 1; }
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
base=http://127.0.0.1:$port/fleet

pull() { # pull: $RC; the access log lines it caused in $W/log
	local before; before=$(wc -l <"$W/access.log" 2>/dev/null || echo 0)
	TOKENADM=$W/tokenadm-host PULL_STATE_DIR=$W/host/pull \
		"$PULL" "$base" >"$W/out" 2>"$W/err"
	RC=$?
	# nginx logs a request after its response: a marker request made
	# after the pull is logged after all of the pull's.
	mark=/mark-$RANDOM$RANDOM
	curl -s -o /dev/null "http://127.0.0.1:$port$mark"
	for _ in $(seq 50); do grep -q " $mark " "$W/access.log" && break; sleep 0.1; done
	tail -n +$((before + 1)) "$W/access.log" | grep -v " $mark " >"$W/log"
}
printf '#!/bin/sh\nexec "%s" --config "%s" "$@"\n' "$T" "$W/host/conf" >"$W/tokenadm-host"
chmod 755 "$W/tokenadm-host"
: >"$W/access.log"

pull
check "first pull: exit 0, the pointer then the full bundle" \
	eval '[[ $RC == 0 ]] && [[ $(cat "$W/log") == "GET /fleet/latest 200 "*$'"'\n'"'"GET /fleet/full-"*".bundle 200 "* ]]'
verify() { echo "$1" | H verify --user root >/dev/null 2>&1; }
check "(the host accepts the token)" verify "$tok"

pull
check "nothing new: one request, the pointer, 304 and no body bytes" \
	eval '[[ $RC == 0 ]] && [[ $(cat "$W/log") == "GET /fleet/latest 304 0" ]]'

A revoke "$(id_of "$tok")" >/dev/null 2>&1
A publish "$W/www/fleet" >/dev/null 2>&1
full_size=$(stat -c %s "$W"/www/fleet/full-"$(sed -n 's/^generation //p' "$W/www/fleet/latest")".bundle)
pull
check "after one revocation: the pointer (200) and a delta, not the full bundle" \
	eval '[[ $RC == 0 ]] && [[ $(wc -l <"$W/log") == 2 ]] && sed -n 1p "$W/log" | grep -q "^GET /fleet/latest 200 " && sed -n 2p "$W/log" | grep -Eq "^GET /fleet/delta-[0-9]+-[0-9]+\.bundle 200 [0-9]+$"'
delta_bytes=$(sed -n '2s/.* //p' "$W/log")
echo "# delta ${delta_bytes:-?} bytes, full bundle $full_size bytes (41 tokens)"
check "the delta is smaller than the full bundle" eval '[[ ${delta_bytes:-0} -gt 0 && $delta_bytes -lt $full_size ]]'
check "the revoked token is refused on the host" eval '! verify "$tok"'

ino=$(stat -c %i "$W/host/store/tokens.db")
sleep 1 # a new pointer must carry a later second than the last
A publish "$W/www/fleet" >/dev/null 2>&1
pull
check "heartbeat: the pointer only (200), no bundle fetched" \
	eval '[[ $RC == 0 ]] && [[ $(wc -l <"$W/log") == 1 ]] && grep -q "^GET /fleet/latest 200 " "$W/log"'
check "heartbeat: the host's store file untouched (same inode)" \
	eval '[[ $(stat -c %i "$W/host/store/tokens.db") == "$ino" ]]'

# A tampered delta: the host must not take it, and falls back to the full.
A create --name later --user root >/dev/null 2>&1
A publish "$W/www/fleet" >/dev/null 2>&1
g=$(sed -n 's/^generation //p' "$W/www/fleet/latest")
dname=$(ls "$W/www/fleet" | grep "^delta-[0-9]*-$g\.bundle$" | sort -t- -k2,2n | tail -1)
cp -p "$W/www/fleet/$dname" "$W/delta.orig"
printf 'x' >>"$W/www/fleet/$dname"
pull
check "a delta larger than the pointer declares is cut off; the full bundle is installed" \
	eval '[[ $RC == 0 ]] && grep -q "Maximum file size" "$W/err" && grep -q "^GET /fleet/full-$g.bundle 200" "$W/log"'
# the same size, one byte changed
A create --name later2 --user root >/dev/null 2>&1
A publish "$W/www/fleet" >/dev/null 2>&1
g=$(sed -n 's/^generation //p' "$W/www/fleet/latest")
dname=$(ls "$W/www/fleet" | grep "^delta-$((g - 1))-$g\.bundle$")
python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$W/www/fleet/$dname"
pull
check "a delta with one byte changed is refused; the full bundle is installed" \
	eval '[[ $RC == 0 ]] && grep -q "/fleet/$dname 200" "$W/log" && grep -q "^GET /fleet/full-$g.bundle 200" "$W/log" && grep -q "none of the files the pointer names" "$W/err"'

# A bad pointer must not stick: served once with the same validators
# (mtime and size, so the same ETag and Last-Modified) as the good one
# that replaces it, a host that kept it would be answered 304 ever after
# and fail on its bad copy until the authority published again.
serve_bad_pointer() { # serve_bad_pointer HOW: latest replaced, good.latest kept
	cp -p "$W/www/fleet/latest" "$W/good.latest"
	python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[len(b)//2]^=1; open(p,"wb").write(b)' "$W/www/fleet/latest"
	touch -r "$W/good.latest" "$W/www/fleet/latest"
}
tok3=$(A create --name later3 --user root 2>/dev/null)
A publish "$W/www/fleet" >/dev/null 2>&1
serve_bad_pointer
pull
check "a corrupted pointer (200): the pull fails, nothing installed" \
	eval '[[ $RC != 0 ]] && grep -q "^GET /fleet/latest 200 " "$W/log" && [[ $(wc -l <"$W/log") == 1 ]] && ! verify "$tok3"'
check "... and neither it nor its ETag is kept" \
	eval '[[ ! -e $W/host/pull/latest && ! -e $W/host/pull/latest.etag ]]'
cp -p "$W/good.latest" "$W/www/fleet/latest"
pull
check "the good pointer back (same ETag): the next pull fetches it whole and succeeds, no republish" \
	eval '[[ $RC == 0 ]] && grep -q "^GET /fleet/latest 200 " "$W/log" && verify "$tok3"'
# Cut short: a server (a broken proxy, here a one-shot Python one on
# 127.0.0.1) sends nginx's validators, the full Content-Length and half
# the body. curl's %{http_code} still says 200 (curl exits 18).
tok4=$(A create --name later4 --user root 2>/dev/null)
A publish "$W/www/fleet" >/dev/null 2>&1
hdrs=$(curl -sI "$base/latest")
cut_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 - "$cut_port" "$W/www/fleet/latest" "$hdrs" >"$W/cut.log" 2>&1 <<'PY' &
import socket, sys
port, path, hdrs = int(sys.argv[1]), sys.argv[2], sys.argv[3]
keep = [l for l in hdrs.splitlines() if l.lower().startswith(("etag:", "last-modified:"))]
body = open(path, "rb").read()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port)); s.listen(1)
while True:  # the readiness probe connects and sends nothing
    c, _ = s.accept()
    if c.recv(65536):
        break
    c.close()
head = "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n\r\n" % (len(body), "\r\n".join(keep))
c.sendall(head.encode() + body[: len(body) // 2]); c.close()
PY
cut_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$cut_port") 2>/dev/null && break; sleep 0.1; done
TOKENADM=$W/tokenadm-host PULL_STATE_DIR=$W/host/pull \
	"$PULL" "http://127.0.0.1:$cut_port/fleet" >"$W/out" 2>"$W/err"
RC=$?
wait "$cut_pid"
check "a pointer cut short (200, curl exit 18): the pull fails, nothing kept" \
	eval '[[ $RC != 0 ]] && grep -q "curl exit 18" "$W/err" && [[ ! -e $W/host/pull/latest && ! -e $W/host/pull/latest.etag ]] && ! verify "$tok4"'
pull
check "the next pull fetches the pointer whole and succeeds, no republish" \
	eval '[[ $RC == 0 ]] && grep -q "^GET /fleet/latest 200 " "$W/log" && verify "$tok4"'
g=$(sed -n 's/^generation //p' "$W/www/fleet/latest")

# A host set up with a bundle's URL (before publish): still works, and
# says what to change.
cp "$W/www/fleet/full-$g.bundle" "$W/www/bundle"
chmod 644 "$W/www/bundle"
base=http://127.0.0.1:$port/bundle
pull
check "a bundle's URL: still works (nothing new), and says to publish a directory" \
	eval '[[ $RC == 0 ]] && grep -q "tokenadm publish" "$W/err"'

echo "$((n - fails)) passed, $fails failed"
[[ $fails == 0 ]]
