#!/bin/bash
# Delta bundles against full bundles (BENCHMARKS.md, "Fleet: one revocation
# as a delta"):
#  1. a 1,000,000-token authority and one import-only host: the size of one
#     revocation's delta and of the full bundle; the host's import time of
#     each, beside `tokenadm revoke` on the host (the store's one-write
#     floor: copy, fsync, rename);
#  2. a simulated fleet: 1,000 hosts, each a directory with its own config
#     and a 10,000-token store, all at the same generation; one revocation
#     on the authority, then every host applies it, once as a delta and
#     once (from the same starting point) as the full bundle: total bytes
#     and wall time, hosts one after another (the machine has 2 cores).
#
# usage: bench/delta.sh BUILD_DIR [TOKENS [HOSTS [HOST_TOKENS]]]
# Needs about 3 GB in $TMPDIR (1,000 copies of a 2.5 MB store, the 1M store
# and its bundle). Prints Markdown rows.
set -u
export LC_ALL=C
B=$(realpath "${1:?usage: bench/delta.sh BUILD_DIR [TOKENS [HOSTS [HOST_TOKENS]]]}")
N=${2:-1000000} HOSTS=${3:-1000} HN=${4:-10000}
T=$B/tokenadm/tokenadm BS=$B/bench/build_store
W=$(mktemp -d "${TMPDIR:-/tmp}/bench_delta.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
chmod 755 "$W"

mk() { # mk DIR: a config for a host or authority in DIR
	mkdir -p -m 755 "$1"
	printf 'db = %s\nkey = %s\nsigning_key = %s\n' "$1/store/tokens.db" \
		"$1/keys/site.key" "$1/keys/signing.key" >"$1/conf"
}
now() { date +%s.%N; }
secs() { python3 -c "print('%.3f' % ($2 - $1))"; }
id_of() { sed -n 's/^[a-z0-9]*_\([0-9A-Za-z]\{12\}\)_.*/\1/p' <<<"$1"; }
gen() { "$T" --config "$1/conf" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# ---- 1. one host, N tokens
A=$W/auth H=$W/host
mk "$A"; mk "$H"
"$T" --config "$A/conf" init --signing >/dev/null 2>&1 || exit 1
t0=$(now)
"$BS" --config "$A/conf" --user root --count "$N" --known 40 \
	--tokens-out "$W/tokens" >/dev/null || exit 1
echo "# built $N tokens in $(secs "$t0" "$(now)") s"
mapfile -t valid < <(sed -n 's/^valid //p' "$W/tokens")
"$T" --config "$A/conf" revoke "$(id_of "${valid[0]}")" >/dev/null 2>&1
"$T" --config "$H/conf" init --import-only --site-key "$A/keys/site.key" \
	--trusted-key "$A/keys/signing.key.pub" >/dev/null 2>&1 || exit 1
t0=$(now); "$T" --config "$A/conf" export --out "$W/full" 2>/dev/null || exit 1
t_export=$(secs "$t0" "$(now)")
t0=$(now); "$T" --config "$H/conf" import "$W/full" 2>/dev/null || exit 1
t_full=$(secs "$t0" "$(now)")
full_size=$(stat -c %s "$W/full")
: >"$W/d_import" ; : >"$W/d_export"; : >"$W/floor"; : >"$W/full_again"
for i in 1 2 3 4 5; do
	"$T" --config "$A/conf" revoke "$(id_of "${valid[$i]}")" >/dev/null 2>&1
	g=$(gen "$H")
	t0=$(now); "$T" --config "$A/conf" export --since "$g" --out "$W/delta.$i" 2>/dev/null || exit 1
	secs "$t0" "$(now)" >>"$W/d_export"
	t0=$(now); "$T" --config "$H/conf" import "$W/delta.$i" 2>/dev/null || exit 1
	secs "$t0" "$(now)" >>"$W/d_import"
	# The floor: one write of the same store on the same host.
	t0=$(now); "$T" --config "$H/conf" disable "$(id_of "${valid[$((10 + i))]}")" >/dev/null 2>&1 || exit 1
	secs "$t0" "$(now)" >>"$W/floor"
done
delta_size=$(stat -c %s "$W/delta.1")
echo "| $N tokens | full bundle | delta (one revocation) |"
echo "|---|--:|--:|"
echo "| size, bytes | $full_size | $delta_size |"
echo "| export on the authority, s | $t_export | $(median <"$W/d_export") (median of 5) |"
echo "| import on the host, s | $t_full | $(median <"$W/d_import") (median of 5; min $(sort -n "$W/d_import" | head -1)) |"
echo "| the host's one-write floor (tokenadm disable), s | | $(median <"$W/floor") (median of 5) |"
rm -rf "$A" "$H" "$W/full" "$W"/delta.*

# ---- 2. a fleet of HOSTS hosts of HN tokens
A=$W/fauth
mk "$A"
"$T" --config "$A/conf" init --signing >/dev/null 2>&1 || exit 1
"$BS" --config "$A/conf" --user root --count "$HN" --known 4 \
	--tokens-out "$W/ftokens" >/dev/null || exit 1
mapfile -t valid < <(sed -n 's/^valid //p' "$W/ftokens")
"$T" --config "$A/conf" revoke "$(id_of "${valid[0]}")" >/dev/null 2>&1
"$T" --config "$A/conf" export --out "$W/ffull0" 2>/dev/null || exit 1
mk "$W/h0"
"$T" --config "$W/h0/conf" init --import-only --site-key "$A/keys/site.key" \
	--trusted-key "$A/keys/signing.key.pub" >/dev/null 2>&1 &&
	"$T" --config "$W/h0/conf" import "$W/ffull0" 2>/dev/null || exit 1
g0=$(gen "$W/h0")
# Every host: its own directory, config and store, at generation g0.
for ((h = 1; h < HOSTS; h++)); do
	cp -a "$W/h0" "$W/h$h"
	sed -i "s|$W/h0/|$W/h$h/|g" "$W/h$h/conf"
done
mkdir "$W/fleet_snap"; cp -a "$W"/h[0-9]* "$W/fleet_snap/" 2>/dev/null
"$T" --config "$A/conf" revoke "$(id_of "${valid[1]}")" >/dev/null 2>&1
"$T" --config "$A/conf" export --since "$g0" --out "$W/fdelta" 2>/dev/null || exit 1
"$T" --config "$A/conf" export --out "$W/ffull" 2>/dev/null || exit 1
ds=$(stat -c %s "$W/fdelta") fs=$(stat -c %s "$W/ffull")
sync
t0=$(now)
for ((h = 0; h < HOSTS; h++)); do
	"$T" --config "$W/h$h/conf" import "$W/fdelta" 2>/dev/null || echo "# host $h refused the delta"
done
t_delta=$(secs "$t0" "$(now)")
# The same hosts back at g0, then the full bundle.
for ((h = 0; h < HOSTS; h++)); do rm -rf "$W/h$h"; done
mv "$W"/fleet_snap/* "$W/"
sync
t0=$(now)
for ((h = 0; h < HOSTS; h++)); do
	"$T" --config "$W/h$h/conf" import "$W/ffull" 2>/dev/null || echo "# host $h refused the full bundle"
done
t_fullf=$(secs "$t0" "$(now)")
echo
echo "| $HOSTS hosts of $HN tokens, one revocation | full bundle | delta |"
echo "|---|--:|--:|"
echo "| bytes per host | $fs | $ds |"
echo "| bytes, whole fleet | $((fs * HOSTS)) | $((ds * HOSTS)) |"
echo "| wall time, every host's import one after another, s | $t_fullf | $t_delta |"
