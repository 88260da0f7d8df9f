#!/usr/bin/env bash
# The Java .deb writer against 'dpkg-deb --build' (run in a copy-on-write view of the bookworm package-tools
# root) on the same Rust-ready 6.1 headers tree ('rkmod package --format dir' of the cached tiny-rust 6.1
# kernel), in the same run, alternating, best of ROUNDS (default 2) each: wall time and package size.
# Goals: time <= 1.2x dpkg-deb's and a package no larger. Needs root (overlay mount, chroot). KEEP=1 keeps the
# work directory (both packages) for a look.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./rkmod --version >/dev/null
mvn -q -B -o test-compile -Drkmod.it.skipProvision=true >/dev/null
kdir=$(./rkmod kernel build --profile "${PROFILE:-6.1}" --json -q | sed -n 's/.*"tree": "\(.*\)".*/\1/p')
release=$(sed -n 's/.*"release": "\(.*\)".*/\1/p' "$kdir/rkmod-kernel.json" | head -1)
work=$(mktemp -d /var/tmp/rkmod-bench-deb.XXXXXX)
# if the JVM dies with the view mounted, take it down before deleting (the cached root below is never written)
trap 'if grep -q " $work/" /proc/mounts; then umount -R -l "$work/view/merged" || true; fi; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
./rkmod package --kdir "$kdir" --out "$work/tree" --format dir --no-verify -q >/dev/null
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-1704067200}
java -cp target/rkmod.jar:target/test-classes dev.rkmod.bench.DebBench "$work/tree" "$release" "$work" "${ROUNDS:-2}"
