#!/bin/bash
# The fleet through Ansible (contrib/ansible), end to end: an authority in
# the root namespace and three import-only hosts, each a network namespace
# with its own address and its own sshd, and a mount namespace of its own
# in which /etc/security, /var/lib/pam_apitoken and /etc/pam.d are private
# (bind mounts of per-host directories), so that tokenadm and the module
# on a host see that host's config, key and store and no other's.
#
# Ansible on the authority reaches the hosts over ssh as root with a
# throwaway key; logins with tokens go over ssh too (sshpass, password
# auth through a PAM service with pam_apitoken.so), and, for a host that
# is offline, through pamtester inside its namespaces.
#
#   authority (root ns) 198.51.100.(4i+1)/30 --veth-- 198.51.100.(4i+2) host i
#
# env: TOKENADM, PAM_APITOKEN_SO; optional ANSIBLE_DIR (contrib/ansible).
# Skips (77) without root, ansible-playbook, sshd, sshpass, pamtester, or
# when network or mount namespaces are not permitted.
set -u
# (Ansible refuses to run without a UTF-8 locale; C.UTF-8 is always there.)
export LC_ALL=C.UTF-8
START=$(date +%s)

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network and mount namespaces, sshd)"
[ -z "${PTK_SANITIZED:-}" ] || skip "sanitizer build (sshd cannot load the module)"
T=${TOKENADM:-}
SO=${PAM_APITOKEN_SO:-}
[ -n "$T" ] && [ -n "$SO" ] || skip "TOKENADM and PAM_APITOKEN_SO must be set"
T=$(readlink -f "$T") SO=$(readlink -f "$SO")
here=$(cd "$(dirname "$0")" && pwd)
SRC=${ANSIBLE_DIR:-$here/../contrib/ansible}
[ -f "$SRC/push.yml" ] || skip "no contrib/ansible at $SRC"
command -v ansible-playbook >/dev/null || skip "ansible-playbook not installed (scripts/deps.sh installs ansible)"
command -v ansible-vault >/dev/null || skip "ansible-vault not installed"
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || skip "openssh-server not installed"
for p in ssh ssh-keygen sshpass pamtester ip unshare nsenter python3; do
	command -v $p >/dev/null || skip "$p not installed"
done
SFTP=/usr/lib/openssh/sftp-server
[ -x "$SFTP" ] || skip "no $SFTP"
NET=198.51.100
if ip -4 route show | grep -q "^$NET\."; then
	skip "$NET.0/24 is already routed on this machine"
fi

ID=$$
PROBE=ptkp$ID
if ! ip netns add "$PROBE" 2>/dev/null; then
	skip "network namespaces not permitted (ip netns add)"
fi
if ! ip netns exec "$PROBE" unshare -m -u --propagation private true 2>/dev/null; then
	ip netns del "$PROBE" 2>/dev/null
	skip "mount or UTS namespaces not permitted (unshare -m -u)"
fi
ip netns del "$PROBE"

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
expect() { # expect DESCRIPTION WANT GOT
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1 (got $3, want $2)"; fi
}
check() { local d=$1; shift; if "$@"; then ok "$d"; else bad "$d"; fi; }

W=$(mktemp -d /tmp/ptk-fleet-ansible.XXXXXX) || exit 1
chmod 755 "$W"
HOSTS=(1 2 3)
declare -A PID NS VR VH ADDR PEER
TUSER=ptkfa$ID
MADE_VARLIB=0
cleanup() {
	local i
	for i in "${HOSTS[@]}"; do
		[ -n "${PID[$i]:-}" ] || continue
		kill "${PID[$i]}" 2>/dev/null
	done
	for i in "${HOSTS[@]}"; do
		[ -n "${PID[$i]:-}" ] || continue
		for _ in $(seq 50); do kill -0 "${PID[$i]}" 2>/dev/null || break; sleep 0.1; done
		kill -9 "${PID[$i]}" 2>/dev/null
	done
	for i in "${HOSTS[@]}"; do
		[ -n "${VR[$i]:-}" ] && ip link del "${VR[$i]}" 2>/dev/null
		[ -n "${NS[$i]:-}" ] && ip netns del "${NS[$i]}" 2>/dev/null
	done
	userdel "$TUSER" 2>/dev/null
	[ "$MADE_VARLIB" = 1 ] && rmdir /var/lib/pam_apitoken 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

die() { bad "$1"; shift; for f in "$@"; do [ -f "$f" ] && sed 's/^/#   /' "$f" | tail -20; done; exit 1; }

# --- the authority (root namespace, a private config)
A=$W/auth
mkdir -m 755 "$A"
cat >"$A/conf" <<EOF
db = $A/store/tokens.db
key = $A/keys/site.key
signing_key = $A/keys/signing.key
EOF
auth() { "$T" --config "$A/conf" "$@"; }
auth init --signing >"$W/auth.log" 2>&1 || die "authority: tokenadm init --signing" "$W/auth.log"
useradd -M -N -g nogroup -s /bin/sh "$TUSER" || die "useradd $TUSER"
TPASS=plain-Pass-$ID
echo "$TUSER:$TPASS" | chpasswd || die "chpasswd"
mint() { auth create --user "$TUSER" --name "$1" 2>>"$W/auth.log"; }
token_id() { sed -n 's/^[0-9A-Za-z]*_\([0-9A-Za-z]\{12\}\)_.*/\1/p' <<<"$1"; }
tokA=$(mint alpha) && tokB=$(mint bravo) || die "authority: create" "$W/auth.log"

# --- the hosts
# /var/lib/pam_apitoken is bind-mounted over inside each host's mount
# namespace; an empty mount point is made (and removed at exit) only if
# this machine has none.
if [ ! -e /var/lib/pam_apitoken ]; then
	mkdir -m 755 /var/lib/pam_apitoken && MADE_VARLIB=1
fi
[ -d /var/lib/pam_apitoken ] || die "/var/lib/pam_apitoken is not a directory"
mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$W/hostkey" || exit 1
ssh-keygen -q -t ed25519 -N '' -C ptk-fleet-test -f "$W/id_ed25519" || exit 1
cp "$W/id_ed25519.pub" "$W/authorized_keys"
chmod 644 "$W/authorized_keys"
mkdir -m 755 "$W/bin"
# sshd names its PAM service after its program name.
SERVICE=ptk-fleet
ln -s "$SSHD" "$W/bin/$SERVICE"
HCONF=/etc/security/pam_apitoken.conf

for i in "${HOSTS[@]}"; do
	H=$W/h$i
	NS[$i]=ptkf$ID-h$i
	VR[$i]=ptf${ID}a$i
	VH[$i]=ptf${ID}b$i
	PEER[$i]=$NET.$((4 * i + 1))
	ADDR[$i]=$NET.$((4 * i + 2))
	mkdir -m 755 "$H" "$H/security" "$H/varlib" "$H/pamd"
	# This host's /etc/security and /etc/pam.d: the machine's, less any
	# pam_apitoken file of its own, plus this host's.
	cp -a /etc/security/. "$H/security/"
	rm -rf "$H/security"/pam_apitoken*
	cp -a /etc/pam.d/. "$H/pamd/"
	# Explicit paths (they are the usual defaults), so that a build with
	# other defaults still keeps the store inside the private mounts.
	printf 'db = /var/lib/pam_apitoken/tokens.db\nkey = /etc/security/pam_apitoken.key\n' \
		>"$H/security/pam_apitoken.conf"
	chmod 644 "$H/security/pam_apitoken.conf"
	cat >"$H/pamd/$SERVICE" <<EOF
auth required $SO conf=$HCONF
account required $SO conf=$HCONF
account required pam_permit.so
session required pam_permit.so
password required pam_deny.so
EOF
	cat >"$H/sshd.conf" <<EOF
ListenAddress ${ADDR[$i]}
Port 22
HostKey $W/hostkey
PidFile $H/sshd.pid
UsePAM yes
UseDNS no
StrictModes no
AuthorizedKeysFile $W/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication yes
PermitRootLogin prohibit-password
AllowUsers root $TUSER
MaxAuthTries 3
Subsystem sftp $SFTP
EOF
	ip netns add "${NS[$i]}" || die "ip netns add ${NS[$i]}"
	ip link add "${VR[$i]}" type veth peer name "${VH[$i]}" || die "veth for host $i"
	ip link set "${VH[$i]}" netns "${NS[$i]}" &&
		ip addr add "${PEER[$i]}/30" dev "${VR[$i]}" &&
		ip link set "${VR[$i]}" up &&
		ip -n "${NS[$i]}" addr add "${ADDR[$i]}/30" dev "${VH[$i]}" &&
		ip -n "${NS[$i]}" link set "${VH[$i]}" up &&
		ip -n "${NS[$i]}" link set lo up || die "network of host $i"
	# The host's sshd, in its network namespace and a mount (and UTS)
	# namespace of its own; everything run over ssh inherits both.
	ip netns exec "${NS[$i]}" unshare -m -u --propagation private sh -c '
		hostname "$1" &&
		mount --bind "$2/security" /etc/security &&
		mount --bind "$2/varlib" /var/lib/pam_apitoken &&
		mount --bind "$2/pamd" /etc/pam.d || exit 1
		exec "$3" -D -f "$2/sshd.conf" -E "$2/sshd.log"' \
		sh "h$i" "$H" "$W/bin/$SERVICE" </dev/null >"$H/start.log" 2>&1 &
	PID[$i]=$!
done
for i in "${HOSTS[@]}"; do
	up=0
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/${ADDR[$i]}/22") 2>/dev/null; then up=1; break; fi
		kill -0 "${PID[$i]}" 2>/dev/null || break
		sleep 0.1
	done
	[ "$up" = 1 ] || die "sshd of host $i listens on ${ADDR[$i]}" "$W/h$i/start.log" "$W/h$i/sshd.log"
done
ok "3 hosts: a network, mount and UTS namespace each, sshd on ${ADDR[1]} ${ADDR[2]} ${ADDR[3]}"

# in_host I CMD...: CMD inside host I's namespaces (what ssh to it gets).
in_host() { local i=$1; shift; nsenter -t "${PID[$i]}" -m -n -u -- "$@"; }
gen_of() { # gen_of I: the host's store generation (tokenadm status --json)
	in_host "$1" "$T" --config "$HCONF" status --json 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])' 2>/dev/null || echo none
}
store_sum() { in_host "$1" sha256sum /var/lib/pam_apitoken/tokens.db 2>/dev/null | cut -c1-64; }
auth_gen() {
	auth status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'
}

private_mounts() { # each host's three paths are its own directories
	local i
	for i in "${HOSTS[@]}"; do
		[ "$(in_host "$i" hostname)" = "h$i" ] || return 1
		[ "$(in_host "$i" stat -c %d:%i /etc/security /var/lib/pam_apitoken /etc/pam.d)" = \
		  "$(stat -c %d:%i "$W/h$i/security" "$W/h$i/varlib" "$W/h$i/pamd")" ] || return 1
	done
}
check "each host's /etc/security, /var/lib/pam_apitoken, /etc/pam.d and hostname are its own" private_mounts

# --- Ansible: a copy of contrib/ansible with this run's inventory and vault
ANS=$W/ansible
cp -a "$SRC" "$ANS"
rm -rf "$ANS/fleet-files"
{
	echo "[authority]"
	echo "auth ansible_connection=local"
	echo
	echo "[pam_apitoken_hosts]"
	for i in "${HOSTS[@]}"; do echo "h$i ansible_host=${ADDR[$i]}"; done
	echo
	echo "[pam_apitoken_hosts:vars]"
	echo "ansible_user=root"
	echo "ansible_ssh_private_key_file=$W/id_ed25519"
	echo
	echo "[all:vars]"
	echo "ansible_python_interpreter=/usr/bin/python3"
	echo "ansible_become=false"
	echo "ansible_remote_tmp=$W/remote-tmp"
} >"$ANS/inventory.ini"
# (group_vars beside the playbooks win over the inventory's: this run's
# settings replace the example's vars.yml.)
cat >"$ANS/group_vars/all/vars.yml" <<EOF
pam_apitoken_tokenadm: $T
pam_apitoken_authority_config: $A/conf
pam_apitoken_host_config: $HCONF
pam_apitoken_controller_dir: $W/controller
pam_apitoken_site_key: "{{ vault_pam_apitoken_site_key }}"
EOF
# Ansible keeps to $W: its config, home, and both temporary directories.
export ANSIBLE_CONFIG=$ANS/ansible.cfg ANSIBLE_HOME=$W/ansible-home \
	ANSIBLE_REMOTE_TEMP=$W/remote-tmp \
	ANSIBLE_LOCAL_TEMP=$W/local-tmp ANSIBLE_HOST_KEY_CHECKING=False \
	ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_TIMEOUT=5 \
	ANSIBLE_DEPRECATION_WARNINGS=False ANSIBLE_SYSTEM_WARNINGS=False \
	ANSIBLE_SSH_RETRIES=0
# No ssh multiplexing: a master connection to a host whose link goes
# down would hang instead of failing at once, and would outlive the test.
export ANSIBLE_SSH_ARGS="-F /dev/null -o ControlMaster=no -o ControlPath=none -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no -o LogLevel=ERROR -o ConnectTimeout=5 -o ServerAliveInterval=5 -o ServerAliveCountMax=2 -o IdentitiesOnly=yes"
unset SSH_AUTH_SOCK
# The site key through the vault, as the README says.
printf 'vault_pam_apitoken_site_key: "%s"\n' "$(cat "$A/keys/site.key")" >"$ANS/group_vars/all/vault.yml"
( umask 077; echo "vault-pw-$ID-$RANDOM" >"$W/vault-pass" )
ansible-vault encrypt --vault-password-file "$W/vault-pass" "$ANS/group_vars/all/vault.yml" >/dev/null 2>&1
check "the site key sits in an ansible-vault encrypted group_vars/all/vault.yml" \
	eval 'head -1 "$ANS/group_vars/all/vault.yml" | grep -q "^\$ANSIBLE_VAULT" && ! grep -q ptkkey1 "$ANS/group_vars/all/vault.yml"'


RUN=0
play() { # play NAME PLAYBOOK [ARGS]: sets $PRC, log in $W/play-NAME.log
	local name=$1; shift
	RUN=$((RUN + 1))
	(cd "$ANS" && timeout 120 ansible-playbook --vault-password-file "$W/vault-pass" "$@") \
		>"$W/play-$name.log" 2>&1
	PRC=$?
	LOG=$W/play-$name.log
}
show_log() { sed 's/^/#   /' "$LOG" | grep -v '^#   *$' | tail -40; }
recap() { # recap HOST FIELD: the number in PLAY RECAP (ok, changed, failed, unreachable)
	sed -n "s/^$1 *: .*$2=\([0-9]*\).*/\1/p" "$LOG" | tail -1
}

# login I SECRET [METHOD]: accepted|refused for $TUSER over ssh to host I.
login() {
	local pw=$W/pw.$RANDOM rc
	( umask 077; printf '%s\n' "$2" >"$pw" )
	timeout 20 sshpass -f "$pw" ssh -n -F /dev/null -o PreferredAuthentications="${3:-password}" \
		-o PubkeyAuthentication=no -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o NumberOfPasswordPrompts=1 \
		-o ConnectTimeout=5 -o LogLevel=ERROR "$TUSER@${ADDR[$1]}" true 2>/dev/null
	rc=$?
	rm -f "$pw"
	[ $rc = 0 ] && echo accepted || echo refused
}
# local_login I SECRET: accepted|refused through pamtester inside host I
# (needs no network: for a host that is offline).
local_login() {
	if printf '%s\n' "$2" | in_host "$1" pamtester -I rhost="${PEER[$1]}" "$SERVICE" "$TUSER" \
		authenticate acct_mgmt >/dev/null 2>&1; then echo accepted; else echo refused; fi
}
all_logins() { # all_logins SECRET [HOSTS]: e.g. "accepted accepted accepted"
	local i out=() tok=$1; shift
	for i in "${@:-${HOSTS[@]}}"; do out+=("$(login "$i" "$tok")"); done
	echo "${out[*]}"
}
gens() { local i out=(); for i in "$@"; do out+=("$(gen_of "$i")"); done; echo "${out[*]}"; }
sums() { local i out=(); for i in "$@"; do out+=("$(store_sum "$i")"); done; echo "${out[*]}"; }

# --- setup: once, and again (idempotent)
play setup setup.yml
if [ "$PRC" = 0 ]; then ok "setup.yml (site key from the vault, tokenadm init --import-only)"
else bad "setup.yml (rc $PRC)"; show_log; exit 1; fi
roles=$(for i in "${HOSTS[@]}"; do in_host "$i" "$T" --config "$HCONF" status --json |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["role"])'; done | tr '\n' ' ')
expect "every host is import-only" "import-only import-only import-only " "$roles"
check "every host trusts the authority's key, installed beside its site key" \
	eval 'for i in 1 2 3; do in_host $i grep -q "^trusted_key = /etc/security/pam_apitoken.trusted-" "$HCONF" &&
	      in_host $i test -f /etc/security/pam_apitoken.key || exit 1; done'
check "no copy of the site key is left in a temporary directory" \
	eval '! ls -d /tmp/ansible.*.ptk-setup >/dev/null 2>&1'
play setup-again setup.yml
expect "setup.yml again: ok, nothing changed on any host" "0 0 0 0" \
	"$PRC $(recap h1 changed) $(recap h2 changed) $(recap h3 changed)"

# --- the first push
expect "a token minted on the authority is unknown to the hosts before a push" \
	"refused refused refused" "$(all_logins "$tokA")"
play push1 push.yml
if [ "$PRC" = 0 ]; then ok "push.yml (export on the authority, import on every host)"
else bad "push.yml (rc $PRC)"; show_log; fi
g1=$(auth_gen)
check "... and the role's handler checked the installed generation on each host" \
	eval '[ "$(sed -n "/^RUNNING HANDLER .*check the installed generation/,/^PLAY RECAP/p" "$LOG" | grep -c "^ok: \[h[123]\]")" = 3 ]'
expect "every host has the authority's generation $g1" "$g1 $g1 $g1" "$(gens 1 2 3)"
check "... hosts with no bundle yet got the full bundle (no delta)" \
	eval '[ "$(grep -c "full: installed generation $g1: 2 token(s)" "$LOG")" = 3 ] && [ -z "$(ls "$W/controller/deltas")" ]'
cp "$W/controller/pam_apitoken.bundle" "$W/old.bundle"
expect "token A logs in on every host (ssh, password auth)" "accepted accepted accepted" "$(all_logins "$tokA")"
expect "token B logs in on every host (keyboard-interactive)" "accepted accepted accepted" \
	"$(login 1 "$tokB" keyboard-interactive) $(login 2 "$tokB" keyboard-interactive) $(login 3 "$tokB" keyboard-interactive)"
expect "a plain password is refused by the tokens-only stack" "refused" "$(login 1 "$TPASS")"

play push-same push.yml
expect "the same generation pushed again: ok and unchanged on every host" "0 0 0 0" \
	"$PRC $(recap h1 changed) $(recap h2 changed) $(recap h3 changed)"
check "... current hosts were sent nothing: no import ran, no bundle exported" \
	eval '! grep -q ": installed generation\|applied the delta\|freshness renewed" "$LOG" && grep -q "authority at generation $g1; hosts at $g1: none\"" "$LOG" && [ "$(sha256sum <"$W/controller/pam_apitoken.bundle")" = "$(sha256sum <"$W/old.bundle")" ]' 
play push-allow-same push.yml -e pam_apitoken_allow_same=true
expect "... and with pam_apitoken_allow_same=true re-installed (changed)" "0 1 1 1" \
	"$PRC $(recap h1 changed) $(recap h2 changed) $(recap h3 changed)"

# --- revocation travels
auth revoke "$(token_id "$tokA")" >>"$W/auth.log" 2>&1 || bad "authority: revoke A"
# shellcheck disable=SC2034 # read in an eval below
full_before=$(sha256sum <"$W/controller/pam_apitoken.bundle")
play push2 push.yml
[ "$PRC" = 0 ] && ok "push after revoking token A" || { bad "push after revoke (rc $PRC)"; show_log; }
g2=$(auth_gen)
expect "every host has generation $g2" "$g2 $g2 $g2" "$(gens 1 2 3)"
# Deltas after the first push: one file for the three hosts at $g1, each
# host applied it, and no full bundle was exported or copied.
expect "... by a delta: the one file delta-$g1-$g2.bundle on the controller, shared" \
	"delta-$g1-$g2.bundle" "$(ls "$W/controller/deltas" | tr '\n' ' ' | sed 's/ $//')"
expect "... each host applied the delta from $g1 to $g2" 3 \
	"$(grep -c "delta-$g1-$g2.bundle: applied the delta from generation $g1 to $g2: 1 token(s) changed" "$LOG")"
check "... the delta is smaller than the full bundle (one record of two)" \
	eval '[ "$(stat -c %s "$W/controller/deltas/delta-$g1-$g2.bundle")" -lt "$(stat -c %s "$W/controller/pam_apitoken.bundle")" ]'
check "... no full bundle was exported or sent" \
	eval '[ "$(sha256sum <"$W/controller/pam_apitoken.bundle")" = "$full_before" ] && ! grep -q ": installed generation\|full bundle after the refused" "$LOG"' 
expect "revoked token A is refused on every host" "refused refused refused" "$(all_logins "$tokA")"
expect "token B still logs in on every host" "accepted accepted accepted" "$(all_logins "$tokB")"

# --- an old bundle: every host refuses it, nothing changes
before_g=$(gens 1 2 3) before_s=$(sums 1 2 3)
play push-old push.yml -e "pam_apitoken_bundle_file=$W/old.bundle"
expect "pushing the older bundle fails the play" "2" "$PRC"
expect "... its import task failed on every host" "1 1 1" "$(recap h1 failed) $(recap h2 failed) $(recap h3 failed)"
check "... as a stale generation" eval '[ "$(grep -c "stale generation $g1 (this host has $g2)" "$LOG")" -ge 3 ]'
expect "... generation unchanged on every host" "$before_g" "$(gens 1 2 3)"
expect "... store unchanged byte for byte on every host" "$before_s" "$(sums 1 2 3)"
expect "... and revoked token A is still refused everywhere" "refused refused refused" "$(all_logins "$tokA")"

# --- a host offline during a push
ip link set "${VR[3]}" down
auth revoke "$(token_id "$tokB")" >>"$W/auth.log" 2>&1 || bad "authority: revoke B"
tokC=$(mint charlie) || bad "authority: create C"
play push-offline push.yml
expect "push with host 3 offline: the play reports it unreachable" "4 1" "$PRC $(recap h3 unreachable)"
expect "... hosts 1 and 2 were updated" "0 0 1 1" \
	"$(recap h1 failed) $(recap h2 failed) $(recap h1 changed) $(recap h2 changed)"
g3=$(auth_gen)
expect "... to generation $g3; host 3 still has $g2" "$g3 $g3 $g2" "$(gens 1 2 3)"
expect "... revoked token B is refused on hosts 1 and 2" "refused refused" "$(all_logins "$tokB" 1 2)"
expect "... new token C logs in on hosts 1 and 2" "accepted accepted" "$(all_logins "$tokC" 1 2)"
expect "... offline host 3 keeps working with what it had: token B accepted there (pamtester)" \
	accepted "$(local_login 3 "$tokB")"
expect "... and knows nothing of token C yet" refused "$(local_login 3 "$tokC")"
ip link set "${VR[3]}" up
for _ in $(seq 50); do (exec 3<>"/dev/tcp/${ADDR[3]}/22") 2>/dev/null && break; sleep 0.1; done
play push-back push.yml
expect "host 3 back: the next push succeeds, only host 3 changed" "0 0 0 1" \
	"$PRC $(recap h1 changed) $(recap h2 changed) $(recap h3 changed)"
expect "... every host has generation $g3" "$g3 $g3 $g3" "$(gens 1 2 3)"
expect "... host 3 by the delta from $g2, hosts 1 and 2 sent nothing" "1 0" \
	"$(grep -c "delta-$g2-$g3.bundle: applied the delta from generation $g2 to $g3" "$LOG") $(grep -c "^changed: \[h[12]\]" "$LOG")"
expect "... host 3 caught up: token B refused, token C accepted (ssh)" "refused accepted" \
	"$(login 3 "$tokB") $(login 3 "$tokC")"

# --- last use, fleet-wide
idC=$(token_id "$tokC")
play lastused lastused.yml
[ "$PRC" = 0 ] && ok "lastused.yml (export on every host, merge on the authority)" ||
	{ bad "lastused.yml (rc $PRC)"; show_log; }
check "the controller holds each host's last-use file, naming the host" \
	eval 'for i in 1 2 3; do grep -q "^host h$i$" "$W/controller/lastused/h$i.lastused" || exit 1; done'
auth list --json >"$W/list.json" 2>>"$W/auth.log"
check "authority: list --json shows token C's last use on a host, from the authority's address" \
	python3 - "$W/list.json" "$idC" "$NET" <<'PY'
import json, sys
rows = [t for t in json.load(open(sys.argv[1])) if t["id"] == sys.argv[2]]
assert rows and rows[0]["last_used"], rows
rh = rows[0]["last_rhost"]
assert rh.startswith(sys.argv[3] + ".") and rh.split("@")[1] in ("h1", "h2", "h3"), rh
PY

# --- the pull alternative (contrib/ansible/pull): curl | tokenadm import -
PULL=$SRC/pull/pam-apitoken-pull
pull() { # pull I URL: the wrapper's exit status inside host I
	in_host "$1" env TOKENADM="$T" "$PULL" "$2" >/dev/null 2>"$W/pull.err"
	echo $?
}
if command -v curl >/dev/null; then
	auth export --out "$W/current.bundle" 2>>"$W/auth.log"
	expect "pull: the bundle already installed is not an error" "0 $g3" \
		"$(pull 1 "file://$W/current.bundle") $(gen_of 1)"
	expect "pull: an old bundle is refused (exit 1), nothing changes" "1 $g3" \
		"$(pull 1 "file://$W/old.bundle") $(gen_of 1)"
	expect "pull: a download that fails is refused (exit 1)" "1 $g3" \
		"$(pull 1 "file://$W/no-such-bundle") $(gen_of 1)"
	tokD=$(mint delta)
	auth export --out "$W/pull.bundle" 2>>"$W/auth.log"
	expect "pull: a newer bundle is installed; its new token logs in" "0 $(auth_gen) accepted" \
		"$(pull 1 "file://$W/pull.bundle") $(gen_of 1) $(login 1 "$tokD")"
else
	echo "# SKIP pull: no curl"
fi

# --- a delta a host refuses: the full bundle instead. The hosts' reported
# generation is overridden (extra vars beat set_fact) with one they are
# not at, as if each had moved between the plays: every host refuses the
# delta from it, naming its own generation, and installs the full bundle.
tokE=$(mint echo) || bad "authority: create E"
gE=$(auth_gen) gfake=$((g3 - 1))
play push-retry push.yml -e "_ptk_generation=$gfake"
expect "a refused delta: the play succeeds, every host changed" "0 1 1 1" \
	"$PRC $(recap h1 changed) $(recap h2 changed) $(recap h3 changed)"
expect "... the authority wrote the delta from the reported $gfake" \
	"delta-$gfake-$gE.bundle" "$(ls "$W/controller/deltas" | tr '\n' ' ' | sed 's/ $//')"
check "... each host refused it and installed the full bundle of $gE instead" \
	eval '[ "$(grep -c "full bundle after the refused delta-$gfake-$gE.bundle: installed generation $gE" "$LOG")" = 3 ]'
expect "... every host has generation $gE; new token E logs in on each" \
	"$gE $gE $gE accepted accepted accepted" "$(gens 1 2 3) $(all_logins "$tokE")"

check "no temporary bundle is left on any host" \
	eval '! ls -d /tmp/ansible.*.ptk-* >/dev/null 2>&1'
echo "# $RUN playbook runs, $(( $(date +%s) - START ))s"
echo "$((n - failed)) passed, $failed failed"
[ "$failed" = 0 ]
