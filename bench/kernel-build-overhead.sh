#!/usr/bin/env bash
# Builds the same tiny-rust 6.1 kernel twice from an empty cache, in the same run:
#   baseline: raw commands (tar, make tinyconfig, merge_config.sh, olddefconfig, make)
#   rkmod:    'rkmod kernel build --profile 6.1' (extraction, source copy, config, make, manifest)
# and prints the overhead ratio (goal: <= 3 %). Also times a cache hit (goal: < 3 s). Takes ~10 minutes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./rkmod --version >/dev/null
jobs=${JOBS:-$(nproc)}
work=$(mktemp -d /var/tmp/rkmod-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
ms() { date +%s%3N; }
vars=(LLVM=1 RUSTC=/usr/bin/rustc HOSTRUSTC=/usr/bin/rustc BINDGEN=/usr/bin/bindgen)

t0=$(ms)
mkdir -p "$work/raw"
tar -xf /usr/src/linux-source-6.1.tar.xz -C "$work/raw"
src="$work/raw/linux-source-6.1"
PATH=/usr/sbin:/usr/bin:/sbin:/bin make -s -C "$src" "${vars[@]}" tinyconfig >/dev/null
grep -v '^#' src/main/resources/dev/rkmod/kernel/tiny-rust.config > "$work/fragment.config"
(cd "$src" && PATH=/usr/sbin:/usr/bin:/sbin:/bin scripts/kconfig/merge_config.sh -m .config "$work/fragment.config" >/dev/null)
PATH=/usr/sbin:/usr/bin:/sbin:/bin make -s -C "$src" "${vars[@]}" olddefconfig >/dev/null
PATH=/usr/sbin:/usr/bin:/sbin:/bin make -s -C "$src" "${vars[@]}" -j"$jobs" >/dev/null 2>&1
t1=$(ms)
raw=$((t1 - t0))
grep -q '^CONFIG_RUST=y' "$src/.config" || { echo "baseline lost CONFIG_RUST"; exit 1; }
rm -rf "$work/raw"

t0=$(ms)
XDG_CACHE_HOME="$work/cache" ./rkmod kernel build --profile 6.1 -j"$jobs" -q >/dev/null
t1=$(ms)
rk=$((t1 - t0))
t0=$(ms)
XDG_CACHE_HOME="$work/cache" ./rkmod kernel build --profile 6.1 -q >/dev/null
t1=$(ms)
hit=$((t1 - t0))

echo "raw tar+config+make:     ${raw} ms"
echo "rkmod kernel build:      ${rk} ms"
echo "overhead:                $(awk "BEGIN{printf \"%+.1f %%\", ($rk-$raw)*100/$raw}")  (goal <= 3 %)"
echo "second build (cache hit): ${hit} ms (goal < 3000 ms)"
