#!/usr/bin/env bash
# JVM start: './rkmod --version' (the launcher: bash, its staleness check, the JVM with rkmod's class-data-sharing
# archive) against a Java hello world started with the same JVM flags, interleaved in the same run; the median of
# RUNS (default 15) of each, as wall time and as CPU time (user+sys, which a loaded machine inflates much less).
# Goal: <= 1.5x (wall). Also shown: the JVM as the launcher starts it, without the launcher, and the hello world
# with its own AppCDS archive.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${RUNS:-15}
./rkmod --version >/dev/null   # builds the jar and its archive if needed
work=$(mktemp -d /var/tmp/rkmod-bench-startup.XXXXXX)
trap 'rm -rf "$work"' EXIT
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
javac_bin="${JAVA_HOME:+$JAVA_HOME/bin/}javac"
mkdir -p "$work/hello"
printf 'public class Hello { public static void main(String[] a) { System.out.println("hello"); } }\n' >"$work/hello/Hello.java"
"$javac_bin" -d "$work/hello" "$work/hello/Hello.java"
flags=(-XX:+UseSerialGC -Xshare:auto -XX:-UsePerfData -XX:TieredStopAtLevel=1)   # the launcher's, for --version
# the hello world's own archive, made as the launcher makes rkmod's (a static one from a training run's class list)
"$java_bin" "${flags[@]}" -XX:DumpLoadedClassList="$work/hello.classes" -cp "$work/hello" Hello >/dev/null 2>&1 || true
"$java_bin" -Xshare:dump -XX:SharedClassListFile="$work/hello.classes" -XX:SharedArchiveFile="$work/hello.jsa" \
  -cp "$work/hello" >/dev/null 2>&1 || true

# run TIMES CMD...: appends "wall user sys" (seconds, children included) of one run, measured by bash itself
run() { local times=$1; shift; local TIMEFORMAT='%3R %3U %3S'; { time "$@" >/dev/null 2>&1; } 2>>"$times"; }
median() { sort -n | awk '{v[NR]=$1} END{printf "%.0f\n", (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
wall() { awk '{print $1 * 1000}' "$1" | median; }
cpu() { awk '{print ($2 + $3) * 1000}' "$1" | median; }

for _ in $(seq "$runs"); do
  run "$work/rkmod" ./rkmod --version
  run "$work/hello.t" "$java_bin" "${flags[@]}" -cp "$work/hello" Hello
  run "$work/jvm" "$java_bin" "${flags[@]}" -XX:SharedArchiveFile="$PWD/target/rkmod.jsa" -cp "$PWD/target/rkmod.jar" dev.rkmod.cli.Main --version
  run "$work/hellocds" "$java_bin" "${flags[@]}" -XX:SharedArchiveFile="$work/hello.jsa" -cp "$work/hello" Hello
done
r=$(wall "$work/rkmod"); h=$(wall "$work/hello.t"); j=$(wall "$work/jvm"); hc=$(wall "$work/hellocds")
rc=$(cpu "$work/rkmod"); hcpu=$(cpu "$work/hello.t"); jc=$(cpu "$work/jvm"); hcc=$(cpu "$work/hellocds")
ratio=$(awk -v a="$r" -v b="$h" 'BEGIN{printf "%.2f", a/b}')
cratio=$(awk -v a="$rc" -v b="$hcpu" 'BEGIN{printf "%.2f", a/b}')
met=$(awk -v x="$ratio" 'BEGIN{print (x <= 1.5) ? "yes" : "no"}')
echo "startup: median of $runs, load $(cut -d' ' -f1-3 /proc/loadavg)           wall      cpu"
echo "  ./rkmod --version (launcher)                      ${r} ms    ${rc} ms"
echo "  the launcher's JVM command alone                  ${j} ms    ${jc} ms"
echo "  java Hello, same flags                            ${h} ms    ${hcpu} ms"
echo "  java Hello, same flags + its own AppCDS           ${hc} ms    ${hcc} ms"
echo "  ratio to the hello world: wall ${ratio}x, cpu ${cratio}x"
echo "RESULT|JVM start: rkmod --version|${r} ms|${h} ms|${ratio}x|<=1.5x|${met}"
