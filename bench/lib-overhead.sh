# shared by bench/build-overhead.sh, bench/vmtest-overhead.sh and bench/doctor.sh (sourced, not run)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./rkmod --version >/dev/null
runs=${RUNS:-5}
kdir=$(./rkmod kernel build --profile 6.1 --json -q | sed -n 's/.*"tree": "\(.*\)".*/\1/p')
work=$(mktemp -d /var/tmp/rkmod-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
ms() { date +%s%3N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
time_of() { local s e; s=$(ms); "$@" >/dev/null 2>&1 || true; e=$(ms); echo $((e - s)); }
# the distro rustc first, as a user of Debian's 6.1 toolchain has it (no rustup proxy on PATH)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
# prints one RESULT line: name, rkmod ms, baseline ms, goal ratio (e.g. 1.10)
result() {
  local name=$1 rk=$2 base=$3 goal=$4 ratio met
  ratio=$(awk "BEGIN{printf \"%.2f\", $rk/$base}")
  met=$(awk "BEGIN{print ($rk/$base <= $goal) ? \"yes\" : \"no\"}")
  echo "RESULT|$name|${rk} ms|${base} ms|${ratio}x|<=${goal}x|$met"
}
