#!/bin/sh
# The whole benchmark in one command: build (release), build or reuse the
# token stores, measure every configuration, write BENCHMARKS.md.
#
#   sudo bench/run.sh            # about 7 minutes on 2 cores
#   sudo bench/run.sh --quick    # smoke run, writes bench/.cache/BENCHMARKS.quick.md
#   bench/run.sh --help
#
# BUILD=dir selects the build directory (default build-bench).
set -eu
cd "$(dirname "$0")/.."
build=${BUILD:-build-bench}
case " $* " in *" --help "* | *" -h "* | *" --report-only "*) exec /usr/bin/python3 bench/bench.py "$@" ;; esac
if [ ! -f "$build/build.ninja" ]; then
	# -Dwerror=false: a warning in product code must not stop a benchmark.
	meson setup "$build" --buildtype=release -Dwerror=false >/dev/null
else
	meson configure "$build" -Dbuildtype=release -Dwerror=false >/dev/null
fi
ninja -C "$build" >/dev/null
exec /usr/bin/python3 bench/bench.py --build "$build" "$@"
