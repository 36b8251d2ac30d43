#!/usr/bin/env bash
# Runs the bitserial test suites (what CI runs). Sets up and builds first.
#
#   scripts/test.sh          1. normal build (build/): the lit suite (dialect,
#                               conversion, pipeline, execution, Python tests)
#                            2. ASan+UBSan build (build-asan/): the lit suite,
#                               a differential run and a time-bounded fuzz run
#   scripts/test.sh --fast   only 1 (also FAST=1)
#
# Other arguments go to lit, e.g. `scripts/test.sh --fast --filter Runner`.
# FUZZ_SECONDS (default 180), FUZZ_SEED (1), DIFF_CASES (120), DIFF_SEED (7)
# size the sanitizer runs. Ends with the normal suite's totals,
# `bitserial: N passed, N failed, N skipped`; exits non-zero if any part failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build}"
ASAN_BUILD="${ASAN_BUILD_DIR:-$ROOT/build-asan}"
LIT=/usr/lib/llvm-22/bin/lit
PYTHON=/usr/bin/python3

FAST="${FAST:-}"
LIT_ARGS=()
for arg in "$@"; do
  case "$arg" in
    --fast) FAST=1 ;;
    *) LIT_ARGS+=("$arg") ;;
  esac
done

SUMMARY=()
failed=0
section() { echo; echo "=== $* ==="; }
seconds_since() { echo $(( $(date +%s) - $1 )); }

# lit over BUILD_DIR/test; prints "LABEL: N passed, N failed, N skipped".
run_lit() {
  local label="$1" build="$2" results="$2/lit-results.json" status
  rm -f "$results"
  "$LIT" -sv "$build/test" -o "$results" "${LIT_ARGS[@]}"
  status=$?
  if [ ! -s "$results" ]; then
    echo "test: lit ran no tests in $build"
    LIT_TOTALS="$label: lit ran no tests"
    return 1
  fi
  LIT_TOTALS="$("$PYTHON" - "$results" "$label" <<'PY'
import json, sys
tests = json.load(open(sys.argv[1]))["tests"]
codes = [t["code"] for t in tests]
passed = sum(c in ("PASS", "XFAIL") for c in codes)
skipped = sum(c in ("UNSUPPORTED", "SKIPPED", "EXCLUDED") for c in codes)
failed = len(codes) - passed - skipped
print(f"{sys.argv[2]}: {passed} passed, {failed} failed, {skipped} skipped")
PY
)"
  echo "$LIT_TOTALS"
  return "$status"
}

# --- 1. Normal build -------------------------------------------------------
section "normal build ($BUILD)"
start=$(date +%s)
if ! BUILD_DIR="$BUILD" "$ROOT/scripts/setup.sh"; then
  echo "test: setup/build failed"
  echo "bitserial: 0 passed, 1 failed, 0 skipped"
  exit 1
fi
SUMMARY+=("normal build: $(seconds_since "$start") s")

section "normal build: lit suite"
start=$(date +%s)
run_lit bitserial "$BUILD" || failed=1
NORMAL_TOTALS="$LIT_TOTALS"
SUMMARY+=("normal lit: ${NORMAL_TOTALS#bitserial: } ($(seconds_since "$start") s)")

# --- 2. Sanitizer build ----------------------------------------------------
if [ -z "$FAST" ]; then
  # The tools link Debian's uninstrumented libMLIR.so, whose own allocator
  # poisoning ASan would report as use-after-poison. Leaks are checked (MLIR's
  # globals report none). Any report aborts, so `not tool` in a test fails on
  # it too.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-allow_user_poisoning=0:detect_leaks=1:abort_on_error=1}"
  export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:abort_on_error=1:print_stacktrace=1}"

  section "sanitizer build ($ASAN_BUILD, ASan+UBSan)"
  start=$(date +%s)
  if SANITIZE=1 SKIP_INSTALL=1 BUILD_DIR="$ASAN_BUILD" "$ROOT/scripts/setup.sh"; then
    SUMMARY+=("sanitizer build: $(seconds_since "$start") s")

    # The lit suite without its long differential test: the shorter
    # differential run below takes its place.
    section "sanitizer build: lit suite (differential.test: see below)"
    start=$(date +%s)
    LIT_ARGS_SAVED=("${LIT_ARGS[@]}")
    LIT_ARGS+=(--filter-out "Integration/differential.test")
    run_lit bitserial-asan "$ASAN_BUILD" || failed=1
    LIT_ARGS=("${LIT_ARGS_SAVED[@]}")
    SUMMARY+=("sanitizer lit: ${LIT_TOTALS#bitserial-asan: } ($(seconds_since "$start") s)")

    section "sanitizer build: differential"
    start=$(date +%s)
    rm -rf "$ASAN_BUILD/differential-repro"
    PYTHONUNBUFFERED=1 PYTHONPATH="$ROOT/python" "$PYTHON" -m bitserial.differential \
      --runner "$ASAN_BUILD/bin/bitserial-run" --cases "${DIFF_CASES:-120}" \
      --seed "${DIFF_SEED:-7}" --jobs 2 --keep "$ASAN_BUILD/differential-repro" \
      --lowerings "reference,vector:host+tile,vector:x86-avx2+par,vector:generic+tile,vector:host+tile+par" \
      | tee "$ASAN_BUILD/differential.log" || failed=1
    line="$(tail -n 1 "$ASAN_BUILD/differential.log")"
    SUMMARY+=("sanitizer differential: ${line:-no result} ($(seconds_since "$start") s)")

    section "sanitizer build: fuzz"
    start=$(date +%s)
    rm -rf "$ASAN_BUILD/fuzz-repro"
    PYTHONUNBUFFERED=1 PYTHONPATH="$ROOT/python" "$PYTHON" -m bitserial.fuzz \
      --bin "$ASAN_BUILD/bin" --seconds "${FUZZ_SECONDS:-180}" \
      --seed "${FUZZ_SEED:-1}" --jobs 2 --keep "$ASAN_BUILD/fuzz-repro" \
      | tee "$ASAN_BUILD/fuzz.log" || failed=1
    line="$(tail -n 1 "$ASAN_BUILD/fuzz.log")"
    SUMMARY+=("sanitizer fuzz: ${line:-no result} ($(seconds_since "$start") s)")
  else
    echo "test: sanitizer build failed"
    SUMMARY+=("sanitizer build: FAILED")
    failed=1
  fi
fi

section "summary"
printf '%s\n' "${SUMMARY[@]}"
echo "$NORMAL_TOTALS"
exit "$failed"
