# Shared set-up of the fleet tests (sourced, bash): test_fleet.sh,
# test_delta.sh, test_freshness.sh, hard_import_kill.sh, live/pull.sh.
# Each "host" is a private directory $W/NAME with its own config; the
# sourcing test sets W (its work directory) and T (tokenadm) first.
#
# NOK_LOGS: more files in $W that a failing check shows (besides err).

n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() {
	n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"
	[[ -s $W/err ]] && sed 's/^/#   stderr: /' "$W/err" | head -5
	local f
	for f in ${NOK_LOGS:-}; do
		[[ -s $W/$f ]] && sed "s/^/#   $f: /" "$W/$f" | head -5
	done
	return 0
}
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

RC=0
# on HOST ARGS...: tokenadm with HOST's config; stdout in $W/out, stderr
# in $W/err, exit status in RC.
on() { local h=$1; shift; "$T" --config "$W/$h/conf" "$@" >"$W/out" 2>"$W/err"; RC=$?; }
rc_is() { [[ $RC == "$1" ]]; }
err_has() { grep -q -- "$1" "$W/err"; }
id_of() { sed -n 's/^[a-z0-9]*_\([0-9A-Za-z]\{12\}\)_.*/\1/p' <<<"$1"; }
admin_line() { [[ $(id -u) == 0 ]] || echo "admin_group = $(id -gn)"; }

mkhost() { # mkhost NAME [EXTRA-CONFIG-LINES]
	mkdir -m 755 "$W/$1"
	printf 'db = %s\nkey = %s\nsigning_key = %s\n%s\n%s\n' \
		"$W/$1/store/tokens.db" "$W/$1/keys/site.key" \
		"$W/$1/keys/signing.key" "$(admin_line)" "${2:-}" >"$W/$1/conf"
}
