#!/usr/bin/env bash
# Build pam_apitoken from scratch in three configurations and run the tests.
#
#   scripts/test.sh
#
#   gcc    gcc,   -O2 -g (debugoptimized), -Werror         build + tests
#                 (also the 'deb' suite: the Debian package, built and
#                 installed in a throwaway root, and the 'fleet' suite:
#                 Ansible pushing to three hosts in namespaces, and the
#                 'web' suite: the web page in chromium through Apache,
#                 built with -Dweb=enabled; the others skip all three)
#   clang  clang, -O0 -g (debug), -Werror                  build + tests
#   asan   gcc,   AddressSanitizer + UBSan, -Werror        build + tests
#
# Environment:
#   NO_DEPS=1              skip scripts/deps.sh (the package check/install)
#   TEST_CONFIGS="gcc asan" build and test only these configurations
#   MESON_TEST_ARGS="..."  extra arguments for every `meson test`
#   STATIC_ANALYSIS=0      skip cppcheck + clang-tidy (scripts/static-analysis.sh)
#   FUZZ_SECONDS=N         libFuzzer seconds per target (default 5; 0 skips)
#   VALGRIND=0             skip the memcheck run (scripts/valgrind-tests.sh)
#
# After the three configurations, each of those steps counts as one test.
#
# Build directories: build-gcc, build-clang, build-asan (wiped first).
# The last line is "N passed, N failed", summed over the runs (the line
# before it counts the skipped tests); a
# configuration that does not build counts as one failure. The exit status
# is non-zero when anything failed or no test ran.
set -uo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD
CONFIGS=${TEST_CONFIGS:-gcc clang asan}
START=$(date +%s)

TOTAL_PASS=0
TOTAL_FAIL=0
TOTAL_SKIP=0
SUMMARY=()

elapsed() { echo "$(( $(date +%s) - $1 ))s"; }
note() { printf '==> %s\n' "$*"; }

finish() {
	echo
	echo "==> Results"
	local line
	for line in "${SUMMARY[@]}"; do
		printf '    %s\n' "$line"
	done
	echo "    total time $(elapsed "$START")"
	local status=0
	if [ "$TOTAL_FAIL" -ne 0 ]; then
		status=1
	elif [ "$TOTAL_PASS" -eq 0 ]; then
		echo "    no test passed: treating the run as failed"
		status=1
	fi
	echo "    $TOTAL_SKIP skipped (each with its reason in the log above)"
	echo "$TOTAL_PASS passed, $TOTAL_FAIL failed"
	exit "$status"
}

if [ "${NO_DEPS:-0}" != 1 ]; then
	note "Dependencies (scripts/deps.sh; NO_DEPS=1 skips)"
	if ! bash "$REPO/scripts/deps.sh"; then
		SUMMARY+=("deps: scripts/deps.sh failed")
		TOTAL_FAIL=$((TOTAL_FAIL + 1))
		finish
	fi
fi

# The compiler and the meson options of a configuration.
config_cc() {
	case $1 in
	clang) echo clang ;;
	*) echo gcc ;;
	esac
}
config_opts() {
	case $1 in
	# The web page (npm ci + esbuild, and the 'web' suite: chromium
	# through the real Apache) only in the gcc build: it tests the page
	# and the installed behaviour, not the compiler. The CGI and its unit
	# test build everywhere.
	gcc) echo "--buildtype=debugoptimized -Dwerror=true -Dweb=enabled" ;;
	clang) echo "--buildtype=debug -Dwerror=true -Dweb=disabled" ;;
	asan) echo "--buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true -Dweb=disabled" ;;
	*) return 1 ;;
	esac
}

# Count the results of one `meson test` run from its testlog.json, print
# them per suite, and add them to the totals. Args: config, build dir,
# meson's exit status.
count_results() {
	local cfg=$1 dir=$2 rc=$3 counts
	local log=$dir/meson-logs/testlog.json
	if [ ! -s "$log" ]; then
		SUMMARY+=("$cfg: meson test ran no test (exit $rc): counted as 1 failure")
		TOTAL_FAIL=$((TOTAL_FAIL + 1))
		return
	fi
	# Ok and Expected Fail pass; Fail, Error, Unexpected Pass, Timeout
	# and Interrupt fail; Skipped is reported apart.
	meson introspect --tests "$dir" >"$dir/meson-logs/tests.json" 2>/dev/null ||
		echo '[]' >"$dir/meson-logs/tests.json"
	counts=$(python3 - "$log" "$cfg" "$dir/meson-logs/tests.json" <<'EOF'
import json, sys
path, cfg, intro = sys.argv[1], sys.argv[2], sys.argv[3]
# testlog.json has no suite: take it from the introspection data. A test
# in no suite of its own is in the project's suite.
suite_of = {}
try:
    for t in json.load(open(intro, encoding="utf-8")):
        names = [x.split(":", 1)[-1] for x in t.get("suite") or []]
        own = [x for x in (t.get("suite") or []) if ":" in x]
        if own:
            names = [x.split(":", 1)[1] for x in own]
        suite_of[t["name"]] = ",".join(names) or "(none)"
except (OSError, ValueError, KeyError, TypeError):
    pass
PASS = {"OK", "EXPECTEDFAIL"}
SKIP = {"SKIP"}
suites = {}
tot = [0, 0, 0]
failed_names = []
with open(path, encoding="utf-8", errors="replace") as f:
    for line in f:
        line = line.strip()
        if not line:
            continue
        try:
            t = json.loads(line)
        except ValueError:
            continue
        res = t.get("result", "")
        name = t.get("name", "?")
        # With several suites meson names a test "project:suite / name".
        if " / " in name:
            suite, name = name.split(" / ", 1)
            suite = suite.split(":", 1)[-1]
        else:
            suite = suite_of.get(name, "(none)")
        i = 0 if res in PASS else 2 if res in SKIP else 1
        if i == 1:
            failed_names.append("%s / %s (%s)" % (suite, name, res))
        suites.setdefault(suite, [0, 0, 0])[i] += 1
        tot[i] += 1
for s in sorted(suites):
    p, fl, sk = suites[s]
    print("LINE %s: suite %s: %d passed, %d failed, %d skipped" % (cfg, s, p, fl, sk))
for n in failed_names:
    print("LINE %s:   failed: %s" % (cfg, n))
print("TOTAL %d %d %d" % tuple(tot))
EOF
) || counts="TOTAL 0 1 0"
	local p=0 f=0 s=0 l
	while IFS= read -r l; do
		case $l in
		"LINE "*) SUMMARY+=("${l#LINE }") ;;
		"TOTAL "*) read -r _ p f s <<<"$l" ;;
		esac
	done <<<"$counts"
	# meson failing with nothing counted as failed (it could not run a
	# test at all, say) is still a failure.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		SUMMARY+=("$cfg: meson test exited $rc with no failed test: counted as 1 failure")
		f=1
	fi
	TOTAL_PASS=$((TOTAL_PASS + p))
	TOTAL_FAIL=$((TOTAL_FAIL + f))
	TOTAL_SKIP=$((TOTAL_SKIP + s))
}

for cfg in $CONFIGS; do
	if ! opts=$(config_opts "$cfg"); then
		SUMMARY+=("$cfg: unknown configuration (use gcc, clang, asan)")
		TOTAL_FAIL=$((TOTAL_FAIL + 1))
		continue
	fi
	dir=$REPO/build-$cfg
	cc=$(config_cc "$cfg")
	t0=$(date +%s)
	note "[$cfg] configure and build ($cc $opts)"
	rm -rf "$dir"
	mkdir -p "$dir"
	blog=$(mktemp "/tmp/pam_apitoken-build-$cfg.XXXXXX")
	# shellcheck disable=SC2086 # opts is a list of words
	if ! { CC=$cc meson setup "$dir" $opts && meson compile -C "$dir"; } >"$blog" 2>&1; then
		grep -E -A5 'error|Error|ERROR|FAILED' "$blog" | head -n 60
		echo "    ... (full log: $blog)"
		SUMMARY+=("$cfg: BUILD FAILED after $(elapsed "$t0"): counted as 1 failure")
		TOTAL_FAIL=$((TOTAL_FAIL + 1))
		continue
	fi
	cp "$blog" "$dir/build.log" && rm -f "$blog"
	echo "    built in $(elapsed "$t0")"

	t1=$(date +%s)
	note "[$cfg] meson test"
	envs=()
	args=(--print-errorlogs)
	if [ "$cfg" = asan ]; then
		envs=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
		      UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
		      PAM_WRAPPER_DISABLE_DEEPBIND=1
		      UID_WRAPPER_DISABLE_DEEPBIND=1)
		if [ -f "$REPO/tests/lsan.supp" ]; then
			envs+=(LSAN_OPTIONS=suppressions=$REPO/tests/lsan.supp)
		fi
		args+=(--timeout-multiplier 3)
	fi
	# The Debian package test builds its own tree from source, the same
	# whatever this configuration is: run it once, in the gcc build.
	# So does the fleet test (three hosts in namespaces, Ansible over
	# ssh): it tests the installed behaviour, not the compiler.
	if [ "$cfg" != gcc ]; then
		args+=(--no-suite deb --no-suite fleet)
		# The delta random walk and the kill -9 rounds are about the
		# code's logic, walked in full in gcc; here a shorter walk (still
		# past the delta window) and fewer kills keep the whole run
		# within its time while the sanitizers still see every path.
		envs+=(DELTA_STEPS=16 IMPORT_KILLS=12)
	fi
	# shellcheck disable=SC2206 # word splitting wanted
	args+=(${MESON_TEST_ARGS:-})
	rm -f "$dir/meson-logs/testlog.json"
	env "${envs[@]}" meson test -C "$dir" "${args[@]}" </dev/null
	rc=$?
	echo "    tests took $(elapsed "$t1")"
	count_results "$cfg" "$dir" "$rc"
done

# Whole-tree checks, one result each.
extra_step() {
	local name=$1 t0
	shift
	t0=$(date +%s)
	note "[$name] $*"
	if "$@" </dev/null; then
		SUMMARY+=("$name: passed in $(elapsed "$t0")")
		TOTAL_PASS=$((TOTAL_PASS + 1))
	else
		SUMMARY+=("$name: FAILED after $(elapsed "$t0")")
		TOTAL_FAIL=$((TOTAL_FAIL + 1))
	fi
}
[ "${STATIC_ANALYSIS:-1}" != 0 ] &&
	extra_step static-analysis bash "$REPO/scripts/static-analysis.sh"
[ "${FUZZ_SECONDS:-5}" != 0 ] &&
	extra_step fuzz env FUZZ_SECONDS="${FUZZ_SECONDS:-5}" bash "$REPO/scripts/fuzz.sh"
[ "${VALGRIND:-1}" != 0 ] &&
	extra_step valgrind bash "$REPO/scripts/valgrind-tests.sh"

finish
