#!/bin/bash
# The shipped fail2ban filter (etc/fail2ban/filter.d/pam-apitoken.conf)
# against lines the module really wrote: tests/hard_refusals logs in once
# for every refusal reason (and a few successes, a non-token, a store
# error) through the real libpam and writes the module's lines as a syslog
# file plus the expected verdict of each. fail2ban-regex must find exactly
# the refusals, in order, each with its client address; successes and
# errors must not match.
#
# Environment (meson): HARD_REFUSALS, F2B_FILTER, TOKENADM, PAM_APITOKEN_SO.
# Exit 0 pass, 1 fail, 77 skipped (no fail2ban, not root).
set -u

if ! command -v fail2ban-regex >/dev/null 2>&1; then
	echo "SKIP: fail2ban-regex not installed (Debian package fail2ban)"
	exit 77
fi
common=/etc/fail2ban/filter.d/common.conf
if [ ! -f "$common" ]; then
	echo "SKIP: $common missing (fail2ban installed without its filters)"
	exit 77
fi
: "${HARD_REFUSALS:?run through meson test}" "${F2B_FILTER:?run through meson test}"

W=$(mktemp -d /tmp/test_fail2ban.XXXXXX)
trap 'rm -rf "$W"' EXIT
mkdir "$W/out" "$W/conf" "$W/conf/filter.d"

"$HARD_REFUSALS" "$W/out"
rc=$?
if [ "$rc" -eq 77 ]; then
	exit 77
elif [ "$rc" -ne 0 ]; then
	echo "FAIL: hard_refusals exited $rc (its lines are above)"
	exit 1
fi

# fail2ban's own common.conf (prefix and date patterns) with our filter.
cp "$common" "$F2B_FILTER" "$W/conf/filter.d/"
log=$W/out/auth.log
# hard_refusals wrote one expectation per log line and checked each case's
# lines itself; here only that the refusals are there to be matched.
n_lines=$(wc -l <"$log")
n_refusals=$(grep -c '^match ' "$W/out/expect")
if [ "$n_refusals" -lt 10 ]; then
	echo "FAIL: only $n_refusals refusal lines to match (of $n_lines)"
	exit 1
fi

# -o ip: one address per matched line, in the order of the file. Every
# line holds a different address from the refusal before it, so a
# success or error line that matched, a refusal that did not, or a wrong
# address all change the sequence.
fail2ban-regex -c "$W/conf" --raw -o ip "$log" pam-apitoken >"$W/got" 2>"$W/err" || {
	echo "FAIL: fail2ban-regex exited $?"
	cat "$W/err"
	exit 1
}
awk '$1 == "match" { print $2 }' "$W/out/expect" >"$W/want"
fail=0
if ! cmp -s "$W/got" "$W/want"; then
	fail=1
	echo "FAIL: addresses found differ from the refusals' (want | got):"
	paste "$W/want" "$W/got"
	# Line by line, to say which.
	i=0
	while IFS= read -r line && IFS=' ' read -r verdict host label <&3; do
		i=$((i + 1))
		got=$(fail2ban-regex -c "$W/conf" --raw -o ip "$line" pam-apitoken 2>&1)
		if [ "$verdict" = match ] && [ "$got" != "$host" ]; then
			echo "  line $i ($label): want $host, got '${got}'"
		elif [ "$verdict" = nomatch ] && [ -n "$got" ]; then
			echo "  line $i ($label): must not match, got $got"
		fi
	done <"$log" 3<"$W/out/expect"
fi

n_match=$(wc -l <"$W/want")
labels=$(awk '$1 == "match" { printf "%s ", $3 }' "$W/out/expect")
if [ "$fail" -eq 0 ]; then
	echo "ok: $n_match refusals matched with their address ($labels);" \
		"$((n_lines - n_match)) success/error lines not matched"
fi
exit "$fail"
