#!/usr/bin/env bash
# Times 'rkmod deps --install' when everything is already installed (the goal is under 2 s),
# against the baseline of starting the JVM with 'rkmod --version' in the same run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./rkmod --version >/dev/null   # builds the jar if needed, outside the measurement
runs=${RUNS:-5}
t() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(for _ in $(seq "$runs"); do t ./rkmod --version; done | median)
d61=$(for _ in $(seq "$runs"); do t ./rkmod deps --install --profile 6.1; done | median)
d612=$(for _ in $(seq "$runs"); do t ./rkmod deps --install --profile 6.12; done | median)
echo "baseline 'rkmod --version':            ${base} ms"
echo "'rkmod deps --install --profile 6.1':  ${d61} ms  (ratio $(awk "BEGIN{printf \"%.2f\", $d61/$base}"))"
echo "'rkmod deps --install --profile 6.12': ${d612} ms  (ratio $(awk "BEGIN{printf \"%.2f\", $d612/$base}"))"
echo "goal: each under 2000 ms"
