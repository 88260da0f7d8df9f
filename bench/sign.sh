#!/usr/bin/env bash
# rkmod sign throughput against a loop of the kernel's scripts/sign-file, in the same run:
#   case 1: 1,000 copies of a small module (samples/rust/rust_minimal.ko of the cached 6.1 tree)
#   case 2: 300 copies of a real Debian module (af_key.ko of linux-image-6.1.0-*-amd64, its Debian
#           signature stripped first so that both tools sign the same unsigned bytes)
# Same key (openssl req -newkey rsa:2048), same hash (sha256). Each run signs fresh copies; rkmod and
# sign-file runs are interleaved and the median of RUNS (default 3) is reported. The outputs must be
# byte-identical, or the script fails. Goal: rkmod >= 5x faster than the sign-file loop on both cases.
# Env: RUNS, KEYBITS (default 2048), BENCH_DL (where the .deb is kept between runs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./rkmod --version >/dev/null
runs=${RUNS:-3}
bits=${KEYBITS:-2048}
dl=${BENCH_DL:-/var/tmp/rkmod-bench-dl}
sign_file=/usr/lib/linux-kbuild-6.1/scripts/sign-file
work=$(mktemp -d /var/tmp/rkmod-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

source bench/lib-sign.sh   # the working directory is the repository
sign_inputs "$work" "$dl" "rkmod bench" "$bits"
cp "$afkey" "$work/af_key.ko"

# one case: $1 name, $2 module, $3 copies
bench_case() {
  local name=$1 src=$2 n=$3 r s e sf=() rk=()
  for r in $(seq "$runs"); do
    rm -rf "$work/a" "$work/b"; mkdir -p "$work/a" "$work/b"
    for i in $(seq "$n"); do cp "$src" "$work/a/m$i.ko"; cp "$src" "$work/b/m$i.ko"; done
    sync
    if [ $((r % 2)) = 1 ]; then order="sf rk"; else order="rk sf"; fi
    for who in $order; do
      s=$(ms)
      if [ "$who" = sf ]; then
        for f in "$work"/a/*.ko; do "$sign_file" sha256 "$work/key.pem" "$work/cert.pem" "$f"; done
      else
        ./rkmod sign "$work"/b/*.ko --key "$work/key.pem" --cert "$work/cert.pem" --hash sha256 -q >/dev/null
      fi
      e=$(ms)
      if [ "$who" = sf ]; then sf+=($((e - s))); else rk+=($((e - s))); fi
    done
    for i in 1 "$n"; do
      cmp -s "$work/a/m$i.ko" "$work/b/m$i.ko" || { echo "$name: m$i.ko differs between sign-file and rkmod" >&2; exit 1; }
    done
    echo "  $name run $r: sign-file loop ${sf[-1]} ms, rkmod sign ${rk[-1]} ms"
  done
  local sfm rkm ratio met
  sfm=$(printf '%s\n' "${sf[@]}" | median)
  rkm=$(printf '%s\n' "${rk[@]}" | median)
  ratio=$(awk "BEGIN{printf \"%.1f\", $sfm/$rkm}")
  met=$(awk "BEGIN{print ($sfm/$rkm >= 5) ? \"yes\" : \"no\"}")
  echo "$name: sign-file loop ${sfm} ms, rkmod sign ${rkm} ms (medians of $runs), speed-up ${ratio}x (goal >= 5x); outputs identical"
  echo "RESULT|$name|${rkm} ms|${sfm} ms|${ratio}x faster|>=5x faster|$met"
}

echo "key: RSA $bits, sha256; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
bench_case "sign 1000 small modules" "$small" 1000
bench_case "sign 300 x af_key.ko" "$work/af_key.ko" 300
