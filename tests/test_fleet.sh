#!/bin/bash
# The fleet through tokenadm as a real process: an authority that mints and
# exports signed bundles, import-only hosts that install them, and every
# way a bundle is refused (each leaving the host's store byte for byte as
# it was). Each "host" is a private directory with its own config.
#
# env: TOKENADM, FAKETIME (optional: the too-old case), SYSLOG_SHIM
# (optional: the syslog line of a refusal, as in test_audit.sh)
set -u
export LC_ALL=C

T=${TOKENADM:?set TOKENADM to the tokenadm binary}
W=$(mktemp -d "${TMPDIR:-/tmp}/test_fleet.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
chmod 755 "$W"

. "$(dirname "$0")/fleet_common.sh"
store_sum() { sha256sum <"$W/$1/store/tokens.db"; }
verify_on() { # verify_on HOST TOKEN: sets RC (0 accepted, 1 refused)
	"$T" --config "$W/$1/conf" verify --user "$(id -un)" <<<"$2" >"$W/out" 2>"$W/err"
	RC=$?
}

# --- the authority
mkhost auth
on auth init --signing
check "authority: init --signing" rc_is 0
check "the signing key is 0600, its public half 0644" \
	eval '[[ $(stat -c %a "$W/auth/keys/signing.key") == 600 && $(stat -c %a "$W/auth/keys/signing.key.pub") == 644 ]]'
on auth create --name laptop --user "$(id -un)"
tok1=$(<"$W/out")
on auth create --name ci --user "$(id -un)"
tok2=$(<"$W/out")
on auth export --out "$W/b1"
check "export --out FILE" rc_is 0
check "the bundle file is readable by its owner only (0600)" \
	eval '[[ $(stat -c %a "$W/b1") == 600 ]]'
check "the bundle holds no token secret and no site key" \
	eval '! grep -qF "${tok1##*_}" "$W/b1" && ! grep -qF "${tok2##*_}" "$W/b1" && ! grep -qf <(sed "s/^ptkkey1://" "$W/auth/keys/site.key") "$W/b1"'
check "the bundle is ASCII text, versioned, with a generation and a signature" \
	eval 'LC_ALL=C grep -qv "[^ -~]" "$W/b1" && head -1 "$W/b1" | grep -q "^pam_apitoken-bundle 1$" && grep -q "^generation [0-9]" "$W/b1" && tail -1 "$W/b1" | grep -q "^signature ed25519 "'
on auth export --out -
check "export --out - writes the same kind of bundle to stdout" \
	eval '[[ $RC == 0 ]] && head -1 "$W/out" | grep -q "^pam_apitoken-bundle 1$"'

# --- an import-only host
mkhost h1
on h1 init --import-only --site-key "$W/auth/keys/site.key" --trusted-key "$W/auth/keys/signing.key.pub"
check "host: init --import-only --site-key --trusted-key" rc_is 0
check "host: the config now says role = import-only and names the trusted key" \
	eval 'grep -q "^role = import-only$" "$W/h1/conf" && grep -q "^trusted_key = " "$W/h1/conf"'
check "host: the trusted key is named by its full fingerprint" \
	eval 'grep -q "^trusted_key = $W/h1/keys/pam_apitoken.trusted-[0-9a-f]\{64\}\.pub$" "$W/h1/conf"'
mkhost other
on other init
on h1 init --import-only --site-key "$W/other/keys/site.key" --trusted-key "$W/auth/keys/signing.key.pub"
check "host: a different site key is never installed over the one there" \
	eval '[[ $RC == 1 ]] && err_has "different site key"'
on h1 import "$W/b1"
check "host: import of the authority's bundle (exit 0)" rc_is 0
verify_on h1 "$tok1"
check "host: a token minted on the authority logs in here" rc_is 0
on h1 status --json
check "status --json: role, generation, last import, trusted key fingerprint" \
	eval 'python3 -c "import json,sys; s=json.load(open(sys.argv[1])); assert s[\"role\"]==\"import-only\" and s[\"generation\"]>=1 and s[\"last_import\"] and len(s[\"trusted_keys\"][0][\"fingerprint\"])==64" "$W/out"'
on auth status
check "status on the authority names its role and signing key" \
	eval '[[ $RC == 0 ]] && grep -q "^role: *authority" "$W/out" && grep -q "^signing key:" "$W/out"'

# --- what an import-only host refuses to do itself
on h1 create --name local --user "$(id -un)"
check "host: create exit 3, naming the role" eval '[[ $RC == 3 ]] && err_has "import-only"'
on h1 rotate "$(id_of "$tok1")"
check "host: rotate exit 3" rc_is 3
on h1 disable "$(id_of "$tok2")"
check "host: disable works as an emergency measure" rc_is 0
on h1 enable "$(id_of "$tok2")"
check "host: enable exit 3" rc_is 3
on auth import "$W/b1"
check "authority: import exit 3 (it exports)" rc_is 3

# --- revocation travels; local measures stick
on auth revoke "$(id_of "$tok1")"
on auth export --out "$W/b2"
on h1 import "$W/b2"
check "host: import of the newer bundle" rc_is 0
verify_on h1 "$tok1"
check "host: the token revoked on the authority is refused here" rc_is 1
verify_on h1 "$tok2"
check "host: the local disable survived the import" rc_is 1
on h1 revoke "$(id_of "$tok2")"
on auth create --name later --user "$(id -un)"
tok3=$(<"$W/out")
on auth export --out "$W/b3"
on h1 import "$W/b3"
verify_on h1 "$tok2"
check "host: a local revoke survives a later import" rc_is 1
verify_on h1 "$tok3"
check "host: ... which brought the newest token" rc_is 0

# --- refusals: each with its reason, the store unchanged byte for byte
refused() { # refused DESC REASON-REGEX FILE [ARGS]
	local d=$1 why=$2 f=$3; shift 3
	local before; before=$(store_sum h1)
	on h1 import "$f" "$@"
	if [[ $RC == 1 ]] && grep -Eq "refused: .*($why)" "$W/err" &&
		[[ $(store_sum h1) == "$before" ]]; then ok "$d"
	else nok "$d (rc $RC)"; fi
}
refused "a replayed older bundle: stale generation" "stale generation" "$W/b1"
refused "the same bundle again: stale generation" "stale generation" "$W/b3"
on h1 import --allow-same "$W/b3"
check "the same bundle with --allow-same is re-installed" rc_is 0
size=$(stat -c %s "$W/b3")
for pos in 0 5 30 $((size / 3)) $((size / 2)) $((size - 100)) $((size - 2)); do
	cp "$W/b3" "$W/t"
	python3 -c 'import sys; p=int(sys.argv[2]); b=bytearray(open(sys.argv[1],"rb").read()); b[p]^=0x01 if b[p]!=0x0a else 0x20; open(sys.argv[1],"wb").write(b)' "$W/t" $pos
	refused "a byte changed at offset $pos" "signature|malformed|truncated|unknown key" "$W/t"
done
head -c $((size / 2)) "$W/b3" >"$W/t"
refused "a truncated bundle" "truncated|malformed" "$W/t"
head -n 5 "$W/b3" >"$W/t"
refused "a bundle cut at a line boundary" "truncated|malformed" "$W/t"
# A rogue authority: the same site key, its own signing key.
mkdir -m 755 "$W/rogue"
printf 'db = %s\nkey = %s\nsigning_key = %s\n%s\n' "$W/rogue/store/tokens.db" \
	"$W/auth/keys/site.key" "$W/rogue/signing.key" "$(admin_line)" >"$W/rogue/conf"
on rogue init --signing
on rogue create --name rogue --user "$(id -un)"
on rogue export --out "$W/rb"
refused "a bundle signed by a key no one trusts: unknown key" "unknown key" "$W/rb"
# the rogue's bundle with the trusted key's fingerprint written in
fpr=$(sed -n 's/^signature ed25519 \([0-9a-f]*\) .*/\1/p' "$W/b3")
sed "s/^signature ed25519 [0-9a-f]* /signature ed25519 $fpr /" "$W/rb" >"$W/t"
refused "a signature by the wrong key under the trusted name: bad signature" "bad signature" "$W/t"
# An authority of another prefix that signs with the trusted key.
mkdir -m 755 "$W/xyz"
printf 'db = %s\nkey = %s\nsigning_key = %s\nprefix = xyz\n%s\n' \
	"$W/xyz/store/tokens.db" "$W/xyz/keys/site.key" \
	"$W/auth/keys/signing.key" "$(admin_line)" >"$W/xyz/conf"
on xyz init
on xyz export --out "$W/xb"
refused "a bundle for another prefix" "prefix" "$W/xb"
python3 -c 'import sys; d=open(sys.argv[1],"rb").read().split(b"\n"); d.insert(3, b"x"*(10*1024*1024)); open(sys.argv[2],"wb").write(b"\n".join(d))' "$W/b3" "$W/t"
refused "a 10 MB line" "malformed|signature" "$W/t"
python3 -c 'import sys; d=bytearray(open(sys.argv[1],"rb").read()); d[40:40]=b"\0"; open(sys.argv[2],"wb").write(d)' "$W/b3" "$W/t"
refused "a NUL byte" "malformed|signature" "$W/t"
python3 -c 'import sys; d=bytearray(open(sys.argv[1],"rb").read()); d[40:40]="é".encode(); open(sys.argv[2],"wb").write(d)' "$W/b3" "$W/t"
refused "a non-ASCII byte" "malformed|signature" "$W/t"
: >"$W/t"
refused "an empty file" "truncated|malformed" "$W/t"
on h1 import - <"$W/b3"
check "import - reads the bundle from stdin (same generation: refused)" \
	eval '[[ $RC == 1 ]] && err_has "stale generation"'
# (An LD_PRELOAD shim cannot go in front of the sanitizer's runtime.)
if [[ -n ${SYSLOG_SHIM:-} && -z ${PTK_SANITIZED:-} ]]; then
	PTK_SYSLOG_FILE=$W/syslog LD_PRELOAD=$SYSLOG_SHIM \
		"$T" --config "$W/h1/conf" import "$W/b1" >"$W/out" 2>"$W/err"
	check "a refused import is also logged: one warning line with reason and caller" \
		eval '[[ $(grep -c "import refused: " "$W/syslog") == 1 ]] && grep -q "^fac=[0-9]* pri=$((LOG_WARNING = 4)) .*import refused: stale?generation?[0-9].* by=$(id -un) uid=$(id -u)$" "$W/syslog"'
else
	echo "# SKIP the syslog line of a refusal: no SYSLOG_SHIM, or a sanitizer build"
fi
# (libfaketime is preloaded: a sanitizer build cannot run under it.)
if [[ -n ${FAKETIME:-} && -x ${FAKETIME:-} && -z ${PTK_SANITIZED:-} ]]; then
	on auth create --name aging --user "$(id -un)"
	"$FAKETIME" -f -2d "$T" --config "$W/auth/conf" export --out "$W/old" 2>"$W/err"
	echo "max_bundle_age = 1d" >>"$W/h1/conf"
	refused "a bundle older than max_bundle_age: too old" "too old" "$W/old"
	sed -i '/^max_bundle_age/d' "$W/h1/conf"
else
	echo "# SKIP max_bundle_age case: no faketime, or a sanitizer build"
fi

# --- key rollover: trust the new key first, then switch the authority
sed -i "s|^signing_key = .*|signing_key = $W/auth/keys/signing2.key|" "$W/auth/conf"
on auth init --signing
check "rollover: a second signing key on the authority" \
	eval '[[ $RC == 0 && -s $W/auth/keys/signing2.key.pub ]]'
on h1 init --import-only --site-key "$W/auth/keys/site.key" --trusted-key "$W/auth/keys/signing2.key.pub"
check "rollover: the host trusts the old and the new key" \
	eval '[[ $RC == 0 && $(grep -c "^trusted_key = " "$W/h1/conf") == 2 ]]'
on auth create --name rolled --user "$(id -un)"
tok4=$(<"$W/out")
on auth export --out "$W/b4"
on h1 import "$W/b4"
verify_on h1 "$tok4"
check "rollover: a bundle the new key signed is installed" rc_is 0
refused "rollover: an older bundle the old key signed is still stale" "stale generation" "$W/b3"

# --- last use, fleet-wide
echo "$tok3" | "$T" --config "$W/h1/conf" verify --user "$(id -un)" >/dev/null 2>&1
id3=$(id_of "$tok3")
lu="$W/h1/store/tokens.db.lastused"
# What the module writes after a login (its format is pam_apitoken(8)'s);
# tested through the real module in the fleet test.
check "host: init made the last-use directory" test -d "$lu"
printf 'ptklu1 %s 192.0.2.7\n' "$(date +%s)" >"$lu/$id3"
on h1 lastused export --out "$W/lu1"
check "host: lastused export" eval '[[ $RC == 0 ]] && grep -q "^$id3 [0-9]* 192.0.2.7$" "$W/lu1" && head -1 "$W/lu1" | grep -q "^pam_apitoken-lastused 1$"'
on auth lastused merge "$W/lu1"
check "authority: lastused merge" rc_is 0
on auth list --json
check "authority: list shows the host's use, with host and client" \
	eval 'python3 -c "import json,sys; t=[x for x in json.load(open(sys.argv[1])) if x[\"id\"]==sys.argv[2]][0]; assert t[\"last_used\"] and t[\"last_rhost\"].startswith(\"192.0.2.7@\"), t" "$W/out" "$id3"'
printf 'pam_apitoken-lastused 1\nhost h\n%s notatime 1.2.3.4\n' "$id3" >"$W/lu2"
on auth lastused merge "$W/lu2"
check "authority: a malformed last-use file is refused with its line" \
	eval '[[ $RC == 1 ]] && err_has "lu2:3"'
on h1 lastused merge "$W/lu1"
check "host: lastused merge is the authority's (exit 3)" rc_is 3
# Scale: three hosts that each saw the same 800,000 tokens (2.4 million
# entries, more than a table of distinct tokens needs) merge into 800,000,
# each with its newest use (host m1's, one second later than m2's).
now=$(date +%s)
for h in 1 2 3; do
	awk -v h=$h -v now="$now" 'BEGIN {
		print "pam_apitoken-lastused 1"; print "host m" h
		c = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		for (i = 0; i < 800000; i++) {
			id = ""; x = i
			for (j = 0; j < 12; j++) { id = id substr(c, x % 62 + 1, 1); x = int(x / 62) }
			print id, now - h, "192.0.2." h
		}
	}' >"$W/many$h.lu"
done
on auth lastused merge "$W/many1.lu" "$W/many2.lu" "$W/many3.lu"
check "authority: 2.4M entries from 3 hosts merge into 800,000 tokens, newest kept" \
	eval '[[ $RC == 0 ]] && [[ $(grep -c " 192.0.2.1@m1$" "$W/auth/store/tokens.db.lastused.fleet") == 800000 ]]'
rm -f "$W"/many?.lu

# --- local measures outlive a token's absence from a bundle
# A local revoke of a token that a bundle then lacks (revoked and pruned on
# the authority) still holds when a restored backup of the authority brings
# the token back in a later, newer bundle.
on auth create --name comeback --user "$(id -un)"
tok5=$(<"$W/out")
on auth export --out "$W/b5a"
on h1 import "$W/b5a"
on h1 revoke "$(id_of "$tok5")"
cp -a "$W/auth/store/tokens.db" "$W/auth-backup.db"
on auth revoke "$(id_of "$tok5")"
on auth prune --older-than 0s
on auth export --out "$W/b5b"
on h1 import "$W/b5b"
check "host: the bundle without the pruned token is installed" rc_is 0
cp -a "$W/auth-backup.db" "$W/auth/store/tokens.db"
for i in 1 2 3; do on auth create --name "bump$i" --user "$(id -un)"; done
on auth export --out "$W/b5c"
on h1 import "$W/b5c"
check "host: the restored authority's newer bundle is installed" rc_is 0
verify_on h1 "$tok5"
check "host: its local revoke outlived the token's absence from a bundle" rc_is 1
verify_on auth "$tok5"
check "(control: the restored authority accepts the token)" rc_is 0

echo "$((n - fails)) passed, $fails failed"
[[ $fails == 0 ]]
