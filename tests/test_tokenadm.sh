#!/bin/bash
# tokenadm as a real process (tokenadm(8)): commands, outputs and exit codes.
#
# Run by meson with TOKENADM=<path to the built tokenadm>. Everything lives
# in a private mktemp -d directory with its own config (db= and key= inside
# it) passed with --config. A token is never put in any argv: it travels
# through files, pipes and here-strings, and is matched with bash patterns
# or grep -f <(...) only.
#
# Output: "ok N - ..." / "not ok N - ..." lines; exit 1 on any failure.
set -u
export LC_ALL=C

T=${TOKENADM:?set TOKENADM to the tokenadm binary}
[[ -x $T ]] || { echo "not ok 1 - TOKENADM=$T is not executable"; exit 1; }

W=$(mktemp -d "${TMPDIR:-/tmp}/test_tokenadm.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
CONF=$W/tokenadm.conf
DB=$W/store/tokens.db
KEY=$W/keys/site.key
# Root administers every token; anyone else running this test is made an
# administrator of the private store through their own primary group.
ADMIN=
[[ $(id -u) == 0 ]] || ADMIN="admin_group = $(id -gn)"
cat >"$CONF" <<EOF
# test config
db = $DB
key = $KEY
$ADMIN
EOF

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
	n=$((n + 1))
	fails=$((fails + 1))
	echo "not ok $n - $1"
	# diagnostics of the last run, indented as TAP comments
	[[ -n ${LAST:-} ]] && echo "#   last: $LAST -> rc=$RC"
	[[ -s $W/err ]] && sed 's/^/#   stderr: /' "$W/err" | head -5
	[[ -s $W/out ]] && sed 's/^/#   stdout: /' "$W/out" | head -5
	return 0
}
check() { # check DESC COMMAND...
	local d=$1
	shift
	if "$@"; then ok "$d"; else nok "$d"; fi
}

RC=0
OUT=
ERR=
LAST=
# run ARGS... (stdin passes through): tokenadm --config CONF ARGS
run() {
	LAST="tokenadm $*"
	"$T" --config "$CONF" "$@" >"$W/out" 2>"$W/err"
	RC=$?
	OUT=$(<"$W/out")
	ERR=$(<"$W/err")
}
# run_raw ARGS...: no --config added
run_raw() {
	LAST="tokenadm $*"
	"$T" "$@" >"$W/out" 2>"$W/err"
	RC=$?
	OUT=$(<"$W/out")
	ERR=$(<"$W/err")
}
rc_is() { [[ $RC == "$1" ]]; }
# expect_rc DESC WANT ARGS...
expect_rc() {
	local d=$1 want=$2
	shift 2
	run "$@"
	if [[ $RC == "$want" ]]; then ok "$d (exit $want)"; else nok "$d (exit $RC, want $want)"; fi
}
# expect_rc_in DESC WANT <<<stdin, ARGS
out_lines() { wc -l <"$W/out"; }

TOKEN_RE='^ptk_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$'
is_token() { [[ $1 =~ $TOKEN_RE ]]; }
id_of() { local t=$1; echo "${t:4:12}"; }   # id is public: fine in argv
# the token's secret part, into a variable (never echoed to a command)
secret_of() { local t=$1; printf -v "$2" '%s' "${t:17:38}"; }

# python3 helpers; data comes from files or stdin, never argv
# (the system python: a pyenv shim in PATH costs ~0.4 s per start)
if [[ -x /usr/bin/python3 ]]; then PY=/usr/bin/python3; else PY=$(command -v python3); fi
[[ -n $PY ]] || { echo "not ok 1 - python3 is needed"; exit 1; }
py() { "$PY" -c "$@"; }

# JSON field of the record with id $1 in list --json output ($W/out)
json_field() { # FILE ID FIELD
	py 'import json,sys
d=json.load(open(sys.argv[1]))
r=[o for o in d if o["id"]==sys.argv[2]]
if len(r)!=1: sys.exit(3)
v=r[0][sys.argv[3]]
print("null" if v is None else v)' "$@"
}
list_json() { run list --json && cp "$W/out" "$W/list.json"; }
state_of() { list_json; json_field "$W/list.json" "$1" state; }
expires_of() { list_json; json_field "$W/list.json" "$1" expires; }
created_of() { list_json; json_field "$W/list.json" "$1" created; }
epoch() { py 'import sys,datetime
print(int(datetime.datetime.strptime(sys.argv[1],"%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()))' "$1"; }

# token_not_in FILE VAR: the token in $VAR does not occur in FILE
token_not_in() {
	local f=$1 t=$2
	! grep -a -q -F -f <(printf '%s\n' "$t") "$f"
}
# secret_not_under DIR TOKEN: no file under DIR holds the secret part
secret_not_under() {
	local s
	secret_of "$2" s
	! grep -a -r -q -F -f <(printf '%s\n' "$s") "$1"
}

secret_not_under_store() { secret_not_under "$W/store" "$1" && secret_not_under "$W/keys" "$1"; }
# new_token VAR ARGS...: create, store the token in VAR; checks the output
new_token() {
	local var=$1
	shift
	run create "$@"
	if [[ $RC != 0 ]] || ! is_token "$OUT"; then
		nok "create $* (setup)"
		printf -v "$var" '%s' ""
		return 1
	fi
	printf -v "$var" '%s' "$OUT"
}
# verify_tok TOKEN ARGS...: verify with the token on stdin
verify_tok() {
	local t=$1
	shift
	run verify "$@" <<<"$t"
}

# ------------------------------------------------------------------ init
run init
check "init succeeds" rc_is 0
check "init created the key" test -f "$KEY"
check "init created the store" test -f "$DB"
check "init created the store directory" test -d "$W/store"
check "key mode 0600" test "$(stat -c %a "$KEY")" = 600
check "store mode 0600" test "$(stat -c %a "$DB")" = 600
check "store directory not writable by group/others" \
	test "$(( 0$(stat -c %a "$W/store") & 022 ))" = 0
check "init says nothing on stdout" test -z "$OUT"
key_sum=$(sha256sum <"$KEY")

new_token tok_init --name before-reinit
run init
check "second init exits 0" rc_is 0
check "second init keeps the key bytes" test "$(sha256sum <"$KEY")" = "$key_sum"
list_json
check "second init keeps the store's tokens" \
	test "$(json_field "$W/list.json" "$(id_of "$tok_init")" name)" = before-reinit
check "second init keeps the key mode" test "$(stat -c %a "$KEY")" = 600

# init --group: 0640 and that group
if [[ $(id -u) == 0 ]]; then grp=daemon; else grp=$(id -gn); fi
mkdir "$W/g"
cat >"$W/g/conf" <<EOF
db = $W/g/store/tokens.db
key = $W/g/keys/site.key
$ADMIN
EOF
run_raw --config "$W/g/conf" init --group "$grp"
check "init --group $grp succeeds" rc_is 0
check "init --group: key mode 0640" test "$(stat -c %a "$W/g/keys/site.key")" = 640
check "init --group: key group $grp" test "$(stat -c %G "$W/g/keys/site.key")" = "$grp"
check "init --group: store mode 0640" test "$(stat -c %a "$W/g/store/tokens.db")" = 640
check "init --group: store group $grp" test "$(stat -c %G "$W/g/store/tokens.db")" = "$grp"
# the group's services must be able to reach the files, not just read them
check "init --group: the store's directory is searchable by the group" \
	test "$(( 0$(stat -c %a "$W/g/store") & 011 ))" != 0
check "init --group: the key's directory is searchable by the group" \
	test "$(( 0$(stat -c %a "$W/g/keys") & 011 ))" != 0
run_raw --config "$W/g/conf" init --group no_such_group_xyz
check "init --group with an unknown group is a usage error (exit 2)" rc_is 2
run_raw --config "$W/g/conf" init extra-arg
check "init with an extra argument (exit 2)" rc_is 2

# users other than the caller that tokens are issued for
me=$(id -un)
if [[ $me != nobody ]]; then OTHER=nobody; else OTHER=daemon; fi
if [[ $me != daemon && $OTHER != daemon ]]; then OTHER2=daemon; else OTHER2=root; fi

# ---------------------------------------------------------------- create
run create --name ci
check "create succeeds" rc_is 0
tok=$OUT
check "create prints the token on stdout" is_token "$tok"
check "create prints exactly one stdout line" test "$(out_lines)" = 1
check "create says something on stderr" test -s "$W/err"
check "the token is not on stderr" token_not_in "$W/err" "$tok"
check "the token's secret is in no file of the store or key" secret_not_under_store "$tok"
# the check digits are the CRC-32 of the rest (zlib's here, as a cross-check)
check "create: check digits are CRC-32 base62" py '
import sys,zlib
t=sys.stdin.read().strip()
a="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
c=zlib.crc32(t[:-6].encode()); s=""
for _ in range(6): s=a[c%62]+s; c//=62
sys.exit(0 if s==t[-6:] else 1)' <<<"$tok"
ID=$(id_of "$tok")
created=$(created_of "$ID")
check "default expiry is 90 days" test "$(( $(epoch "$(expires_of "$ID")") - $(epoch "$created") ))" = 7776000

run create --name json-one --json
check "create --json succeeds" rc_is 0
check "create --json prints one JSON object with id,token,user,name,expires" py '
import json,sys,re
o=json.load(open(sys.argv[1]))
assert isinstance(o,dict)
for k in ("id","token","user","name","expires"): assert k in o, k
assert re.fullmatch(r"ptk_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}",o["token"])
assert o["token"][4:16]==o["id"]
assert o["name"]=="json-one"
assert o["user"]==sys.argv[2]
assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",o["expires"])
' "$W/out" "$(id -un)"
json_tok=$(py 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$W/out")
check "create --json: the token is not on stderr" token_not_in "$W/err" "$json_tok"
verify_tok "$json_tok" --user "$(id -un)"
check "the --json token verifies" rc_is 0

# --expires forms; list --json has the expected expiry
declare -A want_delta=([30m]=1800 [12h]=43200 [90d]=7776000 [4w]=2419200)
for e in 30m 12h 90d 4w; do
	new_token t --name "exp-$e" --expires "$e" || continue
	i=$(id_of "$t")
	list_json
	ex=$(json_field "$W/list.json" "$i" expires)
	cr=$(json_field "$W/list.json" "$i" created)
	check "--expires $e gives created+${want_delta[$e]}s ($ex)" \
		test "$(( $(epoch "$ex") - $(epoch "$cr") ))" = "${want_delta[$e]}"
done
declare -A want_exp=(
	[2027-01-31]=2027-02-01T00:00:00Z
	[2027-01-31T12:00:00Z]=2027-01-31T12:00:00Z
	[2027-01-31T12:00:00+02:00]=2027-01-31T10:00:00Z
	[never]=null
)
for e in 2027-01-31 2027-01-31T12:00:00Z 2027-01-31T12:00:00+02:00 never; do
	new_token t --name "exp-x" --expires "$e" || continue
	got=$(expires_of "$(id_of "$t")")
	check "--expires $e gives expires $got (want ${want_exp[$e]})" \
		test "$got" = "${want_exp[$e]}"
done

count_tokens() { run list --json; py 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$W/out"; }
before=$(count_tokens)
for e in 0m 5x -1d 1.5h "90 d" 2027-02-30 2027-13-01 tomorrow 2020-01-01 \
	2027-01-31T25:00:00Z 999999999999w ""; do
	expect_rc "bad --expires '$e'" 2 create --name bad --expires "$e"
	check "bad --expires '$e': nothing on stdout" test ! -s "$W/out"
done
expect_rc "create without --name" 2 create
expect_rc "create with an unknown option" 2 create --name x --bogus
expect_rc "create with a stray argument" 2 create --name x stray
expect_rc "create with a bad name (newline)" 2 create --name $'a\nb'
expect_rc "create with a 65-char name" 2 create --name "$(printf 'n%.0s' {1..65})"
many_rules=(); for i in $(seq 1 100); do many_rules+=(--allow-from "10.0.$i.0/24"); done
expect_rc "create with more address rules than a record holds" 2 create --name many "${many_rules[@]}"
check "... says so" eval '[[ $ERR == *"too many address rules"* ]]'
expect_rc "create --user nosuchuser" 1 create --name x --user nosuchuser_xyz
for a in 10.0.0.0/33 foo 300.1.1.1 10.0.0.1/ ::gg 10.0.0.0/8x; do
	expect_rc "create --allow-from '$a'" 2 create --name x --allow-from "$a"
done
expect_rc "create --deny-from bad" 2 create --name x --deny-from 1.2.3.4/99
expect_rc "create --service 'bad name'" 2 create --name x --service 'bad name'
expect_rc "unknown command" 2 frobnicate
expect_rc "no command" 2
check "failed creates added no token" test "$(count_tokens)" = "$before"
# An empty rule would silently make an unrestricted token out of a
# restricted one (--allow-from "$UNSET_VAR"): it must be a usage error.
expect_rc "create --allow-from ''" 2 create --name x --allow-from ""

# --------------------------------------------------------- list and show
new_token t_other --name "service acct" --user "$OTHER"
new_token t_daemon --name a-much-longer-token-name-for-width --user "$OTHER2"
run list
check "list succeeds" rc_is 0
cp "$W/out" "$W/table"
list_json
check "list table: header, one aligned row per token, same data as --json" py '
import json,sys
rows=open(sys.argv[1]).read().rstrip("\n").split("\n")
data={o["id"]:o for o in json.load(open(sys.argv[2]))}
h=rows[0]
cols=["ID","USER","NAME","STATE","CREATED","EXPIRES"]
starts=[h.index(c) for c in cols]
assert starts[0]==0 and starts==sorted(starts), starts
assert len(rows)-1==len(data), (len(rows)-1,len(data))
seen=set()
for r in rows[1:]:
    f=[r[starts[i]:(starts[i+1] if i+1<len(starts) else None)] for i in range(len(starts))]
    # every field starts exactly at its column and is followed by a gap
    for i in range(1,len(starts)):
        assert r[starts[i]-2:starts[i]]=="  " and r[starts[i]]!=" ", (r,cols[i])
    i=f[0].strip(); o=data[i]; seen.add(i)
    assert f[1].strip()==o["user"], (f[1],o["user"])
    assert f[2].strip()==o["name"], (f[2],o["name"])
    assert f[3].strip()==o["state"], (f[3],o["state"])
    assert f[4].strip()==o["created"]
    assert f[5].split()[0]==(o["expires"] or "never")
assert seen==set(data)
' "$W/table" "$W/list.json"
check "list --json: array of objects with all documented keys" py '
import json,sys,re
d=json.load(open(sys.argv[1]))
assert isinstance(d,list) and len(d)>5
t=re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
for o in d:
    for k in ("id","user","name","created","expires","last_used","last_rhost","state","reason"):
        assert k in o,(k,o)
    assert re.fullmatch(r"[0-9A-Za-z]{12}",o["id"])
    assert t.fullmatch(o["created"])
    assert o["expires"] is None or t.fullmatch(o["expires"])
    assert o["last_used"] is None or t.fullmatch(o["last_used"])
    assert o["state"] in ("active","expired","revoked","disabled","inactive")
' "$W/list.json"
check "list --json: all active so far" py '
import json,sys
assert all(o["state"]=="active" and o["reason"] is None for o in json.load(open(sys.argv[1])))' "$W/list.json"
run list --user "$OTHER" --json
check "list --user $OTHER shows only that user's tokens" py '
import json,sys
d=json.load(open(sys.argv[1])); assert len(d)==1 and d[0]["user"]==sys.argv[2] and d[0]["name"]=="service acct"' "$W/out" "$OTHER"
expect_rc "list --all" 0 list --all
expect_rc "list --all --user x" 2 list --all --user "$OTHER"
expect_rc "list with a stray argument" 2 list extra
run list --json
check "list --json: no token text in the listing" token_not_in "$W/out" "$tok"

expect_rc "show ID" 0 show "$ID"
check "show prints the id and state" py '
import sys
s=open(sys.argv[1]).read()
assert "id:          "+sys.argv[2] in s and "state:       active" in s' "$W/out" "$ID"
check "show does not print the token" token_not_in "$W/out" "$tok"
expect_rc "show ID --json" 0 show "$ID" --json
check "show --json: one object for that id with all keys" py '
import json,sys
o=json.load(open(sys.argv[1]))
assert o["id"]==sys.argv[2] and o["name"]=="ci" and o["state"]=="active"
for k in ("id","user","name","created","expires","last_used","last_rhost","state","reason"): assert k in o
' "$W/out" "$ID"
expect_rc "show of an unknown id" 4 show AAAAAAAAAAAA
expect_rc "show --json of an unknown id" 4 show AAAAAAAAAAAA --json
expect_rc "show of a malformed id" 4 show not-an-id
expect_rc "show without an id" 2 show
expect_rc "show with two ids" 2 show "$ID" "$ID"

# ---------------------------------------------------------------- verify
verify_tok "$tok" --user "$me"
check "verify: valid token exit 0" rc_is 0
check "verify: says accepted" test "${OUT#accepted}" != "$OUT"
check "verify: the token is not echoed" token_not_in "$W/out" "$tok"
check "verify: the token is not on stderr" token_not_in "$W/err" "$tok"
# wrong secret with correct check digits (so it gets past the shape check)
py '
import sys,zlib
t=sys.stdin.read().strip()
a="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
s=t[17:49]; s=s[:-1]+("A" if s[-1]!="A" else "B"); b=t[:17]+s
c=zlib.crc32(b.encode()); d=""
for _ in range(6): d=a[c%62]+d; c//=62
open(sys.argv[1],"w").write(b+d+"\n")' "$W/wrong" <<<"$tok"
run verify --user "$me" <"$W/wrong"
check "verify: wrong secret exit 1" rc_is 1
check "verify: wrong secret gives the reason" test "${OUT/wrong secret/}" != "$OUT"
# unknown id, correct shape
py '
import zlib
a="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
b="ptk_ZZZZZZZZZZZZ_"+"q"*32
c=zlib.crc32(b.encode()); d=""
for _ in range(6): d=a[c%62]+d; c//=62
print(b+d)' >"$W/unknown"
run verify --user "$me" <"$W/unknown"
check "verify: unknown id exit 1" rc_is 1
check "verify: unknown id gives the reason" test "${OUT/unknown/}" != "$OUT"
run verify --user "$me" <<<"hunter2"
check "verify: not-a-token exit 1" rc_is 1
check "verify: not-a-token says so" test "${OUT/not a token/}" != "$OUT"
run verify --user "$me" <<<"${tok:0:-1}$([[ ${tok: -1} == 0 ]] && echo 1 || echo 0)"
check "verify: changed check digit is not a token (exit 1)" rc_is 1
check "verify: changed check digit says not a token" test "${OUT/not a token/}" != "$OUT"
run verify --user "$me" </dev/null
check "verify: empty stdin exit 1" rc_is 1
head -c 1048576 /dev/zero | tr '\0' A >"$W/big"
run verify --user "$me" <"$W/big"
check "verify: 1 MiB on stdin exit 1" rc_is 1
head -c 4096 /dev/urandom >"$W/bin"
run verify --user "$me" <"$W/bin"
check "verify: binary garbage exit 1" rc_is 1
verify_tok "$tok" --user "$OTHER"
check "verify: another user's token exit 1" rc_is 1
check "verify: another user's token gives the reason" test "${OUT/another user/}" != "$OUT"
verify_tok "$tok"
check "verify without --user (exit 2)" rc_is 2
verify_tok "$tok" --user "$me" extra
check "verify with a stray argument (exit 2)" rc_is 2

# host rules
new_token t_net --name net --allow-from 10.0.0.0/8 --deny-from 10.66.0.0/16
verify_tok "$t_net" --user "$me" --rhost 10.1.1.1
check "allow-from 10.0.0.0/8: --rhost 10.1.1.1 accepted" rc_is 0
verify_tok "$t_net" --user "$me" --rhost ::ffff:10.1.1.1
check "allow-from 10.0.0.0/8: --rhost ::ffff:10.1.1.1 accepted" rc_is 0
verify_tok "$t_net" --user "$me" --rhost 192.168.1.1
check "allow-from 10.0.0.0/8: --rhost 192.168.1.1 refused (exit 1)" rc_is 1
check "refused by host rules: reason given" test "${OUT/host/}" != "$OUT"
verify_tok "$t_net" --user "$me" --rhost 10.66.1.1
check "deny-from 10.66.0.0/16: --rhost 10.66.1.1 refused" rc_is 1
verify_tok "$t_net" --user "$me"
check "allow-from 10.0.0.0/8: no rhost (local) refused" rc_is 1
verify_tok "$t_net" --user "$me" --rhost host.example.com
check "allow-from 10.0.0.0/8: a hostname rhost refused" rc_is 1
verify_tok "$t_net" --user "$me" --rhost 'garbage!'
check "allow-from 10.0.0.0/8: a garbage rhost refused" rc_is 1
new_token t_local --name local-only --allow-from local
verify_tok "$t_local" --user "$me"
check "allow-from local: no rhost accepted" rc_is 0
verify_tok "$t_local" --user "$me" --rhost 10.1.1.1
check "allow-from local: a remote host refused" rc_is 1
verify_tok "$tok" --user "$me" --rhost 192.168.1.1
check "no host rules: any rhost accepted" rc_is 0

# service rules
new_token t_imap --name imap --service imap
verify_tok "$t_imap" --user "$me" --service imap
check "--service imap: verify --service imap accepted" rc_is 0
verify_tok "$t_imap" --user "$me" --service smtp
check "--service imap: verify --service smtp refused" rc_is 1
verify_tok "$tok" --user "$me" --service sudo
check "token without services: --service sudo refused (deny_services)" rc_is 1
verify_tok "$tok" --user "$me" --service su
check "token without services: --service su refused" rc_is 1
verify_tok "$tok" --user "$me" --service sshd
check "token without services: --service sshd accepted" rc_is 0
new_token t_sudo --name sudo-ok --service sudo
verify_tok "$t_sudo" --user "$me" --service sudo
check "a token naming sudo: --service sudo accepted" rc_is 0

# ------------------------------------------------- revoke, disable, enable
new_token t_rev --name to-revoke
R=$(id_of "$t_rev")
expect_rc "revoke of an unknown id" 4 revoke AAAAAAAAAAAA
expect_rc "revoke of a malformed id" 4 revoke nope
expect_rc "revoke without an id" 2 revoke
expect_rc "revoke valid" 0 revoke "$R"
check "revoked: state revoked" test "$(state_of "$R")" = revoked
check "revoked: reason given" test "$(json_field "$W/list.json" "$R" reason)" = revoked
verify_tok "$t_rev" --user "$me"
check "verify of a revoked token exit 1" rc_is 1
check "verify of a revoked token says revoked" test "${OUT/revoked/}" != "$OUT"
run show "$R" --json
check "show --json of a revoked token" py '
import json,sys; assert json.load(open(sys.argv[1]))["state"]=="revoked"' "$W/out"

new_token t_x --name all-or-nothing
X=$(id_of "$t_x")
expect_rc "revoke X unknown (all-or-nothing)" 4 revoke "$X" BBBBBBBBBBBB
check "revoke X unknown: X not revoked" test "$(state_of "$X")" = active
expect_rc "revoke X malformed" 4 revoke "$X" bad
check "revoke X malformed: X not revoked" test "$(state_of "$X")" = active
expect_rc "disable X unknown" 4 disable "$X" BBBBBBBBBBBB
check "disable X unknown: X not disabled" test "$(state_of "$X")" = active
verify_tok "$t_x" --user "$me"
check "X still verifies" rc_is 0

expect_rc "disable" 0 disable "$X"
check "disabled: state disabled" test "$(state_of "$X")" = disabled
verify_tok "$t_x" --user "$me"
check "verify of a disabled token exit 1" rc_is 1
check "verify of a disabled token says disabled" test "${OUT/disabled/}" != "$OUT"
expect_rc "enable" 0 enable "$X"
check "enabled: state active" test "$(state_of "$X")" = active
verify_tok "$t_x" --user "$me"
check "verify after enable exit 0" rc_is 0
expect_rc "enable of a revoked token" 1 enable "$R"
check "enable of a revoked token: still revoked" test "$(state_of "$R")" = revoked
expect_rc "enable X R (R revoked): refused" 1 enable "$X" "$R"
expect_rc "disable unknown" 4 disable CCCCCCCCCCCC
expect_rc "enable unknown" 4 enable CCCCCCCCCCCC
expect_rc "revoke X Y (both valid)" 0 revoke "$X" "$(id_of "$t_imap")"
check "revoke X Y: X revoked" test "$(state_of "$X")" = revoked
check "revoke X Y: Y revoked" test "$(state_of "$(id_of "$t_imap")")" = revoked

# expired
new_token t_exp --name short --expires 1s
E=$(id_of "$t_exp")
sleep 2
check "expired token: state expired" test "$(state_of "$E")" = expired
verify_tok "$t_exp" --user "$me"
check "verify of an expired token exit 1" rc_is 1
check "verify of an expired token says expired" test "${OUT/expired/}" != "$OUT"

# ---------------------------------------------------------------- rotate
new_token t_rot --name rot
RI=$(id_of "$t_rot")
exp_before=$(expires_of "$RI")
run rotate "$RI" --grace 1h
check "rotate --grace 1h exit 0" rc_is 0
t_rot2=$OUT
check "rotate prints a new token" is_token "$t_rot2"
check "rotate prints exactly one stdout line" test "$(out_lines)" = 1
check "rotate keeps the id" test "$(id_of "$t_rot2")" = "$RI"
check "rotate gives a new secret" test "$t_rot2" != "$t_rot"
check "rotate: the token is not on stderr" token_not_in "$W/err" "$t_rot2"
verify_tok "$t_rot" --user "$me"
check "rotate --grace: old token still verifies" rc_is 0
verify_tok "$t_rot2" --user "$me"
check "rotate --grace: new token verifies" rc_is 0
run rotate "$RI"
check "rotate without grace exit 0" rc_is 0
t_rot3=$OUT
check "rotate without grace prints a token" is_token "$t_rot3"
verify_tok "$t_rot2" --user "$me"
check "rotate without grace: previous token refused at once" rc_is 1
verify_tok "$t_rot" --user "$me"
check "rotate without grace: the grace-period token refused too" rc_is 1
verify_tok "$t_rot3" --user "$me"
check "rotate without grace: new token verifies" rc_is 0
run rotate "$RI" --json
check "rotate --json exit 0" rc_is 0
check "rotate --json: one object, same id, new token" py '
import json,sys,re
o=json.load(open(sys.argv[1]))
for k in ("id","token","user","name","expires"): assert k in o, k
assert o["id"]==sys.argv[2] and o["name"]=="rot"
assert re.fullmatch(r"ptk_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}",o["token"]) and o["token"][4:16]==o["id"]
' "$W/out" "$RI"
t_rot4=$(py 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$W/out")
check "rotate --json: token differs from the last" test "$t_rot4" != "$t_rot3"
check "rotate --json: the token is not on stderr" token_not_in "$W/err" "$t_rot4"
verify_tok "$t_rot4" --user "$me"
check "rotate --json: the new token verifies" rc_is 0
# revoking during a rotation's grace ends both secrets
new_token t_g --name grace-revoke
run rotate "$(id_of "$t_g")" --grace 1h
t_g2=$OUT
run revoke "$(id_of "$t_g")"
verify_tok "$t_g" --user "$me"
check "revoke during rotation grace: old secret refused" rc_is 1
verify_tok "$t_g2" --user "$me"
check "revoke during rotation grace: new secret refused" rc_is 1
expect_rc "rotate unknown" 4 rotate AAAAAAAAAAAA
expect_rc "rotate revoked" 1 rotate "$R"
expect_rc "rotate --grace bad" 2 rotate "$RI" --grace soon
expect_rc "rotate without an id" 2 rotate
check "rotate keeps the expiry" test "$(expires_of "$RI")" = "$exp_before"
check "rotate keeps the name" test "$(json_field "$W/list.json" "$RI" name)" = rot

# ----------------------------------------------------------------- prune
# in a second store, chosen with --db
PDB=$W/store/prune.db
run --db "$PDB" init
check "init with --db creates that store" test -f "$PDB"
pr() { run --db "$PDB" "$@"; }
pr_new() { local v=$1; shift; pr create "$@"; printf -v "$v" '%s' "$OUT"; is_token "$OUT"; }
pr_state() { pr list --json; json_field "$W/out" "$1" state; }
pr_has() { pr list --json; py 'import json,sys
sys.exit(0 if any(o["id"]==sys.argv[2] for o in json.load(open(sys.argv[1]))) else 1)' "$W/out" "$1"; }
check "prune setup: active token" pr_new p_act --name active
check "prune setup: to-revoke token" pr_new p_rev --name revoked
check "prune setup: expiring token" pr_new p_exp --name expiring --expires 1s
check "prune setup: expiring token, disabled" pr_new p_dx --name disabled-expiring --expires 1s
pr list --json
check "prune setup: the --db store holds just its 4 tokens" py 'import json,sys; sys.exit(0 if len(json.load(open(sys.argv[1])))==4 else 1)' "$W/out"
PA=$(id_of "$p_act"); PR=$(id_of "$p_rev"); PE=$(id_of "$p_exp"); PDX=$(id_of "$p_dx")
pr revoke "$PR"
pr disable "$PDX"
sleep 2
# Disabled and past its expiry: dead for good, whichever it shows.
pr rotate "$PDX"
check "rotate of a disabled token past its expiry is refused as expired (exit 1)" eval '[[ $RC == 1 ]] && grep -q "is expired" "$W/err"'
check "prune setup: states" test "$(pr_state "$PR")/$(pr_state "$PE")/$(pr_state "$PA")" = revoked/expired/active
pr prune --older-than 30d
check "prune --older-than 30d exit 0" rc_is 0
check "prune --older-than 30d keeps a just-revoked token" pr_has "$PR"
check "prune --older-than 30d keeps a just-expired token" pr_has "$PE"
pr prune
check "prune exit 0" rc_is 0
check "prune removed the revoked token" eval '! pr_has "$PR"'
check "prune removed the expired token" eval '! pr_has "$PE"'
check "prune removed the expired token that was also disabled" eval '! pr_has "$PDX"'
check "prune kept the active token" pr_has "$PA"
verify_tok_db() { run --db "$PDB" verify "$@"; }
verify_tok_db --user "$me" <<<"$p_act"
check "the active token still verifies after prune" rc_is 0
verify_tok_db --user "$me" <<<"$p_rev"
check "a pruned token is refused" rc_is 1
pr prune
check "prune with nothing to prune exit 0" rc_is 0
pr prune --older-than never
check "prune --older-than bad (exit 2)" rc_is 2
pr prune extra
check "prune with a stray argument (exit 2)" rc_is 2
check "prune did not touch the main store" test "$(state_of "$R")" = revoked

# ---------------------------------------------------------------- policy
run policy
check "policy exit 0" rc_is 0
check "policy names the store" test "${OUT/$DB/}" != "$OUT"
check "policy names the key" test "${OUT/$KEY/}" != "$OUT"
check "policy shows the prefix" py 'import sys,re
sys.exit(0 if re.search(r"^prefix:\s+ptk$",open(sys.argv[1]).read(),re.M) else 1)' "$W/out"
check "policy shows the default deny_services" test "${OUT/sudo su su-l/}" != "$OUT"
check "policy shows the default log_success_interval" test "${OUT/log_success_interval: 1h/}" != "$OUT"
run policy --user root
check "policy --user root exit 0" rc_is 0
expect_rc "policy with a stray argument" 2 policy extra

printf 'db = %s\nkey = %s\nfrobnicate = 1\n' "$DB" "$KEY" >"$W/bad.conf"
run_raw --config "$W/bad.conf" policy
check "config with an unknown key: exit 2" rc_is 2
check "config error names file:line" test "${ERR/$W\/bad.conf:3/}" != "$ERR"
run_raw --config "$W/bad.conf" list
check "config with an unknown key: list exits 2 too" rc_is 2
printf 'db = %s\nkey = %s\nmax_tokens_per_user = lots\n' "$DB" "$KEY" >"$W/bad2.conf"
run_raw --config "$W/bad2.conf" policy
check "config with a malformed value: exit 2 naming file:line" \
	eval '[[ $RC == 2 && $ERR == *"$W/bad2.conf:3"* ]]'
cp "$CONF" "$W/gw.conf"
chmod 664 "$W/gw.conf"
run_raw --config "$W/gw.conf" policy
check "group-writable config refused (exit 2)" rc_is 2
run_raw --config "$W/no-such.conf" policy
check "missing --config file (exit 2)" rc_is 2

LAST="PAM_APITOKEN_CONF=... tokenadm policy"
PAM_APITOKEN_CONF=$CONF "$T" policy >"$W/out" 2>"$W/err"
RC=$?
OUT=$(<"$W/out")
check "PAM_APITOKEN_CONF honoured without --config" eval '[[ $RC == 0 && $OUT == *"$DB"* ]]'
PAM_APITOKEN_CONF=$W/bad.conf "$T" policy >"$W/out" 2>"$W/err"
RC=$?
ERR=$(<"$W/err")
check "PAM_APITOKEN_CONF pointing at a bad config: exit 2, file:line" \
	eval '[[ $RC == 2 && $ERR == *"$W/bad.conf:3"* ]]'
PAM_APITOKEN_CONF=$W/bad.conf "$T" --config "$CONF" policy >"$W/out" 2>"$W/err"
RC=$?
check "--config wins over PAM_APITOKEN_CONF" rc_is 0
PAM_APITOKEN_CONF=$CONF "$T" list --json >"$W/out" 2>"$W/err"
RC=$?
check "PAM_APITOKEN_CONF: list uses that store" eval '[[ $RC == 0 ]] && json_field "$W/out" "$ID" name >/dev/null'

# another prefix from the config
printf '%s\ndb = %s\nkey = %s\nprefix = acme\n' "$ADMIN" "$DB" "$KEY" >"$W/acme.conf"
run_raw --config "$W/acme.conf" create --name acme
check "prefix = acme: token starts with acme_" eval '[[ $RC == 0 && $OUT =~ ^acme_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$ ]]'
t_acme=$OUT
run_raw --config "$W/acme.conf" verify --user "$me" <<<"$t_acme"
check "prefix = acme: verify accepts it" rc_is 0
verify_tok "$t_acme" --user "$me"
check "an acme token under prefix ptk is not a token" eval '[[ $RC == 1 && $OUT == *"not a token"* ]]'

run_raw --config="$CONF" show "$ID"
check "--config=PATH form" rc_is 0

# no store / no key: refused (1), nothing printed on stdout
printf '%s\ndb = %s\nkey = %s\n' "$ADMIN" "$W/nostore/tokens.db" "$KEY" >"$W/nostore.conf"
run_raw --config "$W/nostore.conf" create --name x
check "create without a store: exit 1" rc_is 1
check "create without a store: nothing on stdout" test ! -s "$W/out"
run_raw --config "$W/nostore.conf" verify --user "$me" <<<"$tok"
check "verify without a store: exit 1" rc_is 1
run_raw --config "$W/nostore.conf" list
check "list without a store: exit 1" rc_is 1
printf '%s\ndb = %s\nkey = %s\n' "$ADMIN" "$DB" "$W/keys/missing.key" >"$W/nokey.conf"
run_raw --config "$W/nokey.conf" verify --user "$me" <<<"$tok"
check "verify without the key: exit 1" rc_is 1
run_raw --config "$W/nokey.conf" create --name x
check "create without the key: exit 1, nothing on stdout" eval '[[ $RC == 1 && ! -s $W/out ]]'

# a tampered record (one byte flipped in a copy of the store) is refused
# end to end: the record of $tok ($ID) is found by its key, which GDBM
# stores just before the value ("PTKR" magic)
cp -p "$DB" "$W/store/tampered.db"
check "tamper setup: found the record of $ID in the GDBM file" py '
import sys
p,i=sys.argv[1],sys.argv[2].encode()
b=bytearray(open(p,"rb").read()); n=0; at=b.find(i+b"PTKR")
while at>=0:
    b[at+12+80]^=0x01; n+=1; at=b.find(i+b"PTKR",at+1)
open(p,"wb").write(b)
sys.exit(0 if n else 1)' "$W/store/tampered.db" "$ID"
run --db "$W/store/tampered.db" show "$ID"
check "tampered record: show exit 1" rc_is 1
check "tampered record: show says integrity" test "${ERR/integrity/}" != "$ERR"
run --db "$W/store/tampered.db" list --json
check "tampered record: list skips it and warns" eval '[[ $RC == 0 && $ERR == *"$ID"* ]] && ! json_field "$W/out" "$ID" id >/dev/null 2>&1'
check "tampered record: list still shows the others" json_field "$W/out" "$(id_of "$json_tok")" id
run --db "$W/store/tampered.db" verify --user "$me" <<<"$tok"
check "tampered record: verify exit 1" rc_is 1
check "tampered record: verify says integrity" test "${OUT/integrity/}" != "$OUT"
run --db "$W/store/tampered.db" revoke "$ID"
check "tampered record: revoke exit 1" rc_is 1
run --db "$W/store/tampered.db" rotate "$ID"
check "tampered record: rotate exit 1, no token printed" eval '[[ $RC == 1 && ! -s $W/out ]]'

expect_rc "--help" 0 --help
expect_rc "--config without a path" 2 --config
run_raw --db
check "--db without a path (exit 2)" rc_is 2

# ------------------------------------------- as an unprivileged user (3)
if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$T" 2>/dev/null; then
	chmod 711 "$W"
	U=$W/nobody
	mkdir "$U"
	cat >"$U/conf" <<EOF
db = $U/store/tokens.db
key = $U/keys/site.key
max_tokens_per_user = 2
EOF
	cp "$U/conf" "$U/conf-groups"
	printf '\n[group nogroup]\nmax_lifetime = 7d\n' >>"$U/conf-groups"
	chown -R 65534:65534 "$U"
	asnobody() {
		LAST="(as nobody) tokenadm $*"
		setpriv --reuid=65534 --regid=65534 --clear-groups "$T" "$@" >"$W/out" 2>"$W/err"
		RC=$?
		OUT=$(<"$W/out")
		ERR=$(<"$W/err")
	}
	asnobody --config "$U/conf" init
	check "nobody: init of a private store exit 0" rc_is 0
	asnobody --config "$U/conf" create --name x
	check "nobody without a [group]: create not permitted (exit 3)" rc_is 3
	asnobody --config "$U/conf" list --all
	check "nobody: list --all not permitted (exit 3)" rc_is 3
	asnobody --config "$U/conf" list --user root
	check "nobody: list --user root not permitted (exit 3)" rc_is 3
	asnobody --config "$U/conf" list
	check "nobody: list of own tokens exit 0" rc_is 0
	asnobody --config "$U/conf" verify --user root <<<"$tok"
	check "nobody: verify for another user not permitted (exit 3)" rc_is 3
	asnobody --config "$U/conf-groups" create --name x --expires 1d
	check "nobody in [group nogroup]: create --expires 1d exit 0" rc_is 0
	n_tok=$OUT
	asnobody --config "$U/conf-groups" verify --user nobody <<<"$n_tok"
	check "nobody: own token verifies" rc_is 0
	# owner no longer in any allowed group (the config now names another
	# group): the self-minted token becomes inactive, with a reason
	cp "$U/conf" "$U/conf-moved"
	printf '\n[group daemon]\nmax_lifetime = 7d\n' >>"$U/conf-moved"
	chown 65534:65534 "$U/conf-moved"
	asnobody --config "$U/conf-moved" list --json
	check "nobody's token after its group left the config: state inactive with a reason" \
		eval '[[ $RC == 0 ]] && [[ $(json_field "$W/out" "$(id_of "$n_tok")" state) == inactive ]] && [[ $(json_field "$W/out" "$(id_of "$n_tok")" reason) != null ]]'
	asnobody --config "$U/conf-moved" verify --user nobody <<<"$n_tok"
	check "an inactive token is refused (exit 1)" rc_is 1
	asnobody --config "$U/conf" list --json
	check "without any [group] section the token is active again" \
		eval '[[ $RC == 0 && $(json_field "$W/out" "$(id_of "$n_tok")" state) == active ]]'
	asnobody --config "$U/conf-groups" create --name x --expires 30d
	check "nobody: --expires 30d beyond the group's 7d (exit 3)" rc_is 3
	asnobody --config "$U/conf-groups" create --name x --expires never
	check "nobody: --expires never beyond the group's 7d (exit 3)" rc_is 3
	asnobody --config "$U/conf-groups" create --name x --user daemon --expires 1d
	check "nobody: create for another user (exit 3)" rc_is 3
	asnobody --config "$U/conf-groups" create --name y --expires 1d
	check "nobody: second token within max_tokens_per_user=2" rc_is 0
	asnobody --config "$U/conf-groups" create --name z --expires 1d
	check "nobody: third token beyond max_tokens_per_user=2 (exit 3)" rc_is 3
	# root's store: not readable by nobody; an admin's token not manageable
	asnobody --config "$U/conf" show "$ID"
	check "nobody: show of an id not in its store (exit 4)" rc_is 4
	# a store root shares with group nogroup: nobody reads it, sees only
	# its own tokens and is refused (3) for root's
	S=$W/shared
	mkdir -m 755 "$S"
	printf 'db = %s\nkey = %s\n' "$S/store/tokens.db" "$S/keys/site.key" >"$S/conf"
	run_raw --config "$S/conf" init --group nogroup
	check "shared store: init --group nogroup" rc_is 0
	run_raw --config "$S/conf" create --name mine --user nobody
	s_nobody=$OUT
	run_raw --config "$S/conf" create --name roots --user root
	s_root=$OUT
	asnobody --config "$S/conf" verify --user nobody <<<"$s_nobody"
	check "shared store: nobody verifies its own token" rc_is 0
	asnobody --config "$S/conf" show "$(id_of "$s_nobody")"
	check "shared store: nobody shows its own token" rc_is 0
	asnobody --config "$S/conf" show "$(id_of "$s_root")"
	check "shared store: nobody shows root's token: told 'no such token' (exit 4)" rc_is 4
	check "shared store: ... and learns nothing about it on stdout" test ! -s "$W/out"
	# Word for word what an id that does not exist gets, but for the id.
	err_theirs=${ERR//$(id_of "$s_root")/ID}
	asnobody --config "$S/conf" show AAAAAAAAAAAA
	err_none=${ERR//AAAAAAAAAAAA/ID}
	check "shared store: another's token and a missing id look the same" \
		eval '[[ $RC == 4 && $err_theirs == "$err_none" && -n $err_none ]]'
	asnobody --config "$S/conf" list --json
	check "shared store: nobody's list holds only its own token" eval '[[ $RC == 0 ]] && py "import json,sys
d=json.load(open(sys.argv[1])); sys.exit(0 if [o[\"user\"] for o in d]==[\"nobody\"] else 1)" "$W/out"'
	asnobody --config "$S/conf" verify --user root <<<"$s_root"
	check "shared store: nobody verifying root's token: not permitted (exit 3)" rc_is 3
	asnobody --config "$S/conf" rotate "$(id_of "$s_root")"
	check "shared store: nobody cannot rotate root's token" eval '[[ $RC != 0 && ! -s $W/out ]]'
	asnobody --config "$S/conf" revoke "$(id_of "$s_root")"
	check "shared store: nobody cannot revoke root's token" test "$RC" != 0
	run_raw --config "$S/conf" show "$(id_of "$s_root")" --json
	check "shared store: root's token untouched" eval '[[ $RC == 0 && $OUT == *\"active\"* ]]'
else
	n=$((n + 1))
	echo "ok $n - # SKIP unprivileged checks (not root or no setpriv)"
fi

# ------------------------------------------------------------ last used
# The module writes <db>.lastused/<id> (services may write there, so list
# must treat it as hostile). A valid record shows; anything else is null.
LU=$DB.lastused
if [[ -d $LU ]]; then
	lu_case() { # CONTENT -> sets $W/out to list --json
		rm -f "$LU/$ID"
		printf '%b' "$1" >"$LU/$ID"
		run list --json
	}
	lu_get() { json_field "$W/out" "$ID" "$1"; }
	lu_case 'ptklu1 1767225600 10.1.2.3\n'
	check "last used: a valid record is listed" \
		eval '[[ $RC == 0 && $(lu_get last_used) == 2026-01-01T00:00:00Z && $(lu_get last_rhost) == 10.1.2.3 ]]'
	run show "$ID"
	check "last used: show prints it" eval '[[ $OUT == *"2026-01-01T00:00:00Z from 10.1.2.3"* ]]'
	# The current format also carries when a success was last logged.
	lu_case 'ptklu2 1767225600 10.1.2.4 1767220000\n'
	check "last used: a version 2 record is listed" \
		eval '[[ $RC == 0 && $(lu_get last_used) == 2026-01-01T00:00:00Z && $(lu_get last_rhost) == 10.1.2.4 ]]'
	for bad in 'garbage\n' 'ptklu1 abc 10.1.2.3\n' 'ptklu1 -5 10.1.2.3\n' 'ptklu1 0 x\n' \
		'ptklu1 1767225600 \033[31mred\n' \
		'ptklu1 1767225600 10.1.2.3\nextra\n' 'ptklu1 1767225600 10.1.2.3' \
		'ptklu1 1767225600 10.1.2.3 1767220000\n' 'ptklu2 1767225600 10.1.2.3\n' \
		'ptklu2 1767225600 10.1.2.3 x\n' 'ptklu2 1767225600 10.1.2.3 0\n' \
		'ptklu2 1767225600 10.1.2.3 1767220000 9\n'; do
		lu_case "$bad"
		check "last used: hostile record '$bad': list --json valid, last_used null" \
			eval '[[ $RC == 0 && $(lu_get last_used) == null && $(lu_get last_rhost) == null ]]'
	done
	# quotes and backslashes: whatever is shown must be valid, exact JSON
	lu_case 'ptklu1 1767225600 a"b\\c\n'
	check "last used: quote and backslash in the address keep list --json valid" \
		eval '[[ $RC == 0 ]] && r=$(lu_get last_rhost) && [[ $r == null || $r == "a\"b\\c" ]]'
	# a time beyond what can be printed: last_used and last_rhost agree
	lu_case 'ptklu1 99999999999999999999 10.1.2.3\n'
	check "last used: an out-of-range time gives last_used and last_rhost both null or both set" \
		eval '[[ $RC == 0 ]] && u=$(lu_get last_used) && r=$(lu_get last_rhost) && { [[ $u == null && $r == null ]] || [[ $u != null && $r != null ]]; }'
	rm -f "$LU/$ID"
	ln -s "$LU/../tokens.db" "$LU/$ID"
	run list --json
	check "last used: a symlink is ignored" eval '[[ $RC == 0 && $(lu_get last_used) == null ]]'
	rm -f "$LU/$ID"
	mkfifo "$LU/$ID"
	run_with_timeout() { LAST="timeout 10 tokenadm $*"; timeout 10 "$T" --config "$CONF" "$@" >"$W/out" 2>"$W/err"; RC=$?; }
	run_with_timeout list --json
	check "last used: a FIFO does not hang list" eval '[[ $RC == 0 && $(lu_get last_used) == null ]]'
	rm -f "$LU/$ID"
else
	nok "init did not create $LU (last used cannot be tested)"
fi

# ------------------------------------------- concurrency and crashes (§6)
# Parallel writers serialise on the lock: none fails, none is lost.
before=$(count_tokens)
pids=()
for i in 1 2 3 4 5 6; do
	"$T" --config "$CONF" create --name "par-$i" >"$W/par.$i" 2>"$W/par.$i.err" &
	pids+=($!)
done
par_fail=0
for p in "${pids[@]}"; do wait "$p" || par_fail=$((par_fail + 1)); done
check "6 parallel creates all exit 0" test "$par_fail" = 0
check "6 parallel creates: 6 more tokens" test "$(count_tokens)" = "$((before + 6))"
par_ok=0
for i in 1 2 3 4 5 6; do
	run verify --user "$me" <"$W/par.$i"
	[[ $RC == 0 ]] && par_ok=$((par_ok + 1))
done
check "6 parallel creates: every token verifies" test "$par_ok" = 6
rm -f "$W"/par.*

# While a writer holds the store's lock, verify (a login) does not wait,
# and a writer waits for the lock instead of failing.
flock -x "$DB.lock" sleep 2 &
lockpid=$!
sleep 0.3
t0=$(date +%s%N)
verify_tok "$tok" --user "$me"
t1=$(date +%s%N)
check "verify while a writer holds the lock: accepted" rc_is 0
check "verify while a writer holds the lock: no wait ($(( (t1 - t0) / 1000000 )) ms)" \
	test $(( (t1 - t0) / 1000000 )) -lt 1000
run create --name after-lock
t2=$(date +%s%N)
check "create while the lock is held waits and succeeds" eval '[[ $RC == 0 ]] && is_token "$OUT"'
check "create waited for the lock ($(( (t2 - t1) / 1000000 )) ms)" test $(( (t2 - t1) / 1000000 )) -ge 700
wait "$lockpid"

# kill -9 of writers at random moments: committed tokens survive, the
# store stays readable, no temporary files pile up.
committed=$(count_tokens)
for i in $(seq 1 12); do
	"$T" --config "$CONF" create --name "crash-$i" >/dev/null 2>&1 &
	cpid=$!
	sleep "0.00$((RANDOM % 10))"
	kill -9 "$cpid" 2>/dev/null
	wait "$cpid" 2>/dev/null
done
run list --json
check "after 12 kill -9'd writers: list exit 0" rc_is 0
after=$(count_tokens)
check "after kill -9'd writers: no committed token lost ($committed -> $after)" test "$after" -ge "$committed"
verify_tok "$tok" --user "$me"
check "after kill -9'd writers: an old token still verifies" rc_is 0
run create --name after-crashes
check "after kill -9'd writers: create works" rc_is 0
check "after kill -9'd writers: no temp files left once a writer ran" \
	eval '! compgen -G "$DB.tmp.*" >/dev/null'

# ---------------------------------------------- directories are checked
# Whoever may write the store's or the key's directory could swap the file
# between two opens: such a directory is refused (a sticky one is fine).
chmod g+w "$W/store"
run list
check "a group-writable store directory is refused" eval 'rc_is 1 && [[ $ERR == *"directory writable by group or others"* ]]'
chmod +t "$W/store"
run list
check "... unless it is sticky" rc_is 0
chmod g-w,-t "$W/store"
chmod o+w "$W/keys"
run list
check "a world-writable key directory is refused" eval 'rc_is 1 && [[ $ERR == *"directory writable"* ]]'
chmod o-w "$W/keys"
run list
check "with the modes restored it works again" rc_is 0

# --------------------------------------------------------------- finally
none_stored() {
	local t
	for t in "$tok" "$json_tok" "$t_rot" "$t_rot2" "$t_rot3" "$t_rot4" "$t_net" "$p_act"; do
		[[ -n $t ]] && secret_not_under_store "$t" || return 1
	done
}
check "no secret of this run is in the store, the key or their directories" none_stored

echo "1..$n"
if ((fails)); then
	echo "# $fails of $n failed"
	exit 1
fi
exit 0
