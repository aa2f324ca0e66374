#!/bin/bash
# The Debian package, end to end, without touching this machine's system:
#
#  1. copy the source tree (tracked and new files, no build directories) to
#     a temp dir and build it there: dpkg-buildpackage -us -uc -b;
#  2. lintian on the .deb: no error and no warning that is not overridden;
#  3. in a throwaway root -- a private mount namespace (unshare -m) with an
#     overlayfs over / whose upper layer is a tmpfs, entered with chroot --
#     install the .deb and check files, modes, the setuid bit, the group,
#     the site key and store, the daily job (units, timer enabled, the
#     cron script changing nothing); enable the pam-auth-update profile and log in
#     through common-auth with pamtester (a fresh token, a wrong one, a
#     revoked one, the user's password); reinstall (key and store kept);
#     remove (PAM stacks clean, data kept); purge (nothing left);
#  4. the README's own path in that root: scripts/demo.sh (the real one, from
#     a clean copy of the tree), then `apt-get install` of the .deb with
#     stdin closed -- no conffile prompt, no error, the demo's key, store
#     and token kept and working with the package's module and tokenadm;
#     and a config left by an older demo is replaced without a prompt
#     while an administrator's own config is kept.
#
# Nothing the chroot writes reaches the real /: the overlay's changes live
# in the tmpfs and vanish with the namespace.
#
# Usage: test_deb.sh SOURCE_ROOT. Exit 0 pass, 1 fail, 77 skipped (not
# root, a tool missing, or overlay/chroot not permitted here).
set -u

SRC=${1:-$(cd "$(dirname "$0")/.." && pwd)}
skip() { echo "SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root (mount namespace, overlayfs, chroot)"
for tool in dpkg-buildpackage dh lintian unshare chroot pamtester \
	pam-auth-update mount; do
	command -v "$tool" >/dev/null 2>&1 ||
		skip "$tool not installed (scripts/deps.sh installs it)"
done
if [ -n "${PTK_SANITIZED:-}" ]; then
	skip "sanitizer build: the package is built from source, test it in a plain build"
fi

W=$(mktemp -d /tmp/test_deb.XXXXXX)
trap 'rm -rf "$W"' EXIT
T0=$(date +%s)

# ---------------------------------------------------------------- build
mkdir "$W/src"
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# The working tree as it is (uncommitted edits included), without
	# ignored files such as build directories.
	git -C "$SRC" ls-files -co --exclude-standard -z |
		(cd "$SRC" && tar --null -T - -cf -) | tar -xf - -C "$W/src"
else
	tar -C "$SRC" --exclude='./build*' --exclude='./.git' --exclude='./debian/.debhelper' \
		-cf - . | tar -xf - -C "$W/src"
fi
[ -f "$W/src/debian/control" ] || { echo "FAIL: no debian/control in the copy"; exit 1; }
# The demo builds in its own build-demo/ of the tree it runs from: give it
# a copy taken before dpkg-buildpackage writes into this one.
cp -a "$W/src" "$W/demo-src"
if ! (cd "$W/src" && dpkg-checkbuilddeps) >"$W/deps.log" 2>&1; then
	skip "build dependencies missing: $(tail -n 1 "$W/deps.log")"
fi
if ! (cd "$W/src" && DEB_BUILD_OPTIONS="parallel=$(nproc)" \
	dpkg-buildpackage -us -uc -b) >"$W/build.log" 2>&1; then
	echo "FAIL: dpkg-buildpackage"
	tail -n 40 "$W/build.log"
	exit 1
fi
deb=$(ls "$W"/libpam-apitoken_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || { echo "FAIL: no libpam-apitoken .deb built"; exit 1; }
webdeb=$(ls "$W"/libpam-apitoken-web_*.deb 2>/dev/null | head -n 1)
[ -n "$webdeb" ] || { echo "FAIL: no libpam-apitoken-web .deb built"; exit 1; }
echo "ok - dpkg-buildpackage -us -uc -b: $(basename "$deb") and $(basename "$webdeb") in $(( $(date +%s) - T0 ))s"

# -------------------------------------------------------------- lintian
# As root lintian only warns about running as root; errors and warnings
# fail, overridden tags are fine.
if ! lintian --fail-on error,warning "$deb" "$webdeb" >"$W/lintian.log" 2>&1; then
	echo "FAIL: lintian reports errors or warnings:"
	grep -v 'running with root privileges' "$W/lintian.log"
	exit 1
fi
echo "ok - lintian: no errors or warnings ($(grep -c '^[EW]:' "$W/lintian.log") shown)"

# ------------------------------------------------------ throwaway root
cp "$deb" "$W/pkg.deb"
cp "$webdeb" "$W/pkg-web.deb"
cat >"$W/inside.sh" <<'INSIDE'
#!/bin/bash
# Runs in the chroot. One line per check; exit status = failures.
set -u
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C
fails=0
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }
check() { local what=$1; shift; if "$@" >/tmp/check.out 2>&1; then ok "$what"; else no "$what"; sed 's/^/    /' /tmp/check.out | head -n 20; fi; }
mode() { stat -c '%a %U %G' "$1" 2>/dev/null; }
is_mode() { [ "$(mode "$1")" = "$2" ] || { echo "$1: $(mode "$1"), want $2"; return 1; }; }
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
so=/usr/lib/$triplet/security/pam_apitoken.so
KEY=/etc/security/pam_apitoken.key
CONF=/etc/security/pam_apitoken.conf
DB=/var/lib/pam_apitoken/tokens.db
login() { # PASSWORD -> pamtester's status, through common-auth and common-account
	printf '%s\n' "$1" | pamtester ptkdeb-test ptkdeb authenticate acct_mgmt
}
refused() { ! login "$@"; } # a function: login above, not /usr/bin/login
no_line() { ! grep -q pam_apitoken "$@"; }

# Start from a root without any trace of an earlier manual install (the
# overlay hides, never deletes, what the real / has).
rm -rf /var/lib/pam_apitoken /etc/security/pam_apitoken.* /usr/bin/tokenadm \
	/usr/lib/*/security/pam_apitoken.so /lib/*/security/pam_apitoken.so \
	/usr/share/pam-configs/apitoken /etc/fail2ban/filter.d/pam-apitoken.conf \
	/etc/fail2ban/jail.d/pam-apitoken.conf
getent group pam-apitoken >/dev/null && groupdel pam-apitoken
if grep -q pam_apitoken /etc/pam.d/common-auth /etc/pam.d/common-account; then
	pam-auth-update --package --remove apitoken
fi
cp /etc/pam.d/common-auth /tmp/common-auth.before

check "dpkg -i" dpkg -i /tmp/pkg.deb
check "module in the multiarch PAM directory: $so" is_mode "$so" "644 root root"
check "tokenadm setuid root (4755 root root)" is_mode /usr/bin/tokenadm "4755 root root"
check "man pages" test -f /usr/share/man/man8/pam_apitoken.8.gz -a \
	-f /usr/share/man/man8/tokenadm.8.gz -a -f /usr/share/man/man5/pam_apitoken.conf.5.gz
check "example configs under /usr/share/doc" test -f \
	/usr/share/doc/libpam-apitoken/examples/pam_apitoken.conf.example -a -f \
	/usr/share/doc/libpam-apitoken/examples/pam.d/apitoken-only
check "fail2ban filter and jail (off)" grep -Eq '^enabled *= *false' /etc/fail2ban/jail.d/pam-apitoken.conf
check "fail2ban filter installed" test -f /etc/fail2ban/filter.d/pam-apitoken.conf
check "group pam-apitoken exists, a system group" bash -c \
	'g=$(getent group pam-apitoken | cut -d: -f3) && [ "$g" -lt 1000 ]'
check "/var/lib/pam_apitoken 750 root pam-apitoken" is_mode /var/lib/pam_apitoken "750 root pam-apitoken"
check "store 640 root pam-apitoken" is_mode $DB "640 root pam-apitoken"
check "last-used directory 3770 root pam-apitoken" is_mode $DB.lastused "3770 root pam-apitoken"
check "site key 640 root pam-apitoken" is_mode $KEY "640 root pam-apitoken"
check "config (conffile) 644 root root" is_mode $CONF "644 root root"
check "tokenadm policy accepts the shipped config" tokenadm policy
check "pam-configs profile installed, Default: no" grep -qx 'Default: no' /usr/share/pam-configs/apitoken
check "installing changed nothing in common-auth" cmp /tmp/common-auth.before /etc/pam.d/common-auth

check "pam-auth-update --enable apitoken" pam-auth-update --enable apitoken
check "common-auth: pam_apitoken before pam_unix, jumping past pam_deny on success" \
	awk '/pam_apitoken\.so/ && /success=[0-9]+/ && /default=ignore/ { t = NR } /pam_unix\.so/ { u = NR } END { exit !(t && u && t < u) }' /etc/pam.d/common-auth
check "common-account: pam_apitoken" grep -q pam_apitoken /etc/pam.d/common-account
sed 's/^/    /' /etc/pam.d/common-auth | grep -v '^    #' | grep -v '^ *$'

useradd -M -s /usr/sbin/nologin ptkdeb && echo 'ptkdeb:Deb-Test-Pw-42' | chpasswd
printf '@include common-auth\n@include common-account\n' >/etc/pam.d/ptkdeb-test
tok=$(tokenadm create --user ptkdeb --name deb --expires 1h 2>/tmp/create.err)
id=$(printf '%s' "$tok" | cut -d_ -f2)
check "tokenadm create in the chroot" test -n "$tok"
check "fresh token accepted through common-auth" login "$tok"
wrong=${tok%?}; [ "${tok: -1}" = A ] && wrong=${wrong}B || wrong=${wrong}A
check "mistyped token refused" refused "$wrong"
check "password still works (token or password)" login 'Deb-Test-Pw-42'
# The profile is in common-auth, which sudo, su and the rest include too:
# the module itself refuses a token there (deny_services), so each falls
# through to the password, as before.
for svc in sudo su su-l sudo-i polkit-1 passwd chfn chsh doas systemd-run0; do
	printf '@include common-auth\n' >/etc/pam.d/$svc
	check "$svc (default deny_services) through common-auth: the token is refused" \
		bash -c '! printf "%s\n" "$1" | pamtester "$2" ptkdeb authenticate' _ "$tok" "$svc"
done
check "... while the password still works there (sudo)" \
	bash -c 'printf "%s\n" Deb-Test-Pw-42 | pamtester sudo ptkdeb authenticate'
check "wrong password refused" refused 'not-the-password'

sum_before=$(md5sum $KEY $DB)
check "reinstall (upgrade path)" dpkg -i /tmp/pkg.deb
check "reinstall kept the site key and the store" test "$(md5sum $KEY $DB)" = "$sum_before"
check "token still accepted after reinstall" login "$tok"
check "profile still enabled after reinstall" grep -q pam_apitoken /etc/pam.d/common-auth
tokenadm revoke "$id" >/dev/null 2>&1
check "revoked token refused" refused "$tok"

# The daily job (notify, retire-idle): shipped and enabled, and with the
# shipped config (notify_before and max_idle unset) it changes nothing.
# /run here is a fresh tmpfs: no systemd, so the cron script acts.
check "daily job: systemd units in /lib/systemd/system" test -f \
	/lib/systemd/system/pam-apitoken-daily.timer -a -f /lib/systemd/system/pam-apitoken-daily.service
check "daily job: the service runs /usr/bin/tokenadm" grep -q ' /usr/bin/tokenadm$' \
	/lib/systemd/system/pam-apitoken-daily.service
check "daily job: the timer is enabled (timers.target.wants)" test -L \
	/etc/systemd/system/timers.target.wants/pam-apitoken-daily.timer
check "daily job: /etc/cron.daily/pam-apitoken 755 root root" is_mode /etc/cron.daily/pam-apitoken "755 root root"
state() { ls -la --time-style=full-iso /var/lib/pam_apitoken; md5sum $DB; tokenadm list --all --json; }
state >/tmp/state.before 2>&1
check "daily job via cron, shipped config: exit 0 and silent" \
	bash -c 'out=$(/etc/cron.daily/pam-apitoken 2>&1) && [ -z "$out" ]'
state >/tmp/state.after 2>&1
check "... and nothing in /var/lib/pam_apitoken changed" cmp /tmp/state.before /tmp/state.after
check "... no sent-notices file" test ! -e $DB.notified
# The web page's package: files, the snippet enabled the Debian way and
# accepted by apache2 -t, and its program answering a sign-in through the
# installed setuid tokenadm and /etc/pam.d/apitoken-web (pam_unix).
rm -rf /usr/share/pam-apitoken-web /usr/libexec/pam-apitoken-web \
	/etc/apache2/conf-available/apitoken-web.conf /etc/apache2/conf-enabled/apitoken-web.conf
check "dpkg -i libpam-apitoken-web" dpkg -i /tmp/pkg-web.deb
cgi=/usr/libexec/pam-apitoken-web/apitoken-web-cgi
check "the page in /usr/share/pam-apitoken-web" test -f /usr/share/pam-apitoken-web/index.html -a \
	-f /usr/share/pam-apitoken-web/app.js
check "the CGI 755 root root, not setuid" is_mode "$cgi" "755 root root"
check "the snippet in conf-available, not enabled by the package" test -f \
	/etc/apache2/conf-available/apitoken-web.conf -a ! -e /etc/apache2/conf-enabled/apitoken-web.conf
check "/run/pam-apitoken-web 700 www-data www-data" is_mode /run/pam-apitoken-web "700 www-data www-data"
check "a2enmod cgid headers; a2enconf apitoken-web" bash -c 'a2enmod -q cgid headers && a2enconf -q apitoken-web'
mkdir -p /run/lock /run/apache2 # (the throwaway root's /run is empty)
check "apache2ctl -t with the snippet enabled" apache2ctl -t
web_policy() { # web_policy PASSWORD: the CGI's status line, run as Apache runs it
	printf '{}' | env -i REQUEST_METHOD=POST CONTENT_TYPE=application/json CONTENT_LENGTH=2 \
		PATH_INFO=/policy HTTP_HOST=localhost HTTP_ORIGIN=http://localhost \
		HTTP_X_APITOKEN_REQUEST=1 REMOTE_ADDR=127.0.0.1 \
		HTTP_AUTHORIZATION="Basic $(printf 'ptkdeb:%s' "$1" | base64 -w0)" \
		/usr/sbin/runuser -u www-data -- "$cgi" >/tmp/cgi.out 2>/tmp/cgi.err
	tr -d '\r' </tmp/cgi.out | head -n 1
}
status_is() { # status_is PASSWORD STATUS-LINE
	local got
	got=$(web_policy "$1")
	[ "$got" = "$2" ] || { echo "got: $got"; cat /tmp/cgi.out /tmp/cgi.err; return 1; }
}
check "the CGI signs ptkdeb in with the password (200)" status_is Deb-Test-Pw-42 "Status: 200 OK"
check "... and refuses a wrong one (401)" status_is wrong-pw "Status: 401 Unauthorized"
check "dpkg --purge libpam-apitoken-web" dpkg --purge libpam-apitoken-web
check "purge: the snippet disabled and gone, apache2ctl -t still passes" bash -c \
	'test ! -e /etc/apache2/conf-enabled/apitoken-web.conf -a ! -e /etc/apache2/conf-available/apitoken-web.conf && apache2ctl -t'

check "dpkg -r" dpkg -r libpam-apitoken
check "remove: common-auth and common-account without pam_apitoken" \
	no_line /etc/pam.d/common-auth /etc/pam.d/common-account
check "remove: module gone" test ! -e "$so"
check "remove: password logins still work" login 'Deb-Test-Pw-42'
check "remove: key, store and config kept" test -f $KEY -a -f $DB -a -f $CONF
check "remove: the timer is disabled" test ! -e \
	/etc/systemd/system/timers.target.wants/pam-apitoken-daily.timer
check "remove: the cron script (a conffile, kept) exits 0 without tokenadm" \
	bash -c 'out=$(/etc/cron.daily/pam-apitoken 2>&1) && [ -z "$out" ]'

check "dpkg --purge" dpkg --purge libpam-apitoken
check "purge: /var/lib/pam_apitoken gone" test ! -e /var/lib/pam_apitoken
check "purge: site key gone" test ! -e $KEY
check "purge: config gone" test ! -e $CONF
check "purge: daily job gone (cron script, units)" test ! -e /etc/cron.daily/pam-apitoken -a \
	! -e /lib/systemd/system/pam-apitoken-daily.timer
check "purge: pam-configs entry gone" test ! -e /usr/share/pam-configs/apitoken
check "purge: fail2ban files gone" test ! -e /etc/fail2ban/filter.d/pam-apitoken.conf -a \
	! -e /etc/fail2ban/jail.d/pam-apitoken.conf
check "purge: common-auth and common-account without pam_apitoken" \
	no_line /etc/pam.d/common-auth /etc/pam.d/common-account
check "purge: no dpkg record left" bash -c '! dpkg-query -W -f="\${Status}" libpam-apitoken 2>/dev/null | grep -q installed'

# ------------------------------------------ the README's own path
# A newcomer runs `bash scripts/demo.sh`, then follows "Installing the
# Debian way": `apt install ../libpam-apitoken_*.deb`. The package must go
# in over what the demo left (its tokenadm, module, group, key and store)
# without a conffile prompt -- which, with no terminal, is the error "end
# of file on stdin at conffile prompt" -- and keep the demo's site working.
apt_install() { # apt-get install of the .deb, stdin closed, as CI and scripts run it
	apt-get -q -y -o Dpkg::Use-Pty=0 "$@" install /tmp/pkg.deb </dev/null >/tmp/apt.log 2>&1
}
no_prompt() { # dpkg asked nothing and reported no error
	if grep -E "Configuration file '|conffile prompt|^E: |dpkg: error" /tmp/apt.log; then
		return 1
	fi
}
demo_ready=1
for p in apache2 libapache2-mod-authnz-pam curl meson ninja-build gcc libpam0g-dev \
	libssl-dev libgdbm-dev zlib1g-dev python3; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
		{ demo_ready=0; echo "# SKIP the demo-then-package path: $p not installed (scripts/deps.sh)"; break; }
done
if [ "$demo_ready" -eq 1 ]; then
	# A fresh machine has no group either (purge leaves it).
	getent group pam-apitoken >/dev/null && groupdel pam-apitoken
	if bash /tmp/demo-src/scripts/demo.sh </dev/null >/tmp/demo.log 2>&1; then
		ok "scripts/demo.sh passes in the throwaway root ($(grep '^demo: [0-9]' /tmp/demo.log))"
	else
		no "scripts/demo.sh passes in the throwaway root"
		tail -n 30 /tmp/demo.log | sed 's/^/    /'
	fi
	# A token of the demo's site, minted with the tokenadm the demo
	# installed, through a tokens-only service.
	printf 'auth required pam_apitoken.so tokens_only\naccount required pam_apitoken.so\n' \
		>/etc/pam.d/ptkdeb-readme
	rtok=$(tokenadm create --user alice --name readme --expires 1h 2>/dev/null)
	rid=$(printf '%s' "$rtok" | cut -d_ -f2)
	readme_login() { printf '%s\n' "$rtok" | pamtester ptkdeb-readme alice authenticate acct_mgmt; }
	check "demo's site: a fresh token logs in with the demo's module" readme_login
	sum_before=$(md5sum $KEY $DB)
	check "then apt-get install of the .deb, stdin closed: exit 0" apt_install
	check "... no conffile prompt and no error" no_prompt
	sed 's/^/    apt: /' /tmp/apt.log | grep -E 'conffile|Configuration file|error|Setting up' | head -n 10
	check "... the package's files in place of the demo's (dpkg --verify clean, config included)" \
		bash -c 'out=$(dpkg --verify libpam-apitoken) && [ -z "$out" ] || { echo "$out"; false; }'
	check "... the demo's site key and store kept" test "$(md5sum $KEY $DB)" = "$sum_before"
	check "... the demo's token still logs in, with the package's module" readme_login
	check "... and the package's tokenadm shows it" tokenadm show "$rid"
	rm -f /etc/pam.d/ptkdeb-readme
fi

# An older demo (before it left the file alone) wrote this config: the
# package replaces it, no prompt. The text byte for byte, as it wrote it.
check "dpkg --purge (again)" dpkg --purge libpam-apitoken
printf '%s\n' "# /etc/security/pam_apitoken.conf -- see pam_apitoken's README for" \
	"# every setting. Written by scripts/demo.sh: the defaults, spelled out." \
	'prefix = ptk' >$CONF
check "over an older demo's config: apt-get install, stdin closed: exit 0" apt_install
check "... no conffile prompt and no error" no_prompt
check "... the config is the package's" bash -c \
	'out=$(dpkg --verify libpam-apitoken) && [ -z "$out" ] || { echo "$out"; false; }'
# Anything else there is the administrator's: never removed behind their
# back (dpkg asks; told to keep it, it is kept).
check "dpkg --purge (again)" dpkg --purge libpam-apitoken
printf '# mine\nprefix = ptk\n' >$CONF
sum_mine=$(md5sum $CONF)
check "over an administrator's own config: apt-get install --force-confold" \
	apt_install -o Dpkg::Options::=--force-confold
check "... their config kept as it was" test "$(md5sum $CONF)" = "$sum_mine"
exit "$fails"
INSIDE

cat >"$W/ns.sh" <<'NS'
#!/bin/bash
# In a private mount namespace: overlay over /, then chroot. Exit 77 if
# the kernel or the container does not allow it.
set -u
W=$1
R=$W/root
mkdir -p "$W/layer" "$R"
mount -t tmpfs -o mode=0755 ptk-deb-upper "$W/layer" || { echo "SKIP: cannot mount a tmpfs"; exit 77; }
mkdir "$W/layer/upper" "$W/layer/work"
if ! mount -t overlay ptk-deb-root \
	-o "lowerdir=/,upperdir=$W/layer/upper,workdir=$W/layer/work" "$R"; then
	echo "SKIP: overlayfs over / not permitted here"
	exit 77
fi
# A private /dev with the few nodes needed (no /dev/log: the module's
# syslog lines stay in here), and fresh /proc, /tmp, /run.
mount -t tmpfs -o mode=0755 ptk-deb-dev "$R/dev" &&
	for d in null zero full random urandom; do
		touch "$R/dev/$d" && mount --bind "/dev/$d" "$R/dev/$d" || exit 1
	done &&
	# Bash's <(...) (the demo uses it) opens /dev/fd/N.
	ln -s /proc/self/fd "$R/dev/fd" &&
	mount -t proc proc "$R/proc" &&
	mount -t tmpfs -o mode=1777 ptk-deb-tmp "$R/tmp" &&
	mount -t tmpfs -o mode=0755 ptk-deb-run "$R/run" || { echo "SKIP: cannot mount in the overlay"; exit 77; }
cp "$W/pkg.deb" "$W/pkg-web.deb" "$W/inside.sh" "$R/tmp/"
cp -a "$W/demo-src" "$R/tmp/demo-src"
chroot "$R" /bin/true 2>/dev/null || { echo "SKIP: chroot not permitted"; exit 77; }
chroot "$R" /bin/bash /tmp/inside.sh
NS

unshare -m --propagation private bash "$W/ns.sh" "$W"
rc=$?
if [ "$rc" -eq 77 ]; then
	exit 77
fi
# The real system must be as it was.
if [ -e /usr/share/pam-configs/apitoken ] && ! dpkg -S /usr/share/pam-configs/apitoken >/dev/null 2>&1; then
	echo "FAIL: the chroot leaked into the real /"
	exit 1
fi
echo "deb test took $(( $(date +%s) - T0 ))s"
if [ "$rc" -ne 0 ]; then
	echo "FAIL: $rc check(s) in the throwaway root failed"
	exit 1
fi
echo "ok - install, PAM logins, reinstall, remove, purge, and the demo then the package, in a throwaway root"
exit 0
