#!/usr/bin/env bash
# JVM start: './rkmod --version' (the launcher: bash, its staleness check, the JVM with rkmod's class-data-sharing
# archive) against a Java hello world started with the same JVM flags, interleaved in the same run; the median of
# RUNS (default 15) of each. Goal: <= 1.5x. Also shown: 'java -jar target/rkmod.jar --version' (no launcher) and
# the hello world with its own AppCDS archive.
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
"$java_bin" "${flags[@]}" -XX:ArchiveClassesAtExit="$work/hello.jsa" -cp "$work/hello" Hello >/dev/null 2>&1 || true

# one timed run, in milliseconds (bash's clock: no fork around the command)
ms() { local t0=$EPOCHREALTIME; "$@" >/dev/null 2>&1; local t1=$EPOCHREALTIME; awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f\n", (b-a)*1000}'; }
median() { sort -n | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

: >"$work/rkmod"; : >"$work/jar"; : >"$work/hello.t"; : >"$work/hellocds"
for _ in $(seq "$runs"); do
  ms ./rkmod --version >>"$work/rkmod"
  ms "$java_bin" "${flags[@]}" -cp "$work/hello" Hello >>"$work/hello.t"
  ms "$java_bin" "${flags[@]}" -XX:SharedArchiveFile="$PWD/target/rkmod.jsa" -jar target/rkmod.jar --version >>"$work/jar"
  ms "$java_bin" "${flags[@]}" -XX:SharedArchiveFile="$work/hello.jsa" -cp "$work/hello" Hello >>"$work/hellocds"
done
r=$(median <"$work/rkmod"); h=$(median <"$work/hello.t"); j=$(median <"$work/jar"); hc=$(median <"$work/hellocds")
ratio=$(awk -v a="$r" -v b="$h" 'BEGIN{printf "%.2f", a/b}')
met=$(awk -v x="$ratio" 'BEGIN{print (x <= 1.5) ? "yes" : "no"}')
echo "startup: median of $runs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  ./rkmod --version (launcher)            ${r} ms"
echo "  java -jar target/rkmod.jar --version    ${j} ms (with target/rkmod.jsa, no launcher)"
echo "  java Hello, same flags                  ${h} ms"
echo "  java Hello, same flags + its own AppCDS ${hc} ms"
echo "RESULT|JVM start: rkmod --version|${r} ms|${h} ms|${ratio}x|<=1.5x|${met}"
