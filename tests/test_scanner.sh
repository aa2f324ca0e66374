#!/bin/bash
# tokenadm scanner-rules (tokenadm(8), SECRET SCANNING) against a real
# secret scanner: secretlint from the npm registry, configured with what
# tokenadm prints, over a tree holding three freshly minted tokens and near
# misses that break the grammar. Exactly the three must be found. The
# gitleaks and trufflehog outputs must carry the same expression, and the
# offline CRC check printed in the man page must tell a token from one with
# a wrong check digit.
#
# Run by meson with TOKENADM=<built tokenadm>; arg 1: the source root.
# Exit 0 pass, 1 fail, 77 skipped (no node/npm, or the npm registry cannot
# be reached: the reason is printed).
set -u
export LC_ALL=C

T=${TOKENADM:?set TOKENADM to the tokenadm binary}
SRC=${1:?source root}
W=$(mktemp -d "${TMPDIR:-/tmp}/test_scanner.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

# A site prefix of its own, so the rules are shown to follow the config.
PREFIX=acme7
cat >"$W/conf" <<EOF
db = $W/store/tokens.db
key = $W/keys/site.key
prefix = $PREFIX
$([[ $(id -u) == 0 ]] || echo "admin_group = $(id -gn)")
EOF
tk() { "$T" --config "$W/conf" "$@"; }

tk init >/dev/null 2>&1 || { echo "not ok 1 - tokenadm init"; exit 1; }
for i in 1 2 3; do
	tk create --name "scan$i" --expires 1d >"$W/tok$i" 2>/dev/null ||
		{ echo "not ok 1 - create scan$i"; exit 1; }
done
t1=$(<"$W/tok1") t2=$(<"$W/tok2") t3=$(<"$W/tok3")

# --- usage ---------------------------------------------------------------
tk scanner-rules --format nosuch >/dev/null 2>&1
check "an unknown format is a usage error (exit 2)" test $? -eq 2
tk scanner-rules >/dev/null 2>&1
check "no --format is a usage error (exit 2)" test $? -eq 2

for f in regex gitleaks trufflehog secretlint; do
	tk scanner-rules --format "$f" >"$W/rules.$f" 2>"$W/err.$f"
	check "scanner-rules --format $f succeeds" test $? -eq 0
done
re=$(<"$W/rules.regex")
check "the expression names the site's prefix" grep -q "^.b${PREFIX}_" "$W/rules.regex"

# --- the planted tree ------------------------------------------------------
# Three real tokens in the places people leak them, and near misses: another
# prefix, one character short, one too many, a character outside base62 in
# the secret, a prefix glued to a word, and the id's "_" replaced.
mkdir -p "$W/tree/src" "$W/tree/ci"
printf 'curl -u alice:%s https://api.example/\n' "$t1" >"$W/tree/README.md"
printf '{"token": "%s"}\n' "$t2" >"$W/tree/src/config.json"
printf 'machine api.example login bob password %s\n' "$t3" >"$W/tree/ci/netrc"
{
	printf 'wrong prefix: %s\n' "acme8${t1#"$PREFIX"}"
	printf 'one short: %s\n' "${t1%?}"
	printf 'one too many: %sQ\n' "$t2"
	printf 'outside base62: %s-%s\n' "${t3:0:30}" "${t3:31}"
	printf 'outside base62: %s!%s\n' "${t1:0:40}" "${t1:41}"
	printf 'glued prefix: x%s\n' "$t2"
	printf 'no second underscore: %sZ%s\n' "${t3:0:18}" "${t3:19}"
} >"$W/tree/src/near-misses.txt"

grep -oP "$re" -r "$W/tree" --no-filename | sort >"$W/found.grep"
sort "$W/tok1" "$W/tok2" "$W/tok3" >"$W/planted"
check "grep -P with the regex finds exactly the three tokens" \
	cmp -s "$W/found.grep" "$W/planted"
grep -oE "$re" -r "$W/tree" --no-filename | sort >"$W/found.grepE"
check "grep -E with the regex finds exactly the three tokens" \
	cmp -s "$W/found.grepE" "$W/planted"

# --- gitleaks and trufflehog carry the same expression ----------------------
same=$(python3 - "$W/rules.gitleaks" "$W/rules.trufflehog" "$re" <<'EOF'
import sys, tomllib, yaml
g = tomllib.load(open(sys.argv[1], "rb"))
t = yaml.safe_load(open(sys.argv[2]))
rule = g["rules"][0]
det = t["detectors"][0]
ok = (rule["regex"] == sys.argv[3] and det["regex"]["token"] == sys.argv[3]
      and rule["keywords"] == [sys.argv[3][2:].split("_")[0] + "_"]
      and det["keywords"] == rule["keywords"] and g["extend"]["useDefault"])
print("same" if ok else "differs: %r %r" % (rule, det))
EOF
)
check "gitleaks (TOML) and trufflehog (YAML) carry the same expression ($same)" \
	test "$same" = same

# --- the offline CRC check of the man page ----------------------------------
# Taken from the page itself, so the documentation is what is tested.
snippet=$(sed -n '/^python3 -c /,/^\.Ed/p' "$SRC/man/tokenadm.8" | sed '$d' |
	sed -e "1s/^python3 -c '//" -e "\$s/'\$//" -e 's/\\e/\\/g')
bad=${t1:0:${#t1}-1}$([[ ${t1: -1} == 0 ]] && echo 1 || echo 0)
printf '%s\n%s\n' "$t1" "$bad" | python3 -c "$snippet" >"$W/crc" 2>&1
check "the man page's CRC check accepts a real token" \
	grep -qx "${t1%_*} check ok" <(sed -n 1p "$W/crc")
check "the man page's CRC check flags a wrong check digit" \
	grep -qx "${t1%_*} bad check" <(sed -n 2p "$W/crc")
check "the CRC check prints no secret" \
	bash -c '! grep -qF -- "${1##*_}" "$2"' _ "$t1" "$W/crc"

# --- secretlint, for real ---------------------------------------------------
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
	echo "# SKIP secretlint: node and npm are not installed"
	echo "1..$n"
	[[ $fails -eq 0 ]] || exit 1
	exit 77
fi
cp "$SRC/tests/secretlint/package.json" "$SRC/tests/secretlint/package-lock.json" "$W/"
if ! (cd "$W" && timeout 300 npm ci --no-audit --no-fund --loglevel=error) \
	>"$W/npm.log" 2>&1; then
	if grep -Eq 'ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|network' "$W/npm.log"; then
		echo "# SKIP secretlint: the npm registry cannot be reached"
		sed 's/^/#   /' "$W/npm.log" | tail -3
		echo "1..$n"
		[[ $fails -eq 0 ]] || exit 1
		exit 77
	fi
	nok "npm ci of secretlint"
	sed 's/^/#   /' "$W/npm.log" | tail -5
else
	cp "$W/rules.secretlint" "$W/tree/../.secretlintrc.json"
	(cd "$W" && ./node_modules/.bin/secretlint --no-maskSecrets --format json \
		--secretlintrc "$W/.secretlintrc.json" "tree/**/*") >"$W/sl.json" 2>"$W/sl.err"
	rc=$?
	check "secretlint exits 1 (it found something)" test "$rc" -eq 1
	python3 - "$W/sl.json" >"$W/found.sl" <<'EOF'
import json, re, sys
for f in json.load(open(sys.argv[1])):
    for m in f["messages"]:
        # "found matching NAME: TOKEN"
        print(m["message"].rsplit(": ", 1)[1])
EOF
	sort -o "$W/found.sl" "$W/found.sl"
	check "secretlint finds exactly the three planted tokens" \
		cmp -s "$W/found.sl" "$W/planted"
	[[ $(wc -l <"$W/found.sl") == 3 ]] || sed 's/^/#   found: /' "$W/found.sl" | cut -c1-40
fi

echo "1..$n"
[[ $fails -eq 0 ]]
