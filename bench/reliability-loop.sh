#!/usr/bin/env bash
# Runs the crash-safety and concurrency ITs (CrashIT, ConcurrencyIT) N times in a row (default 10) and prints, per run,
# pass or fail with its time, then the totals. The baseline is the first run's time (each run is compared with it), so
# a slowdown caused by leftovers of earlier runs (stale directories, processes, mounts) would show as a growing ratio.
# Needs root and the warm cache (the tiny-rust 6.1 and 6.12 kernels, the trixie root).
set -u
cd "$(dirname "$0")/.."
n=${1:-10}
tests=${RELIABILITY_TESTS:-CrashIT,ConcurrencyIT}
logdir=$(mktemp -d /tmp/rkmod-reliability.XXXXXX)
mvn -q -B -o package -DskipTests -Drkmod.it.skipProvision=true -Drkmod.deb.skip=true >"$logdir/build.log" 2>&1 \
  || { echo "build failed: $logdir/build.log"; exit 2; }
pass=0; fail=0; base=
for i in $(seq 1 "$n"); do
  start=$(date +%s)
  if mvn -B -o verify -Dit.test="$tests" -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false \
       -Drkmod.it.skipProvision=true -Drkmod.deb.skip=true >"$logdir/run-$i.log" 2>&1; then
    result=pass; pass=$((pass + 1))
  else
    result=FAIL; fail=$((fail + 1))
  fi
  secs=$(( $(date +%s) - start ))
  [ -n "$base" ] || base=$secs
  leftovers=$(findmnt -rn -o TARGET | grep -c -e '/rkmod-crash' -e '/rkmod-concurrency' || true)
  printf 'run %2d/%d: %s in %4d s (%.2fx the first run), kill points hit: %s, mounts left: %s\n' "$i" "$n" "$result" "$secs" \
    "$(echo "$secs / $base" | bc -l)" "$(grep -h 'CrashIT:' "$logdir/run-$i.log" | grep -o '[0-9]* hit' | awk '{s+=$1} END {print s+0}')" \
    "$leftovers"
  [ "$result" = pass ] || grep -E 'FAIL|Expecting|expected|AssertionError' "$logdir/run-$i.log" | head -5 | sed 's/^/    /'
done
echo "reliability: $pass passed, $fail failed of $n runs of $tests (logs: $logdir)"
[ "$fail" -eq 0 ]
