#!/bin/bash
# The daily job (tokenadm(8), THE DAILY JOB): the systemd units checked
# with systemd-analyze verify (no systemd runs here), and the cron.daily
# fallback run as cron would, with the built tokenadm
# (PAM_APITOKEN_TOKENADM) and a private config (PAM_APITOKEN_CONF):
#
#  - notify_before and max_idle unset, or an import-only host: the job
#    exits 0, says nothing (cron would mail root) and changes no file;
#  - where systemd is the init (/run/systemd/system, faked in a private
#    mount namespace) the cron script steps aside;
#  - both keys set: an idle token is retired and its owner's expiring
#    token is mailed (through the MTA when there is one);
#  - notify failing does not stop retire-idle, and the job then fails
#    loudly; the service's own command line does the same.
#
# Usage: test_daily.sh SOURCE_ROOT. env: TOKENADM, DAILY_SERVICE (the
# configured pam-apitoken-daily.service), FAKETIME. Exit 77 without root
# (useradd, mount namespace).
set -u
export LC_ALL=C

SRC=${1:?usage: test_daily.sh SOURCE_ROOT}
T=${TOKENADM:?set TOKENADM}
SERVICE=${DAILY_SERVICE:?set DAILY_SERVICE}
TIMER=$SRC/etc/systemd/pam-apitoken-daily.timer
CRON=$SRC/etc/cron.daily/pam-apitoken
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (useradd, a mount namespace)"; exit 77; }

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { # check DESCRIPTION EXPECTED-EXIT ACTUAL-EXIT
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (exit $3, want $2)"; return 1; fi
}

U=ptdy$$
W=$(mktemp -d /tmp/test_daily.XXXXXX) || exit 1
chmod 755 "$W"
cleanup() {
	userdel -r "$U" >/dev/null 2>&1
	rm -f "/var/mail/$U"
	rm -rf "$W"
}
trap cleanup EXIT

# ------------------------------------------------------------ the units
# Found whether or not systemd-analyze is here: service_run swaps it for
# the built tokenadm (else it would run an installed one, or none).
exec_path=$(sed -n 's/^ExecStart=.* \(\/[^ ]*\/tokenadm\)$/\1/p' "$SERVICE")
[ -n "$exec_path" ] && ! grep -q @ "$SERVICE" &&
	ok "the service runs the installed tokenadm ($exec_path)" ||
	bad "no installed tokenadm path in $SERVICE"
if command -v systemd-analyze >/dev/null; then
	mkdir "$W/units"
	cp "$TIMER" "$W/units/"
	# verify checks that ExecStart's program exists: the built one here.
	sed "s|$exec_path|$T|" "$SERVICE" >"$W/units/pam-apitoken-daily.service"
	systemd-analyze verify --man=no "$W/units/pam-apitoken-daily.timer" \
		"$W/units/pam-apitoken-daily.service" >"$W/verify" 2>&1
	rc=$?
	# A key it does not know or cannot parse is only a warning: no output
	# at all is the pass.
	[ $rc = 0 ] && [ ! -s "$W/verify" ] && ok "systemd-analyze verify: clean" ||
		{ bad "systemd-analyze verify (exit $rc)"; sed 's/^/#   /' "$W/verify"; }
	# The check has teeth: a misspelt key fails it.
	sed 's/^Persistent=true/Persistant=true/' "$W/units/pam-apitoken-daily.timer" \
		>"$W/units/broken.timer"
	cp "$W/units/pam-apitoken-daily.service" "$W/units/broken.service"
	out=$(systemd-analyze verify --man=no "$W/units/broken.timer" 2>&1)
	[ -n "$out" ] && ok "... which reports a misspelt key" || bad "verify missed a misspelt key"
	if systemd-analyze security --offline=true --man=no --threshold=65 \
		"$W/units/pam-apitoken-daily.service" >"$W/security" 2>&1; then
		ok "$(grep -o 'Overall exposure level.*' "$W/security" | head -1)"
	else
		bad "systemd-analyze security: exposure above 6.5"
		tail -3 "$W/security" | sed 's/^/#   /'
	fi
else
	echo "# SKIP systemd-analyze verify: systemd-analyze is not installed"
fi
# What the units must say, whoever checks them.
grep -qx 'OnCalendar=daily' "$TIMER" && grep -qx 'Persistent=true' "$TIMER" &&
	grep -q '^RandomizedDelaySec=' "$TIMER" && grep -qx 'WantedBy=timers.target' "$TIMER" &&
	ok "timer: daily, persistent, randomized, wanted by timers.target" ||
	bad "the timer lacks OnCalendar=daily, Persistent=true, RandomizedDelaySec or WantedBy"
grep -qx 'Type=oneshot' "$SERVICE" && ! grep -q '^\[Install\]' "$SERVICE" &&
	! grep -q '^User=' "$SERVICE" &&
	ok "service: oneshot, as root, started only by the timer" ||
	bad "the service is not a root oneshot without [Install]"
# sendmail is often setuid or setgid (exim4, postdrop): a unit that forbids
# new privileges breaks mail.
! grep -Eq '^(NoNewPrivileges=yes|RestrictSUIDSGID=yes|CapabilityBoundingSet=|User=|DynamicUser=yes|ProtectHome=(yes|true|tmpfs))' "$SERVICE" &&
	ok "service: nothing that stops sendmail (setuid, delivery into homes)" ||
	bad "the service forbids what sendmail needs"

# ------------------------------------------------------------- the jobs
mkdir -m 700 "$W/store"
DB=$W/store/tokens.db
useradd -m -d "$W/home" -N -g nogroup -s /usr/sbin/nologin "$U" || exit 1
rm -f "/var/mail/$U"
# conf FILE EXTRA-LINES
conf() {
	printf 'db = %s\nkey = %s\n%s\n' "$DB" "$W/store/site.key" "$2" >"$1"
}
conf "$W/plain.conf" ""
conf "$W/on.conf" "notify_before = 14d 1d
max_idle = 30d"
conf "$W/import.conf" "role = import-only
notify_before = 14d 1d
max_idle = 30d"
conf "$W/badmap.conf" "notify_before = 14d 1d
notify_map = $W/no-such-map
max_idle = 30d"
tadm() { "$T" --config "$W/plain.conf" "$@"; }
tadm init >/dev/null 2>&1
check "init" 0 $? || exit 1
tadm create --user "$U" --name soon --expires 12h >/dev/null 2>&1
check "a token expiring in 12 hours" 0 $?
# Made 40 days ago and never used: idle past max_idle = 30d.
if [ -n "${FAKETIME:-}" ] && [ -x "${FAKETIME:-}" ] && [ -z "${PTK_SANITIZED:-}" ]; then
	"$FAKETIME" -f -40d "$T" --config "$W/plain.conf" create --user "$U" \
		--name forgotten-svc --expires 60d >/dev/null 2>&1
	check "a token made 40 days ago" 0 $?
	have_idle=1
else
	echo "# SKIP the idle token: no faketime, or a sanitizer build"
	have_idle=0
fi

# The state of everything the job could change: the store's directory
# (names, sizes, times, bytes) and what list says.
snapshot() {
	(cd "$W/store" && find . -printf '%p %s %T@ %m\n' | sort && cat ./* 2>/dev/null | md5sum)
	"$T" --config "$W/plain.conf" list --all --json 2>/dev/null
}
# cron_run CONF: the cron script as cron runs it (run-parts: no
# arguments, root, a plain PATH), with the built tokenadm.
cron_run() {
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PAM_APITOKEN_CONF="$1" \
		PAM_APITOKEN_TOKENADM="$T" /bin/sh "$CRON" >"$W/cron.out" 2>&1
}
# service_run CONF: the service's ExecStart, as systemd would run it.
service_run() {
	local line
	line=$(sed -n 's/^ExecStart=//p' "$SERVICE" | sed 's/\$\$/$/g')
	line=${line//$exec_path/$T}
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PAM_APITOKEN_CONF="$1" \
		bash -c "eval \"\$1\"" _ "$line" >"$W/svc.out" 2>&1
}

before=$(snapshot)
cron_run "$W/plain.conf"
check "cron job, notify_before and max_idle unset: exit 0" 0 $?
[ ! -s "$W/cron.out" ] && ok "... says nothing (cron mails root nothing)" ||
	bad "... printed: $(head -3 "$W/cron.out")"
[ "$(snapshot)" = "$before" ] && ok "... changes no file" || bad "... changed the store's directory"
service_run "$W/plain.conf"
check "the service's command, keys unset: exit 0" 0 $?
[ "$(snapshot)" = "$before" ] && ok "... changes no file" || bad "... changed the store's directory"

cron_run "$W/import.conf"
check "cron job on an import-only host (keys set): exit 0" 0 $?
[ ! -s "$W/cron.out" ] && [ "$(snapshot)" = "$before" ] &&
	ok "... says nothing, changes nothing" || bad "... acted on an import-only host: $(head -3 "$W/cron.out")"
service_run "$W/import.conf"
check "the service's command on an import-only host: exit 0" 0 $?
[ "$(snapshot)" = "$before" ] && ok "... changes nothing" || bad "... acted on an import-only host"

# Where systemd is the init the timer does the work: the cron script
# steps aside, keys set or not.
if unshare -m --propagation private true 2>/dev/null; then
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin PAM_APITOKEN_CONF="$W/on.conf" \
		PAM_APITOKEN_TOKENADM="$T" unshare -m --propagation private \
		sh -c 'mount -t tmpfs none /run && mkdir -p /run/systemd/system &&
			exec /bin/sh "$0"' "$CRON" >"$W/cron.out" 2>&1
	check "cron job under systemd (keys set): exit 0" 0 $?
	[ ! -s "$W/cron.out" ] && [ "$(snapshot)" = "$before" ] &&
		ok "... does nothing (the timer's job)" || bad "... acted under systemd: $(head -3 "$W/cron.out")"
else
	echo "# SKIP the systemd-as-init case: no private mount namespace here"
fi

# notify cannot run (its notify_map is missing): retire-idle still runs,
# and the job fails loudly; through the service's command line and
# through cron.
idle_id() {
	tadm list --all --json 2>/dev/null | tr '{' '\n' |
		sed -n "s/.*\"id\":\"\([0-9A-Za-z]\{12\}\)\".*\"name\":\"forgotten-$1\".*/\1/p"
}
# retired svc|cron: that idle token was disabled as idle (then enabled
# again: its idle clock restarts, so it is idle no more).
retired() {
	[ $have_idle = 1 ] || return 0
	local idle_id
	idle_id=$(idle_id "$1")
	if [ -n "$idle_id" ] && tadm show "$idle_id" --json 2>/dev/null | grep -q '"reason":"idle since'; then
		ok "$1: retire-idle still retired the idle token"
	else
		bad "$1: retire-idle did not run after notify failed: $(tadm show "$idle_id" 2>&1 | head -3)"
	fi
	tadm enable "$idle_id" >/dev/null 2>&1
}
service_run "$W/badmap.conf"
rc=$?
[ $rc != 0 ] && ok "the service's command fails when notify does (exit $rc)" ||
	bad "the service's command hid notify's failure"
retired svc
# Another, for the cron round (the one above is active again).
if [ $have_idle = 1 ]; then
	"$FAKETIME" -f -40d "$T" --config "$W/plain.conf" create --user "$U" \
		--name forgotten-cron --expires 60d >/dev/null 2>&1
	check "another token made 40 days ago" 0 $?
fi
cron_run "$W/badmap.conf"
rc=$?
[ $rc != 0 ] && grep -q 'tokenadm notify failed' "$W/cron.out" &&
	ok "cron job: a failing notify fails the job and says so (exit $rc)" ||
	bad "cron job with a failing notify: exit $rc, said: $(head -3 "$W/cron.out")"
retired cron

# Both keys set: the mail goes out (one, for the 12h token).
if [ -x /usr/sbin/sendmail ]; then
	cron_run "$W/on.conf"
	check "cron job with both keys set: exit 0" 0 $? || sed 's/^/#   /' "$W/cron.out"
	[ ! -s "$W/cron.out" ] && ok "... quiet (what it did went to syslog)" ||
		bad "... printed: $(head -3 "$W/cron.out")"
	[ "$(wc -l <"$DB.notified" 2>/dev/null)" = 1 ] && ok "... one notice recorded" ||
		bad "... $DB.notified: $(cat "$DB.notified" 2>&1)"
	for _ in $(seq 300); do
		[ -s "/var/mail/$U" ] && ! mailq 2>/dev/null | grep -q "$U" && break
		sleep 0.1
	done
	[ "$(grep -c '^Subject: API token .* expires in' "/var/mail/$U" 2>/dev/null)" = 1 ] &&
		ok "... the owner got one mail" || bad "... the owner's mailbox: $(grep -c '^From ' "/var/mail/$U" 2>&1)"
else
	echo "# SKIP the mail through cron: no /usr/sbin/sendmail (scripts/deps.sh installs exim4-daemon-light)"
fi

echo "1..$n"
[ $failed = 0 ]
