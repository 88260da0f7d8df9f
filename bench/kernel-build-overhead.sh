#!/usr/bin/env bash
# Builds the same tiny-rust 6.1 kernel from an empty cache, with rkmod and with raw commands, in the same run:
#   baseline: raw commands (tar, make tinyconfig, merge_config.sh, olddefconfig, make)
#   rkmod:    'rkmod kernel build --profile 6.1' in an empty scratch cache (extraction, hard-linked source,
#             config, make, manifest)
# and prints the overhead (goal: <= +3 %). RUNS pairs (default 1, ~10 min each pair on 2 cores), alternating
# which goes first; the medians are compared. Also times a cache hit (goal: < 3 s) and prints rkmod's stage
# times (from its -v event lines) so that the overhead can be placed. Needs about 4 GB of disk per run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./rkmod --version >/dev/null
jobs=${JOBS:-$(nproc)}
runs=${RUNS:-1}
work=$(mktemp -d /var/tmp/rkmod-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
vars=(LLVM=1 RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc BINDGEN=/usr/bin/bindgen)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
grep -v '^#' src/main/resources/dev/rkmod/kernel/tiny-rust.config > "$work/fragment.config"

# The same disk state for both sides: no tree is deleted before the end of the script (each run builds in its own
# directory and cache), and every dirty page is written back before a clock starts. A timed extraction that followed
# the deletion of the other side's tree (about 2 GB) took 3-4x as long (41-61 s against 12-15 s for the same GNU tar),
# whether it was rkmod's or the raw one: the file system was still freeing the deleted blocks.
settle() { sync; sleep 5; sync; }

raw_once() {
  local t0 t1 t2 src
  settle
  t0=$(ms)
  mkdir -p "$work/raw$r"
  tar -xf /usr/src/linux-source-6.1.tar.xz -C "$work/raw$r"
  src="$work/raw$r/linux-source-6.1"
  t1=$(ms)
  make -s -C "$src" "${vars[@]}" tinyconfig >/dev/null
  (cd "$src" && scripts/kconfig/merge_config.sh -m .config "$work/fragment.config" >/dev/null)
  make -s -C "$src" "${vars[@]}" olddefconfig >/dev/null
  t2=$(ms)
  make -s -C "$src" "${vars[@]}" -j"$jobs" >/dev/null 2>&1
  raw_ms=$(($(ms) - t0))
  grep -q '^CONFIG_RUST=y' "$src/.config" || { echo "baseline lost CONFIG_RUST" >&2; exit 1; }
  echo "  raw:   ${raw_ms} ms (tar $((t1 - t0)) ms, config $((t2 - t1)) ms, make $((raw_ms - t2 + t0)) ms)"
}

rk_once() {
  local t0
  settle
  t0=$(ms)
  XDG_CACHE_HOME="$work/cache$r" ./rkmod kernel build --profile 6.1 -j"$jobs" -v 2>&1 >/dev/null \
    | while IFS= read -r line; do echo "$(($(ms) - t0)) $line"; done > "$work/rk-events.txt"
  rk_ms=$(($(ms) - t0))
  echo "  rkmod: ${rk_ms} ms; its events (ms since start):"
  grep -E 'extract|copy source|config|make|cached|built|done|ok|took' "$work/rk-events.txt" | grep -v '^[0-9]* *\[' \
    | head -20 | sed 's/^/    /' || true
}

raws=(); rks=()
for r in $(seq "$runs"); do
  if [ $((r % 2)) = 1 ]; then raw_once; rk_once; else rk_once; raw_once; fi
  raws+=("$raw_ms"); rks+=("$rk_ms")
done
t0=$(ms)
XDG_CACHE_HOME="$work/cache$runs" ./rkmod kernel build --profile 6.1 -q >/dev/null
hit=$(($(ms) - t0))

raw=$(printf '%s\n' "${raws[@]}" | median)
rk=$(printf '%s\n' "${rks[@]}" | median)
over=$(awk "BEGIN{printf \"%+.1f\", ($rk-$raw)*100/$raw}")
met=$(awk "BEGIN{print (($rk-$raw)*100/$raw <= 3) ? \"yes\" : \"no\"}")
echo "raw tar+config+make:      ${raw} ms"
echo "rkmod kernel build:       ${rk} ms"
echo "overhead:                 ${over} % (goal <= +3 %), medians of $runs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "second build (cache hit): ${hit} ms (goal < 3000 ms)"
echo "RESULT|kernel build tiny-rust 6.1, empty cache|${rk} ms|${raw} ms|${over}%|<=+3%|$met"
