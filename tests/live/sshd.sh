#!/usr/bin/env bash
# OpenSSH's sshd on 127.0.0.1 and ::1, started through a symlink named after
# the test's PAM service (sshd uses its program name as the service), with
# password and keyboard-interactive logins driven by sshpass.
here=$(dirname "$0")
. "$here/lib.sh"

SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] || skip "openssh-server not installed"
command -v sshpass >/dev/null || skip "sshpass not installed"
command -v ssh >/dev/null || skip "ssh client not installed"

live_setup
only=ptk-live-sshd-only-$LIVE_ID
either=ptk-live-sshd-either-$LIVE_ID
pam_service "$only" "auth required $PAM_APITOKEN_SO conf=$CONF
account required $PAM_APITOKEN_SO conf=$CONF
session required pam_permit.so"
pam_service "$either" "auth sufficient $PAM_APITOKEN_SO conf=$CONF
auth required pam_unix.so
account sufficient $PAM_APITOKEN_SO conf=$CONF
account required pam_unix.so
session required pam_permit.so"

mkdir -p /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$WORK/hostkey" || exit 1

# start_sshd SERVICE: an sshd whose PAM service is SERVICE; sets $port.
start_sshd() {
	port=$(free_port)
	ln -sf "$SSHD" "$WORK/$1"
	cat > "$WORK/$1.conf" <<CONF
Port $port
ListenAddress 127.0.0.1
ListenAddress ::1
HostKey $WORK/hostkey
PidFile $WORK/$1.pid
UsePAM yes
UseDNS no
PasswordAuthentication yes
KbdInteractiveAuthentication yes
PubkeyAuthentication no
PermitRootLogin no
AllowUsers $TUSER
MaxAuthTries 2
CONF
	PIDFILES+=("$WORK/$1.pid")
	# sshd re-executes itself, so it needs its absolute path.
	"$WORK/$1" -f "$WORK/$1.conf" -E "$WORK/$1.log" || return 1
	wait_port "$port" 20
}

# login HOST METHOD SECRET: exit status of a remote `true`.
login() {
	local pw=$WORK/pw.$RANDOM rc
	( umask 077; printf '%s\n' "$3" > "$pw" )
	timeout 20 sshpass -f "$pw" ssh -n -p "$port" \
		-o PreferredAuthentications="$2" -o PubkeyAuthentication=no \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
		-o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 -o LogLevel=ERROR \
		"$TUSER@$1" true 2>/dev/null
	rc=$?
	rm -f "$pw"
	return $rc
}
result() { login "$@" && echo accepted || echo refused; }

start_sshd "$only" || { bad "sshd starts"; cat "$WORK/$only.log"; finish; exit; }
tok=$(mint)
expect "token, password auth, IPv4" accepted "$(result 127.0.0.1 password "$tok")"
expect "token, keyboard-interactive, IPv4" accepted "$(result 127.0.0.1 keyboard-interactive "$tok")"
expect "token, password auth, IPv6" accepted "$(result ::1 password "$tok")"
expect "wrong secret" refused "$(result 127.0.0.1 password "$(wrong_secret "$tok")")"
expect "plain password in a tokens-only stack" refused "$(result 127.0.0.1 password "$TPASS")"
far=$(mint --allow-from 10.0.0.0/8)
expect "token limited to 10.0.0.0/8" refused "$(result 127.0.0.1 password "$far")"
near=$(mint --allow-from 127.0.0.0/8)
expect "token limited to 127.0.0.0/8" accepted "$(result 127.0.0.1 password "$near")"
expect "token limited to 127.0.0.0/8, over IPv6" refused "$(result ::1 password "$near")"
if old=$(mint_expired); then
	expect "expired token" refused "$(result 127.0.0.1 password "$old")"
fi
gone=$(mint)
"$TOKENADM" --config "$CONF" revoke "$(token_id "$gone")" >/dev/null 2>&1
expect "revoked token" refused "$(result 127.0.0.1 password "$gone")"
svc=$(mint --service some-other-service)
expect "token limited to another PAM service" refused "$(result 127.0.0.1 password "$svc")"
mine=$(mint --service "$only")
expect "token limited to this PAM service (the symlink's name)" accepted \
	"$(result 127.0.0.1 password "$mine")"
stop_pidfile "$WORK/$only.pid"

start_sshd "$either" || { bad "second sshd starts"; finish; exit; }
expect "plain password in a tokens-or-passwords stack" accepted "$(result 127.0.0.1 password "$TPASS")"
expect "token in a tokens-or-passwords stack" accepted "$(result 127.0.0.1 keyboard-interactive "$tok")"
expect "wrong password in a tokens-or-passwords stack" refused "$(result 127.0.0.1 password "x$TPASS")"
finish
