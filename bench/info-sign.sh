#!/usr/bin/env bash
# info and sign throughput against the C tools, in the same run:
#   rkmod info (one process) over every .ko of Debian's linux-image-6.1 package  vs  a loop of 'modinfo'
#   rkmod sign (one process) over 1,000 module copies                            vs  a loop of sign-file
# Goals: info >= 3x faster, sign >= 5x faster.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./rkmod --version >/dev/null
work=$(mktemp -d /var/tmp/rkmod-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
ms() { date +%s%3N; }

pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
(cd "$work" && apt-get download "$pkg" >/dev/null 2>&1)
dpkg -x "$work"/linux-image-*.deb "$work/image"
find "$work/image" -name '*.ko*' | sort > "$work/modules.txt"
n=$(wc -l < "$work/modules.txt")

t0=$(ms); while read -r m; do modinfo "$m" >/dev/null; done < "$work/modules.txt"; t1=$(ms); mi=$((t1 - t0))
t0=$(ms); xargs -a "$work/modules.txt" ./rkmod info >/dev/null; t1=$(ms); ri=$((t1 - t0))

openssl req -new -nodes -utf8 -sha256 -days 36500 -batch -x509 -newkey rsa:2048 -keyout "$work/key.pem" \
  -out "$work/cert.pem" -subj "/CN=rkmod bench/" 2>/dev/null
chmod 600 "$work/key.pem"
src=$(./rkmod kernel build --profile 6.1 --json -q | sed -n 's/.*"tree": "\(.*\)".*/\1/p')/samples/rust/rust_minimal.ko
mkdir -p "$work/a" "$work/b"
for i in $(seq 1000); do cp "$src" "$work/a/m$i.ko"; cp "$src" "$work/b/m$i.ko"; done
t0=$(ms); for f in "$work"/a/*.ko; do /usr/lib/linux-kbuild-6.1/scripts/sign-file sha256 "$work/key.pem" "$work/cert.pem" "$f"; done; t1=$(ms); sf=$((t1 - t0))
t0=$(ms); ./rkmod sign "$work"/b/*.ko --key "$work/key.pem" --cert "$work/cert.pem" -q >/dev/null; t1=$(ms); rs=$((t1 - t0))
cmp -s "$work/a/m1.ko" "$work/b/m1.ko" && same=identical || same=DIFFERENT

echo "info:  $n modules from $pkg: modinfo loop ${mi} ms, rkmod info ${ri} ms, speed-up $(awk "BEGIN{printf \"%.1f\", $mi/$ri}")x (goal >= 3x)"
echo "sign:  1000 modules: sign-file loop ${sf} ms, rkmod sign ${rs} ms, speed-up $(awk "BEGIN{printf \"%.1f\", $sf/$rs}")x (goal >= 5x); outputs $same"
