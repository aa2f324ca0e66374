#!/usr/bin/env bash
# apitoken-web-cgi wipes the Authorization header's copy of the password
# from its environment before tokenadm runs: otherwise any process of the
# web server's user could read it in /proc/PID/environ for as long as the
# sign-in takes. The CGI's tokenadm (a compile-time path in the build
# directory) is replaced here by a script that reads its parent's
# environ. Shares that path with the 'web' test, which runs alone.
# env: WEB_CGI, WEB_TOKENADM, WEB_RATE_DIR (the paths compiled into WEB_CGI).
set -u
for v in WEB_CGI WEB_TOKENADM WEB_RATE_DIR; do
	[ -n "${!v:-}" ] || { echo "$v not set"; exit 77; }
done
[ -r /proc/self/environ ] || { echo "no /proc"; exit 77; }
[ -e "$WEB_TOKENADM" ] && { echo "$WEB_TOKENADM exists (the web test running?)"; exit 77; }
seen=$(mktemp)
trap 'rm -f "$WEB_TOKENADM" "$seen"; rm -rf "$WEB_RATE_DIR"' EXIT
mkdir -p "$(dirname "$WEB_TOKENADM")" "$WEB_RATE_DIR"
cat > "$WEB_TOKENADM" <<SCRIPT
#!/bin/sh
cat >/dev/null
tr '\\0' '\\n' < /proc/\$PPID/environ > '$seen'
echo '{"user":"alice"}'
SCRIPT
chmod 700 "$WEB_TOKENADM"

pw='S3cret pw of alice'
auth="Basic $(printf 'alice:%s' "$pw" | base64 -w0)"
out=$(printf '{}' | env -i REQUEST_METHOD=POST HTTP_X_APITOKEN_REQUEST=1 \
	HTTP_ORIGIN=http://localhost HTTP_HOST=localhost REMOTE_ADDR=127.0.0.1 \
	CONTENT_TYPE=application/json CONTENT_LENGTH=2 PATH_INFO=/policy \
	HTTP_AUTHORIZATION="$auth" "$WEB_CGI")
fail=0
case $out in
*'Status: 200'*'"user":"alice"'*) ;;
*) echo "not OK: the CGI's answer: $out"; fail=1 ;;
esac
grep -q '^REQUEST_METHOD=POST$' "$seen" || { echo "not OK: the parent's environ was not read"; fail=1; }
if grep -qF "${auth#Basic }" "$seen"; then
	echo "not OK: the password is still in the CGI's environment while tokenadm runs"
	fail=1
fi
[ $fail = 0 ] && echo "ok: the password is gone from the CGI's environment"
exit $fail
