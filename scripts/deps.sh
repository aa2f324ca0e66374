#!/usr/bin/env bash
# Install (idempotently) every Debian 12 package that building, testing and
# the demo need. Quiet; runs `apt-get update` only when an install would
# otherwise fail (a fresh machine has no package lists).
#
#   scripts/deps.sh          # everything: build, tests, live-service tests, demo
#   scripts/deps.sh demo     # only what scripts/demo.sh needs (build + demo)
#   scripts/deps.sh demo-web # ... and node + npm for scripts/demo.sh --web
#
# Run as root (or with sudo available). Services that packages would start
# (Apache, nginx, sshd, Tomcat) are kept stopped during the install.
set -euo pipefail

what=${1:-all}
case $what in
all | demo | demo-web) ;;
*) echo "usage: $0 [all|demo|demo-web]" >&2; exit 2 ;;
esac

# Build
# (dpkg-dev: meson asks dpkg-architecture for Debian's multiarch libdir;
# without it, it picks lib64.)
PKGS=(meson ninja-build pkg-config gcc clang libc6-dev dpkg-dev
      libpam0g-dev libssl-dev libgdbm-dev zlib1g-dev)
# Demo: a private Apache with mod_authnz_pam, curl, pamtester; useradd and
# chpasswd (passwd), runuser (util-linux), ps (procps).
PKGS+=(apache2 libapache2-mod-authnz-pam curl pamtester python3 passwd
       util-linux procps)
OPTIONAL=()
# node and npm build the web page (-Dweb): from Debian unless some node is
# already installed (NodeSource's nodejs ships npm and conflicts with
# Debian's npm package).
if [ "$what" != demo ] && { ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; }; then
	PKGS+=(nodejs npm)
fi
if [ "$what" = all ]; then
	# Unit and module tests
	PKGS+=(libpam-wrapper libpamtest0-dev faketime valgrind mandoc strace)
	# The shipped fail2ban filter, checked with fail2ban-regex
	# (tests/test_fail2ban.sh; the service is kept stopped, as below).
	PKGS+=(fail2ban)
	# A real MTA for tokenadm notify (tests/test_notify.sh): local
	# delivery to /var/mail, Debian's default "local" configuration
	# (installed non-interactively; its daemon is not needed, the
	# sendmail interface delivers at once).
	PKGS+=(exim4-daemon-light)
	# The Debian package (tests/test_deb.sh): dpkg-buildpackage (dpkg-dev,
	# above) with debhelper, lintian, pam-auth-update (libpam-runtime).
	PKGS+=(debhelper lintian libpam-runtime)
	# Static analysis and fuzzing (scripts/static-analysis.sh, fuzz.sh)
	PKGS+=(cppcheck clang-tidy libclang-rt-14-dev)
	# Live-service tests (tests/live*, skipped when these are absent):
	# nginx + auth_pam, OpenSSH + sshpass, Tomcat 10 + a JDK + JNA.
	PKGS+=(nginx libnginx-mod-http-auth-pam openssh-server openssh-client
	       sshpass tomcat10 default-jdk-headless libjna-java iproute2)
	# The fleet through Ansible (tests/test_fleet_ansible.sh, contrib/ansible)
	PKGS+=(ansible)
	# The web page's test (tests/test_web.sh): Debian's chromium, driven
	# by playwright-core from npm (no browser download).
	PKGS+=(chromium)
	# Wanted but not essential: installed when the archive has them.
	OPTIONAL+=(gdbmtool python3-pypamtest)
fi

log() { printf 'deps: %s\n' "$*" >&2; }

# (No `cmd | grep -q` here: with pipefail, grep quitting early can make
# the writer die of SIGPIPE and the test fail.)
is_installed() {
	local s
	s=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
	[ "$s" = "install ok installed" ]
}

missing=()
for p in "${PKGS[@]}" ${OPTIONAL[@]+"${OPTIONAL[@]}"}; do
	is_installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	log "all packages present"
	exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=(sudo)
	else
		log "missing: ${missing[*]}; run me as root to install them"
		exit 1
	fi
fi
export DEBIAN_FRONTEND=noninteractive
APT=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y
     -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef
     -o Dpkg::Options::=--force-confold)

has_candidate() {
	local s
	s=$(apt-cache policy "$1" 2>/dev/null) || return 1
	[[ "$s" =~ Candidate:\ [0-9] ]]
}

is_optional() {
	local o
	for o in ${OPTIONAL[@]+"${OPTIONAL[@]}"}; do
		[ "$o" = "$1" ] && return 0
	done
	return 1
}

# Update the lists only if some missing package has no install candidate
# (fresh image) -- an ordinary re-run never touches the network.
need_update=0
for p in "${missing[@]}"; do
	has_candidate "$p" || { need_update=1; break; }
done
if [ "$need_update" -eq 1 ]; then
	log "apt-get update"
	"${SUDO[@]}" apt-get -qq update >/dev/null
fi

want=()
for p in "${missing[@]}"; do
	if has_candidate "$p"; then
		want+=("$p")
	elif is_optional "$p"; then
		log "optional package $p not available; skipped"
	else
		log "package $p is not available from the configured archives"
		exit 1
	fi
done
[ "${#want[@]}" -gt 0 ] || exit 0

# Installing apache2, nginx, openssh-server or tomcat10 would start them on
# public ports where init scripts run. The demo and the tests run private
# instances on loopback, so keep services stopped during the install (the
# Debian policy-rc.d mechanism), unless the machine has a policy of its own.
policy=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# added by pam_apitoken scripts/deps.sh during an install\nexit 101\n' |
		"${SUDO[@]}" tee "$policy" >/dev/null
	"${SUDO[@]}" chmod 0755 "$policy"
	added_policy=1
fi
cleanup() {
	if [ "$added_policy" -eq 1 ]; then
		"${SUDO[@]}" rm -f "$policy"
	fi
}
trap cleanup EXIT

log "installing: ${want[*]}"
out=$(mktemp)
if ! "${APT[@]}" install --no-install-recommends "${want[@]}" >"$out" 2>&1; then
	tail -n 30 "$out" >&2
	rm -f "$out"
	log "apt-get install failed"
	exit 1
fi
rm -f "$out"
log "done"
