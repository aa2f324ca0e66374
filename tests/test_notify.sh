#!/bin/bash
# tokenadm notify (tokenadm(8)) through a real MTA from Debian: real
# accounts, mail delivered by the MTA into /var/mail/USER, counted there.
#
# Shown: exactly one mail per token and threshold across repeated runs
# (and across a clock moved 9 days with faketime), each to its owner
# (notify_map routes one user to another local mailbox), none holding a
# secret; the owner of a token revoked by value and the owner of an
# inactive token (removed from the permitted group) get one each;
# --dry-run prints the mails and sends and records nothing; with
# notify_before unset, and on an import-only host, nothing is mailed and
# no state file is written.
#
# Runs as root (useradd, the MTA's local delivery), the non-setuid build
# with --config. Skipped (77) without root or without /usr/sbin/sendmail
# (scripts/deps.sh installs exim4-daemon-light).
#
# env: TOKENADM, FAKETIME (the faketime program; the 9-day case is
# skipped without it or in a sanitizer build)
set -u
export LC_ALL=C

T=${TOKENADM:?set TOKENADM to the tokenadm binary}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (useradd, local mail delivery)"; exit 77; }
SENDMAIL=/usr/sbin/sendmail
[ -x $SENDMAIL ] || { echo "SKIP: no MTA ($SENDMAIL missing; scripts/deps.sh installs exim4-daemon-light)"; exit 77; }
command -v useradd >/dev/null && command -v gpasswd >/dev/null ||
	{ echo "SKIP: useradd/gpasswd missing"; exit 77; }

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { # check DESCRIPTION EXPECTED-EXIT ACTUAL-EXIT
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (exit $3, want $2)"; return 1; fi
}

# Unique per run: concurrent runs (several build dirs) must not share
# accounts or mailboxes. The mapped user (carol) gets her mail in MAPBOX's.
P=ptn$$
U_ALICE=${P}a U_BOB=${P}b U_CAROL=${P}c U_DAVE=${P}d U_MAPBOX=${P}m
USERS="$U_ALICE $U_BOB $U_CAROL $U_DAVE $U_MAPBOX"
G=${P}g
W=$(mktemp -d /tmp/test_notify.XXXXXX) || exit 1
# The MTA's delivery changes into each user's home: homes live in $W.
chmod 755 "$W"

# Messages still queued for our accounts (a failed run), by id. Exim's
# queue listing; for another MTA this finds nothing and cleanup skips it.
queued_ids() {
	command -v exiqgrep >/dev/null || return 0
	local u
	for u in $USERS; do exiqgrep -i -r "^$u@" 2>/dev/null; done
}
cleanup() {
	local id
	for id in $(queued_ids); do exim4 -Mrm "$id" >/dev/null 2>&1; done
	for u in $USERS; do
		userdel -r "$u" >/dev/null 2>&1
		rm -f "/var/mail/$u"
	done
	groupdel "$G" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

groupadd "$G" || exit 1
mkdir "$W/home"
for u in $USERS; do
	useradd -m -d "$W/home/$u" -N -g nogroup -G "$G" -s /usr/sbin/nologin "$u" ||
		exit 1
	rm -f "/var/mail/$u"
done

mkdir -m 700 "$W/store"
DB=$W/store/tokens.db
STATE=$DB.notified
printf '# carol reads her mail in another mailbox\n%s %s\n' \
	"$U_CAROL" "$U_MAPBOX" >"$W/notify.map"
# write_conf FILE EXTRA-LINES
write_conf() {
	cat >"$1" <<EOF
db = $DB
key = $W/store/site.key
$2

[group $G]
max_lifetime = 60d
EOF
}
CONF=$W/notify.conf
write_conf "$CONF" "notify_before = 14d 1d
notify_map = $W/notify.map"
write_conf "$W/unset.conf" ""
write_conf "$W/import.conf" "role = import-only
notify_before = 14d 1d"

tadm() { "$T" --config "$CONF" "$@"; }
tadm init >/dev/null 2>&1
check "init" 0 $?

# mint VAR USER EXPIRES NAME: the token into $W/tok.VAR, its id in ID_VAR.
mint() {
	tadm create --user "$2" --expires "$3" --name "$4" >"$W/tok.$1" 2>"$W/err" ||
		{ bad "create $4 for $2"; cat "$W/err"; exit 1; }
	eval "ID_$1=\$(sed -n 's/^ptk_\([0-9A-Za-z]\{12\}\)_.*/\1/p' \"\$W/tok.$1\")"
}
mint a12h "$U_ALICE" 12h alice-12h   # the 1d threshold at once (one mail, not two)
mint a10d "$U_ALICE" 10d alice-10d   # 14d now, 1d nine days later
mint a30d "$U_ALICE" 30d alice-30d   # no threshold crossed: never mailed
mint b10d "$U_BOB" 10d bob-10d
mint brev "$U_BOB" 30d bob-revoked  # revoked by value below
mint c12h "$U_CAROL" 12h carol-12h   # mailed to MAPBOX (notify_map)
# A token bound to its owner's group (inactive once they leave it) is one
# the owner mints for themselves: the site is handed to dave for that run
# (the non-setuid tool as dave), then back to root.
chown -R "$U_DAVE:nogroup" "$W/store" &&
	runuser -u "$U_DAVE" -- "$T" --config "$CONF" create --expires 30d \
		--name dave-30d >"$W/tok.d30d" 2>"$W/err"
check "dave mints his own token" 0 $? || sed "s/^/#   /" "$W/err"
chown -R root:root "$W/store" || exit 1
ID_d30d=$(sed -n 's/^ptk_\([0-9A-Za-z]\{12\}\)_.*/\1/p' "$W/tok.d30d")

# Someone who found bob's token kills it by value (stdin, never argv).
tadm revoke --token - <"$W/tok.brev" >/dev/null 2>&1
check "revoke --token - of bob's token" 0 $?
tadm show "$ID_brev" --json 2>/dev/null | grep -q '"state":"revoked"' &&
	ok "bob's token is revoked" || bad "bob's token is not revoked"
gpasswd -d "$U_DAVE" "$G" >/dev/null || exit 1
tadm show "$ID_d30d" --json 2>/dev/null | grep -q '"state":"inactive"' &&
	ok "dave's token is inactive once he left the group" ||
	bad "dave's token is not inactive"

# Wait (bounded) until the MTA holds nothing for our accounts: every mail
# tokenadm handed over is then in a mailbox (or was refused, and the counts
# below say so). sendmail has spooled a message when it exits, so what is
# not in the queue listing is delivered.
settle() {
	local i
	for i in $(seq 300); do
		mailq 2>/dev/null | grep -q "$P" || return 0
		sleep 0.1
	done
	echo "# the MTA still holds mail for our accounts after 30 s:"
	mailq 2>&1 | sed 's/^/#   /' | head -20
}
# mails USER: how many messages are in USER's mailbox.
mails() { local c; c=$(grep -c '^From ' "/var/mail/$1" 2>/dev/null); echo "${c:-0}"; }
# subjects_with USER ID: how many mails to USER name token ID.
subjects_with() { local c; c=$(grep -c "^Subject: API token $2 " "/var/mail/$1" 2>/dev/null); echo "${c:-0}"; }
no_mail_at_all() {
	local u
	for u in $USERS; do [ -e "/var/mail/$u" ] && return 1; done
	return 0
}

# notify_before unset: nothing, and exit 0 (what the daily job meets on a
# host that never set it).
"$T" --config "$W/unset.conf" notify >"$W/out" 2>"$W/err"
check "notify without notify_before exits 0" 0 $?
grep -q 'notify_before is not set' "$W/err" && ok "... and says why" ||
	bad "no word that notify_before is unset: $(cat "$W/err")"
"$T" --config "$W/unset.conf" notify --dry-run >"$W/out" 2>"$W/err"
[ ! -s "$W/out" ] && ok "... --dry-run prints no mail either" || bad "a mail was printed without notify_before"
settle
[ ! -e "$STATE" ] && ok "... writes no state file" || bad "a state file was written without notify_before"
no_mail_at_all && ok "... mails nobody" || bad "a mail was sent without notify_before"

# An import-only host: the authority mails, once.
"$T" --config "$W/import.conf" notify >"$W/out" 2>"$W/err"
check "notify on an import-only host exits 0" 0 $?
grep -q 'import-only' "$W/err" && ok "... and says why" || bad "no word about import-only: $(cat "$W/err")"
settle
[ ! -e "$STATE" ] && no_mail_at_all && ok "... mails nobody, writes nothing" ||
	bad "an import-only host mailed or wrote state"

# --dry-run: the six mails due, printed; nothing sent, nothing recorded.
tadm notify --dry-run >"$W/dry" 2>"$W/err"
check "notify --dry-run" 0 $?
[ "$(grep -c '^---- mail ' "$W/dry")" = 6 ] && ok "--dry-run prints six mails" ||
	bad "--dry-run printed $(grep -c '^---- mail ' "$W/dry") mails, want 6"
grep -q "^To: $U_MAPBOX\$" "$W/dry" && ok "--dry-run shows the mapped address" ||
	bad "--dry-run lacks the mapped address"
settle
[ ! -e "$STATE" ] && ok "--dry-run records nothing" || bad "--dry-run wrote $STATE"
no_mail_at_all && ok "--dry-run sends nothing" || bad "--dry-run sent mail"

# The real thing, three times (a daily job run thrice).
for i in 1 2 3; do
	tadm notify >"$W/out.$i" 2>"$W/err.$i"
	check "notify run $i" 0 $?
done
grep -q '^6 mail(s) sent' "$W/err.1" && ok "the first run sent six" || bad "first run: $(cat "$W/err.1")"
grep -q '^0 mail(s) sent' "$W/err.3" && ok "the third run sent none" || bad "third run: $(cat "$W/err.3")"
settle

# expect_box USER TOTAL [ID COUNT]...: USER's mailbox holds TOTAL mails,
# COUNT of them about token ID.
expect_box() {
	local u=$1 want=$2 got
	shift 2
	got=$(mails "$u")
	if [ "$got" = "$want" ]; then ok "$u has $want mail(s)"; else bad "$u has $got mail(s), want $want"; fi
	while [ $# -ge 2 ]; do
		got=$(subjects_with "$u" "$1")
		[ "$got" = "$2" ] && ok "... $2 about $1" || bad "... $got about $1, want $2"
		shift 2
	done
}
# Each token's mail goes to its owner and to nobody else: every mailbox is
# checked for every id.
ALL_IDS="$ID_a12h $ID_a10d $ID_a30d $ID_b10d $ID_brev $ID_c12h $ID_d30d"
only_ids() { # only_ids USER ID...: no mail to USER names any other token
	local u=$1 id
	shift
	for id in $ALL_IDS; do
		case " $* " in *" $id "*) continue ;; esac
		[ "$(subjects_with "$u" "$id")" = 0 ] || { bad "$u got mail about $id"; return; }
		grep -q "$id" "/var/mail/$u" 2>/dev/null && { bad "$u's mail names $id"; return; }
	done
	ok "$u got mail about no one else's token"
}
expect_box "$U_ALICE" 2 "$ID_a12h" 1 "$ID_a10d" 1 "$ID_a30d" 0
expect_box "$U_BOB" 2 "$ID_b10d" 1 "$ID_brev" 1
expect_box "$U_MAPBOX" 1 "$ID_c12h" 1
expect_box "$U_DAVE" 1 "$ID_d30d" 1
[ ! -e "/var/mail/$U_CAROL" ] && ok "carol's own mailbox got nothing (notify_map)" ||
	bad "carol got mail despite notify_map"
only_ids "$U_ALICE" "$ID_a12h" "$ID_a10d"
only_ids "$U_BOB" "$ID_b10d" "$ID_brev"
only_ids "$U_MAPBOX" "$ID_c12h"
only_ids "$U_DAVE" "$ID_d30d"
grep -q "^Subject: API token $ID_a12h .* expires in 1[12] hours" "/var/mail/$U_ALICE" &&
	ok "the 12h token's mail says 11-12 hours" || bad "the 12h token's mail lacks 'in 11/12 hours'"
grep -q "^Subject: API token $ID_brev .*revoked by its value" "/var/mail/$U_BOB" &&
	ok "bob is told his token was revoked by value" || bad "no revoked-by-value mail for bob"
grep -q "^Subject: API token $ID_d30d .*stopped working" "/var/mail/$U_DAVE" &&
	ok "dave is told his token stopped working" || bad "no inactive mail for dave"
grep -q "tokenadm rotate $ID_a10d" "/var/mail/$U_ALICE" &&
	ok "the expiry mail says how to rotate" || bad "the expiry mail lacks 'tokenadm rotate ID'"
[ "$(stat -c %a "$STATE" 2>/dev/null)" = 600 ] && ok "the state file is root's alone (0600)" ||
	bad "state file mode: $(stat -c %a "$STATE" 2>&1)"
[ "$(wc -l <"$STATE")" = 6 ] && ok "the state file holds six notices" ||
	bad "the state file holds $(wc -l <"$STATE") lines, want 6"

# Nine days later: alice's and bob's 10d tokens cross 1d (a second mail
# each); nothing else is due again. libfaketime is preloaded into tokenadm
# alone (sendmail runs with a clean environment).
if [ -n "${FAKETIME:-}" ] && [ -x "${FAKETIME:-}" ] && [ -z "${PTK_SANITIZED:-}" ]; then
	"$FAKETIME" -f +9d "$T" --config "$CONF" notify --dry-run >"$W/dry9" 2>"$W/err"
	[ "$(grep -c '^---- mail ' "$W/dry9")" = 2 ] && ok "+9d: --dry-run shows two mails due" ||
		bad "+9d: --dry-run shows $(grep -c '^---- mail ' "$W/dry9") mails, want 2"
	for i in 1 2; do
		"$FAKETIME" -f +9d "$T" --config "$CONF" notify >"$W/out9.$i" 2>"$W/err9.$i"
		check "+9d: notify run $i" 0 $?
	done
	settle
	expect_box "$U_ALICE" 3 "$ID_a12h" 1 "$ID_a10d" 2
	expect_box "$U_BOB" 3 "$ID_b10d" 2 "$ID_brev" 1
	expect_box "$U_MAPBOX" 1
	expect_box "$U_DAVE" 1
	grep -q "^Subject: API token $ID_a10d .* expires in 2[34] hours" "/var/mail/$U_ALICE" &&
		ok "+9d: the second mail is the 1d one" || bad "+9d: no 'in 23/24 hours' mail for alice's 10d token"
	[ "$(wc -l <"$STATE")" = 8 ] && ok "+9d: the state file holds eight notices" ||
		bad "+9d: the state file holds $(wc -l <"$STATE") lines, want 8"
else
	echo "# SKIP the 9-day case: no faketime, or a sanitizer build"
fi

# No secret in any mail, nor in the state file: neither a whole token nor
# its secret part (the 32 characters after the id).
leak=0
for v in a12h a10d a30d b10d brev c12h d30d; do
	tok=$(<"$W/tok.$v")
	secret=${tok##*_}
	secret=${secret:0:32}
	[ ${#secret} = 32 ] || { bad "could not take $v's secret"; leak=1; continue; }
	for u in $USERS; do
		[ -e "/var/mail/$u" ] || continue
		grep -qF -e "$secret" -e "$tok" "/var/mail/$u" && { bad "$u's mail holds $v's secret"; leak=1; }
	done
	grep -qF "$secret" "$STATE" "$W/dry" && { bad "state or dry-run holds $v's secret"; leak=1; }
done
[ $leak = 0 ] && ok "no mail, state file or dry-run output holds a secret"

echo "1..$n"
[ $failed = 0 ]
