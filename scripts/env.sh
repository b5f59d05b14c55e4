# Sourced by ./ringtmp and .ci/run: finds a JDK >= 21 and the native BLAS RingTMP needs.
# Sets JAVA_HOME (exported) or exits with a message saying what to install.

ringtmp_java_version() { # prints the major version of the java binary $1, or nothing
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n 1
}

ringtmp_find_java() {
  local cand v
  for cand in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java 2>/dev/null)" /usr/lib/jvm/*/bin/java; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    v=$(ringtmp_java_version "$cand")
    if [ -n "$v" ] && [ "$v" -ge 21 ]; then
      JAVA_HOME=$(cd "$(dirname "$cand")/.." && pwd -P)
      export JAVA_HOME
      return 0
    fi
  done
  echo "ringtmp: no JDK 21 or newer found (looked at JAVA_HOME, java on PATH and /usr/lib/jvm/*)." >&2
  echo "ringtmp: install one (e.g. a Temurin 21+ package) or point JAVA_HOME at it." >&2
  return 1
}

# Native OpenBLAS: installed from Debian's packages when running as root and missing; otherwise
# RingTMP runs on its Java kernel and says so.
ringtmp_ensure_blas() {
  if ldconfig -p 2>/dev/null | grep -q 'libblas\.so\.3'; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "ringtmp: installing OpenBLAS (libopenblas0-pthread) from Debian's packages" >&2
    (apt-get install -y -q libopenblas0-pthread >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q libopenblas0-pthread >/dev/null 2>&1; }) ||
      echo "ringtmp: could not install OpenBLAS; continuing with the Java kernel (slower)" >&2
  else
    echo "ringtmp: no native BLAS (libblas.so.3); install libopenblas0-pthread for full speed" >&2
  fi
}

# RingTMP runs its own compute threads; OpenBLAS's thread pool on top would oversubscribe.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
