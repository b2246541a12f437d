#!/bin/sh
# Every tool of @rules_pyimage//platforms:no_cc_compiler_* : Bazel 7's py_binary
# needs a C++ toolchain for its target platform at analysis time (for its
# Windows launcher), even when nothing is compiled. Reaching this means
# something really has to be compiled for the image's platform.
echo "error: no C/C++ compiler for this image platform: @rules_pyimage//platforms:no_cc_compiler_* only lets py_binary be analysed; register a real cross toolchain for it (e.g. from toolchains_llvm) before this one, or use wheels instead of building native code" >&2
exit 1
