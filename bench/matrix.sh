#!/usr/bin/env bash
# 'rkmod matrix' over three kernels with warm caches (the tiny-rust 6.1 and 6.12 kernels and Debian sid's own 7.2,
# their packages and completed headers cached), in the same run (medians of RUNS runs, the sides interleaved):
#   speedup   the matrix against the same three 'rkmod build' + 'rkmod vmtest' runs one after another
#             (goal: >= 1.6x on 2 cores)
#   overhead  the matrix against the raw steps it runs, as bench/build-overhead.sh and bench/vmtest-overhead.sh measure them: the same make
#             command lines (in the Debian roots under chroot for 6.12 and sid, mounted by hand), and QEMU on a
#             hand-made cpio, the kernels as many at a time as the matrix runs them (goal: <= 10 %)
# The module is one source for the three module APIs (as in MatrixIT): the three files 'rkmod new' writes, the kernel's
# crates choosing. Needs root (chroot, mount). RUNS=N runs (default 5), J=N kernels at a time (default: rkmod's -j).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./rkmod --version >/dev/null
runs=${RUNS:-5}
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
logs="${XDG_CACHE_HOME:-$HOME/.cache}/rkmod/logs"
work=$(mktemp -d /var/tmp/rkmod-bench.XXXXXX)
mounted=()
created=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}" || true; done
  for d in "${created[@]}"; do [ -d "$d" ] && find "$d" -depth -type d -empty -delete 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# --- the module: one source, three module APIs ---
mod="$work/portable_mod"
mkdir -p "$mod/api"
for gen in 6.1 6.13 7.2; do
  ./rkmod new portable_mod --generation "$gen" --dir "$work/gen-$gen" --description "Portable module" -q >/dev/null
  grep -v '^//!' "$work/gen-$gen/portable_mod.rs" > "$mod/api/$gen.rs"
done
cp "$work/gen-6.1/rkmod.toml" "$mod/"
cat > "$mod/Kbuild" <<'KBUILD'
obj-m := portable_mod.o
portable_api := $(if $(wildcard $(objtree)/rust/libzerocopy.rmeta),api_7_2,$(if $(wildcard $(objtree)/rust/libffi.rmeta),api_6_13,api_6_1))
rustflags-y += --cfg $(portable_api)
KBUILD
printf '%s\n' '// SPDX-License-Identifier: GPL-2.0' '#[cfg(api_6_1)]' 'include!("api/6.1.rs");' '#[cfg(api_6_13)]' \
  'include!("api/6.13.rs");' '#[cfg(api_7_2)]' 'include!("api/7.2.rs");' > "$mod/portable_mod.rs"

kernels=(6.1 6.12 debian-sid)
jopt=(); [ -n "${J:-}" ] && jopt=(-j "$J")   # J=N: the matrix (and the raw side) N kernels at a time; default: rkmod's
matrix() { ./rkmod matrix "$mod" --kernel 6.1 --kernel 6.12 --kernel debian-sid "${jopt[@]}" "$@"; }

# --- warm: the matrix once (makes the profiles' packages if missing), the kernels as the sequential runs use them ---
s=$(ms); matrix --json -q > "$work/warm.json" || { echo "the matrix does not pass here" >&2; exit 1; }; first=$(( $(ms) - s ))
jobs=$(sed -n 's/^  "jobs": \([0-9]*\),$/\1/p' "$work/warm.json")
mapfile -t kdirs < <(sed -n 's/^      "kdir": "\(.*\)",$/\1/p' "$work/warm.json")
tree() { ./rkmod kernel build --profile "$1" --json -q | sed -n 's/^  "tree": "\(.*\)",$/\1/p'; }
./rkmod headers complete --distro debian-sid --out "$work/sid-kdir" -q >/dev/null
kdirs[2]="$work/sid-kdir"
boot=("--kernel=$(tree 6.1)/arch/x86/boot/bzImage" "--kernel=$(tree 6.12)/arch/x86/boot/bzImage" "--kdir=$work/sid-kdir")

# --- the sequential side: what a user types, kernel after kernel ---
sequential() {
  local k
  for k in 0 1 2; do
    rm -rf "$work/seq/$k"; mkdir -p "$work/seq"; cp -r "$mod" "$work/seq/$k"
    ./rkmod build "$work/seq/$k" --kdir "${kdirs[k]}" -q >/dev/null
    ./rkmod vmtest "$work/seq/$k"/*.ko "${boot[k]}" -q >/dev/null
  done
}

# --- the raw side: rkmod's own make and QEMU command lines, read from its logs once, run by hand ---
first_line() { # the newest log of $1 whose command line contains $2
  local f
  for f in $(ls -t "$logs"/*-"$1".log | head -200); do
    if head -1 "$f" | grep -qF -- "$2"; then head -1 "$f" | cut -c3-; return; fi
  done
  echo "no $1 log with $2 in $logs" >&2; exit 1
}
make_cmd=(); qemu_cmd=()
for k in 0 1 2; do
  d="$work/raw/$k"; mkdir -p "$d"; cp -r "$mod/." "$d/"
  ./rkmod build "$d" --kdir "${kdirs[k]}" -q >/dev/null
  make_cmd[k]=$(first_line make "M=$d ")
  ./rkmod vmtest "$d"/*.ko "${boot[k]}" -q >/dev/null
  qemu_cmd[k]=$(first_line qemu "-kernel ")
done
# the vmtest of each kernel: the newest QEMU line per kernel image
for k in 0 1 2; do
  img=$(sed -n 's/.* -kernel \([^ ]*\) .*/\1/p' <<<"${qemu_cmd[k]}")
  [ "${boot[k]}" = "${boot[k]#--kernel=}" ] || img="${boot[k]#--kernel=}"
  qemu_cmd[k]=$(first_line qemu "-kernel $img ")
done
bind() { # bind-mount a host directory at the same path inside a root
  local root=$1 dir=$2 target top
  target="$root$dir"
  mountpoint -q "$target" 2>/dev/null && return
  top="$target"; while [ ! -e "$(dirname "$top")" ]; do top=$(dirname "$top"); done
  [ -e "$top" ] || created+=("$top")
  mkdir -p "$target"; mount --bind "$dir" "$target"; mounted+=("$target")
}
for k in 0 1 2; do
  case "${make_cmd[k]}" in
    chroot\ *)
      root=$(awk '{print $2}' <<<"${make_cmd[k]}")
      mountpoint -q "$root/proc" || { mount -t proc proc "$root/proc"; mounted+=("$root/proc"); }
      bind "$root" "$(sed 's/.* -C \([^ ]*\) .*/\1/' <<<"${make_cmd[k]}")"
      bind "$root" "$work/raw" ;;
  esac
done
cat > "$work/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox insmod /portable_mod.ko
/bin/busybox rmmod portable_mod
/bin/busybox reboot -f
INIT
chmod +x "$work/init"
raw_one() {
  local k=$1 d="$work/raw/$1" r="$work/rawroot/$1"
  find "$d" -mindepth 1 -delete; cp -r "$mod/." "$d/"
  eval "${make_cmd[k]}" >/dev/null 2>&1
  rm -rf "$r"; mkdir -p "$r/bin" "$r/proc"
  cp /bin/busybox "$r/bin/"; cp "$work/init" "$r/init"; cp "$d/portable_mod.ko" "$r/"
  (cd "$r" && find . | cpio -o -H newc --quiet > "$r.cpio")
  eval "$(sed "s#-initrd [^ ]*#-initrd $r.cpio#" <<<"${qemu_cmd[k]}")" >/dev/null 2>&1 </dev/null
}
raw() {
  local k
  for k in 0 1 2; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
    raw_one "$k" &
  done
  wait
}

seq_ms=(); mat_ms=(); raw_ms=()
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for _ in $(seq "$runs"); do
  s=$(ms); sequential; seq_ms+=($(( $(ms) - s )))
  s=$(ms); matrix -q >/dev/null; mat_ms+=($(( $(ms) - s )))
  s=$(ms); raw; raw_ms+=($(( $(ms) - s )))
done
seq_med=$(printf '%s\n' "${seq_ms[@]}" | median)
mat_med=$(printf '%s\n' "${mat_ms[@]}" | median)
raw_med=$(printf '%s\n' "${raw_ms[@]}" | median)
echo "kernels:    ${kernels[*]}   ($(nproc) cores, the matrix runs $jobs at a time; $runs runs, medians;" \
  "load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg))"
echo "sequential: ${seq_med} ms   (rkmod build + rkmod vmtest per kernel; runs: ${seq_ms[*]})"
echo "matrix:     ${mat_med} ms   (runs: ${mat_ms[*]}; the first, warming run: ${first} ms)"
echo "raw:        ${raw_med} ms   (the same make and QEMU command lines by hand, $jobs at a time; runs: ${raw_ms[*]})"
# each run's three sides ran back to back: their ratios are paired, and their median is robust to the machine's
# other load drifting between runs (the ratio of the medians is printed too)
speedups=(); overheads=()
for i in "${!seq_ms[@]}"; do
  speedups+=("$(awk -v s="${seq_ms[i]}" -v m="${mat_ms[i]}" 'BEGIN {printf "%.3f", s / m}')")
  overheads+=("$(awk -v m="${mat_ms[i]}" -v r="${raw_ms[i]}" 'BEGIN {printf "%.2f", (m / r - 1) * 100}')")
done
sp=$(printf '%s\n' "${speedups[@]}" | median)
ov=$(printf '%s\n' "${overheads[@]}" | median)
awk -v s="$seq_med" -v m="$mat_med" -v r="$raw_med" -v sp="$sp" -v ov="$ov" 'BEGIN {
  printf "speedup:    %.2fx over the sequential runs, median of the runs (%.2fx of the medians) (goal: >= 1.6x on 2 cores)\n", sp, s / m
  printf "overhead:   %+.1f %% over raw make + qemu, median of the runs (%+.1f %% of the medians) (goal: <= 10 %%)\n", ov, (m / r - 1) * 100 }'
