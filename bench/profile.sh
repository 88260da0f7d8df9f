#!/usr/bin/env bash
# Where rkmod's CPU time goes, for the rows of bench/all.sh that miss their goal: async-profiler (Maven Central's
# tools.profiler:async-profiler, fetched once into $RKMOD_BENCH_DATA) samples every thread of every JVM the row starts
# (JAVA_TOOL_OPTIONS, so xargs' several JVMs are all seen), on CPU time, every 100 us, and the stacks are sorted into
# what a C tool never pays (JVM boot, class loading, JIT compilers, interpreted bytecode, exit) and rkmod's own code.
#   bench/profile.sh info|info-F|sign|build|vmtest [RUNS]
# Prints a table of CPU milliseconds and shares, then rkmod's ten hottest methods (self time, leaf rkmod frame).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
row=${1:?usage: bench/profile.sh info|info-F|sign|build|vmtest [RUNS]}
runs=${2:-3}
./rkmod --version >/dev/null
data=${RKMOD_BENCH_DATA:-/var/tmp/rkmod-bench-data}
ver=4.1
ap="$data/async-profiler-$ver/linux-x64/libasyncProfiler.so"
if [ ! -f "$ap" ]; then
  mvn -q -B dependency:get -Dartifact="tools.profiler:async-profiler:$ver" >/dev/null
  mkdir -p "$data/async-profiler-$ver"
  (cd "$data/async-profiler-$ver" && jar xf ~/.m2/repository/tools/profiler/async-profiler/$ver/async-profiler-$ver.jar linux-x64/libasyncProfiler.so 2>/dev/null \
    || unzip -q -o ~/.m2/repository/tools/profiler/async-profiler/$ver/async-profiler-$ver.jar 'linux-x64/*')
fi
work=$(mktemp -d /var/tmp/rkmod-profile.XXXXXX)
trap 'rm -rf "$work"' EXIT
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

kdir() { ./rkmod kernel build --profile 6.1 --json -q | sed -n 's/.*"tree": "\(.*\)".*/\1/p'; }
case "$row" in
  info|info-F)
    pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
    [ -f "$data/$pkg/.done" ] || bash bench/info.sh >/dev/null   # fetches the module set
    find "$data/$pkg/image" -name '*.ko*' | sort >"$work/modules.txt"
    if [ "$row" = info ]; then cmd=(xargs -a "$work/modules.txt" ./rkmod info); else cmd=(xargs -a "$work/modules.txt" ./rkmod info -F vermagic); fi ;;
  sign)
    source bench/lib-sign.sh
    sign_inputs "$work" "${BENCH_DL:-/var/tmp/rkmod-bench-dl}" "rkmod profile" 2048
    mkdir -p "$work/m"
    for i in $(seq 1000); do cp "$small" "$work/m/m$i.ko"; done
    cmd=(./rkmod sign --key "$work/key.pem" --cert "$work/cert.pem" --force "$work"/m/*.ko) ;;
  build)
    k=$(kdir); ./rkmod new prof_mod --kdir "$k" --dir "$work/mod" -q >/dev/null
    cmd=(./rkmod build "$work/mod" --kdir "$k") ;;
  vmtest)
    k=$(kdir); ./rkmod new prof_mod --kdir "$k" --dir "$work/mod" -q >/dev/null; ./rkmod build "$work/mod" --kdir "$k" -q >/dev/null
    cmd=(./rkmod vmtest "$work/mod/prof_mod.ko" --kdir "$k" --kvm off) ;;
  *) echo "bench/profile.sh: unknown row '$row' (info, info-F, sign, build, vmtest)" >&2; exit 2 ;;
esac

for r in $(seq "$runs"); do
  JAVA_TOOL_OPTIONS="-agentpath:$ap=start,event=cpu,interval=100us,threads,ann,file=$work/p$r-%p.collapsed,collapsed" \
    "${cmd[@]}" >/dev/null 2>&1 || true
done
ls "$work"/*.collapsed >/dev/null 2>&1 || { echo "no profile was written" >&2; exit 1; }

cat "$work"/*.collapsed | awk -v runs="$runs" -v row="$row" '
function cat_of(thread, s) {
  if (thread ~ /CompilerThre/) return "JIT compiler threads (C1/C2)"
  if (thread ~ /^(VM Thread|GC Thread|VM Periodic|Service Thread|Signal Dispatch|Reference Handl|Finalizer|Common-Cleaner|Sweeper)/) return "JVM housekeeping threads (VM, GC, service)"
  if (s ~ /SystemDictionary::|ClassFileParser::|ClassLoader::load|Verifier::|LinkResolver::|InstanceKlass::link|Rewriter::|jdk\/internal\/loader\/|java\/lang\/ClassLoader\.loadClass|MetaspaceShared::|FileMapInfo::/) return "class loading, linking, CDS mapping"
  if (s !~ /dev\/rkmod\// && s ~ /Threads::create_vm|JNI_CreateJavaVM|LoadMainClass|JavaMain;[^;]*InitializeJVM/) return "JVM boot before main"
  if (s ~ /before_exit|DestroyJavaVM|vm_exit|JVM_Halt|Shutdown\.|java\/lang\/System\.exit/) return "JVM exit"
  if (s ~ /CompilationPolicy::|CompileBroker::|frequency_counter_overflow|SharedRuntime::resolve|LinkResolver|MethodHandle|LambdaForm|BootstrapMethodInvoker/) return "JIT, call-site and lambda linkage on Java threads"
  if (s ~ /dev\/rkmod\//) {
    if (s ~ /entry_SYSCALL|_\[k\]$/) return "rkmod: in the kernel (read, write, open, futex, fork)"
    if (s ~ /(montgomery_multiply|montgomery_square|mulAdd|implCompress|StubRoutines)$/) return "rkmod: JDK intrinsics (RSA Montgomery multiplication, SHA-256)"
    if (s ~ /_\[0\]$/) return "rkmod: interpreted bytecode"
    if (s ~ /_\[(1|j|i)\]$/) return "rkmod: compiled code"
    return "rkmod: JVM runtime called by rkmod (allocation, GC, stubs)"
  }
  return "other (JVM runtime, libc, launcher)"
}
{
  n = $NF; line = $0; sub(/ [0-9]+$/, "", line)
  thread = line; sub(/;.*/, "", thread); sub(/^\[/, "", thread); sub(/ tid=.*/, "", thread)
  c = cat_of(thread, line); by[c] += n; total += n
  if (line ~ /dev\/rkmod\//) {
    k = split(line, f, ";"); leaf = ""
    for (i = k; i >= 1; i--) if (f[i] ~ /^dev\/rkmod\//) { leaf = f[i]; break }
    sub(/_\[.\]$/, "", leaf); gsub(/\//, ".", leaf); self[leaf] += n; rk += n
  }
}
END {
  printf "profile of %s: %d runs, %.0f ms of CPU per run (async-profiler, cpu, 100 us)\n", row, runs, total / 10 / runs
  for (c in by) printf "%8.1f ms  %5.1f %%  %s\n", by[c] / 10 / runs, 100 * by[c] / total, c | "sort -rn"
  close("sort -rn")
  printf "rkmod methods with the most CPU below them (leaf rkmod frame, %% of all CPU):\n"
  for (m in self) printf "%8.1f ms  %5.1f %%  %s\n", self[m] / 10 / runs, 100 * self[m] / total, m | "sort -rn | head -10"
  close("sort -rn | head -10")
}'
