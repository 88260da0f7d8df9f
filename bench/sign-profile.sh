#!/usr/bin/env bash
# Where the time of 'rkmod sign' goes: a JFR profile (Java samples every ~1 ms, JIT compilations, GC pauses) of the two
# cases of bench/sign.sh (1,000 copies of a small module, 300 copies of Debian's af_key.ko), run through the launcher
# with its own JVM flags. Prints, per case: wall and CPU time (user, sys), the Java samples by what they were doing
# (innermost matching frame, so RSA includes BigInteger, start-up includes class loading and picocli), the top frames,
# and the time the JIT compilers took. Kernel time (file creation, rename) is not sampled by JFR: see the sys figure.
# JFR samples only threads running Java code: time in the JIT compilers, in C2's Montgomery intrinsics (native) and in
# the kernel is not in its samples. When perf(1) is installed, a second run of each case is sampled by perf as well
# (every thread, user and kernel): the share of the samples by thread and code, and the main kernel paths.
# Env: BENCH_DL (where bench/sign.sh keeps the .deb), KEEP=1 keeps the recordings (their path is printed), PERF=0 skips perf.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./rkmod --version >/dev/null
dl=${BENCH_DL:-/var/tmp/rkmod-bench-dl}
work=$(mktemp -d /var/tmp/rkmod-sign-profile.XXXXXX)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
source bench/lib-sign.sh   # the working directory is the repository
sign_inputs "$work" "$dl" "rkmod profile" 2048
# the JDK's 'profile' settings with Java and native sampling every millisecond, and every JIT compilation
jh=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
sed -E -e '/jdk.(ExecutionSample|NativeMethodSample)"/,/<\/event>/ s#(<setting name="period"[^>]*>)[^<]*#\11 ms#' \
  -e '/jdk.Compilation"/,/<\/event>/ s#(<setting name="threshold"[^>]*>)[^<]*#\10 ms#' "$jh/lib/jfr/profile.jfc" >"$work/fine.jfc"

profile() {
  local name=$1 src=$2 n=$3 i
  rm -rf "$work/m"; mkdir -p "$work/m"
  for i in $(seq "$n"); do cp "$src" "$work/m/m$i.ko"; done
  sync
  /usr/bin/time -o "$work/time" -f "%e %U %S" env JAVA_TOOL_OPTIONS="-XX:StartFlightRecording=filename=$work/$name.jfr,settings=$work/fine.jfc" \
    ./rkmod sign "$work"/m/*.ko --key "$work/key.pem" --cert "$work/cert.pem" --hash sha256 -q >/dev/null 2>"$work/err"
  read -r wall user sys <"$work/time"
  echo "== $name: wall ${wall}s, user ${user}s, sys ${sys}s (with JFR); load $(cut -d' ' -f1-3 /proc/loadavg)"
  jfr print --stack-depth 64 --events jdk.ExecutionSample "$work/$name.jfr" | awk '
    /^jdk.ExecutionSample/ { n++; depth = 0; cat = ""; next }
    /^[[:space:]]+[a-zA-Z_$][a-zA-Z0-9_.$<>]*\(.*\)[[:space:]]+line:/ {
      f = $1; sub(/\(.*/, "", f); depth++
      if (depth == 1) top[f]++
      if (cat == "") {
        if (f ~ /^(java\.math\.|sun\.security\.rsa\.)/) cat = "RSA (BigInteger, RSACore)"
        else if (f ~ /^sun\.security\.provider\.(SHA|DigestBase|ByteArrayAccess)/) cat = "SHA-256"
        else if (f ~ /^dev\.rkmod\.infra\.fs\.|^sun\.nio\.|^java\.nio\.|^java\.io\./) cat = "reading and writing files"
        else if (f ~ /^dev\.rkmod\.format\.(Elf|ModuleSignature|CompressedModule)/) cat = "module checks (ELF, trailer)"
        else if (f ~ /^(picocli\.|dev\.rkmod\.cli\.|jdk\.internal\.loader\.|java\.lang\.ClassLoader|java\.lang\.invoke\.|jdk\.internal\.reflect\.|sun\.reflect\.|java\.lang\.reflect\.)/) cat = "start-up (picocli, class loading, reflection)"
        else if (f ~ /^dev\.rkmod\.workflow\.sign\.Keys|^sun\.security\.(util|x509|pkcs)|^java\.security\./) cat = "key and certificate"
      }
      next
    }
    /^}/ { c[cat == "" ? "other" : cat]++ }
    END {
      printf "  Java samples: %d\n", n
      for (k in c) printf "  %5.1f %%  %s\n", 100 * c[k] / n, k | "sort -k1 -nr"
      close("sort -k1 -nr")
      print "  top frames:"
      for (k in top) printf "  %5.1f %%  %s\n", 100 * top[k] / n, k | "sort -k1 -nr | head -12"
      close("sort -k1 -nr | head -12")
    }'
  jfr print --events jdk.Compilation "$work/$name.jfr" | awk '
    /duration =/ { d = $3; u = $4; ms = (u == "s") ? d * 1000 : (u == "us") ? d / 1000 : (u == "ns") ? d / 1e6 : d }
    /compiler =/ { c = ($3 ~ /c2/) ? "C2" : "C1"; t[c] += ms; k[c]++ }
    /method = java\.math\./ { bi[c] += ms }
    END { printf "  JIT: C1 %d compilations %.0f ms, C2 %d compilations %.0f ms (BigInteger: C1 %.0f ms, C2 %.0f ms), on the compiler threads\n",
          k["C1"], t["C1"], k["C2"], t["C2"], bi["C1"], bi["C2"] }'
  jfr print --events jdk.GarbageCollection "$work/$name.jfr" | awk '
    /sumOfPauses =/ { d = $3; u = $4; s += (u == "s") ? d * 1000 : (u == "us") ? d / 1000 : d; n++ }
    END { printf "  GC: %d collections, %.1f ms of pauses\n", n, s }'
}

perf_profile() {
  local name=$1 src=$2 n=$3 i
  rm -rf "$work/m"; mkdir -p "$work/m"
  for i in $(seq "$n"); do cp "$src" "$work/m/m$i.ko"; done
  sync
  perf record -q -F 2999 -g -o "$work/$name.perf" -- ./rkmod sign "$work"/m/*.ko --key "$work/key.pem" --cert "$work/cert.pem" \
    --hash sha256 -q >/dev/null 2>&1
  echo "  perf, every thread (share of all samples; JIT = compiled and interpreted Java code):"
  perf report -i "$work/$name.perf" --no-children --sort comm,dso -g none 2>/dev/null | grep -v '^#' | grep -v '^$' |
    sed -E 's/\[JIT\] tid [0-9]+/[JIT]/' | awk '{p=$1; $1=""; a[$0]+=p} END {for (k in a) printf "  %6.1f %%  %s\n", a[k], k}' |
    sort -k1 -nr | head -10
  echo "  perf, main paths (inclusive):"
  perf report -i "$work/$name.perf" --children --sort sym -g none 2>/dev/null | grep -v '^#' |
    grep -E ' (montgomery_multiply|montgomery_square|ext4_create|__x64_sys_rename|__x64_sys_openat|exc_page_fault|CompileBroker::invoke_compiler_on_method|ClassLoader::load_class|SystemDictionary::resolve_or_null)$' |
    awk '{printf "  %6s  %s\n", $1, $NF}'
}

profile "sign-1000-small" "$small" 1000
profile "sign-300-af_key" "$afkey" 300
if [ "${PERF:-1}" != 0 ] && command -v perf >/dev/null 2>&1; then
  echo "== perf: sign-1000-small"; perf_profile "sign-1000-small" "$small" 1000
  echo "== perf: sign-300-af_key"; perf_profile "sign-300-af_key" "$afkey" 300
fi
[ -z "${KEEP:-}" ] || echo "recordings kept in $work"
