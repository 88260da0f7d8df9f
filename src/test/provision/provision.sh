#!/usr/bin/env bash
# Provisions what the tests need, idempotently ('mvn -B verify' is the whole test command; Maven runs this
# before the unit tests with profile 6.1, whose Debian rustc and tools make the unit tests' fixtures, and again
# before the integration tests with every profile they use):
#  1. the oracles the tests compare rkmod with: the kernel's sign-file (linux-kbuild-6.1), kmod's modinfo,
#     openssl, GNU cpio, xz and zstd;
#  2. the toolchain profiles, through rkmod's own 'deps --install' (host packages and debootstrap roots).
# A second run does nothing. Usage: provision.sh CLASSPATH PROFILE...  (CLASSPATH: rkmod's classes and libraries)
set -euo pipefail
classpath=$1
shift
export DEBIAN_FRONTEND=noninteractive

oracles=(linux-kbuild-6.1 kmod openssl cpio xz-utils zstd)
missing=()
for p in "${oracles[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "provision: the tests need ${missing[*]}, and installing them needs root: run 'mvn -B verify' as root" \
         "(the integration tests need root anyway: debootstrap, chroot), or skip the integration tests with -DskipITs" >&2
    exit 3
  fi
  echo "provision: installing the test oracles: ${missing[*]}" >&2
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

args=()
for p in "$@"; do args+=(--profile "$p"); done
start=$(date +%s)
java -cp "$classpath" dev.rkmod.cli.Main deps --install -q "${args[@]}"
echo "provision: profiles $* ready in $(( $(date +%s) - start )) s" >&2
