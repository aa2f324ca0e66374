# Sourced by scripts/demo.sh and tests/live/lib.sh: the configuration of a
# private Apache 2.4 that protects locations with mod_authnz_pam, so the
# demo and the live tests run the same server set-up.
#
# apache_conf ROOT PORT V6 NAME=PAMSERVICE...
#   prints an httpd.conf for a self-contained server under ROOT (pid file,
#   logs, run dir, htdocs/), listening on 127.0.0.1:PORT and, when V6 is 1,
#   [::1]:PORT, its threads (event MPM) running as www-data; each
#   /NAME/ is behind HTTP Basic checked by PAM service PAMSERVICE. A
#   reverse proxy on 127.0.0.1 may name the client in X-Forwarded-For
#   (mod_remoteip), which is then what PAM_RHOST carries.
#
# Never add mod_authn_socache to such a server: a cached success skips PAM,
# and with it revocation, expiry and address rules.
apache_conf() {
	local root=$1 port=$2 v6=$3 mods=/usr/lib/apache2/modules pair
	shift 3
	cat <<CONF
ServerRoot "$root"
ServerName localhost
PidFile "$root/httpd.pid"
DefaultRuntimeDir "$root/run"
ErrorLog "$root/error.log"
LogLevel warn
Listen 127.0.0.1:$port
$([ "$v6" = 1 ] && echo "Listen [::1]:$port")
User www-data
Group www-data
LoadModule mpm_event_module   $mods/mod_mpm_event.so
LoadModule authz_core_module  $mods/mod_authz_core.so
LoadModule authn_core_module  $mods/mod_authn_core.so
LoadModule auth_basic_module  $mods/mod_auth_basic.so
LoadModule authz_user_module  $mods/mod_authz_user.so
LoadModule authnz_pam_module  $mods/mod_authnz_pam.so
LoadModule remoteip_module    $mods/mod_remoteip.so
LoadModule mime_module        $mods/mod_mime.so
LoadModule dir_module         $mods/mod_dir.so
StartServers 1
ServerLimit 2
ThreadsPerChild 32
MaxRequestWorkers 64
MinSpareThreads 8
MaxSpareThreads 64
TypesConfig /etc/mime.types
HostnameLookups Off
DocumentRoot "$root/htdocs"
DirectoryIndex index.html
RemoteIPHeader X-Forwarded-For
RemoteIPInternalProxy 127.0.0.1
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "$root/htdocs">
    Require all granted
</Directory>
CONF
	for pair in "$@"; do
		cat <<CONF
<Location /${pair%%=*}>
    AuthType Basic
    AuthName "pam_apitoken"
    AuthBasicProvider PAM
    AuthPAMService ${pair#*=}
    Require valid-user
</Location>
CONF
	done
}
