#!/usr/bin/env bash
# 'rkmod info' against kmod's modinfo over every .ko of Debian's newest linux-image-6.1.0-*-amd64, both run the
# way a batch runs them ('xargs rkmod info' vs 'xargs modinfo', so xargs splits the list into the same few
# invocations), interleaved, best of RUNS (default 5). Two rows: the whole text, and '-F vermagic' (outputs
# must be identical). Goal for both: <= 1.0x. Also shown: the output sizes, how many invocations xargs makes
# and the floor those JVM starts alone cost (a Java hello world with the launcher's flags, times that count).
# Each figure is shown as wall time and as CPU time (user+sys), which a loaded machine inflates much less.
# The package is downloaded once into $RKMOD_BENCH_DATA (default /var/tmp/rkmod-bench-data).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${RUNS:-5}
./rkmod --version >/dev/null   # builds the jar and its archive if needed
data=${RKMOD_BENCH_DATA:-/var/tmp/rkmod-bench-data}
work=$(mktemp -d /var/tmp/rkmod-bench-info.XXXXXX)
trap 'rm -rf "$work"' EXIT

pkg=$(apt-cache search --names-only '^linux-image-6\.1\.0-[0-9]+-amd64$' | awk '{print $1}' | sort -V | tail -1)
[ -n "$pkg" ] || { echo "info.sh: no linux-image-6.1.0-*-amd64 in the apt lists (run apt-get update)" >&2; exit 3; }
tree="$data/$pkg"
if [ ! -f "$tree/.done" ]; then
  rm -rf "$tree" && mkdir -p "$tree"
  (cd "$tree" && apt-get download "$pkg" >/dev/null 2>&1)
  dpkg -x "$tree"/linux-image-*.deb "$tree/image"
  rm -f "$tree"/linux-image-*.deb
  touch "$tree/.done"
fi
find "$tree/image" -name '*.ko*' | sort >"$work/modules.txt"
n=$(wc -l <"$work/modules.txt")
calls=$(xargs -a "$work/modules.txt" sh -c 'echo $#' sh | wc -l)
cat $(cat "$work/modules.txt") >/dev/null   # both read from the page cache

# run OUT TIMES CMD...: runs CMD with its standard output in OUT and appends "wall user sys" in seconds to TIMES
# (bash's own clock and rusage, children included: no fork around the command)
run() { local out=$1 times=$2; shift 2; local TIMEFORMAT='%3R %3U %3S'; { time "$@" >"$out" 2>/dev/null; } 2>>"$times"; }
best() { awk '{printf "%.0f\n", $1 * 1000}' | sort -n | head -1; }            # best wall time, ms
cpu() { awk '{printf "%.0f\n", ($2 + $3) * 1000}' | sort -n | head -1; }     # least user+sys, ms: what load cannot inflate much
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
mkdir -p "$work/hello"
printf 'public class Hello { public static void main(String[] a) { System.out.println("hello"); } }\n' >"$work/hello/Hello.java"
"${JAVA_HOME:+$JAVA_HOME/bin/}javac" -d "$work/hello" "$work/hello/Hello.java"

for _ in $(seq "$runs"); do
  run "$work/mi.out" "$work/t.mi" xargs -a "$work/modules.txt" modinfo
  run "$work/ri.out" "$work/t.ri" xargs -a "$work/modules.txt" ./rkmod info
  run "$work/mf.out" "$work/t.mf" xargs -a "$work/modules.txt" modinfo -F vermagic
  run "$work/rf.out" "$work/t.rf" xargs -a "$work/modules.txt" ./rkmod info -F vermagic
  run /dev/null "$work/t.h" "$java_bin" -XX:+UseSerialGC -Xshare:auto -XX:-UsePerfData -XX:TieredStopAtLevel=1 -cp "$work/hello" Hello
done
mi=$(best <"$work/t.mi"); ri=$(best <"$work/t.ri"); mf=$(best <"$work/t.mf"); rf=$(best <"$work/t.rf"); h=$(best <"$work/t.h")
cmi=$(cpu <"$work/t.mi"); cri=$(cpu <"$work/t.ri"); cmf=$(cpu <"$work/t.mf"); crf=$(cpu <"$work/t.rf"); ch=$(cpu <"$work/t.h")
mis=$(wc -c <"$work/mi.out"); ris=$(wc -c <"$work/ri.out")
cmp -s "$work/mf.out" "$work/rf.out" && same=identical || same=DIFFERENT
# rkmod adds build-id and __versions, shows the signature's length instead of its hex, and parm/parmtype as
# .modinfo has them (modinfo merges them); the lines of the other common fields must be byte-identical
keys='^(filename|author|description|license|vermagic|name|depends|alias|softdep|firmware|srcversion|retpoline|intree|import_ns|sig_id|signer|sig_key|sig_hashalgo):'
grep -E "$keys" "$work/ri.out" >"$work/ri.common" || true
grep -E "$keys" "$work/mi.out" >"$work/mi.common" || true
cmp -s "$work/mi.common" "$work/ri.common" && common=identical || common=DIFFERENT
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
met() { awk -v x="$1" -v g="$2" 'BEGIN{print (x <= g) ? "yes" : "no"}'; }
echo "info: $n modules of $pkg, $calls invocations of each tool by xargs, best of $runs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  xargs modinfo              ${mi} ms (cpu ${cmi} ms), $mis bytes"
echo "  xargs rkmod info           ${ri} ms (cpu ${cri} ms), $ris bytes (adds build-id and __versions, shows the signature's length, not its hex,"
echo "                             parm/parmtype as .modinfo has them; the lines of the other fields: $common)"
echo "  xargs modinfo -F vermagic  ${mf} ms (cpu ${cmf} ms)"
echo "  xargs rkmod info -F vermagic ${rf} ms (cpu ${crf} ms), output $same"
echo "  floor: $calls JVM starts of a hello world with the launcher's flags = $calls x ${h} ms = $((calls * h)) ms"
echo "         (cpu: $calls x ${ch} ms = $((calls * ch)) ms, against modinfo's ${cmi} ms for everything)"
r1=$(ratio "$ri" "$mi"); r2=$(ratio "$rf" "$mf")
echo "RESULT|info (xargs, $n modules)|${ri} ms|${mi} ms|${r1}x|<=1.0x|$(met "$r1" 1.0)"
echo "RESULT|info -F vermagic (xargs)|${rf} ms|${mf} ms|${r2}x|<=1.0x|$(met "$r2" 1.0)"
