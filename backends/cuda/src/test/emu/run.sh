#!/usr/bin/env bash
# run.sh: builds the emulator tests (the CUDA kernels on the CPU, see emu.h) with g++, in a
# temporary folder of their own, and runs each; every test prints "ok" or "FAIL" lines and a
# final "N failed". Exit 1 if any test program fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernels=$(cd "$here/../../../../../kernels/src/main/resources/kernels/cuda" && pwd)
out=$(mktemp -d "${TMPDIR:-/tmp}/hearth-cuda-emu.XXXXXX")
trap 'rm -rf "$out"' EXIT
tests=(emu_test emu_mma_test emu_attention_mma_test)
for t in "${tests[@]}"; do
  g++ -std=c++20 -O1 -Wno-unknown-pragmas -I"$here" -I"$here/mock" -I"$kernels" "$here/$t.cpp" -o "$out/$t" &
done
for t in "${tests[@]}"; do wait -n; done
status=0
for t in "${tests[@]}"; do "$out/$t" || status=1; done
exit $status
