#!/usr/bin/env bash
# 'rkmod vmtest --kvm off' of the kernel's own samples/rust/rust_configfs (built against the completed Debian sid
# package; depends: configfs) on Debian's own kernel, which loads configfs from Debian's modules package first, against
# a hand-made busybox cpio with the same two modules (configfs.ko decompressed by xz, rust_configfs.ko) and the same
# QEMU command line (qemu-system-x86_64 as rkmod runs it under TCG), in the same run; RUNS (default 5) interleaved
# pairs, medians. Goal: rkmod <= 1.10x the hand-made run.
# Then the modules package is fetched once: the cache holds one distro-modules entry, and a run in a network namespace
# with nothing in it (unshare --net) passes. FRESH=1 clears the cached modules first, to time the download.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./rkmod --version >/dev/null
runs=${RUNS:-5}
work=$(mktemp -d /var/tmp/rkmod-bench-deps.XXXXXX)
trap 'rm -rf "$work"' EXIT
ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_of() { local s e; s=$(ms); "$@" >/dev/null 2>&1 || true; e=$(ms); echo $((e - s)); }
cache=${XDG_CACHE_HOME:-$HOME/.cache}/rkmod

./rkmod headers complete --distro debian-sid --out "$work/pkg" -q >/dev/null
release=$(cat "$work/pkg/include/config/kernel.release")
root=$(sed -n 's/.*"toolchainRoot": "\(.*\)".*/\1/p' "$work/pkg/rkmod-headers.json")
tarball=$(ls "$root"/usr/src/linux-source-*.tar.xz | head -1)
top=$(basename "$tarball" .tar.xz)
mkdir -p "$work/src" "$work/mod"
tar -xf "$tarball" -C "$work/src" "$top/samples/rust/rust_configfs.rs"
cp "$work/src/$top/samples/rust/rust_configfs.rs" "$work/mod/"
echo 'obj-m := rust_configfs.o' > "$work/mod/Kbuild"
./rkmod build "$work/mod" --kdir "$work/pkg" -q >/dev/null
ko=$work/mod/rust_configfs.ko

[ -n "${FRESH:-}" ] && ./rkmod cache clear --kind distro-modules -q >/dev/null
first_err=$work/first.err
s=$(ms)
./rkmod vmtest "$ko" --kdir "$work/pkg" --kvm off --timeout 300 >"$work/first.out" 2>"$first_err" \
  || { cat "$work/first.out" "$first_err" >&2; echo "rkmod vmtest fails" >&2; exit 1; }
first=$(( $(ms) - s ))
grep '^dependencies loaded first' "$work/first.out"
if grep -q 'downloading Debian sid.s modules' "$first_err"; then
  size=$(chroot "$root" apt-cache show "linux-modules-$release" 2>/dev/null | sed -n 's/^Size: //p' | head -1)
  echo "first run: ${first} ms, of which the modules package (${size:-?} bytes: download, unpack, depmod):" \
    "$(sed -n 's/.*modules done in \(.*\)/\1/p' "$first_err")"
else
  echo "first run: ${first} ms (the modules package was cached already; FRESH=1 times its download)"
fi

# the hand-made run: Debian's image, the same two modules, an /init that loads and unloads them
origin=$(grep -lF -- "-$release " "$cache"/distro-image/*/origin | head -1)
image=${origin%/origin}/vmlinuz
moddir=$(ls -d "$cache"/distro-modules/*/lib/modules/"$release" | head -1)
mkdir -p "$work/root/bin" "$work/root/dev" "$work/root/proc" "$work/root/sys"
cp /bin/busybox "$work/root/bin/"
xz -dc "$moddir/kernel/fs/configfs/configfs.ko.xz" > "$work/root/configfs.ko"
cp "$ko" "$work/root/"
cat > "$work/root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox insmod /configfs.ko
/bin/busybox insmod /rust_configfs.ko
/bin/busybox rmmod rust_configfs
/bin/busybox rmmod configfs
/bin/busybox reboot -f
INIT
chmod +x "$work/root/init"
(cd "$work/root" && find . | cpio -o -H newc --quiet > "$work/initrd.cpio")
# QemuCommand.test: the distro kernel's 512 MiB, TCG
raw() { timeout 120 qemu-system-x86_64 -m 512 -smp 1 -nographic -no-reboot -nodefaults -serial stdio -kernel "$image" \
  -initrd "$work/initrd.cpio" -append "console=ttyS0 panic=-1 loglevel=7" -accel tcg; }
raw | grep -q 'rust_configfs: Rust configfs sample (init)' || { echo "the hand-made run does not load rust_configfs" >&2; exit 1; }
rkm() { ./rkmod vmtest "$ko" --kdir "$work/pkg" --kvm off --timeout 300; }
rk=(); qm=()
for r in $(seq "$runs"); do
  if [ $((r % 2)) = 1 ]; then rk+=("$(time_of rkm)"); qm+=("$(time_of raw)"); else qm+=("$(time_of raw)"); rk+=("$(time_of rkm)"); fi
  echo "  run $r: rkmod vmtest ${rk[-1]} ms, hand-made qemu ${qm[-1]} ms"
done
v_rk=$(printf '%s\n' "${rk[@]}" | median); v_qm=$(printf '%s\n' "${qm[@]}" | median)
echo "vmtest with a dependency: rkmod ${v_rk} ms, hand-made cpio+qemu ${v_qm} ms, overhead $((v_rk - v_qm)) ms;" \
  "medians of $runs, load $(cut -d' ' -f1-3 /proc/loadavg)"

# fetched once: one cache entry, and a run without any network passes
entries=$(ls -d "$cache"/distro-modules/*/lib/modules/"$release" | wc -l)
s=$(ms)
if unshare --net ./rkmod vmtest "$ko" --kdir "$work/pkg" --kvm off --timeout 300 >"$work/offline.out" 2>&1; then
  echo "without a network (unshare --net): PASS in $(( $(ms) - s )) ms; cached modules entries of $release: $entries"
  offline=yes
else
  cat "$work/offline.out" >&2
  echo "without a network (unshare --net): FAIL" >&2
  offline=no
fi
ratio=$(awk "BEGIN{printf \"%.2f\", $v_rk/$v_qm}")
met=$(awk "BEGIN{print ($v_rk/$v_qm <= 1.10 && \"$offline\" == \"yes\" && $entries == 1) ? \"yes\" : \"no\"}")
echo "RESULT|vmtest-deps vs hand-made cpio+qemu (TCG)|${v_rk} ms|${v_qm} ms|${ratio}x|<=1.10x|$met"
