#!/bin/bash
# Delta bundles through tokenadm as real processes (pam_apitoken-bundle(5),
# tokenadm(8) export --since):
#
# 1. A property test: a random sequence of create, revoke, rotate,
#    disable, enable and prune on an authority (and, now and then, the
#    same emergency revoke on both hosts); after each step host D applies
#    deltas (one at a time, a chain of saved ones, or one spanning several
#    generations, and the full bundle when its generation fell out of the
#    window) and host F imports the full bundle. Both must then list the
#    same records and give the same answer for every token ever minted,
#    through the module under real PAM (libpam's pam_start_confdir).
# 2. Refusals, each with its reason and the store byte for byte unchanged:
#    a delta on the wrong base, a gap in a chain, a replayed delta, every
#    single tampered byte of a delta, a delta for another prefix, a delta
#    to a host that has no full bundle, a newer format version.
# 3. export --since outside the window: exit 1 and a message that says to
#    fall back to the full bundle.
#
# env: TOKENADM, PAM_APITOKEN_SO and PAM_ANSWERS (tests/pam_answers.c: the
# module under libpam's pam_start_confdir, no root needed), DELTA_SEED,
# DELTA_STEPS
set -u
export LC_ALL=C

T=${TOKENADM:?set TOKENADM to the tokenadm binary}
SO=$(realpath "${PAM_APITOKEN_SO:?}") PA=${PAM_ANSWERS:?}
STEPS=${DELTA_STEPS:-30}
SEED=${DELTA_SEED:-$(( $(date +%s) % 100000 ))}
RANDOM=$SEED
echo "# seed $SEED (DELTA_SEED=$SEED reruns this sequence)"
W=$(mktemp -d "${TMPDIR:-/tmp}/test_delta.XXXXXX") || exit 1
SVC=ptk-delta-$$
cleanup() { [[ -n ${KEEP:-} ]] || rm -rf "$W"; }
trap cleanup EXIT
chmod 755 "$W"

. "$(dirname "$0")/fleet_common.sh"
ME=$(id -un)
gen_of() { "$T" --config "$W/$1/conf" status --json 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }
sum_of() { sha256sum <"$W/$1/store/tokens.db"; }

# The authority keeps deltas for 6 generations, so the random walk also
# falls out of the window and back to the full bundle.
mkhost auth "delta_window = 6"
on auth init --signing || { nok "authority init: $(cat "$W/err")"; exit 1; }
# Another authority: same site key, its own prefix and signing key (which
# the hosts also trust): a validly signed delta for another prefix.
mkhost other "prefix = oth
delta_window = 6"
mkdir -m 700 "$W/other/keys"
cp "$W/auth/keys/site.key" "$W/other/keys/site.key"
on other init --signing || { nok "other authority init: $(cat "$W/err")"; exit 1; }
for h in D F; do
	mkhost "$h"
	on "$h" init --import-only --site-key "$W/auth/keys/site.key" \
		--trusted-key "$W/auth/keys/signing.key.pub" ||
		{ nok "host $h init: $(cat "$W/err")"; exit 1; }
	echo "trusted_key = $W/other/keys/signing.key.pub" >>"$W/$h/conf"
done

# A PAM service per host, in a private folder (pam_start_confdir; libpam
# lowercases service names).
[[ -n ${PTK_SANITIZED:-} ]] && { echo "SKIP: sanitizer build (libpam cannot load the module)"; exit 77; }
mkdir "$W/pam.d"
for h in D F; do
	printf 'auth required %s conf=%s\naccount required %s conf=%s\n' \
		"$SO" "$W/$h/conf" "$SO" "$W/$h/conf" >"$W/pam.d/$SVC-${h,,}"
done
# answers HOST: one line per token of $W/tokens: the module's verdict
# (auth then account).
answers() { "$PA" "$W/pam.d" "$SVC-${1,,}" "$ME" <"$W/tokens" 2>/dev/null; }
answer() { printf '%s\n' "$2" >"$W/tokens"; answers "$1"; }

tokens=()   # every token text ever printed
local_revoked=()
full_import() { # full_import HOST
	"$T" --config "$W/auth/conf" export --out "$W/full" >/dev/null 2>"$W/err" &&
		"$T" --config "$W/$1/conf" import --allow-same "$W/full" >/dev/null 2>>"$W/err"
}
delta_from() { # delta_from SINCE FILE: 0, or export's exit status
	"$T" --config "$W/auth/conf" export --since "$1" --out "$2" >/dev/null 2>"$W/err"
}

# The first full bundle for both.
on auth create --name first --user "$ME"; tokens+=("$(<"$W/out")")
full_import D && full_import F || nok "first full import: $(cat "$W/err")"

pending=()       # deltas host D saved but has not applied (a chain)
accepted=0 auth_err=0 modes="" mismatches=0 stale_fallbacks=0 applied=0 chains=0 spans=0
pick_id() { # a random id from the authority's store (any state)
	"$T" --config "$W/auth/conf" list --all --json 2>/dev/null |
		python3 -c 'import json,sys,random; random.seed(int(sys.argv[1])); l=json.load(sys.stdin); print(random.choice(l)["id"] if l else "")' "$RANDOM"
}
for ((step = 1; step <= STEPS; step++)); do
	before=$(gen_of auth)
	op=$((RANDOM % 9))
	id=$(pick_id)
	case $op in
	0|1) on auth create --name "t$step" --user "$ME" --expires "$(( RANDOM % 2 ? 30 : 3650 ))d"
	     tokens+=("$(<"$W/out")"); what="create" ;;
	2) on auth revoke "$id"; what="revoke $id" ;;
	3) on auth rotate "$id" $([[ $((RANDOM % 2)) == 1 ]] && echo --grace 1h)
	   [[ $RC == 0 ]] && tokens+=("$(<"$W/out")"); what="rotate $id" ;;
	4) on auth disable "$id"; what="disable $id" ;;
	5) on auth enable "$id"; what="enable $id" ;;
	6) on auth prune; what="prune" ;;
	7) # an emergency revoke on both hosts, which no import may undo
	   # (of a token both have: D may be behind)
	   what="disable $id"
	   if "$T" --config "$W/D/conf" show "$id" >/dev/null 2>&1 &&
		"$T" --config "$W/F/conf" show "$id" >/dev/null 2>&1; then
		on D revoke "$id"; on F revoke "$id"; local_revoked+=("$id")
		what="local revoke $id, disable+enable on the authority"
	   fi
	   on auth disable "$id"; on auth enable "$id" ;;
	8) on auth disable "$id"; on auth enable "$id"; what="disable+enable $id" ;;
	esac
	now=$(gen_of auth)
	# Host D: apply now (one delta from its generation), save this step's
	# single-generation delta for a later chain, or wait.
	hd=$(gen_of D)
	if [[ $now != "$before" ]] && delta_from "$before" "$W/d.$step"; then
		pending+=("$W/d.$step")
	fi
	choice=$((RANDOM % 4))
	# Back from the absence: from its own generation, out of the window.
	[[ $step == $((STEPS / 2 + 8)) ]] && { choice=3; pending=(); }
	# Half way, D is away for 8 steps: more than the window.
	if [[ $step -ge $((STEPS / 2)) && $step -lt $((STEPS / 2 + 8)) ]] ||
		[[ $choice == 0 && $step != "$STEPS" ]]; then
		modes+=w # wait: D falls behind
	elif [[ $choice -le 1 && ${#pending[@]} -gt 1 ]]; then
		# the saved chain, in order, each delta from the last one's end
		chain_ok=1
		for f in "${pending[@]}"; do
			b=$(sed -n 's/^base //p' "$f")
			[[ $b -lt $(gen_of D) ]] && continue
			"$T" --config "$W/D/conf" import "$f" >/dev/null 2>"$W/err" || chain_ok=0
		done
		if [[ $chain_ok == 1 ]]; then chains=$((chains + 1)); modes+=c
		else
			# the chain's first link fell out: only the full bundle helps
			full_import D; stale_fallbacks=$((stale_fallbacks + 1)); modes+=f
		fi
		pending=()
	elif [[ $hd == "$now" ]]; then
		modes+=-; pending=()
	elif delta_from "$hd" "$W/span"; then
		"$T" --config "$W/D/conf" import "$W/span" >/dev/null 2>"$W/err" ||
			nok "step $step: D refused the delta from its own generation $hd: $(cat "$W/err")"
		[[ $((now - hd)) -gt 1 ]] && spans=$((spans + 1))
		applied=$((applied + 1)); modes+=d; pending=()
	else
		# exit 1 and a message that says what to do: the full bundle
		rc=$?
		if [[ $rc == 1 ]] && grep -q "export the full bundle" "$W/err"; then
			stale_fallbacks=$((stale_fallbacks + 1))
		else
			nok "step $step: export --since $hd failed oddly ($rc): $(cat "$W/err")"
		fi
		full_import D; modes+=f; pending=()
	fi
	full_import F || nok "step $step: full import: $(cat "$W/err")"
	[[ ${modes: -1} == w ]] && continue
	# Compare: the same records (list --json minus what is host-local)...
	for h in D F; do
		"$T" --config "$W/$h/conf" list --all --json 2>/dev/null |
			python3 -c 'import json,sys
l=json.load(sys.stdin)
for r in l: r.pop("last_used",None); r.pop("last_rhost",None)
print(json.dumps(sorted(l,key=lambda r:r["id"]),sort_keys=True))' >"$W/list.$h"
	done
	if ! cmp -s "$W/list.D" "$W/list.F" || [[ $(gen_of D) != "$(gen_of F)" ]]; then
		mismatches=$((mismatches + 1))
		echo "# step $step ($what): D and F differ (generations $(gen_of D) $(gen_of F))"
		diff "$W/list.D" "$W/list.F" | head -3 | sed 's/^/#   /'
	fi
	# ...and the same answer for every token.
	printf '%s\n' "${tokens[@]}" >"$W/tokens"
	answers D >"$W/ans.D"; answers F >"$W/ans.F"
	accepted=$((accepted + $(grep -c '^accepted$' "$W/ans.D")))
	auth_err=$((auth_err + $(grep -c '^PAM_AUTH_ERR$' "$W/ans.D")))
	if ! cmp -s "$W/ans.D" "$W/ans.F"; then
		mismatches=$((mismatches + 1))
		echo "# step $step ($what): the hosts answer differently:"
		paste -d'|' "$W/tokens" "$W/ans.D" "$W/ans.F" | awk -F'|' '$2 != $3' |
			head -3 | sed 's/^[a-z0-9]*_\([0-9A-Za-z]\{12\}\)_[^|]*/#   \1/'
	fi
	for lr in "${local_revoked[@]}"; do
		if paste -d'|' "$W/tokens" "$W/ans.D" | grep -q "_${lr}_.*|accepted"; then
			mismatches=$((mismatches + 1))
			echo "# step $step: locally revoked $lr accepted on D"
		fi
	done
done
echo "# steps: $modes (d delta, c chain, f full, w wait, - nothing new)"
check "after each of $STEPS random steps the delta host and the full-bundle host agree (records, generation, every token's answer through PAM)" \
	[ "$mismatches" == 0 ]
check "the module did answer: logins accepted ($accepted) and refused with PAM_AUTH_ERR ($auth_err), nothing else" \
	eval '[[ $accepted -gt 0 && $auth_err -gt 0 ]] && ! grep -qv "^accepted$\|^PAM_AUTH_ERR$\|^PAM_ACCT_EXPIRED$" "$W/ans.D"'
check "the walk applied single deltas ($applied), spans of several generations ($spans) and chains ($chains)" \
	[ "$applied" -gt 0 ]
check "it also fell out of the 6-generation window and back to the full bundle ($stale_fallbacks)" \
	[ "$stale_fallbacks" -gt 0 ]

# --- refusals: each with its reason, the store byte for byte unchanged
full_import D || nok "resync: $(cat "$W/err")"
g0=$(gen_of D)
on auth create --name r1 --user "$ME"; r1=$(<"$W/out")
delta_from "$g0" "$W/d1" || nok "export --since $g0: $(cat "$W/err")"
g1=$(gen_of auth)
on auth revoke "$(id_of "$r1")"
delta_from "$g1" "$W/d2" || nok "export --since $g1"
g2=$(gen_of auth)

refused() { # refused DESCRIPTION FILE WANT-IN-STDERR
	local before after
	before=$(sum_of D)
	on D import "$2"
	after=$(sum_of D)
	if [[ $RC == 1 ]] && err_has "$3" && [[ $before == "$after" ]] &&
		[[ $(grep -c . "$W/err") == 1 ]]; then
		ok "$1: refused ($(cat "$W/err")), store unchanged"
	else
		nok "$1: rc $RC, store $([[ $before == "$after" ]] && echo unchanged || echo CHANGED), want '$3'"
	fi
}
refused "a gap in the chain (delta $g1 -> $g2 on a host at $g0)" "$W/d2" \
	"refused: delta from generation $g1 to $g2 does not apply: this host has generation $g0"
on D import "$W/d1"
check "the chain's first link applies (exit 0)" rc_is 0
refused "a replayed delta ($g0 -> $g1 on a host at $g1)" "$W/d1" \
	"this host has generation $g1"
on D import "$W/d2"
check "then the second link (exit 0)" rc_is 0
answer D "$r1" >"$W/out"
check "which carries the revocation: the token is refused on D ($(<"$W/out"))" \
	eval '[[ $(<"$W/out") == PAM_AUTH_ERR ]]'
refused "a delta on the wrong base (older, $g0 -> $g1, host at $g2)" "$W/d1" \
	"this host has generation $g2"

# Another prefix, signed by a key the host trusts.
og=$(gen_of other)
on other create --name x --user "$ME"
"$T" --config "$W/other/conf" export --since "$og" --out "$W/dother" >/dev/null 2>"$W/err" ||
	nok "export on the other authority: $(cat "$W/err")"
refused "a delta for another prefix" "$W/dother" "bundle for prefix oth, this host's is ptk"

# Newer format: a version this reader does not know, signed validly.
on auth create --name r2 --user "$ME"
delta_from "$g2" "$W/d3" || nok "export --since $g2"
sed '1s/.*/pam_apitoken-bundle 3/;$d' "$W/d3" >"$W/v3.body"
python3 - "$W/auth/keys/signing.key" "$W/v3.body" >"$W/v3" <<'EOF' || nok "signing a version 3 file"
import hashlib, subprocess, sys, base64, tempfile, os
key, body = sys.argv[1], open(sys.argv[2], 'rb').read()
msg = b"pam_apitoken bundle v1 signature\0" + hashlib.sha512(body).digest()
with tempfile.NamedTemporaryFile(delete=False) as f:
    f.write(msg)
sig = subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", f.name],
                     check=True, capture_output=True).stdout
os.unlink(f.name)
der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"],
                     check=True, capture_output=True).stdout
fpr = hashlib.sha256(der[-32:]).hexdigest()
sys.stdout.buffer.write(body + b"signature ed25519 " + fpr.encode() + b" " + base64.b64encode(sig) + b"\n")
EOF
refused "a newer format version" "$W/v3" "upgrade pam_apitoken on this host"

# Every single byte of a delta changed, one at a time (the files made by
# one python, the imports each a tokenadm of their own).
size=$(stat -c %s "$W/d3")
mkdir "$W/flips"
python3 -c 'import sys
b=open(sys.argv[1],"rb").read()
for i in range(len(b)):
    c=bytearray(b); c[i] ^= 0x01 if c[i] != 0x0a else 0x20
    open("%s/%05d" % (sys.argv[2], i),"wb").write(c)' "$W/d3" "$W/flips"
before=$(sum_of D) flips_ok=0 flips_bad=0
for f in "$W"/flips/*; do
	"$T" --config "$W/D/conf" import "$f" >/dev/null 2>"$W/err"
	rc=$?
	if [[ $rc == 1 && $(grep -c . "$W/err") == 1 ]] && grep -q '^tokenadm: refused: ' "$W/err"; then
		flips_ok=$((flips_ok + 1))
	else
		flips_bad=$((flips_bad + 1))
		echo "# byte ${f##*/} changed: rc $rc: $(head -1 "$W/err")"
	fi
	[[ $flips_bad -gt 5 ]] && break
done
check "each of the delta's $size bytes changed: refused with a one-line reason ($flips_ok times)" \
	[ "$flips_bad" == 0 ]
check "and the store is byte for byte as before all $size attempts" \
	[ "$before" == "$(sum_of D)" ]
on D import "$W/d3"
check "the untampered delta then applies" rc_is 0

# A host that never imported a full bundle.
mkhost E
on E init --import-only --site-key "$W/auth/keys/site.key" \
	--trusted-key "$W/auth/keys/signing.key.pub"
before=$(sum_of E)
on E import "$W/d3"
check "a delta to a host with no full bundle: refused, says to import the full bundle first" \
	eval '[[ $RC == 1 ]] && err_has "has imported no full bundle yet (generation 0): import the full bundle first" && [[ $before == $(sum_of E) ]]'

# --- export --since: the window and the edges
cur=$(gen_of auth)
on auth export --since "$cur" --out "$W/x"
check "export --since the current generation: exit 1, nothing to send, no file" \
	eval '[[ $RC == 1 && ! -e $W/x ]] && err_has "is the current one: no delta to write"'
on auth export --since 1 --out "$W/x"
check "export --since a generation outside the window: exit 1, says to fall back" \
	eval '[[ $RC == 1 && ! -e $W/x ]] && err_has "older than the delta window (deltas start at generation $((cur - 6)))" && err_has "export the full bundle"'
on auth export --since "$((cur - 6))" --out "$W/x"
check "export --since the window's oldest generation works" rc_is 0
on auth export --since abc --out "$W/x"
check "export --since abc: usage (exit 2)" rc_is 2
on D export --since 1 --out "$W/x"
check "export --since on an import-only host: exit 3" rc_is 3
# delta_window = 0 keeps no log: no deltas at all.
sed -i 's/^delta_window = 6$/delta_window = 0/' "$W/auth/conf"
on auth create --name w0 --user "$ME"
cur=$(gen_of auth)
on auth export --since "$((cur - 1))" --out "$W/x"
check "delta_window = 0: no log is kept, export --since says so (exit 1)" \
	eval '[[ $RC == 1 ]] && err_has "keeps no delta log"'
sed -i 's/^delta_window = 0$/delta_window = bogus/' "$W/auth/conf"
on auth status
check "delta_window = bogus: a config error naming the line (exit 2)" \
	eval '[[ $RC == 2 ]] && err_has "delta_window"'

echo "$((n - fails)) passed, $fails failed"
[[ $fails == 0 ]]
