#!/usr/bin/env bash
# sgemm benchmark behind docs/benchmarks-sgemm.md: runs io.ringtmp.cli.bench.GemmBench in separate
# JVMs per kernel configuration, interleaved (round 1 of every configuration, then round 2, ...),
# writing each run's output to $OUT/<config>.<round>.txt.
#   scripts/bench-gemm.sh [rounds=3] [configs...]
# configs: native-haswell native-skylakex native-auto java netlib-java (default: all but netlib-java)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
. "$ROOT/scripts/env.sh"
ringtmp_find_java
ROUNDS=${1:-3}; shift || true
CONFIGS=("$@"); [ ${#CONFIGS[@]} -gt 0 ] || CONFIGS=(native-haswell native-skylakex native-auto java)
OUT=${OUT:-$ROOT/target/bench-gemm}; mkdir -p "$OUT"
JAR="$ROOT/cli/target/ringtmp.jar"
[ -f "$JAR" ] || (cd "$ROOT" && ./mvnw -q -B -pl cli -am package -DskipTests)
run() { # config round
  local cfg=$1 env=(OPENBLAS_NUM_THREADS=1 OPENBLAS_VERBOSE=2) prop
  case $cfg in
    native-haswell) env+=(OPENBLAS_CORETYPE=Haswell); prop=native ;;
    native-skylakex) env+=(OPENBLAS_CORETYPE=SkylakeX); prop=native ;;
    native-auto) prop=native ;;  # OPENBLAS_CORETYPE unset: OpenBLAS detects the core itself
    java) prop=java ;;
    netlib-java) prop=netlib-java ;;
    *) echo "unknown config $cfg" >&2; exit 2 ;;
  esac
  env -u OPENBLAS_CORETYPE "${env[@]}" "$JAVA_HOME/bin/java" --add-modules=jdk.incubator.vector \
    -XX:+UseG1GC -XX:G1HeapRegionSize=32m -Xmx4g -Dringtmp.blas=$prop \
    -cp "$JAR" io.ringtmp.cli.bench.GemmBench 1 2 >"$OUT/$cfg.$2.txt" 2>&1
}
for round in $(seq 1 "$ROUNDS"); do
  for cfg in "${CONFIGS[@]}"; do
    echo "round $round: $cfg" >&2
    run "$cfg" "$round"
  done
done
