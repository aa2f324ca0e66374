#!/usr/bin/env bash
# Run the tests that load the PAM module (and the core's unit tests) under
# valgrind memcheck; fail on any memory error or definite leak.
#
#   scripts/valgrind-tests.sh                 # the default list below
#   VALGRIND_TESTS="mem_pam module" scripts/valgrind-tests.sh
#
# Environment:
#   VALGRIND_BUILD  build directory (default build-valgrind: gcc, -O1 -g,
#                   no sanitizers; configured if it does not exist)
#   VALGRIND_TESTS  meson test names to run (default: module, mem_pam, the
#                   C unit tests and the fuzz corpus replays)
#   VALGRIND_TOKENADM=0  skip the pass that runs each tokenadm command once
#                   under valgrind
#
# Only the test program itself runs under valgrind: the tokenadm processes
# the tests start are not followed (--trace-children=no), so their exit
# status is the tests' business. The module keeps a process-wide cache
# (core/cache.c) reachable from a static, so "still reachable" blocks are
# expected at exit and are not errors; "definitely lost" ones are
# (--errors-for-leak-kinds=definite). A test that exits 77 counts as skipped.
set -uo pipefail

cd "$(dirname "$0")/.."
BUILD=${VALGRIND_BUILD:-build-valgrind}
DEFAULT_TESTS="module mem_pam addr duration config token record store
fuzz_token_replay fuzz_record_replay fuzz_addr_replay fuzz_config_replay
fuzz_duration_replay"
TESTS=${VALGRIND_TESTS:-$DEFAULT_TESTS}

die() { printf 'valgrind-tests: %s\n' "$*" >&2; exit 2; }

command -v valgrind >/dev/null || die "valgrind is not installed (scripts/deps.sh)"
if [ ! -f "$BUILD/build.ninja" ]; then
	CC=${CC:-gcc} meson setup "$BUILD" --buildtype=plain -Dc_args="-O1 -g" \
		-Db_sanitize=none >"$BUILD.setup.log" 2>&1 ||
		{ cat "$BUILD.setup.log" >&2; die "meson setup failed"; }
	rm -f "$BUILD.setup.log"
fi

# Tests that do not exist in this tree (yet) are left out, not failed.
mapfile -t known < <(meson test -C "$BUILD" --list 2>/dev/null |
	sed -n 's/^.* \/ //p')
run=()
for t in $TESTS; do
	found=0
	for k in "${known[@]}"; do
		[ "$k" = "$t" ] && found=1 && break
	done
	if [ "$found" = 1 ]; then
		run+=("$t")
	else
		printf 'valgrind-tests: no test "%s" here; skipped\n' "$t" >&2
	fi
done
[ "${#run[@]}" -gt 0 ] || die "none of the tests exist: $TESTS"

VG="valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite"
VG+=" --errors-for-leak-kinds=definite --error-exitcode=1"
VG+=" --track-fds=no --trace-children=no --num-callers=30 -q"
# ld.so and libc keep some one-time allocations; none is ours to fix.
if [ -f tests/mem_valgrind.supp ]; then
	VG+=" --suppressions=$PWD/tests/mem_valgrind.supp"
fi

echo "==> valgrind: ${run[*]}"
meson test -C "$BUILD" --wrapper="$VG" --timeout-multiplier=10 \
	--print-errorlogs --num-processes=2 "${run[@]}"
rc=$?

# tokenadm itself, every command once, on a private store. Its messages go
# to a log; only valgrind's verdict (exit 99) counts here, not the command's.
tokenadm_pass() {
	local T=$PWD/$BUILD/tokenadm/tokenadm dir conf tok id c out vrc bad=0
	ninja -C "$BUILD" tokenadm/tokenadm >/dev/null || return 1
	dir=$(mktemp -d) || return 1
	chmod 700 "$dir"
	conf=$dir/apitoken.conf
	printf 'db = %s/tokens.db\nkey = %s/site.key\n' "$dir" "$dir" >"$conf"
	local TVG="${VG/--error-exitcode=1/--error-exitcode=99}"
	$TVG "$T" --config "$conf" init >/dev/null 2>>"$dir/log"
	tok=$($TVG "$T" --config "$conf" create --name vg --allow-from 10.0.0.0/8 \
		--service sshd 2>>"$dir/log")
	vrc=$?
	[ "$vrc" -eq 99 ] && bad=1
	id=$(printf '%s' "$tok" | cut -d_ -f2)
	printf '%s\n' "$tok" | $TVG "$T" --config "$conf" verify --user "$(id -un)" \
		--rhost 10.1.2.3 --service sshd >/dev/null 2>>"$dir/log"
	[ $? -eq 99 ] && bad=1
	printf 'garbage\n' | $TVG "$T" --config "$conf" verify --user "$(id -un)" \
		>/dev/null 2>>"$dir/log"
	[ $? -eq 99 ] && bad=1
	for c in "list" "list --json" "list --all" "show $id" "show $id --json" \
		"rotate $id --grace 1h" "disable $id" "enable $id" "policy" \
		"revoke $id" "prune" "show nosuchtoken" "create"; do
		# shellcheck disable=SC2086
		$TVG "$T" --config "$conf" $c >/dev/null 2>>"$dir/log"
		[ $? -eq 99 ] && { bad=1; echo "valgrind-tests: tokenadm $c: memory errors"; }
	done
	if [ "$bad" -ne 0 ]; then
		grep '==[0-9]*==' "$dir/log" | head -40
	fi
	rm -rf "$dir"
	return "$bad"
}
if [ "${VALGRIND_TOKENADM:-1}" = 1 ]; then
	echo "==> valgrind: tokenadm commands"
	if tokenadm_pass; then
		echo "tokenadm: no memory errors or definite leaks"
	else
		rc=1
	fi
fi
log=$BUILD/meson-logs/testlog-valgrind.txt
[ -f "$log" ] || log=$BUILD/meson-logs/testlog.txt
# Summarise what valgrind itself reported, whatever the test said.
errs=$(grep -c 'ERROR SUMMARY: [1-9]' "$log" 2>/dev/null || true)
lost=$(grep -c 'definitely lost: [1-9]' "$log" 2>/dev/null || true)
echo "==> valgrind: exit $rc; runs with errors: ${errs:-0}; runs with definite leaks: ${lost:-0}"
exit "$rc"
