#!/usr/bin/env bash
# Fuzz the parsers of untrusted input with libFuzzer (clang, ASan + UBSan).
#
#   scripts/fuzz.sh                    # every target, 20 s each
#   FUZZ_SECONDS=300 scripts/fuzz.sh fuzz_config fuzz_addr
#
# Environment:
#   FUZZ_SECONDS   time per target (default 20)
#   FUZZ_BUILD     build directory (default build-fuzz; configured with
#                  CC=clang -Dfuzzing=true if it does not exist)
#   FUZZ_JOBS      parallel fuzzing processes per target (default 1)
#
# The working corpus lives in $FUZZ_BUILD/fuzz-corpus/<target>/ (seeded from
# fuzz/corpus/<target>/, kept between runs so later runs start where earlier
# ones stopped; the repository keeps only the small hand-made seeds).
# A crash, sanitizer report, leak or FUZZ FINDING stops that target; the
# input is saved in $FUZZ_BUILD/fuzz-findings/<target>/ and the script
# exits 1 after the remaining targets ran. Copy a saved input into
# fuzz/regressions/<target>/ to make `meson test` replay it from then on.
#
# Prints one line per target: executions, seconds, new corpus size, result.
set -uo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD
SECONDS_PER=${FUZZ_SECONDS:-20}
BUILD=${FUZZ_BUILD:-build-fuzz}
JOBS=${FUZZ_JOBS:-1}
ALL_TARGETS=(fuzz_token fuzz_record fuzz_addr fuzz_config fuzz_duration)
ALL_TARGETS+=(fuzz_bundle fuzz_notices fuzz_delta fuzz_webrequest)
if [ $# -gt 0 ]; then
	TARGETS=("$@")
else
	TARGETS=("${ALL_TARGETS[@]}")
fi

die() { printf 'fuzz: %s\n' "$*" >&2; exit 2; }

case $SECONDS_PER in
'' | *[!0-9]*) die "FUZZ_SECONDS must be a whole number" ;;
esac
command -v clang >/dev/null || die "clang is not installed"

# Longest input worth trying per target: a token is <= 68 bytes; a stored
# record <= 4096 (+13 harness bytes); a config line may be 4 KiB, so the
# config target must be able to go past it.
max_len() {
	case $1 in
	fuzz_token) echo 128 ;;
	fuzz_record) echo 4200 ;;
	fuzz_addr) echo 4096 ;;
	fuzz_config) echo 12288 ;;
	fuzz_duration) echo 96 ;;
	# A bundle line may be 8 KiB: room for a few of them and a record
	# line of RECORD_ENCODED_MAX bytes.
	fuzz_bundle|fuzz_delta) echo 24576 ;;
	# A notice line is under 96 bytes: room for many of them.
	fuzz_notices) echo 4096 ;;
	# Headers and a body of at most 16 KiB (WEB_BODY_MAX), a little more
	# to cross the limit.
	fuzz_webrequest) echo 17408 ;;
	*) return 1 ;;
	esac
}

for t in "${TARGETS[@]}"; do
	max_len "$t" >/dev/null || die "unknown target $t (one of: ${ALL_TARGETS[*]})"
done

if [ ! -f "$BUILD/build.ninja" ]; then
	CC=clang meson setup "$BUILD" -Dfuzzing=true --buildtype=debugoptimized \
		-Dwerror=true >"$BUILD.setup.log" 2>&1 ||
		{ cat "$BUILD.setup.log" >&2; die "meson setup failed"; }
	rm -f "$BUILD.setup.log"
else
	meson configure "$BUILD" -Dfuzzing=true >/dev/null ||
		die "meson configure failed"
fi
grep -q '^C compiler for the host machine: .*clang' "$BUILD/meson-logs/meson-log.txt" ||
	die "$BUILD is not a clang build: remove it or set FUZZ_BUILD"
# Only the fuzz binaries: a half-edited file elsewhere must not stop us.
ninja_targets=()
for t in "${TARGETS[@]}"; do ninja_targets+=("fuzz/$t"); done
ninja -C "$BUILD" "${ninja_targets[@]}" >"$BUILD/fuzz-build.log" 2>&1 ||
	{ tail -40 "$BUILD/fuzz-build.log" >&2; die "build failed"; }

# The config target writes its input to a file per run: tmpfs is faster.
if [ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ]; then
	export TMPDIR=/dev/shm
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

status=0
total_execs=0
printf '%-14s %12s %8s %8s  %s\n' target executions seconds corpus result
for t in "${TARGETS[@]}"; do
	corpus=$BUILD/fuzz-corpus/$t
	findings=$BUILD/fuzz-findings/$t
	log=$BUILD/fuzz-$t.log
	mkdir -p "$corpus" "$findings"
	cp -n "$REPO/fuzz/corpus/$t/"* "$corpus/" 2>/dev/null
	dict=()
	[ -f "$REPO/fuzz/dict/$t.dict" ] && dict=(-dict="$REPO/fuzz/dict/$t.dict")
	marker=$BUILD/.fuzz-start-$t
	: >"$marker"
	start=$(date +%s)
	fuzz_args=(-max_total_time="$SECONDS_PER" -max_len="$(max_len "$t")"
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1
		-artifact_prefix="$findings/" "${dict[@]}")
	if [ "$JOBS" -gt 1 ]; then
		fuzz_args+=(-fork="$JOBS" -ignore_crashes=0)
	fi
	"$BUILD/fuzz/$t" "${fuzz_args[@]}" "$corpus" >"$log" 2>&1
	rc=$?
	elapsed=$(( $(date +%s) - start ))
	# "stat::number_of_executed_units: N" (print_final_stats), else the
	# last "#N" status line (a crash ends the run before the stats).
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ -z "$execs" ]; then
		execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
	fi
	execs=${execs:-0}
	total_execs=$((total_execs + execs))
	size=$(find "$corpus" -type f | wc -l)
	new_findings=$(find "$findings" -type f -newer "$marker")
	if [ "$rc" -eq 0 ] && [ -z "$new_findings" ]; then
		result=ok
	else
		result="FAILED (exit $rc; log $log)"
		status=1
	fi
	printf '%-14s %12s %8s %8s  %s\n' "$t" "$execs" "$elapsed" "$size" "$result"
	if [ "$result" != ok ]; then
		grep -E 'FUZZ FINDING|ERROR: |runtime error|SUMMARY' "$log" | head -5 | sed 's/^/    /'
		[ -z "$new_findings" ] || printf '    saved: %s\n' $new_findings
	fi
done
echo "total executions: $total_execs"
exit "$status"
