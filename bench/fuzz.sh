#!/usr/bin/env bash
# The long fuzz run: EXECS executions in total (default 10,000,000) over every parser of
# src/test/java/dev/rkmod/fuzz/FuzzTargets.java, from a random SEED (printed; set SEED=n to replay a run), on THREADS
# threads (default 2), HANG_MS of CPU time per input at most (default 2000); TARGETS=a,b limits the parsers.
# Prints the executions per parser, the untyped exceptions, hangs and over-allocations, and the seed; exits 1 if
# anything was found (inputs and stacks under target/fuzz-findings/PARSER/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
./rkmod --version >/dev/null            # (re)builds target/rkmod.jar, which carries the parsers' libraries
mvn -q -B -o test-compile -Drkmod.it.skipProvision=true
# a private copy of the classes, so that a rebuild during a long run cannot change them under it
run=$(mktemp -d /var/tmp/rkmod-fuzz.XXXXXX); trap 'rm -rf "$run"' EXIT
cp target/rkmod.jar "$run/"; cp -r target/test-classes "$run/"
nice java -Xmx2g -cp "$run/rkmod.jar:$run/test-classes" dev.rkmod.fuzz.FuzzMain
