#!/usr/bin/env bash
# Who may mint what, and whose a token is (issue: review findings, parts 2
# and 5), with real accounts, the setuid tokenadm as they would run it and
# the real module through libpam (pamtester, a private PAM service):
#  - an administrator who is not root cannot mint for root or another
#    person, nor name a deny_services service; can for a service account;
#    that token stops when its issuer leaves admin_group; root still can;
#  - a token is bound to its owner's uid: an account deleted and made
#    again (a new uid) or gone does not inherit it;
#  - the fleet: a host whose uid for the owner differs from the
#    authority's (uid_binding = local and = authority), a host where the
#    account is deleted and made again, a lapsed issuer judged on the
#    authority and carried by the full bundle, a delta (export --since)
#    and a published directory (publish, pull-plan, import --pointer).
# Needs root (users, groups, setuid, /etc/pam.d); skipped otherwise.
#
# env: PRIVTEST, PRIVTEST_CONF, PAM_APITOKEN_SO, TOKENADM
. "$(dirname "$0")/priv_common.sh"
command -v pamtester >/dev/null || { echo "SKIP: no pamtester"; exit 77; }

U_SVC=ptksvc$$ U_CAR=ptkcar$$
SVC=ptk-perm-$$ DENYSVC=ptk-permsu-$$
extra_cleanup() {
	for u in $U_SVC $U_CAR; do userdel "$u" 2>/dev/null; done
	rm -f /etc/pam.d/$SVC /etc/pam.d/$DENYSVC /etc/pam.d/$SVC-h
	cleanup
}
trap extra_cleanup EXIT
useradd -M -N -g nogroup -s /usr/sbin/nologin $U_SVC || exit 1
# A free uid well above the usual range, for the accounts made again.
free_uid() { local u=$1; while getent passwd "$u" >/dev/null; do u=$((u + 1)); done; echo "$u"; }

write_conf "service_accounts = $U_SVC
deny_services = $DENYSVC sudo su"
echo "auth required $PAM_APITOKEN_SO conf=$PRIVTEST_CONF" > /etc/pam.d/$SVC
echo "auth required $PAM_APITOKEN_SO conf=$PRIVTEST_CONF" > /etc/pam.d/$DENYSVC
login() { pamtester "$1" "$2" authenticate <<<"$3" >/dev/null 2>&1; }
reason_of() { # reason_of ID: state and reason as root's show --json says
	"$suid" show "$1" --json 2>/dev/null |
		python3 -c 'import json,sys; t=json.load(sys.stdin); print(t["state"] + ": " + (t["reason"] or ""))'
}

# --- part 2: what an administrator who is not root may mint
as $U_ADMIN "$suid" create --name r --user root --expires never >/dev/null 2>"$work/err"
check "a non-root administrator cannot mint for root" 3 $?
grep -q "only root creates tokens for another person" "$work/err" &&
	ok "... told who may" || bad "message: $(cat "$work/err")"
as $U_ADMIN "$suid" create --name p --user $U_ALICE >/dev/null 2>&1
check "a non-root administrator cannot mint for another person" 3 $?
as $U_ADMIN "$suid" create --name s --service $DENYSVC >/dev/null 2>"$work/err"
check "a non-root administrator cannot name a deny_services service, even for themselves" 3 $?
grep -q "only root names a service of deny_services ($DENYSVC)" "$work/err" &&
	ok "... saying so" || bad "message: $(cat "$work/err")"
as $U_ALICE "$suid" create --name s --service su --expires 1d >/dev/null 2>&1
check "a member cannot name su either" 3 $?
tok_svc=$(as $U_ADMIN "$suid" create --name ci --user $U_SVC --service $SVC 2>"$work/err")
check "a non-root administrator mints for a listed service account" 0 $?
id_svc=$(id_of <<<"$tok_svc")
as $U_ADMIN "$suid" create --name s2 --user $U_SVC --service $DENYSVC >/dev/null 2>&1
check "... but not naming a deny_services service" 3 $?
login $SVC $U_SVC "$tok_svc"
check "the service account's token logs in through the module" 0 $?
tok_own=$(as $U_ADMIN "$suid" create --name mine 2>/dev/null)
check "a non-root administrator mints for themselves" 0 $?

tok_root=$("$suid" create --name break-glass --user root --service $DENYSVC 2>/dev/null)
check "root mints for root, naming a deny_services service" 0 $?
login $DENYSVC root "$tok_root"
check "root's token opens the deny_services service it names" 0 $?
login $DENYSVC $U_SVC "$tok_svc"
check "the administrator's token does not open the denied service" 1 $?

# The issuer leaves admin_group: the token it issued stops, theirs too.
gpasswd -d $U_ADMIN $G_ADMINS >/dev/null 2>&1
login $SVC $U_SVC "$tok_svc"
check "the issuer left admin_group: their service token is refused" 1 $?
[[ "$(reason_of "$id_svc")" == "inactive: its issuer is no longer in admin_group" ]] &&
	ok "list shows it inactive with the reason" || bad "state: $(reason_of "$id_svc")"
"$suid" verify --user $U_SVC --service $SVC <<<"$tok_svc" >/dev/null 2>&1
check "verify refuses it too" 1 $?
as $U_ADMIN "$suid" verify --user $U_ADMIN <<<"$tok_own" >/dev/null 2>&1
check "their own token stops as well (no group holds them now)" 1 $?
gpasswd -a $U_ADMIN $G_ADMINS >/dev/null 2>&1
login $SVC $U_SVC "$tok_svc"
check "back in admin_group, the service token works again" 0 $?
as $U_ADMIN "$suid" list --all >/dev/null 2>&1 &&
	as $U_ADMIN "$suid" disable "$id_svc" >/dev/null 2>&1 &&
	as $U_ADMIN "$suid" revoke "$(id_of <<<"$tok_root")" >/dev/null 2>&1
check "administrators still see, disable and revoke every token (root's too)" 0 $?

# service_accounts never holds root.
write_conf "service_accounts = root"
"$suid" policy >/dev/null 2>"$work/err"
check "service_accounts = root is a config error" 2 $?

# --- part 5: a token follows an account, not a name
write_conf ""
useradd -M -N -g nogroup -G $G_USERS -s /bin/sh $U_CAR || exit 1
tok_car=$(as $U_CAR "$suid" create --name laptop --expires 7d 2>/dev/null)
id_car=$(id_of <<<"$tok_car")
login $SVC $U_CAR "$tok_car"
check "the owner logs in" 0 $?
old_uid=$(id -u $U_CAR)
userdel $U_CAR
login $SVC $U_CAR "$tok_car"
check "after userdel the token is refused" 1 $?
[[ "$(reason_of "$id_car")" == "inactive: owner account no longer exists" ]] &&
	ok "list: inactive, owner account no longer exists" || bad "state: $(reason_of "$id_car")"
new_uid=$(free_uid 61000)
useradd -M -N -u "$new_uid" -g nogroup -G $G_USERS -s /bin/sh $U_CAR || exit 1
login $SVC $U_CAR "$tok_car"
check "an account made again under the old name (uid $new_uid, was $old_uid) does not inherit it" 1 $?
[[ "$(reason_of "$id_car")" == inactive:*"another uid"* ]] &&
	ok "list: inactive, the name belongs to another uid" || bad "state: $(reason_of "$id_car")"
out=$(as $U_CAR "$suid" list --json 2>/dev/null)
python3 -c 'import json,sys; a=json.load(sys.stdin); assert all(t["state"] != "active" for t in a), a' <<<"$out" &&
	ok "the new account sees the old token only as inactive" || bad "list: $out"

# --- the fleet: the owner's uid on a host need not be the authority's.
# The authority is the setuid tool's own store (so that an administrator
# who is not root can mint there); each host a private config.
T=${TOKENADM:?}
F=$work/fleet; mkdir -m 755 "$F"
auth_conf() { write_conf "service_accounts = $U_SVC
signing_key = $store/signing.key
bundle_format = $1"; }
auth_conf 1
"$suid" init --signing >/dev/null 2>&1
check "the authority makes its signing key" 0 $?
mk() { # mk NAME EXTRA: a private config
	mkdir -m 755 "$F/$1"
	printf 'db = %s\nkey = %s\nadmin_group = %s\nrole = import-only\n%s\n' \
		"$F/$1/tokens.db" "$F/$1/site.key" $G_ADMINS "$2" >"$F/$1/conf"
}
on() { local h=$1; shift; "$T" --config "$F/$h/conf" "$@" >"$F/out" 2>"$F/err"; }
tok_f=$("$suid" create --name fleet --user $U_CAR --expires 7d 2>/dev/null)
auth_uid=$(id -u $U_CAR)
host() { # host NAME EXTRA: an import-only host of the authority
	mk "$1" "$2"
	on "$1" init --import-only --site-key "$store/site.key" --trusted-key "$store/signing.key.pub" ||
		bad "host $1 init: $(cat "$F/err")"
}
export_to() { "$suid" export --out - >"$F/$1" 2>"$F/err"; }
host local1 ""
host auth2 "uid_binding = authority"
export_to b1
on local1 import "$F/b1" && on auth2 import "$F/b1"
check "hosts import the default (format 1) bundle" 0 $?
hv() { "$T" --config "$F/$1/conf" verify --user $U_CAR <<<"$2" >"$F/err" 2>&1; }
hv local1 "$tok_f"
check "uid_binding = local (default): bound at import to this host's uid" 0 $?
hv auth2 "$tok_f"
check "uid_binding = authority with a format-1 bundle: no uid carried, refused" 1 $?
grep -q "not bound to an account" "$F/err" && ok "... saying why" || bad "why: $(cat "$F/err")"

# This "host" makes the account separately: another uid than the authority's.
userdel $U_CAR
host_uid=$(free_uid $((new_uid + 1)))
useradd -M -N -u "$host_uid" -g nogroup -G $G_USERS -s /bin/sh $U_CAR || exit 1
host local2 ""
host auth3 "uid_binding = authority"
auth_conf 2
export_to b2 && on local2 import "$F/b2" && on auth3 import "$F/b2"
check "hosts import a format-2 bundle" 0 $?
hv local2 "$tok_f"
check "host uid $host_uid, authority uid $auth_uid, uid_binding = local: accepted" 0 $?
echo "auth required $PAM_APITOKEN_SO conf=$F/local2/conf" > /etc/pam.d/$SVC-h
login $SVC-h $U_CAR "$tok_f"
check "... through the module too" 0 $?
hv auth3 "$tok_f"
check "the same with uid_binding = authority: refused (uids differ)" 1 $?
grep -q "another uid" "$F/err" && ok "... saying why" || bad "why: $(cat "$F/err")"

# On the host the account is deleted and made again: the binding holds
# across later imports, the new account does not inherit the token.
userdel $U_CAR
again_uid=$(free_uid $((host_uid + 1)))
useradd -M -N -u "$again_uid" -g nogroup -G $G_USERS -s /bin/sh $U_CAR || exit 1
"$suid" create --name bump --user $U_SVC --expires 1d >/dev/null 2>&1
export_to b3 && on local2 import "$F/b3"
check "the host imports the next bundle" 0 $?
hv local2 "$tok_f"
check "account made again on the host (uid $again_uid): refused after re-import" 1 $?
login $SVC-h $U_CAR "$tok_f"
check "... through the module too" 1 $?

# A lapsed issuer, judged on the authority, carried by the bundle.
tok_fs=$(as $U_ADMIN "$suid" create --name ci2 --user $U_SVC --expires 1d 2>"$F/err")
check "a non-root administrator mints for a service account on the authority" 0 $?
export_to b4 && on local2 import "$F/b4"
hvs() { "$T" --config "$F/$1/conf" verify --user $U_SVC <<<"$2" >"$F/err" 2>&1; }
hvs local2 "$tok_fs"
check "the host accepts it while the issuer is an administrator" 0 $?
# Two more hosts: one takes deltas (export --since its generation), one
# pulls a published directory (pull-plan, then import --pointer).
gen_of() { "$T" --config "$F/$1/conf" status --json 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }
P=$F/pub; mkdir -m 755 "$P"
pull_dir() { # pull_dir HOST: the plan's first file imported; PLANNED: its name
	PLANNED=""
	cp "$P/latest" "$F/$1/latest" && on "$1" pull-plan "$F/$1/latest" || return 1
	[[ -s $F/out ]] || return 0 # a heartbeat: nothing to fetch
	read -r PLANNED _ <"$F/out"
	on "$1" import --pointer "$F/$1/latest" "$P/$PLANNED"
}
host delta1 ""
host pub1 ""
on delta1 import "$F/b4" && "$suid" publish "$P" >/dev/null 2>"$F/err" && pull_dir pub1
check "a delta host and a pulling host take the same generation" 0 $?
hvs delta1 "$tok_fs" && hvs pub1 "$tok_fs"
check "... and accept the token" 0 $?
g_delta1=$(gen_of delta1)
gpasswd -d $U_ADMIN $G_ADMINS >/dev/null 2>&1
hvs local2 "$tok_fs"
check "the host's own group lookup is not what decides (still accepted before the next bundle)" 0 $?
# Publish first: it alone must notice the lapse (no export ran since).
"$suid" publish "$P" >/dev/null 2>"$F/err" && pull_dir pub1
check "publish after the lapse: the host pulls and imports" 0 $?
[[ -n $PLANNED ]] && ok "... a new generation, not a heartbeat (fetched $PLANNED)" ||
	bad "publish made no new generation: the pointer was a heartbeat"
hvs pub1 "$tok_fs"
check "a host pulling the published directory refuses the lapsed issuer's token" 1 $?
"$suid" export --since "$g_delta1" --out - >"$F/d5" 2>"$F/err" && on delta1 import "$F/d5"
check "export --since the delta host's generation, imported there" 0 $?
hvs delta1 "$tok_fs"
check "the delta carries the lapse: the delta host refuses the token" 1 $?
grep -q "issuer is no longer in admin_group" "$F/err" && ok "... saying why" || bad "why: $(cat "$F/err")"
export_to b5 && on local2 import "$F/b5"
hvs local2 "$tok_fs"
check "the next bundle carries the lapse: the host refuses the token" 1 $?
grep -q "issuer is no longer in admin_group" "$F/err" && ok "... saying why" || bad "why: $(cat "$F/err")"
auth_conf 1
export_to b6 && on local1 import "$F/b6"
hvs local1 "$tok_fs"
check "in a format-1 bundle the lapse is an administrator's disable (refused)" 1 $?
gpasswd -a $U_ADMIN $G_ADMINS >/dev/null 2>&1
auth_conf 2
g_delta1=$(gen_of delta1)
"$suid" export --since "$g_delta1" --out - >"$F/d6" 2>"$F/err" && on delta1 import "$F/d6"
hvs delta1 "$tok_fs"
check "the issuer back in admin_group: the next delta revives the token" 0 $?

echo "1..$n"
[ $failed = 0 ]
