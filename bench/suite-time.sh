#!/usr/bin/env bash
# Each test class's time from a run's reports, slowest first, with the tier totals and every skipped test with
# its reason. Reads the JUnit XML that Surefire (unit tests) and Failsafe (integration tests) write:
#
#   bench/suite-time.sh [TARGET_DIR]      # default: target/ of this repository
#
# Prints a Markdown table (tier, class, tests, failures+errors, skipped, seconds) so the figures can go straight
# into docs/testing.md or a closing note. Exit 1 when the reports hold a skipped test: on a fresh machine the
# count must be 0 (no test may depend on another one having run first).
set -euo pipefail
target=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target"}
shopt -s nullglob
files=("$target"/surefire-reports/TEST-*.xml "$target"/failsafe-reports/TEST-*.xml)
if [ ${#files[@]} -eq 0 ]; then
  echo "suite-time: no TEST-*.xml under $target/surefire-reports or $target/failsafe-reports; run 'mvn -B verify' first" >&2
  exit 2
fi
python3 - "${files[@]}" <<'EOF'
import sys, xml.etree.ElementTree as ET
rows, skipped = [], []
for path in sys.argv[1:]:
    tier = "IT" if "/failsafe-reports/" in path else "unit"
    suite = ET.parse(path).getroot()
    name = suite.get("name", "?").rsplit(".", 1)[-1]
    t = float(suite.get("time", "0").replace(",", ""))
    tests = int(suite.get("tests", "0"))
    bad = int(suite.get("failures", "0")) + int(suite.get("errors", "0"))
    sk = int(suite.get("skipped", "0"))
    rows.append((t, tier, name, tests, bad, sk))
    for case in suite.iter("testcase"):
        s = case.find("skipped")
        if s is not None:
            why = (s.get("message") or (s.text or "")).strip().splitlines()
            skipped.append(f"{name}.{case.get('name')}: {why[0] if why else 'no reason given'}")
rows.sort(reverse=True)
print("| tier | class | tests | failed | skipped | s |")
print("|---|---|---|---|---|---|")
for t, tier, name, tests, bad, sk in rows:
    print(f"| {tier} | {name} | {tests} | {bad} | {sk} | {t:.1f} |")
for tier in ("unit", "IT"):
    sel = [r for r in rows if r[1] == tier]
    if sel:
        print(f"| {tier} | **total** ({len(sel)} classes) | {sum(r[3] for r in sel)} | {sum(r[4] for r in sel)} "
              f"| {sum(r[5] for r in sel)} | {sum(r[0] for r in sel):.1f} |")
print()
print(f"skipped tests: {len(skipped)}")
for s in skipped:
    print("  " + s)
sys.exit(1 if skipped else 0)
EOF
