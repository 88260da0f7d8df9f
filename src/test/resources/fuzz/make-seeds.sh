#!/usr/bin/env bash
# Regenerates the fuzz seeds in this directory from real files made by real tools: the cached 6.1 kernel tree
# ('./rkmod kernel build --profile 6.1'), gcc, sign-file, xz/zstd/gzip, tar, dpkg-deb and this machine's dpkg/apt
# files. Seeds are kept small (excerpts of the big text files) so that one fuzz execution stays cheap.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
tree=$(cd "$repo" && ./rkmod kernel build --profile 6.1 --json -q | sed -n 's/.*"tree": "\(.*\)".*/\1/p')
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
s() { mkdir -p "$here/$1"; echo "$here/$1"; }

ko=$tree/samples/rust/rust_minimal.ko
openssl req -new -nodes -utf8 -sha256 -days 36500 -batch -x509 -newkey rsa:2048 -keyout "$work/key.pem" \
  -out "$work/cert.pem" -subj "/CN=rkmod fuzz seed/" 2>/dev/null
cp "$ko" "$work/signed.ko"
/usr/lib/linux-kbuild-6.1/scripts/sign-file sha256 "$work/key.pem" "$work/cert.pem" "$work/signed.ko"
d=$(s elf); cp "$ko" "$d/rust_minimal.ko"; cp "$work/signed.ko" "$d/rust_minimal.signed.ko"
printf 'int f(void){return 1;}\n' > "$work/m.c"; gcc -m32 -c "$work/m.c" -o "$d/elf32.o" 2>/dev/null || true
d=$(s module-signature); tail -c 1024 "$work/signed.ko" > "$d/rust_minimal.signed.tail"  # the trailer is read from the end
d=$(s compressed-module)
xz -C crc32 --lzma2=dict=1MiB -c "$work/signed.ko" > "$d/rust_minimal.ko.xz"
zstd -q -19 -c "$work/signed.ko" > "$d/rust_minimal.ko.zst"
gzip -9n -c "$work/signed.ko" > "$d/rust_minimal.ko.gz"
d=$(s rmeta); head -c 4096 "$tree/rust/libcompiler_builtins.rmeta" > "$d/libcompiler_builtins.rmeta"
head -c 4096 "$tree/rust/libkernel.rmeta" > "$d/libkernel.rmeta"
# a crate whose exported macro includes a file of the object tree, as kernel::warn_on! does: the literal and 2 KiB around it
d=$(s rmeta-objtree)
printf '%s\n' '#![no_std]' '#[macro_export]' 'macro_rules! warn_on { () => {' \
  '  include!(concat!(env!("OBJTREE"), "/rust/kernel/generated_arch_warn_asm.rs"))' '}; }' > "$work/k.rs"
/usr/bin/rustc --emit=metadata --crate-type=lib --crate-name kernel "$work/k.rs" -o "$work/libkernel.rmeta"
at=$(grep -abo '/rust/kernel/generated_arch_warn_asm.rs' "$work/libkernel.rmeta" | head -1 | cut -d: -f1)
tail -c +$((at > 1024 ? at - 1024 : 1)) "$work/libkernel.rmeta" | head -c 2048 > "$d/warn_on.rmeta"
d=$(s target-spec); cp "$tree/rust/target.json" "$d/target.json"
d=$(s class-annotations)   # class files javac made of two commands and the mixin (what cli.FastArgs reads)
for c in BuildCommand VmtestCommand OutputOptions; do cp "$repo/target/classes/dev/rkmod/cli/$c.class" "$d/$c.class"; done
d=$(s kernel-config); head -c 2500 "$tree/.config" > "$d/head.config"; grep -E '^(# )?CONFIG_(RUST|X86|MODULE|CC_|LD_)' "$tree/.config" > "$d/rust.config"
d=$(s kernel-config-xz); head -c 2500 "$tree/.config" | xz -C crc32 --lzma2=dict=64KiB > "$d/config.xz"
d=$(s kconfig-depends); awk '/^config RUST$/{p=1} p{print} p&&/^\s*help/{exit}' "$tree/init/Kconfig" > "$d/rust.Kconfig"
awk '/^config RUST_IS_AVAILABLE$/{p=1} p&&/^$/{exit} p{print}' "$tree/init/Kconfig" >> "$d/rust.Kconfig"
d=$(s symvers); { head -40 "$tree/Module.symvers"; grep -m 40 $'\t_R' "$tree/Module.symvers"; } > "$d/Module.symvers"
# modules.dep: an excerpt of the one vmtest made for Debian sid's modules (cache kind distro-modules) when it is cached,
# else the host's depmod over the 6.1 module laid out under three names
d=$(s modules-dep); sid=$(ls -d "${XDG_CACHE_HOME:-$HOME/.cache}"/rkmod/distro-modules/*/lib/modules/*/modules.dep 2>/dev/null | head -1 || true)
if [ -n "$sid" ]; then
  { grep -E '^kernel/fs/(btrfs|configfs)|^kernel/drivers/iio/industrialio|^kernel/lib/raid|^kernel/lib/crypto/libblake2b' "$sid"
    head -30 "$sid"; } > "$d/modules.dep"
else
  for m in kernel/fs/a/a.ko kernel/lib/b-c.ko extra/rust_minimal.ko; do mkdir -p "$work/dm/lib/modules/0.0.0/$(dirname $m)"
    cp "$ko" "$work/dm/lib/modules/0.0.0/$m"; done
  depmod -b "$work/dm" 0.0.0 2>/dev/null; cp "$work/dm/lib/modules/0.0.0/modules.dep" "$d/modules.dep"
fi
d=$(s rust-exports); head -c 3000 "$tree/rust/exports_kernel_generated.h" > "$d/exports_kernel_generated.h"
d=$(s bzimage); head -c 16384 "$tree/arch/x86/boot/bzImage" > "$d/bzImage.head"
d=$(s kernel-makefile); head -c 1500 "$tree/Makefile" > "$d/Makefile"
d=$(s kernel-manifest); cp "$tree/rkmod-kernel.json" "$d/"
d=$(s dpkg-status); awk 'BEGIN{RS="";ORS="\n\n"} NR<=8' /var/lib/dpkg/status > "$d/status"
d=$(s os-release); cp /etc/os-release "$d/os-release"
d=$(s dpkg-file-lists); head -60 /var/lib/dpkg/info/adduser.list > "$d/adduser.list"
d=$(s apt-sources-list); grep -h '' /etc/apt/sources.list 2>/dev/null | head -20 > "$d/sources.list" || true
[ -s "$d/sources.list" ] || printf 'deb http://deb.debian.org/debian bookworm main\ndeb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://security.debian.org/debian-security bookworm-security main contrib\n# deb-src http://deb.debian.org/debian bookworm main\n' > "$d/sources.list"
d=$(s apt-sources-deb822); found=$(ls /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 || true)
if [ -n "$found" ]; then cp "$found" "$d/debian.sources"; else
printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb deb-src\nURIs: http://security.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\nEnabled: no\n' > "$d/debian.sources"; fi
# a small package, one per compression dpkg-deb knows
mkdir -p "$work/pkg/DEBIAN" "$work/pkg/usr/lib/modules/6.1.0/extra" "$work/pkg/usr/share/doc/rkmod-fuzz"
printf 'Package: rkmod-fuzz\nVersion: 1.0-1\nArchitecture: amd64\nMaintainer: rkmod <rkmod@example.org>\nDescription: fuzz seed\n a package made by dpkg-deb\n' > "$work/pkg/DEBIAN/control"
printf 'hello\n' > "$work/pkg/usr/share/doc/rkmod-fuzz/README"
printf 'module\n' > "$work/pkg/usr/lib/modules/6.1.0/extra/m.ko"
ln -s ../../usr/lib/modules/6.1.0/extra/m.ko "$work/pkg/usr/share/doc/rkmod-fuzz/m.ko"
d=$(s deb)
for z in none gzip xz zstd; do dpkg-deb --root-owner-group -Z"$z" -b "$work/pkg" "$d/rkmod-fuzz-$z.deb" >/dev/null; done
d=$(s deb-control-text); cp "$work/pkg/DEBIAN/control" "$d/control"
# a small archive as 'rkmod package' and KernelResolver extract: plain, xz and zstd
mkdir -p "$work/t/dir/sub"; printf 'x\n' > "$work/t/dir/sub/file"; ln -s sub/file "$work/t/dir/link"
d=$(s tar)
tar -C "$work/t" --owner=0 --group=0 -cf "$d/tree.tar" dir
xz -C crc32 -c "$d/tree.tar" > "$d/tree.tar.xz"; zstd -q -c "$d/tree.tar" > "$d/tree.tar.zst"
# a real console log of 'rkmod vmtest' with the KTAP lines of the unit test appended (ktap/console.log), a
# headers manifest 'rkmod headers complete' wrote, and rustc's own version line; project-toml/ (ProjectToml.format's
# output) and package-manifest/ (PackageManifest.toJson's layout) are kept as written by hand
d=$(s headers-manifest); f=$(ls ~/.cache/rkmod/headers-package/*/rkmod-headers.json 2>/dev/null | head -1 || true)
[ -n "$f" ] && cp "$f" "$d/"
d=$(s rustc-version); rustc --version > "$d/rustc.txt"
echo "seeds: $(du -sh "$here" | cut -f1)"
