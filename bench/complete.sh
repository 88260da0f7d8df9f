#!/usr/bin/env bash
# 'rkmod headers complete --distro debian-sid' from scratch (its completion caches cleared) against the raw
# hand-run of the same work in the same sid root and the same run: copy the headers with links dereferenced,
# extract the kernel source, then 'make -C SRC O=COPY KERNELRELEASE=R rust/' with the same -j.
# Goal: completion <= 1.05x the raw make of the same target. Also prints the size of the Rust set it adds
# (proc macros stripped), unpacked and zstd-compressed, and the time of a second completion (a cache hit).
# Needs root and the debian-sid profile ('rkmod deps --install --profile debian-sid').
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./rkmod --version >/dev/null
jobs=${JOBS:-$(nproc)}
root=$(./rkmod deps --profile debian-sid --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["profiles"][0]["root"]["path"])')
release=$(sed -n 's/^Depends:.*linux-headers-\([^ ]*-amd64\) (=.*/\1/p' <(awk '/^Package: linux-headers-amd64$/,/^$/' "$root/var/lib/dpkg/status"))
series=$(echo "$release" | cut -d. -f1,2)
work=$(mktemp -d /var/tmp/rkmod-bench-complete.XXXXXX)
trap 'umount "$root/proc" 2>/dev/null || true; rm -rf "$work" "$root/bench-raw"' EXIT
ms() { date +%s%3N; }
echo "Linux $release, -j$jobs, root $root"

# --- baseline: the hand-run, inside the same root ------------------------------------------------------
rm -rf "$root/bench-raw"; mkdir -p "$root/bench-raw/hdr"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
settle() { sync; sleep 5; }   # let the disk finish earlier writes and deletes, so neither side pays for the other's
settle
t0=$(ms)
cp -aL "$root/usr/src/linux-headers-${release%-amd64}-common/." "$root/bench-raw/hdr/"
cp -aL "$root/usr/src/linux-headers-$release/." "$root/bench-raw/hdr/"
cp "$root/usr/src/linux-headers-${release%-amd64}-common/Makefile" "$root/bench-raw/hdr/Makefile"
tar -C "$root/bench-raw" -xf "$root/usr/src/linux-source-$series.tar.xz"
t1=$(ms)
chroot "$root" /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root LC_ALL=C.UTF-8 \
  make -C "/bench-raw/linux-source-$series" O=/bench-raw/hdr KERNELRELEASE="$release" -j"$jobs" rust/ >"$work/raw.log" 2>&1
t2=$(ms)
umount "$root/proc"
raw_prep=$((t1 - t0)); raw_make=$((t2 - t1)); raw_all=$((t2 - t0))
rm -rf "$root/bench-raw"

# --- rkmod, from scratch -----------------------------------------------------------------------------
./rkmod cache clear --kind headers-package >/dev/null
./rkmod cache clear --kind headers-rust >/dev/null
./rkmod cache clear --kind source >/dev/null
settle
t0=$(ms)
./rkmod headers complete --distro debian-sid -j "$jobs" --out "$work/pkg" --json >"$work/first.json"
t1=$(ms)
rk_ms=$((t1 - t0))
t0=$(ms)
./rkmod headers complete --distro debian-sid -j "$jobs" --out "$work/pkg2" --json >"$work/second.json"
t1=$(ms)
hit_ms=$((t1 - t0))

# --- the Rust set it adds ----------------------------------------------------------------------------
(cd "$work/pkg" && ls rust/*.rmeta rust/*.so scripts/target.json rust/helpers/*.bc 2>/dev/null || true) >"$work/rustset"
set_bytes=$(cd "$work/pkg" && xargs stat -c %s <"$work/rustset" | awk "{s+=\$1} END {print s}")
set_zst=$(cd "$work/pkg" && tar -cf - -T "$work/rustset" | zstd -q -12 -T0 | wc -c)
set_files=$(wc -l <"$work/rustset")

python3 - "$work/first.json" <<PY
import json, sys
o = json.load(open(sys.argv[1]))
st = o["stageMillis"]
print("rkmod stages (ms):", ", ".join(f"{k} {v}" for k, v in st.items()))
PY
awk -v rk="$rk_ms" -v make="$raw_make" -v all="$raw_all" -v prep="$raw_prep" -v hit="$hit_ms" \
    -v files="$set_files" -v bytes="$set_bytes" -v zst="$set_zst" 'BEGIN {
  printf "%-52s %10s %10s %7s %8s %5s\n", "figure", "rkmod", "baseline", "ratio", "goal", "met"
  printf "%-52s %8.1f s %8.1f s %6.2fx %8s %5s\n", "headers complete vs raw make rust/", rk/1000, make/1000, rk/make, "<=1.05x", (rk/make <= 1.05 ? "yes" : "no")
  printf "%-52s %8.1f s %8.1f s %6.2fx %8s %5s\n", "headers complete vs raw copy+extract+make", rk/1000, all/1000, rk/all, "-", "-"
  printf "%-52s %8.1f s %10s %7s %8s %5s\n", "second completion (cache hit)", hit/1000, "-", "-", "<3 s", (hit < 3000 ? "yes" : "no")
  printf "%-52s %8d   %10s\n", "Rust set files", files, "-"
  printf "%-52s %6.1f MiB %10s\n", "Rust set, proc macros stripped", bytes/1048576, "-"
  printf "%-52s %6.1f MiB %10s\n", "Rust set, tar.zst -12", zst/1048576, "-"
  printf "(raw: copy+extract %.1f s, make %.1f s)\n", prep/1000, make/1000
}'
