#!/usr/bin/env bash
# 'rkmod package' against a builddeb-style copy (6.1's deploy_kernel_headers rules plus the Rust globs) of
# the same cached tiny-rust 6.1 tree, in the same run: unpacked size, .tar.zst size and wall time.
# Goals: <= 75 MB unpacked, <= 25 MB .tar.zst, packaging (with compression) under 10 s.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./rkmod --version >/dev/null
kdir=$(./rkmod kernel build --profile "${PROFILE:-6.1}" --json -q | sed -n 's/.*"tree": "\(.*\)".*/\1/p')
work=$(mktemp -d /var/tmp/rkmod-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
ms() { date +%s%3N; }

t0=$(ms)
mkdir -p "$work/builddeb"
(
  cd "$kdir"
  {
    find . arch/x86 -maxdepth 1 -name 'Makefile*'
    find include scripts -type f -o -type l
    find arch/x86 -name Kbuild.platforms -o -name Platform
    find $(find arch/x86 -name include -o -name scripts -type d) -type f
    find arch/x86/include Module.symvers include scripts -type f
    ls rust/*.rmeta rust/*.so rust/target.json scripts/target.json .config 2>/dev/null || true
  } | sort -u | tar -cf - -T - | tar -xf - -C "$work/builddeb"
)
t1=$(ms)
deb_ms=$((t1 - t0))
deb_bytes=$(du -sb --apparent-size "$work/builddeb" | cut -f1)
tar -C "$work/builddeb" -cf - . | zstd -q -12 -T0 > "$work/builddeb.tar.zst"
deb_zst=$(stat -c %s "$work/builddeb.tar.zst")

t0=$(ms)
./rkmod package --kdir "$kdir" --out "$work/rkmod.tar.zst" --format tar.zst --no-verify -q >/dev/null
t1=$(ms)
rk_ms=$((t1 - t0))
rk_zst=$(stat -c %s "$work/rkmod.tar.zst")
mkdir "$work/rkmod"
tar -xf "$work/rkmod.tar.zst" --zstd -C "$work/rkmod"
rk_bytes=$(du -sb --apparent-size "$work/rkmod" | cut -f1)
t0=$(ms)
./rkmod package --kdir "$kdir" --out "$work/verified.tar.zst" --format tar.zst -q >/dev/null
t1=$(ms)
ver_ms=$((t1 - t0))

mb() { awk "BEGIN{printf \"%.1f MB\", $1/1000000}"; }
echo "builddeb-style copy: $(mb "$deb_bytes") unpacked, $(mb "$deb_zst") as .tar.zst (zstd -12), copied in ${deb_ms} ms"
echo "rkmod package:       $(mb "$rk_bytes") unpacked, $(mb "$rk_zst") as .tar.zst, packed in ${rk_ms} ms (JVM included)"
echo "ratio unpacked:      $(awk "BEGIN{printf \"%.2f\", $rk_bytes/$deb_bytes}")   goal <= 75 MB"
echo "archive:             goal <= 25 MB; time goal < 10000 ms"
echo "with verification:   ${ver_ms} ms (relocate + C and Rust probe builds)"
