#!/usr/bin/env bash
# 'rkmod doctor' against 'make rustavailable' on the cached tiny-rust 6.1 tree; RUNS (default 5), medians.
# Goal: doctor <= 500 ms, JVM start included.
source "$(dirname "${BASH_SOURCE[0]}")/lib-overhead.sh"
rk=(); mk=()
for r in $(seq "$runs"); do
  rk+=("$(time_of ./rkmod doctor --kdir "$kdir" --rustc /usr/bin/rustc)")
  mk+=("$(time_of make -C "$kdir" LLVM=1 RUSTC=/usr/bin/rustc rustavailable)")
done
d_rk=$(printf '%s\n' "${rk[@]}" | median); d_mk=$(printf '%s\n' "${mk[@]}" | median)
echo "doctor: rkmod ${d_rk} ms, make rustavailable ${d_mk} ms (medians of $runs; goal: rkmod <= 500 ms)"
met=$([ "$d_rk" -le 500 ] && echo yes || echo no)
echo "RESULT|doctor vs make rustavailable|${d_rk} ms|${d_mk} ms|$(awk "BEGIN{printf \"%.2f\", $d_rk/$d_mk}")x|<=500 ms|$met"
