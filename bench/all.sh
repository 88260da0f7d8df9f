#!/usr/bin/env bash
# Runs the issue-14 benchmarks one after another and prints their RESULT lines as one table:
# row, rkmod's figure, the baseline measured in the same run, the ratio, the goal and whether it is met.
#   bench/all.sh            every script, including the ~10 min empty-cache kernel build
#   bench/all.sh --quick    without kernel-build-overhead.sh (or QUICK=1)
# RUNS is passed on to the scripts. A script that is missing or fails gets a row saying so; the exit status
# is 0 when every row ran and met its goal, 1 otherwise.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
quick=${QUICK:-}
[ "${1:-}" = "--quick" ] && quick=1
scripts=(info.sh sign.sh kernel-build-overhead.sh build-overhead.sh vmtest-overhead.sh startup.sh)
log=$(mktemp /var/tmp/rkmod-bench-all.XXXXXX)
trap 'rm -f "$log"' EXIT
results=()
for s in "${scripts[@]}"; do
  if [ -n "$quick" ] && [ "$s" = kernel-build-overhead.sh ]; then
    results+=("RESULT|$s|-|-|-|-|skipped (--quick)")
    continue
  fi
  if [ ! -x "$s" ]; then
    results+=("RESULT|$s|-|-|-|-|missing")
    continue
  fi
  echo "== bench/$s" >&2
  ./"$s" 2>&1 | tee "$log" >&2
  status=${PIPESTATUS[0]}
  mapfile -t lines < <(grep '^RESULT|' "$log")
  if [ "$status" -ne 0 ] || [ ${#lines[@]} -eq 0 ]; then
    results+=("RESULT|$s|-|-|-|-|failed (exit $status)")
  fi
  results+=("${lines[@]}")
done

echo
printf '%s\n' "${results[@]}" | awk -F'|' '
  BEGIN { printf "%-34s %-14s %-14s %-9s %-8s %s\n", "figure", "rkmod", "baseline", "ratio", "goal", "met"; ok = 1 }
  { printf "%-34s %-14s %-14s %-9s %-8s %s\n", $2, $3, $4, $5, $6, $7; if ($7 != "yes") ok = 0 }
  END { exit ok ? 0 : 1 }'
