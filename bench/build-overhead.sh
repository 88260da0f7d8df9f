#!/usr/bin/env bash
# 'rkmod build' against raw 'make -C KDIR M=DIR LLVM=1 RUSTC=... modules' for the same scaffolded module on the
# cached tiny-rust 6.1 tree, from a clean module directory each time; RUNS (default 5) interleaved pairs, medians.
# Also times 'rkmod --version' in the same runs, the JVM start that is part of every rkmod command.
# Goal: rkmod <= 1.10x raw make.
source "$(dirname "${BASH_SOURCE[0]}")/lib-overhead.sh"
./rkmod new bench_mod --kdir "$kdir" --dir "$work/mod" -q >/dev/null
clean() { make -s -C "$kdir" M="$work/mod" clean >/dev/null 2>&1; }
rk=(); mk=(); jv=()
for r in $(seq "$runs"); do
  jv+=("$(time_of ./rkmod --version)")
  if [ $((r % 2)) = 1 ]; then
    clean; rk+=("$(time_of ./rkmod build "$work/mod" --kdir "$kdir")")
    clean; mk+=("$(time_of make -C "$kdir" M="$work/mod" LLVM=1 RUSTC=/usr/bin/rustc modules)")
  else
    clean; mk+=("$(time_of make -C "$kdir" M="$work/mod" LLVM=1 RUSTC=/usr/bin/rustc modules)")
    clean; rk+=("$(time_of ./rkmod build "$work/mod" --kdir "$kdir")")
  fi
  echo "  run $r: rkmod build ${rk[-1]} ms, raw make ${mk[-1]} ms, rkmod --version ${jv[-1]} ms"
done
[ -f "$work/mod/bench_mod.ko" ] || { echo "no module was built" >&2; exit 1; }
b_rk=$(printf '%s\n' "${rk[@]}" | median); b_mk=$(printf '%s\n' "${mk[@]}" | median); j=$(printf '%s\n' "${jv[@]}" | median)
echo "build: rkmod ${b_rk} ms, raw make M= ${b_mk} ms, overhead $((b_rk - b_mk)) ms of which JVM start (rkmod --version) ${j} ms;" \
  "medians of $runs, load $(cut -d' ' -f1-3 /proc/loadavg)"
result "build (cached tree) vs raw make M=" "$b_rk" "$b_mk" 1.10
