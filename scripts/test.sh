#!/usr/bin/env bash
# Runs the whole bitserial test suite (lit: dialect, conversion, pipeline,
# execution and Python tests). Sets up and builds first if needed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build}"
LIT=/usr/lib/llvm-22/bin/lit

"$ROOT/scripts/setup.sh" || { echo "test: setup/build failed"; exit 1; }

RESULTS="$BUILD/lit-results.json"
rm -f "$RESULTS"
"$LIT" -sv "$BUILD/test" -o "$RESULTS" "$@"
status=$?

# One closing line with the totals, whatever lit's own summary looks like.
if [ -f "$RESULTS" ]; then
  /usr/bin/python3 - "$RESULTS" <<'PY'
import json, sys
tests = json.load(open(sys.argv[1]))["tests"]
codes = [t["code"] for t in tests]
passed = sum(c in ("PASS", "XFAIL") for c in codes)
skipped = sum(c in ("UNSUPPORTED", "SKIPPED", "EXCLUDED") for c in codes)
failed = len(codes) - passed - skipped
print(f"bitserial: {passed} passed, {failed} failed, {skipped} skipped")
PY
fi
if [ "$status" -eq 0 ] && [ ! -s "$RESULTS" ]; then
  echo "test: lit ran no tests"
  exit 1
fi
exit "$status"
