#!/usr/bin/env bash
# Copies the docs generated from TableGen (build/docs/Bitserial) into
# docs/generated/, where they are committed. test/docs.test fails when the
# committed copies are stale.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${BUILD_DIR:-$ROOT/build}"
cmake --build "$BUILD" --target mlir-doc
cp "$BUILD"/docs/Bitserial/*.md "$ROOT/docs/generated/"
echo "updated: $(ls "$ROOT/docs/generated")"
