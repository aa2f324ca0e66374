#!/bin/sh
# Optional: install the Tomcat JAAS bridge for pam_apitoken.
#
#   contrib/jaas/install.sh [--uninstall] [LIBDIR]
#
# Copies pam-apitoken-jaas.jar (built by build.sh if it is not there yet)
# into LIBDIR and links Debian's jna.jar beside it, so that Tomcat's common
# class loader sees both. LIBDIR defaults to $CATALINA_BASE/lib when
# CATALINA_BASE is set, else /usr/share/tomcat10/lib (Debian's tomcat10).
# DESTDIR is honoured for packaging. Nothing else is changed: the JAAS
# config, server.xml, web.xml and the PAM service are yours to write
# (README.md has complete examples).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
JNA_JAR=${JNA_JAR:-/usr/share/java/jna.jar}
uninstall=0
if [ "${1:-}" = "--uninstall" ]; then
	uninstall=1
	shift
fi
case "${1:-}" in
-*) echo "usage: $0 [--uninstall] [LIBDIR]" >&2; exit 2 ;;
esac
if [ -n "${1:-}" ]; then
	libdir=$1
elif [ -n "${CATALINA_BASE:-}" ]; then
	libdir=$CATALINA_BASE/lib
else
	libdir=/usr/share/tomcat10/lib
fi
dest=${DESTDIR:-}$libdir

if [ "$uninstall" -eq 1 ]; then
	rm -f "$dest/pam-apitoken-jaas.jar"
	# Only our own link: a jna.jar someone else put there stays.
	if [ -L "$dest/jna.jar" ] && [ "$(readlink "$dest/jna.jar")" = "$JNA_JAR" ]; then
		rm -f "$dest/jna.jar"
	fi
	echo "removed the JAAS bridge from $dest"
	exit 0
fi

jar=$here/build/pam-apitoken-jaas.jar
if [ ! -r "$jar" ]; then
	"$here/build.sh" >/dev/null
fi
if [ ! -r "$JNA_JAR" ]; then
	echo "install.sh: $JNA_JAR is missing (apt-get install libjna-java)" >&2
	exit 1
fi
install -d -m 0755 "$dest"
install -m 0644 "$jar" "$dest/pam-apitoken-jaas.jar"
if [ -e "$dest/jna.jar" ] && [ ! -L "$dest/jna.jar" ]; then
	echo "install.sh: $dest/jna.jar exists and is not a link; left alone" >&2
else
	ln -sfn "$JNA_JAR" "$dest/jna.jar"
fi
echo "installed $dest/pam-apitoken-jaas.jar (and jna.jar -> $JNA_JAR)"
