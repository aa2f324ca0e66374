#!/bin/bash
# A pull of the full 1,000,000-token bundle through the shipped script
# (BENCHMARKS.md, "Pull of the full 1,000,000-token bundle"): an authority
# store built by bench/build_store, `tokenadm publish DIR`, DIR served by a
# private nginx on 127.0.0.1, and contrib/ansible/pull/pam-apitoken-pull
# BASEURL on a fresh import-only host (set up as tests/live/pull.sh does).
# Then a second pull with nothing new. Prints Markdown rows; nginx's access
# log ($status $body_bytes_sent) shows what moved.
#
# usage (as root: nginx runs as www-data): bench/pull_1m.sh BUILD_DIR [TOKENS]
# Needs about 1 GB in $TMPDIR (the store, the published full bundle, the
# host's copy of the bundle and its store). Everything is removed at exit.
set -u
export LC_ALL=C
B=$(realpath "${1:?usage: bench/pull_1m.sh BUILD_DIR [TOKENS]}")
N=${2:-1000000}
T=$B/tokenadm/tokenadm BS=$B/bench/build_store
here=$(cd "$(dirname "$0")" && pwd)
PULL=$here/../contrib/ansible/pull/pam-apitoken-pull
NGINX=/usr/sbin/nginx
[[ $(id -u) == 0 ]] || { echo "needs root (nginx as www-data)" >&2; exit 77; }
[[ -x $NGINX ]] || { echo "nginx not installed" >&2; exit 77; }
W=$(mktemp -d "${TMPDIR:-/tmp}/bench_pull.XXXXXX") || exit 1
chmod 755 "$W"
cleanup() {
	local pid
	pid=$(cat "$W/nginx.pid" 2>/dev/null) && [[ -n $pid ]] && kill "$pid" 2>/dev/null
	for _ in $(seq 50); do [[ -n ${pid:-} ]] && kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	rm -rf "$W"
}
trap cleanup EXIT
now() { date +%s.%N; }
secs() { python3 -c "print('%.2f' % ($2 - $1))"; }
gen() { "$T" --config "$1/conf" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }

for h in auth host; do
	mkdir -m 755 "$W/$h"
	printf 'db = %s\nkey = %s\nsigning_key = %s\n' "$W/$h/store/tokens.db" \
		"$W/$h/keys/site.key" "$W/$h/keys/signing.key" >"$W/$h/conf"
done
A() { "$T" --config "$W/auth/conf" "$@"; }
A init --signing >/dev/null 2>&1 || exit 1
t0=$(now)
"$BS" --config "$W/auth/conf" --user root --count "$N" --known 4 \
	--tokens-out "$W/tokens" >/dev/null || exit 1
echo "# built $N tokens in $(secs "$t0" "$(now)") s"
tok=$(sed -n 's/^valid //p' "$W/tokens" | head -1)
"$T" --config "$W/host/conf" init --import-only --site-key "$W/auth/keys/site.key" \
	--trusted-key "$W/auth/keys/signing.key.pub" >/dev/null 2>&1 || exit 1

mkdir -p "$W/www/fleet" "$W/tmp"
chmod 755 "$W/www"
chgrp www-data "$W/www/fleet" && chmod 750 "$W/www/fleet"
t0=$(now)
A publish "$W/www/fleet" >/dev/null 2>"$W/err" || { cat "$W/err"; exit 1; }
t_publish=$(secs "$t0" "$(now)")
agen=$(gen "$W/auth")
full=$W/www/fleet/full-$agen.bundle
[[ -f $full ]] || { echo "no $full" >&2; exit 1; }
full_size=$(stat -c %s "$full")
latest_size=$(stat -c %s "$W/www/fleet/latest")

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
"$NGINX" -c "$W/nginx.conf" -p "$W" || exit 1
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
base=http://127.0.0.1:$port/fleet
printf '#!/bin/sh\nexec "%s" --config "%s" "$@"\n' "$T" "$W/host/conf" >"$W/tokenadm-host"
chmod 755 "$W/tokenadm-host"
: >"$W/access.log"

pull() { # pull NAME: exit status in $RC, wall time in $SECS, its log lines in $W/log.NAME
	local before t0
	before=$(wc -l <"$W/access.log")
	t0=$(now)
	TOKENADM=$W/tokenadm-host PULL_STATE_DIR=$W/host/pull \
		"$PULL" "$base" >"$W/out.$1" 2>"$W/err.$1"
	RC=$?
	SECS=$(secs "$t0" "$(now)")
	# nginx logs a request after its response: wait for a marker.
	local mark=/mark-$RANDOM$RANDOM
	curl -s -o /dev/null "http://127.0.0.1:$port$mark"
	for _ in $(seq 50); do grep -q " $mark " "$W/access.log" && break; sleep 0.1; done
	tail -n +$((before + 1)) "$W/access.log" | grep -v " $mark " >"$W/log.$1"
}
bytes() { awk '{s += $4} END {print s + 0}' "$1"; }

pull first
rc1=$RC t1=$SECS
hgen=$(gen "$W/host")
if echo "$tok" | "$T" --config "$W/host/conf" verify --user root >/dev/null 2>&1; then
	verified=yes; else verified=no; fi
pull second
rc2=$RC t2=$SECS

echo "# first pull:"; sed 's/^/#   /' "$W/log.first"; sed 's/^/#   stderr: /' "$W/err.first"
echo "# second pull:"; sed 's/^/#   /' "$W/log.second"; sed 's/^/#   stderr: /' "$W/err.second"
echo "| $N tokens, pull through nginx on 127.0.0.1 | first pull (fresh host) | second pull (nothing new) |"
echo "|---|--:|--:|"
echo "| exit status of pam-apitoken-pull | $rc1 | $rc2 |"
echo "| requests (status) | $(awk '{printf "%s%s %s", (NR>1?", ":""), $2, $3}' "$W/log.first") | $(awk '{printf "%s%s %s", (NR>1?", ":""), $2, $3}' "$W/log.second") |"
echo "| body bytes served | $(bytes "$W/log.first") | $(bytes "$W/log.second") |"
echo "| wall time, s | $t1 | $t2 |"
echo
echo "Full bundle: $full_size bytes; pointer: $latest_size bytes; publish: $t_publish s."
echo "Host generation after the first pull: $hgen (authority: $agen); a token verifies on the host: $verified."
ok=1
[[ $rc1 == 0 && $rc2 == 0 && $hgen == "$agen" && $verified == yes ]] || ok=0
grep -q "^GET /fleet/full-$agen.bundle 200 $full_size$" "$W/log.first" || ok=0
[[ $(cat "$W/log.second") == "GET /fleet/latest 304 0" ]] || ok=0
[[ $ok == 1 ]] && echo "RESULT: ok" || { echo "RESULT: FAILED"; exit 1; }
