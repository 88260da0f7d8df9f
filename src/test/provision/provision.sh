#!/usr/bin/env bash
# Provisions what the tests need, idempotently ('mvn -B verify' is the whole test command; Maven runs this
# before the unit tests with profile 6.1, whose Debian rustc and tools make the unit tests' fixtures, and again
# before the integration tests with every profile they use):
#  1. the oracles the tests compare rkmod with: the kernel's sign-file (linux-kbuild-6.1), kmod's modinfo,
#     openssl, GNU cpio, xz and zstd;
#  2. the toolchain profiles, through rkmod's own 'deps --install' (host packages and debootstrap roots);
#  3. with --ci-tools (before the integration tests): what MatrixIT runs the emitted CI pipelines with: git and
#     rsync, Node.js 20 (NodeSource's nodejs package, from its apt repository, whose key is provision/nodesource.gpg:
#     Debian 12's own nodejs is 18, too old for gitlab-ci-local), and the npm tools of provision/npm/package-lock.json
#     (gitlab-ci-local 4.70.1, @action-validator/cli 0.6.0) installed with 'npm ci' into a local prefix,
#     ${XDG_CACHE_HOME:-~/.cache}/rkmod-test/npm, not globally.
# A second run does nothing. Usage: provision.sh CLASSPATH [--ci-tools] PROFILE...  (CLASSPATH: rkmod's classes and libraries)
set -euo pipefail
classpath=$1
shift
ci_tools=false
if [ "${1:-}" = --ci-tools ]; then
  ci_tools=true
  shift
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export DEBIAN_FRONTEND=noninteractive

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "provision: the tests need $1, and installing it needs root: run 'mvn -B verify' as root" \
         "(the integration tests need root anyway: debootstrap, chroot), or skip the integration tests with -DskipITs" >&2
    exit 3
  fi
}

node_ok() {
  command -v node >/dev/null && command -v npm >/dev/null \
    && node -e 'process.exit(parseInt(process.versions.node, 10) >= 20 ? 0 : 1)' 2>/dev/null
}

provision_ci_tools() {
  local missing=() p
  for p in git rsync ca-certificates; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    need_root "${missing[*]}"
    echo "provision: installing ${missing[*]} (gitlab-ci-local copies a git repository with rsync)" >&2
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  if ! node_ok; then
    need_root "Node.js 20"
    echo "provision: installing Node.js 20 from NodeSource's apt repository (Debian 12 has Node 18)" >&2
    install -m 0644 "$here/nodesource.gpg" /usr/share/keyrings/nodesource.gpg
    printf 'Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\nComponents: main\nArchitectures: %s\nSigned-By: /usr/share/keyrings/nodesource.gpg\n' \
      "$(dpkg --print-architecture)" > /etc/apt/sources.list.d/nodesource.sources
    apt-get update -q
    apt-get install -y -q nodejs
    node_ok || { echo "provision: Node.js 20 or later with npm is still missing after installing nodejs" >&2; exit 3; }
  fi
  local prefix="${XDG_CACHE_HOME:-$HOME/.cache}/rkmod-test/npm"
  if ! cmp -s "$here/npm/package-lock.json" "$prefix/package-lock.json" \
      || [ ! -x "$prefix/node_modules/.bin/gitlab-ci-local" ] || [ ! -x "$prefix/node_modules/.bin/action-validator" ]; then
    echo "provision: installing gitlab-ci-local and @action-validator/cli (npm ci) into $prefix" >&2
    rm -rf "$prefix"
    mkdir -p "$prefix"
    cp "$here/npm/package.json" "$here/npm/package-lock.json" "$prefix/"
    (cd "$prefix" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

oracles=(linux-kbuild-6.1 kmod openssl cpio xz-utils zstd)
missing=()
for p in "${oracles[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  need_root "${missing[*]}"
  echo "provision: installing the test oracles: ${missing[*]}" >&2
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if $ci_tools; then
  provision_ci_tools
fi

args=()
for p in "$@"; do args+=(--profile "$p"); done
start=$(date +%s)
java -cp "$classpath" dev.rkmod.cli.Main deps --install -q "${args[@]}"
echo "provision: profiles $* ready in $(( $(date +%s) - start )) s" >&2
