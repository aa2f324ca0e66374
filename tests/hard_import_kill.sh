#!/bin/bash
# kill -9 of `tokenadm import` at random moments while logins run through
# the module: no login ever gets a wrong answer, and after every kill the
# host's store is the old bundle's or the new one's, whole (its generation
# is one of the two and every record reads).
#
# The authority holds a few thousand tokens (bench/build_store, the same
# records tokenadm writes); before each import it revokes one more token
# and exports, so every bundle is newer than the last. Tokens valid in
# every bundle must always log in; tokens revoked before the run must
# never; the one revoked by the bundle being imported may go either way.
# Needs root (a PAM service file for pamtester) and pamtester.
# With IMPORT_DELTA=1 each round pushes the delta from the host's own
# generation instead (tokenadm export --since): the store is then a copy
# of the live one with a few records changed, and the same must hold.
#
# env: TOKENADM, PAM_APITOKEN_SO, BUILD_STORE, IMPORT_DELTA
set -u
export LC_ALL=C
[[ $(id -u) == 0 ]] || { echo "SKIP: needs root (a PAM service for pamtester)"; exit 77; }
command -v pamtester >/dev/null || { echo "SKIP: no pamtester"; exit 77; }
[[ -z ${PTK_SANITIZED:-} ]] || { echo "SKIP: sanitizer build (pamtester cannot load the module)"; exit 77; }
T=${TOKENADM:?} SO=${PAM_APITOKEN_SO:?} BS=${BUILD_STORE:?}
KILLS=${IMPORT_KILLS:-30}

W=$(mktemp -d /tmp/ptk-impkill.XXXXXX) || exit 1
SVC=ptk-impkill-$$
cleanup() {
	[[ -n ${LOGINS:-} ]] && kill "$LOGINS" 2>/dev/null
	wait 2>/dev/null
	rm -f "/etc/pam.d/$SVC"
	rm -rf "$W"
}
trap cleanup EXIT
chmod 755 "$W"
. "$(dirname "$0")/fleet_common.sh"
mkhost auth
mkhost host
A() { "$T" --config "$W/auth/conf" "$@"; }
H() { "$T" --config "$W/host/conf" "$@"; }
A init --signing >/dev/null 2>&1 || { nok "authority init"; exit 1; }
"$BS" --config "$W/auth/conf" --user root --count 3000 --known 200 \
	--tokens-out "$W/tokens" >/dev/null 2>&1 || { nok "build_store"; exit 1; }
mapfile -t valid < <(sed -n 's/^valid //p' "$W/tokens")
# always: valid in every bundle; dead: revoked before the run; the rest
# are revoked one per round.
always=${valid[0]} dead=${valid[1]}
A revoke "$(id_of "$dead")" >/dev/null 2>&1
H init --import-only --site-key "$W/auth/keys/site.key" \
	--trusted-key "$W/auth/keys/signing.key.pub" >/dev/null 2>&1 &&
	A export --out "$W/b" >/dev/null 2>&1 && H import "$W/b" >/dev/null 2>&1 ||
	{ nok "host set-up and first import"; exit 1; }
ok "a 3000-token store exported and imported"

echo "auth required $SO conf=$W/host/conf" >"/etc/pam.d/$SVC"
: >"$W/wrong"
login() { pamtester "$SVC" root authenticate <<<"$1" >/dev/null 2>&1; }
( while :; do
	login "$always" || echo "refused the always-valid token" >>"$W/wrong"
	login "$dead" && echo "accepted the token revoked before the run" >>"$W/wrong"
done ) &
LOGINS=$!

# The next bundle to import: the full one, or the delta from the host's
# generation.
push() {
	if [[ -n ${IMPORT_DELTA:-} ]]; then
		A export --since "$(gen)" --out "$W/b" >/dev/null 2>&1
	else
		A export --out "$W/b" >/dev/null 2>&1
	fi
}
gen() { H status --json 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }
# How long an import takes here, to spread the kills over all of it.
A revoke "$(id_of "${valid[2]}")" >/dev/null 2>&1; push
[[ -z ${IMPORT_DELTA:-} ]] || grep -q '^base ' "$W/b" || nok "the pushes are deltas"
t0=$(date +%s%N); H import "$W/b" >/dev/null 2>&1; t1=$(date +%s%N)
dur_us=$(( (t1 - t0) / 1000 ))
echo "# one import takes ${dur_us} us"

killed=0 finished=0 bad_state=0 went_new=0
for ((i = 0; i < KILLS; i++)); do
	tok=${valid[3 + i]}
	A revoke "$(id_of "$tok")" >/dev/null 2>&1
	push
	old=$(gen)
	new=$(sed -n 's/^generation //p' "$W/b")
	# Up to 1.5 times an import's time: kills before, during and after
	# the commit point.
	delay=$(( RANDOM * dur_us * 3 / 2 / 32768 ))
	H import "$W/b" >/dev/null 2>&1 &
	pid=$!
	sleep "$(printf '0.%06d' "$delay")"
	if kill -9 $pid 2>/dev/null; then killed=$((killed + 1)); fi
	wait $pid 2>/dev/null && finished=$((finished + 1))
	now=$(gen)
	[[ $now == "$new" ]] && went_new=$((went_new + 1))
	if [[ $now != "$old" && $now != "$new" ]]; then
		bad_state=$((bad_state + 1))
		echo "# round $i: generation $now, neither $old nor $new"
	fi
	if ! H list --json >/dev/null 2>"$W/err" || [[ -s $W/err ]]; then
		bad_state=$((bad_state + 1))
		echo "# round $i: the store does not read cleanly: $(head -1 "$W/err")"
	fi
	# What the store says about this round's token matches its generation.
	if [[ $now == "$new" ]] && login "$tok"; then
		bad_state=$((bad_state + 1))
		echo "# round $i: generation $new installed but its revocation not"
	fi
done
kill "$LOGINS" 2>/dev/null; wait "$LOGINS" 2>/dev/null; LOGINS=
echo "# $KILLS rounds: $killed kill(s) landed, $finished import(s) finished, $went_new installed the new bundle"
[[ $killed -ge $((KILLS / 5)) ]] && ok "kills landed during imports ($killed of $KILLS)" ||
	nok "too few kills landed during imports ($killed of $KILLS)"
[[ $bad_state == 0 ]] && ok "after every kill the store is the old bundle's or the new one's" ||
	nok "$bad_state round(s) left a mixed or unreadable store"
[[ ! -s $W/wrong ]] && ok "no login got a wrong answer during the imports" ||
	nok "wrong answers: $(sort "$W/wrong" | uniq -c | tr '\n' ';')"
A export --out "$W/b" >/dev/null 2>&1
H import --allow-same "$W/b" >/dev/null 2>&1 &&
	[[ -z $(find "$W/host/store" -name 'tokens.db.tmp.*') ]] &&
	ok "the next import succeeds and leaves no debris of the killed ones" ||
	nok "debris after the next import: $(find "$W/host/store" -name 'tokens.db.tmp.*')"

echo "$((n - fails)) passed, $fails failed"
[[ $fails == 0 ]]
