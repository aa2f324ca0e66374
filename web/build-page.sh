#!/usr/bin/env bash
# Build the web page for meson: build-page.sh SRCDIR BUILDDIR OUTDIR
#
# Copies the page's sources (web/) to BUILDDIR/page-src, installs the
# locked dependencies there with `npm ci` (from the npm registry, or npm's
# cache; skipped when package-lock.json has not changed since the last
# run), and bundles the page into OUTDIR with build.mjs.
set -euo pipefail
src=$1 build=$2 out=$(realpath -m "$3")
work=$build/page-src
mkdir -p "$work"
cp "$src/package.json" "$src/package-lock.json" "$src/build.mjs" "$src/index.html" "$work/"
rm -rf "$work/src"
cp -r "$src/src" "$work/src"
stamp=$work/node_modules/.lock-stamp
if ! cmp -s "$src/package-lock.json" "$stamp" 2>/dev/null; then
	(cd "$work" && npm ci --no-audit --no-fund --loglevel=error >&2)
	cp "$src/package-lock.json" "$stamp"
fi
(cd "$work" && node build.mjs "$out")
test -f "$out/index.html" || { echo "build-page.sh: no index.html in $out" >&2; exit 1; }
