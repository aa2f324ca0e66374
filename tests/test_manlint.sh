#!/bin/bash
# Lint the man pages and check they document every tokenadm long option and
# every config key, so the docs cannot silently drift from the code.
# Usage: test_manlint.sh SOURCE_ROOT. Exit 0 pass, 1 fail, 77 skipped.
set -u

root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
man=$root/man
pages=("$man/pam_apitoken.8" "$man/tokenadm.8" "$man/pam_apitoken.conf.5")
fail=0

if ! command -v mandoc >/dev/null 2>&1; then
	echo "mandoc not installed: skipped"
	exit 77
fi

for page in "${pages[@]}"; do
	if [ ! -f "$page" ]; then
		echo "FAIL: $page missing"
		fail=1
		continue
	fi
	# -W warning: warnings and errors only (not style hints). mandoc exits
	# non-zero at that level; any output counts as a failure too.
	out=$(mandoc -T lint -W warning "$page" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		echo "FAIL: mandoc lint $page (exit $rc)"
		printf '%s\n' "$out"
		fail=1
	fi
done

# Every long option in tokenadm's getopt_long tables, plus the global
# --config and --db (parsed by hand in main.c).
opts=$(sed -n 's/.*{ *"\([a-z][a-z0-9-]*\)", *\(no\|required\|optional\)_argument.*/\1/p' \
	"$root"/tokenadm/*.c | sort -u)
if [ -z "$opts" ]; then
	echo "FAIL: found no struct option entries in tokenadm/*.c"
	fail=1
fi
for opt in $opts config db; do
	# Documented as an mdoc flag: "Fl -name".
	if ! grep -Eq "Fl -$opt([^A-Za-z0-9-]|\$)" "$man/tokenadm.8"; then
		echo "FAIL: tokenadm.8 does not document --$opt"
		fail=1
	fi
done

# tokenadm --help (usage() in main.c) names every command of the command
# table and every long option, so it cannot fall behind the code either.
help=$(sed -n '/^static void usage(FILE/,/^}/p' "$root/tokenadm/main.c")
cmds=$( (sed -n 's/.*\.name = "\([a-z-]*\)",.*/\1/p' "$root"/tokenadm/cmd_*.c
	sed -n 's/^CHANGE_COMMAND(\([a-z]*\),.*/\1/p' "$root/tokenadm/cmd_state.c") | sort -u)
if [ -z "$help" ] || [ -z "$cmds" ]; then
	echo "FAIL: found no usage() in tokenadm/main.c or no commands"
	fail=1
fi
for c in $cmds; do
	if ! grep -Eq "(\"|  )$c " <<<"$help"; then
		echo "FAIL: tokenadm --help does not name the command $c"
		fail=1
	fi
done
for opt in $opts config db; do
	if ! grep -Eq -- "--$opt([^a-z-]|\$)" <<<"$help"; then
		echo "FAIL: tokenadm --help does not name --$opt"
		fail=1
	fi
done

# Every key in the config parser's key table.
keys=$(sed -n 's/.*{ *"\([a-z_]*\)", *set_[a-z_]*, *\(true\|false\),.*/\1/p' \
	"$root/core/config.c" | sort -u)
if [ -z "$keys" ]; then
	echo "FAIL: found no keys in core/config.c"
	fail=1
fi
for key in $keys; do
	# Documented as a list item: ".It Ic key ...".
	if ! grep -Eq "^\.It .*Ic $key( |\$)" "$man/pam_apitoken.conf.5"; then
		echo "FAIL: pam_apitoken.conf.5 does not document key '$key'"
		fail=1
	fi
done

if [ $fail -eq 0 ]; then
	echo "ok: ${#pages[@]} pages lint clean;" \
		"options:" $opts config db "; keys:" $keys
fi
exit $fail
