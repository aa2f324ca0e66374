# Shared set-up of the tests that run the setuid tokenadm as real users
# (sourced): three users (a member of an allowed group, a user in none, an
# administrator), a private config at $PRIVTEST_CONF and a setuid copy of
# tokenadm-privtest in a root-owned directory, with its store initialised.
# Defines n/failed, ok, bad, check, as, id_of, write_conf; the caller sets
# PRIV_CONF_EXTRA (extra global config lines) before sourcing.
#
# env: PRIVTEST (tokenadm-privtest: its default config is $PRIVTEST_CONF),
#      PRIVTEST_CONF
set -u
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
# A sanitizer-built binary cannot run setuid; the ordinary builds run this.
[ -z "${PTK_SANITIZED:-}" ] || { echo "SKIP: sanitizer build"; exit 77; }
command -v runuser >/dev/null || { echo "SKIP: no runuser"; exit 77; }

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { # check DESCRIPTION EXPECTED-EXIT ACTUAL-EXIT
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (exit $3, want $2)"; fi
}

# Unique per run: concurrent runs (several build dirs) must not share users.
U_ALICE=ptka$$ U_BOB=ptkb$$ U_ADMIN=ptkadm$$
G_USERS=ptkusers$$ G_ADMINS=ptkadmins$$
confdir=$(dirname "$PRIVTEST_CONF")
work=$(mktemp -d /tmp/ptk-priv.XXXXXX)
cleanup() {
	for u in $U_ALICE $U_BOB $U_ADMIN; do userdel "$u" 2>/dev/null; done
	for g in $G_USERS $G_ADMINS; do groupdel "$g" 2>/dev/null; done
	rm -rf "$work" "$confdir"
}
trap cleanup EXIT
cleanup 2>/dev/null
work=$(mktemp -d /tmp/ptk-priv.XXXXXX)
chmod 755 "$work"

groupadd "$G_USERS" && groupadd "$G_ADMINS" || exit 1
useradd -M -N -g nogroup -G "$G_USERS" -s /bin/sh "$U_ALICE" || exit 1
useradd -M -N -g nogroup -s /bin/sh "$U_BOB" || exit 1
useradd -M -N -g nogroup -G "$G_ADMINS" -s /bin/sh "$U_ADMIN" || exit 1

mkdir -p "$confdir" && chmod 755 "$confdir"
store="$work/store"
# write_conf [EXTRA-LINES]: the test config, with extra global keys.
write_conf() {
	cat > "$PRIVTEST_CONF" <<CONF
db = $store/tokens.db
key = $store/site.key
admin_group = $G_ADMINS
${1:-}

[group $G_USERS]
max_lifetime = 30d
CONF
	chmod 644 "$PRIVTEST_CONF"
}
write_conf "${PRIV_CONF_EXTRA:-}"

# The setuid copy lives in a root-owned directory, as an installed one would.
suid="$work/bin/tokenadm"
mkdir "$work/bin" && cp "$PRIVTEST" "$suid" && chown root:root "$suid" &&
	chmod 4755 "$suid" || exit 1
"$suid" init >/dev/null 2>&1
check "root initialises the store" 0 $?

as() { local u=$1; shift; runuser -u "$u" -- "$@"; }
id_of() { sed -n 's/^ptk_\([0-9A-Za-z]\{12\}\)_.*/\1/p'; }
# tool_pid PATTERN: the pid of the setuid tokenadm (not the runuser or
# shell in front of it) whose command line matches PATTERN, waiting up to
# 5 s for it to start; empty if it does not.
tool_pid() {
	local p pid
	for _ in $(seq 50); do
		for p in $(pgrep -f "$1"); do
			[ "$(readlink /proc/$p/exe 2>/dev/null)" = "$suid" ] && pid=$p && break
		done
		[ -n "${pid:-}" ] && break
		sleep 0.1
	done
	echo "${pid:-}"
}
