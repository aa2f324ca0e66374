#!/usr/bin/env bash
# Static analysis: cppcheck and clang-tidy over the product (core/,
# pam_apitoken/, tokenadm/) and the security test code (fuzz/, tests/mem_*, tests/harness*,
# tests/timing_*). Exits 1 if either reports anything, 2 if it cannot run.
#
#   scripts/static-analysis.sh
#
# Environment:
#   SA_BUILD  meson build directory for compile_commands.json and the
#             generated build_config.h (default build-analysis; configured
#             with clang if it does not exist; nothing is compiled)
#   SA_JOBS   parallel clang-tidy processes (default: number of CPUs)
#
# Checks and why some are off: .clang-tidy (clang-tidy) and the cppcheck
# suppressions below. A finding must be fixed in the code, or suppressed
# here with the reason written next to it.
set -uo pipefail

cd "$(dirname "$0")/.."
BUILD=${SA_BUILD:-build-analysis}
JOBS=${SA_JOBS:-$(nproc 2>/dev/null || echo 2)}

die() { printf 'static-analysis: %s\n' "$*" >&2; exit 2; }

command -v cppcheck >/dev/null || die "cppcheck is not installed"
TIDY=$(command -v clang-tidy-14 || command -v clang-tidy) ||
	die "clang-tidy is not installed"

if [ ! -f "$BUILD/compile_commands.json" ]; then
	CC=clang meson setup "$BUILD" --buildtype=debug >"$BUILD.setup.log" 2>&1 ||
		{ cat "$BUILD.setup.log" >&2; die "meson setup failed"; }
	rm -f "$BUILD.setup.log"
fi
[ -f "$BUILD/build_config.h" ] || die "$BUILD has no build_config.h"

PRODUCT_DIRS=(core pam_apitoken tokenadm)
mapfile -t OWN_TEST_FILES < <(ls fuzz/*.c tests/mem_*.c tests/timing_*.c tests/harness*.c 2>/dev/null)
status=0

# ---- cppcheck ----
# The configuration the code is built with (meson adds -D_GNU_SOURCE); the
# build dir for build_config.h. Suppressions, each with its reason:
#  nullPointerRedundantCheck:core/authcheck.c
#      auth_check_token(): "if (!src) { ...open...; src = &own; }" then
#      "src->key": cppcheck does not see that the branch either sets src
#      or jumps to out, and reports the later dereference.
CPPCHECK_SUPPRESS=(
	--suppress=nullPointerRedundantCheck:core/authcheck.c
)
echo "==> cppcheck $(cppcheck --version | sed 's/^Cppcheck //')"
cppcheck --enable=warning,portability,performance --error-exitcode=1 \
	--inline-suppr --std=c11 --quiet -D_GNU_SOURCE -D__linux__ \
	-I "$BUILD" -I core "${CPPCHECK_SUPPRESS[@]}" \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
	"${PRODUCT_DIRS[@]}" "${OWN_TEST_FILES[@]}" 2>"$BUILD/cppcheck.txt"
rc=$?
cat "$BUILD/cppcheck.txt"
n_cpp=$(grep -c ': \(error\|warning\|portability\|performance\): ' "$BUILD/cppcheck.txt" || true)
if [ "$rc" -ne 0 ] || [ "$n_cpp" -ne 0 ]; then
	echo "cppcheck: $n_cpp finding(s)"
	status=1
else
	echo "cppcheck: no findings"
fi

# ---- clang-tidy ----
# Only files that are in the compilation database (a file meson does not
# build, e.g. one being added right now, cannot be analysed correctly).
echo "==> $("$TIDY" --version | grep -i 'version' | head -1 | sed 's/^ *//')"
mapfile -t DB_FILES < <(python3 - "$BUILD/compile_commands.json" <<'EOF'
import json, os, sys
seen = []
for e in json.load(open(sys.argv[1])):
    f = os.path.normpath(os.path.join(e["directory"], e["file"]))
    if f not in seen:
        seen.append(f)
print("\n".join(seen))
EOF
)
files=()
for f in "${DB_FILES[@]}"; do
	rel=${f#"$PWD"/}
	case $rel in
	core/*.c | pam_apitoken/*.c | tokenadm/*.c | fuzz/*.c | tests/mem_*.c | tests/timing_*.c | tests/harness*.c)
		files+=("$rel") ;;
	esac
done
[ "${#files[@]}" -gt 0 ] || die "no source files in $BUILD/compile_commands.json"
# One file per process, in parallel; findings are errors (.clang-tidy).
printf '%s\n' "${files[@]}" |
	xargs -P "$JOBS" -n 1 "$TIDY" -p "$BUILD" --quiet >"$BUILD/clang-tidy.txt" 2>"$BUILD/clang-tidy.err"
grep -E ': (warning|error): ' "$BUILD/clang-tidy.txt" |
	sed "s|^$PWD/$BUILD/\.\./||; s|^$PWD/||; s|^\.\./||" |
	sort -u >"$BUILD/clang-tidy-findings.txt"
n_tidy=$(wc -l <"$BUILD/clang-tidy-findings.txt")
if [ "$n_tidy" -ne 0 ]; then
	cat "$BUILD/clang-tidy-findings.txt"
	echo "clang-tidy: $n_tidy finding(s) in ${#files[@]} files (details: $BUILD/clang-tidy.txt)"
	status=1
elif grep -q 'error:' "$BUILD/clang-tidy.err"; then
	grep 'error:' "$BUILD/clang-tidy.err" | head -5
	echo "clang-tidy: could not analyse some files"
	status=1
else
	echo "clang-tidy: no findings in ${#files[@]} files"
fi
exit "$status"
