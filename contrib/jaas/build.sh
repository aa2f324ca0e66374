#!/bin/sh
# Build the Tomcat JAAS bridge for pam_apitoken with Debian's JDK:
#   contrib/jaas/build.sh [OUTDIR]        (default: contrib/jaas/build)
# Produces OUTDIR/pam-apitoken-jaas.jar. Needs default-jdk-headless,
# libjna-java and tomcat10 (or libtomcat10-java); no network, no Maven.
# TOMCAT_HOME and JNA_JAR override where their jars are found.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/build}
TOMCAT_HOME=${TOMCAT_HOME:-/usr/share/tomcat10}
JNA_JAR=${JNA_JAR:-/usr/share/java/jna.jar}
JAVAC=${JAVAC:-javac}
JAR=${JAR:-jar}

for f in "$JNA_JAR" "$TOMCAT_HOME/lib/catalina.jar" \
	 "$TOMCAT_HOME/lib/servlet-api.jar" "$TOMCAT_HOME/lib/tomcat-util.jar" \
	 "$TOMCAT_HOME/bin/tomcat-juli.jar"; do
	if [ ! -r "$f" ]; then
		echo "build.sh: $f is missing (apt-get install tomcat10 libjna-java)" >&2
		exit 1
	fi
done
for t in "$JAVAC" "$JAR"; do
	if ! command -v "$t" >/dev/null 2>&1; then
		echo "build.sh: $t not found (apt-get install default-jdk-headless)" >&2
		exit 1
	fi
done

cp="$JNA_JAR:$TOMCAT_HOME/bin/tomcat-juli.jar"
for j in catalina servlet-api tomcat-api tomcat-util tomcat-coyote jaspic-api; do
	[ -r "$TOMCAT_HOME/lib/$j.jar" ] && cp="$cp:$TOMCAT_HOME/lib/$j.jar"
done

mkdir -p "$out"
classes=$(mktemp -d "$out/classes.XXXXXX")
trap 'rm -rf "$classes"' EXIT

# Tomcat 10.1 runs on Java 11 and later.
"$JAVAC" --release 11 -encoding UTF-8 -Xlint:all -Werror \
	-classpath "$cp" -d "$classes" \
	"$here"/src/org/pamapitoken/jaas/*.java

cat > "$classes/MANIFEST.MF" <<MF
Automatic-Module-Name: org.pamapitoken.jaas
Implementation-Title: pam_apitoken JAAS bridge for Tomcat
Implementation-Vendor: pam_apitoken
MF
"$JAR" --create --file "$out/pam-apitoken-jaas.jar.tmp" \
	--manifest "$classes/MANIFEST.MF" -C "$classes" org
mv -f "$out/pam-apitoken-jaas.jar.tmp" "$out/pam-apitoken-jaas.jar"
echo "$out/pam-apitoken-jaas.jar"
