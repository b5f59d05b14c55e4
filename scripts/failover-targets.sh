#!/usr/bin/env bash
# Issue 16's targets for ring failover, as a user would run them: W1 on MNIST on 4 local nodes,
# one SIGKILL of a random node at a random time per seed (launch --fault kill:random), against
# fault-free runs with the same training seed. Prints one line per run and leaves each run's
# summary.json under $OUT. Usage: scripts/failover-targets.sh [schedule] [seeds] [fault]
#   schedule: async (default), gpipe or 1f1b; seeds: how many fault seeds (default 10);
#   fault: kill (default) or stop (a 10 s SIGSTOP of a random node).
set -euo pipefail
cd "$(dirname "$0")/.."
schedule=${1:-async}; seeds=${2:-10}; fault=${3:-kill}
OUT=${OUT:-runs/failover-targets/$schedule-$fault}
mkdir -p "$OUT"
common=(launch --mode ring --nodes 4 --model mlp:784-512-512-10 --data mnist --data-dir "${DATA_DIR:-datasets}" --epochs 3 --lr-schedule cosine
        --schedule "$schedule" --profile estimate --failure-timeout-ms 3000 --heartbeat-ms 200 --replica-every 10)
summarize() { # dir label
  python3 - "$1" "$2" <<'PY'
import json, sys, glob
d, label = sys.argv[1], sys.argv[2]
s = json.load(open(glob.glob(d + "/*/summary.json")[0]))
acc = [e["testAccuracy"] for e in s["events"] if e["event"] == "epoch"]
f = (s.get("faults") or [{}])[0]
print(f"{label:14} exit {s['exitCodes']} final accuracy {acc[-1] if acc else None}"
      + (f" fault {f.get('fault')} detected {f.get('detectedAfterMs')} ms, next step {f.get('nextStepAfterMs')} ms,"
         f" replayed {f.get('stepsReplayed')}" if f else ""))
PY
}
for ref in ${REFS-1 2}; do
  d="$OUT/fault-free-$ref"; rm -rf "$d"
  ./ringtmp "${common[@]}" --runs-dir "$d" > "$d.log" 2>&1 || true
  summarize "$d" "fault-free $ref"
done
for seed in ${SEEDS:-$(seq 1 "$seeds")}; do
  d="$OUT/seed-$seed"; rm -rf "$d"
  if [ "$fault" = stop ]; then spec="stop:random+10s"; else spec="kill:random"; fi
  ./ringtmp "${common[@]}" --fault "$spec" --fault-seed "$seed" --runs-dir "$d" > "$d.log" 2>&1 || true
  summarize "$d" "seed $seed"
done
