#!/usr/bin/env bash
# 'rkmod vmtest --kvm off' against a hand-made busybox cpio and the same kernel in qemu-system-x86_64 under TCG
# (mount proc, insmod, rmmod, reboot), for the same module on the cached tiny-rust 6.1 tree; RUNS (default 5)
# interleaved pairs, medians. Also times 'rkmod --version' in the same runs (JVM start).
# Goal: rkmod <= 1.10x the hand-made run.
source "$(dirname "${BASH_SOURCE[0]}")/lib-overhead.sh"
./rkmod new bench_mod --kdir "$kdir" --dir "$work/mod" -q >/dev/null
./rkmod build "$work/mod" --kdir "$kdir" -q >/dev/null
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
raw() { timeout 60 qemu-system-x86_64 -m 256 -nographic -no-reboot -kernel "$kdir/arch/x86/boot/bzImage" \
  -initrd "$work/initrd.cpio" -append "console=ttyS0 panic=-1"; }
rkm() { ./rkmod vmtest "$work/mod/bench_mod.ko" --kdir "$kdir" --kvm off; }
./rkmod vmtest "$work/mod/bench_mod.ko" --kdir "$kdir" --kvm off -q >/dev/null || { echo "rkmod vmtest fails" >&2; exit 1; }
rk=(); qm=(); jv=()
for r in $(seq "$runs"); do
  jv+=("$(time_of ./rkmod --version)")
  if [ $((r % 2)) = 1 ]; then rk+=("$(time_of rkm)"); qm+=("$(time_of raw)"); else qm+=("$(time_of raw)"); rk+=("$(time_of rkm)"); fi
  echo "  run $r: rkmod vmtest ${rk[-1]} ms, hand-made qemu ${qm[-1]} ms, rkmod --version ${jv[-1]} ms"
done
v_rk=$(printf '%s\n' "${rk[@]}" | median); v_qm=$(printf '%s\n' "${qm[@]}" | median); j=$(printf '%s\n' "${jv[@]}" | median)
echo "vmtest: rkmod ${v_rk} ms, hand-made cpio+qemu ${v_qm} ms, overhead $((v_rk - v_qm)) ms of which JVM start" \
  "(rkmod --version) ${j} ms; medians of $runs, load $(cut -d' ' -f1-3 /proc/loadavg)"
result "vmtest vs hand-made cpio+qemu (TCG)" "$v_rk" "$v_qm" 1.10
