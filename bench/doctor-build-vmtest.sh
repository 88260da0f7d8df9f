#!/usr/bin/env bash
# Three overhead measurements against hand-written baselines, in the same run (medians of RUNS runs):
#   doctor  vs  make rustavailable            on the real 6.1 tree (goal: doctor <= 0.5 s, JVM included)
#   build   vs  raw make -C KDIR M=DIR        for the same module (goal: <= 0.5 s over raw make)
#   vmtest  vs  qemu-system-x86_64 + cpio     same kernel and module (goal: <= 2.5 s under TCG)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./rkmod --version >/dev/null
runs=${RUNS:-5}
kdir=$(./rkmod kernel build --profile 6.1 --json -q | sed -n 's/.*"tree": "\(.*\)".*/\1/p')
work=$(mktemp -d /var/tmp/rkmod-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_of() { local s e; s=$(ms); "$@" >/dev/null 2>&1 || true; e=$(ms); echo $((e - s)); }
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

./rkmod new bench_mod --kdir "$kdir" --dir "$work/mod" -q >/dev/null

d_rk=$(for _ in $(seq "$runs"); do time_of ./rkmod doctor --kdir "$kdir" --rustc /usr/bin/rustc; done | median)
d_mk=$(for _ in $(seq "$runs"); do time_of make -C "$kdir" LLVM=1 RUSTC=/usr/bin/rustc rustavailable; done | median)

b_rk=$(for _ in $(seq "$runs"); do make -s -C "$kdir" M="$work/mod" clean >/dev/null 2>&1; time_of ./rkmod build "$work/mod" --kdir "$kdir"; done | median)
b_mk=$(for _ in $(seq "$runs"); do make -s -C "$kdir" M="$work/mod" clean >/dev/null 2>&1; time_of make -C "$kdir" M="$work/mod" LLVM=1 RUSTC=/usr/bin/rustc modules; done | median)

mkdir -p "$work/root/bin" "$work/root/dev" "$work/root/proc" "$work/root/sys"
cp /bin/busybox "$work/root/bin/"
cp "$work/mod/bench_mod.ko" "$work/root/"
cat > "$work/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox insmod /bench_mod.ko
/bin/busybox rmmod bench_mod
/bin/busybox reboot -f
INIT
chmod +x "$work/root/init"
(cd "$work/root" && find . | cpio -o -H newc --quiet > "$work/initrd.cpio")
v_raw=$(for _ in $(seq "$runs"); do time_of timeout 60 qemu-system-x86_64 -m 256 -nographic -no-reboot -kernel "$kdir/arch/x86/boot/bzImage" -initrd "$work/initrd.cpio" -append "console=ttyS0 panic=-1"; done | median)
v_rk=$(for _ in $(seq "$runs"); do time_of ./rkmod vmtest "$work/mod/bench_mod.ko" --kdir "$kdir" --kvm off; done | median)

ratio() { awk "BEGIN{printf \"%.2f\", $1/$2}"; }
echo "doctor:  rkmod ${d_rk} ms   make rustavailable ${d_mk} ms   ratio $(ratio "$d_rk" "$d_mk")   (goal: rkmod <= 500 ms)"
echo "build:   rkmod ${b_rk} ms   raw make M=        ${b_mk} ms   overhead $((b_rk - b_mk)) ms   (goal <= 500 ms)"
echo "vmtest:  rkmod ${v_rk} ms   hand-made qemu     ${v_raw} ms   ratio $(ratio "$v_rk" "$v_raw")   (goal: rkmod <= 2500 ms)"
