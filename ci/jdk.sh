# Sourced by ./hearth, ./build and the ci scripts: finds a JDK 25 or newer and exports JAVA_HOME.
# Looks at $JAVA_HOME, then `java` on the PATH, then the usual install folders.
hearth_java_version() { # prints the feature version of the JDK at $1 (0 if none)
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || { echo 0; return; }
  "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = \([0-9]*\).*/\1/p' | head -n1
}
hearth_find_jdk() {
  local c v
  for c in "${JAVA_HOME:-}" "$(dirname "$(dirname "$(readlink -f "$(command -v javac 2>/dev/null || echo /nonexistent)")")")" \
           /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/temurin-25-jdk-arm64 /usr/lib/jvm/*25* /usr/lib/jvm/* \
           /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -n "$c" ] && [ -d "$c" ] || continue
    v=$(hearth_java_version "$c")
    if [ "${v:-0}" -ge 25 ] 2>/dev/null; then echo "$c"; return 0; fi
  done
  return 1
}
if ! HEARTH_JDK=$(hearth_find_jdk); then
  echo "hearth: needs a JDK 25 or newer (for the FFM and Vector APIs) and found none." >&2
  echo "  Install one, e.g. on Debian/Ubuntu: apt-get install temurin-25-jdk (Adoptium repository)," >&2
  echo "  or download from https://adoptium.net, then set JAVA_HOME to it." >&2
  return 1 2>/dev/null || exit 1
fi
export JAVA_HOME="$HEARTH_JDK"
export PATH="$JAVA_HOME/bin:$PATH"
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow --enable-native-access=ALL-UNNAMED"
