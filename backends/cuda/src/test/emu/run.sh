#!/usr/bin/env bash
# run.sh: builds emu_test.cpp (the CUDA kernels on the CPU, see emu.h) with g++ and runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernels=$(cd "$here/../../../../../kernels/src/main/resources/kernels/cuda" && pwd)
out=${TMPDIR:-/tmp}/hearth-cuda-emu
g++ -std=c++20 -O1 -pthread -Wno-unknown-pragmas -I"$here" -I"$here/mock" -I"$kernels" "$here/emu_test.cpp" -o "$out"
"$out"
