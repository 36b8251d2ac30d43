#!/usr/bin/env bash
# Installs what bitserial needs on Debian 12 (idempotent), then configures and
# builds into build/. Run as root, or with sudo available.
#   scripts/setup.sh                  install + configure + build
#   SKIP_INSTALL=1 scripts/setup.sh   configure + build only
#   SANITIZE=1 scripts/setup.sh       the ASan+UBSan build in build-asan/
#                                     (compiler and tools only, -O1)
#   JOBS=2 scripts/setup.sh           build parallelism (default: ninja's)
# The compiler, tools and tests never depend on the benchmarks: if oneDNN
# (libdnnl-dev) cannot be installed or used, one "setup: skipped ..." line
# says so and the rest is built.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LLVM_PREFIX=/usr/lib/llvm-22
if [ -n "${SANITIZE:-}" ]; then
  BUILD="${BUILD_DIR:-$ROOT/build-asan}"
else
  BUILD="${BUILD_DIR:-$ROOT/build}"
fi

# What the build and CI need (libclang-rt: the sanitizer runtimes; the
# AArch64 cross compiler and qemu: ahead-of-time AArch64 code is linked and
# run by the tests; pybind11: the Python extension; torch, onnx and sklearn:
# the PyTorch exporter, the QONNX importer and their tests).
PACKAGES=(
  cmake ninja-build git
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22 lld-22
  libclang-rt-22-dev libomp-22-dev
  python3 python3-numpy pybind11-dev python3-pybind11
  python3-torch python3-onnx python3-sklearn
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user
)
# Only the benchmark baselines use these.
OPTIONAL_PACKAGES=(libdnnl-dev)

missing_packages() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
      || echo "$pkg"
  done
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@"
}

if [ -z "${SKIP_INSTALL:-}" ]; then
  mapfile -t MISSING < <(missing_packages "${PACKAGES[@]}")
  mapfile -t MISSING_OPTIONAL < <(missing_packages "${OPTIONAL_PACKAGES[@]}")
  if [ "${#MISSING[@]}" -gt 0 ]; then
    echo "setup: installing ${MISSING[*]}"
    apt_install "${MISSING[@]}"
  fi
  if [ "${#MISSING_OPTIONAL[@]}" -gt 0 ]; then
    echo "setup: installing ${MISSING_OPTIONAL[*]} (benchmarks only)"
    apt_install "${MISSING_OPTIONAL[@]}" ||
      echo "setup: skipped ${MISSING_OPTIONAL[*]}: apt-get failed; the benchmarks build without oneDNN"
  fi
  if [ "${#MISSING[@]}" -eq 0 ] && [ "${#MISSING_OPTIONAL[@]}" -eq 0 ]; then
    echo "setup: all packages present"
  fi
fi

if [ ! -f "$BUILD/build.ninja" ]; then
  EXTRA=()
  if [ -n "${SANITIZE:-}" ]; then
    # -O1 and line tables only: fast to build, readable reports. No -DNDEBUG,
    # so the project's assertions (and those inlined from MLIR headers) run.
    EXTRA=(-DBITSERIAL_SANITIZERS=address,undefined
           "-DCMAKE_CXX_FLAGS_RELEASE=-O1 -gline-tables-only"
           "-DCMAKE_C_FLAGS_RELEASE=-O1 -gline-tables-only")
  fi
  mkdir -p "$BUILD"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER="$LLVM_PREFIX/bin/clang" \
    -DCMAKE_CXX_COMPILER="$LLVM_PREFIX/bin/clang++" \
    -DLLVM_USE_LINKER=lld \
    -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
    -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/bin/lit" \
    "${EXTRA[@]}" > "$BUILD/configure.log" 2>&1 ||
    { cat "$BUILD/configure.log"; echo "setup: cmake configure failed"; exit 1; }
  echo "setup: configured $BUILD (log: $BUILD/configure.log)"
fi

JOBS_ARG=()
if [ -n "${JOBS:-}" ]; then JOBS_ARG=(-j "$JOBS"); fi

# The product: dialect, passes, tools, plugin, generated docs, test
# configuration: every directory but benchmarks/ (and the docs target).
CORE_TARGETS=(bitserial-doc)
while read -r target; do
  [ "$target" = benchmarks/all ] || CORE_TARGETS+=("$target")
done < <(ninja -C "$BUILD" -t targets all | sed -n 's|^\([^/ ]*/all\): phony$|\1|p')
cmake --build "$BUILD" "${JOBS_ARG[@]}" --target "${CORE_TARGETS[@]}"
if [ -n "${SANITIZE:-}" ]; then
  exit 0
fi

# The benchmark baselines, which may go without oneDNN or altogether.
dnnl_library="$(sed -n 's/^BITSERIAL_DNNL_LIBRARY:FILEPATH=//p' "$BUILD/CMakeCache.txt")"
if cmake --build "$BUILD" "${JOBS_ARG[@]}" --target benchmarks/all \
    > "$BUILD/benchmarks-build.log" 2>&1; then
  grep -v "^ninja: no work to do" "$BUILD/benchmarks-build.log" || true
  case "$dnnl_library" in
    ""|*NOTFOUND*) echo "setup: skipped the oneDNN rows of bitserial-baselines: oneDNN not found (apt-get install libdnnl-dev)" ;;
  esac
else
  echo "setup: skipped bitserial-baselines: it failed to build (oneDNN '$dnnl_library' broken?); the compiler, tools and tests are built; log: $BUILD/benchmarks-build.log"
fi
