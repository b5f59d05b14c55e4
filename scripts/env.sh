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

ringtmp_has_lib() { # true when the dynamic loader knows the library file name $1
  { ldconfig -p 2>/dev/null || /sbin/ldconfig -p 2>/dev/null; } | grep -q "[[:space:]]$1 "
}

ringtmp_apt_install() { # installs Debian packages "$@" as root (quietly; updates the index once if needed)
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 || return 1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1; }
}

# Native OpenBLAS, by its own name (libopenblas.so.0): another libblas.so.3 (Debian's reference
# BLAS, which numpy, torch, R and Octave pull in) is 20-50 times slower and does not count.
# Installed from Debian's packages when running as root and missing; otherwise RingTMP measures
# whatever native BLAS there is against its Java kernel, uses the faster and says so.
ringtmp_ensure_blas() {
  ringtmp_has_lib libopenblas.so.0 && return 0
  if [ "$(id -u)" = 0 ]; then
    echo "ringtmp: installing OpenBLAS (libopenblas0-pthread) from Debian's packages" >&2
    ringtmp_apt_install libopenblas0-pthread ||
      echo "ringtmp: could not install OpenBLAS; continuing with the Java kernel (slower)" >&2
  else
    echo "ringtmp: no OpenBLAS (libopenblas.so.0); install libopenblas0-pthread for full speed" >&2
  fi
}

# The suite also loads Debian's reference BLAS (libblas3) on purpose, to check that RingTMP
# notices a slow BLAS; installed as root when missing (it does not displace OpenBLAS: RingTMP
# asks for OpenBLAS by name).
ringtmp_ensure_test_libs() {
  ringtmp_ensure_blas
  ringtmp_ensure_chromium
  ringtmp_ensure_prometheus
  ls /usr/lib/*/blas/libblas.so.3 >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ]; then
    echo "ringtmp: installing the reference BLAS (libblas3) for the slow-BLAS test" >&2
    ringtmp_apt_install libblas3 || echo "ringtmp: could not install libblas3; BlasChoiceTest will say so" >&2
  else
    echo "ringtmp: no reference BLAS (libblas3); BlasChoiceTest needs it: install libblas3" >&2
  fi
}

# The report's browser tests (ReportBrowserIT, ExperimentIT) open report.html in a real headless
# Chromium: Debian's chromium package, installed as root when missing, like OpenBLAS; without it
# those checks are skipped and say why.
ringtmp_ensure_chromium() {
  command -v chromium >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ]; then
    echo "ringtmp: installing Chromium (chromium) from Debian's packages for the report's browser tests" >&2
    ringtmp_apt_install chromium || echo "ringtmp: could not install chromium; the browser tests will be skipped" >&2
  else
    echo "ringtmp: no chromium; the report's browser tests need it: install chromium" >&2
  fi
}

# PrometheusIT scrapes a launch with a real Prometheus server: Debian's prometheus package,
# installed as root when missing (its service is not needed: the test starts its own server).
ringtmp_ensure_prometheus() {
  command -v prometheus >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ]; then
    echo "ringtmp: installing Prometheus (prometheus) from Debian's packages for PrometheusIT" >&2
    ringtmp_apt_install prometheus || echo "ringtmp: could not install prometheus; PrometheusIT will be skipped" >&2
  else
    echo "ringtmp: no prometheus; PrometheusIT needs it: install prometheus" >&2
  fi
}

# RingTMP runs its own compute threads; OpenBLAS's thread pool on top would oversubscribe.
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
