#!/usr/bin/env bash
# Turns the runs of scripts/bench-gemm.sh into the markdown tables of docs/benchmarks-sgemm.md:
# per shape and configuration the median over runs, with [min-max] where the spread exceeds 10%.
#   scripts/bench-gemm-table.sh [dir=target/bench-gemm]
set -euo pipefail
DIR=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)/target/bench-gemm}
CONFIGS=(native-haswell native-skylakex native-auto java netlib-java)
for t in 1 2; do
  echo
  echo "threads=$t"
  echo
  printf '| shape (MxKxN) |'; for c in "${CONFIGS[@]}"; do printf ' %s |' "$c"; done; echo
  printf '|---|'; for c in "${CONFIGS[@]}"; do printf -- '---|'; done; echo
  for c in "${CONFIGS[@]}"; do
    for f in "$DIR/$c".*.txt; do
      [ -f "$f" ] || continue
      sed -n "s/^sgemm \(.*\) threads=$t: \([0-9.]*\) GFLOP\/s$/$c\t\1\t\2/p; s/^training-step sgemm rate \(W[12]\).* threads=$t: \([0-9.]*\) GFLOP\/s.*/$c\tstep rate \1\t\2/p" "$f"
    done
  done | awk -F'\t' -v configs="${CONFIGS[*]}" '
    { key = $2; if (!(key in seen)) { seen[key] = 1; order[++n] = key }
      v[$1, key] = v[$1, key] " " $3 }
    function cell(s,   a, k, i, j, t, med, lo, hi) {
      k = split(s, a, " "); if (k == 0) return "-"
      for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      med = (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2; lo = a[1]; hi = a[k]
      s = sprintf("%.0f", med)
      if (k == 1) s = s " (1 run)"; else if (hi - lo > 0.1 * med) s = s sprintf(" [%.0f-%.0f]", lo, hi)
      return s }
    END { nc = split(configs, cf, " ")
      for (r = 1; r <= n; r++) { line = "| " order[r] " |"
        for (c = 1; c <= nc; c++) line = line " " cell(v[cf[c], order[r]]) " |"
        print line } }'
done
