# -*- Python -*-
import os
import shutil
import subprocess

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "BITSERIAL"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.bitserial_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "Inputs", "check_matmul.py"]

config.substitutions.append(("%bitserial_src_root", config.bitserial_src_root))
config.substitutions.append(("%bitserial_obj_root", config.bitserial_obj_root))
# Debian's interpreter, which has numpy (the first python3 on PATH may not).
config.substitutions.append(("%bitserial_python", "/usr/bin/python3"))
# The package with the extension bitserial._native (build/python/bitserial),
# built unless -DBITSERIAL_ENABLE_PYTHON=OFF or in a sanitized build.
config.substitutions.append(
    ("%bitserial_py_package", os.path.join(config.bitserial_obj_root, "python")))
with open(os.path.join(config.bitserial_obj_root, "CMakeCache.txt")) as cache:
    if ("BITSERIAL_ENABLE_PYTHON:BOOL=ON" in cache.read().split("\n")
            and not getattr(config, "bitserial_sanitizers", "")):
        config.available_features.add("python-api")

# The mlir-opt plugin and MLIR's C runner utilities (vector.print, memrefCopy)
# for the embedding tests that run stock MLIR tools.
config.substitutions.append(
    ("%bitserial_plugin", os.path.join(config.bitserial_obj_root, "lib", "BitserialPlugin.so")))
config.substitutions.append(
    ("%mlir_c_runner_utils",
     os.path.join(os.path.dirname(config.llvm_tools_dir), "lib", "libmlir_c_runner_utils.so")))

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

sanitized_tools = {}
# A sanitized build (-DBITSERIAL_SANITIZERS=...): the tools link Debian's
# uninstrumented libMLIR.so, whose allocator poisoning ASan would report as
# use-after-poison; any report aborts so that `not tool` fails on it too.
# Projects that link the sanitized libraries (test/Embedding) compile and link
# with the same -fsanitize flags.
if getattr(config, "bitserial_sanitizers", ""):
    config.available_features.add("sanitizers")
    sanitizer_defaults = {
        "ASAN_OPTIONS": "allow_user_poisoning=0:detect_leaks=1:abort_on_error=1",
        "UBSAN_OPTIONS": "halt_on_error=1:abort_on_error=1:print_stacktrace=1",
    }
    for name, default in sanitizer_defaults.items():
        config.environment[name] = os.environ.get(name, default)
    config.environment["ASAN_SYMBOLIZER_PATH"] = os.path.join(
        config.llvm_tools_dir, "llvm-symbolizer")
    config.environment["CXXFLAGS"] = "-fsanitize=" + config.bitserial_sanitizers
    # Stock mlir-opt is not instrumented: give it the ASan runtime to load
    # the sanitized BitserialPlugin.so (test/Embedding).
    if "address" in config.bitserial_sanitizers:
        asan_runtime = subprocess.check_output(
            [os.path.join(config.llvm_tools_dir, "clang"),
             "-print-file-name=libclang_rt.asan-x86_64.so"], text=True).strip()
        sanitized_tools["mlir-opt"] = ToolSubst(
            "mlir-opt", command="env LD_PRELOAD={} {}".format(
                asan_runtime, os.path.join(config.llvm_tools_dir, "mlir-opt")))

tool_dirs = [config.bitserial_tools_dir, config.llvm_tools_dir]
tools = ["bitserial-opt", "bitserial-run", "bitserial-compile", "mlir-translate", "llc", "llvm-objdump",
         "mlir-opt", "mlir-runner", "lli", "llvm-nm", "llvm-readelf"]
tools = [sanitized_tools.get(tool, tool) for tool in tools]
llvm_config.add_tool_substitutions(tools, tool_dirs)

# A C compiler for the host, to link harnesses with objects from
# bitserial-compile.
config.substitutions.append(("%host_cc", os.path.join(config.llvm_tools_dir, "clang")))
# LLVM's libraries (libomp for parallel objects).
config.substitutions.append(("%llvm_lib_dir", os.path.join(os.path.dirname(config.llvm_tools_dir), "lib")))
# The project's libraries (libbitserial_thread_team.a, and its AArch64 build
# in aarch64-linux-gnu/), and the -fsanitize flag host programs that link
# them need (they are instrumented in a sanitized build).
config.substitutions.append(("%bitserial_lib_dir", os.path.join(config.bitserial_obj_root, "lib")))
config.substitutions.append(
    ("%bitserial_sanitize", "-fsanitize=" + config.bitserial_sanitizers
     if getattr(config, "bitserial_sanitizers", "") else ""))

# x86 int8 dot-product kernels that run on this machine (vpdpbusd on zmm;
# vpmaddubsw and vpmaddwd on ymm).
try:
    with open("/proc/cpuinfo") as cpuinfo:
        cpu_flags = set(next((line.split(":", 1)[1].split() for line in cpuinfo
                              if line.startswith("flags")), []))
except OSError:
    cpu_flags = set()
if {"avx512_vnni", "avx512vl", "avx512bw"} <= cpu_flags:
    config.available_features.add("x86-avx512-vnni")
if "avx2" in cpu_flags:
    config.available_features.add("x86-avx2")
# AMX-INT8 tiles (Linux lists the flags once it manages their state).
if {"amx_tile", "amx_int8", "avx512bw"} <= cpu_flags:
    config.available_features.add("x86-amx")
# vpermb table lookups (AVX512-VBMI).
if {"avx512vbmi", "avx512bw"} <= cpu_flags:
    config.available_features.add("x86-avx512-vbmi")

# AArch64 execution under user-mode qemu: a cross compiler and the emulator.
if shutil.which("qemu-aarch64") and shutil.which("aarch64-linux-gnu-gcc"):
    config.available_features.add("aarch64-emulator")
