#!/usr/bin/env bash
# build-ptx.sh: compiles each CUDA kernel file kernels/src/main/resources/kernels/cuda/*.cu to PTX
# (virtual architecture compute_75; the tensor-core modules listed in SM80_MODULES, which use
# mma.sync and cp.async, compute_80) and writes NAME.ptx next to it, or into the folder given as
# the first argument. The PTX is committed and ships in the hearth-kernels jar; the CUDA backend
# loads it with cuModuleLoadData, so users need only the NVIDIA driver.
#
# Which nvcc: the committed PTX is built with CUDA 11.8's nvcc, which writes PTX ISA 7.8; every
# driver since R520 (CUDA 11.8, October 2022) loads it. A newer nvcc writes a newer ISA that older
# drivers reject (CUDA 13.0 writes ISA 9.0, which needs R580), so this script refuses any other
# release unless HEARTH_PTX_ANY_NVCC=1. It looks for nvcc in $NVCC, then
# ${HEARTH_CUDA_11_8:-$HOME/.cache/hearth/cuda-11.8}/bin, /opt/cuda-11.8/bin, /usr/local/cuda-11.8/bin
# and the PATH. ci/fetch-nvcc-11.8.sh lays out such an nvcc from Debian's packages.
#
# Each PTX file ends with a comment line holding the SHA-256 of its .cu file followed by
# common.cuh (and mma.cuh for SM80_MODULES), so a check without nvcc can still tell that the PTX
# was built from these sources.
#
# Usage: ci/build-ptx.sh [OUT_DIR]      build
#        ci/build-ptx.sh --which         print the nvcc it would use; exit 3 if there is none
#        ci/build-ptx.sh --target NAME   print the .target of module NAME's PTX (sm_75 or sm_80)
#        ci/build-ptx.sh --stamp NAME    print the source stamp module NAME's PTX must carry
set -euo pipefail

WANT_RELEASE=11.8
SM80_MODULES=" attention_mma mul_mat_mma "
root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/kernels/src/main/resources/kernels/cuda

sm80() { [[ "$SM80_MODULES" == *" $1 "* ]]; }
target_of() { if sm80 "$1"; then echo sm_80; else echo sm_75; fi; }
stamp_of() {
  local files=("$src/$1.cu" "$src/common.cuh")
  if sm80 "$1"; then files+=("$src/mma.cuh"); fi
  cat "${files[@]}" | sha256sum | cut -d' ' -f1
}

case "${1:-}" in
  --target) target_of "$2"; exit 0 ;;
  --stamp) stamp_of "$2"; exit 0 ;;
esac

release_of() { "$1" --version 2>/dev/null | sed -n 's/.*release \([0-9][0-9.]*\),.*/\1/p' | head -n1; }

find_nvcc() {
  local c
  for c in "${NVCC:-}" "${HEARTH_CUDA_11_8:-$HOME/.cache/hearth/cuda-11.8}/bin/nvcc" /opt/cuda-11.8/bin/nvcc \
           /usr/local/cuda-11.8/bin/nvcc "$(command -v nvcc 2>/dev/null || true)"; do
    [ -n "$c" ] && [ -x "$c" ] || continue
    if [ "$(release_of "$c")" = "$WANT_RELEASE" ] || [ "${HEARTH_PTX_ANY_NVCC:-}" = 1 ]; then echo "$c"; return 0; fi
  done
  return 1
}

if [ "${1:-}" = "--which" ]; then
  if nvcc=$(find_nvcc); then echo "$nvcc (release $(release_of "$nvcc"))"; exit 0; fi
  echo "no nvcc of CUDA $WANT_RELEASE found (run ci/fetch-nvcc-11.8.sh, or set NVCC)" >&2
  exit 3
fi

out=${1:-$src}
mkdir -p "$out"
if ! nvcc=$(find_nvcc); then
  echo "build-ptx: no nvcc of CUDA $WANT_RELEASE found; the committed PTX targets ISA 7.8 (drivers R520+)." >&2
  echo "  Run ci/fetch-nvcc-11.8.sh, set NVCC=/path/to/cuda-11.8/bin/nvcc, or HEARTH_PTX_ANY_NVCC=1 to use another release." >&2
  exit 3
fi

for f in "$src"/*.cu; do
  name=$(basename "$f" .cu)
  # -allow-unsupported-compiler: nvcc 11.8 only runs the host compiler to preprocess here.
  arch=$(target_of "$name")
  "$nvcc" -ptx -arch="compute_${arch#sm_}" -allow-unsupported-compiler -I"$src" -o "$out/$name.ptx.tmp" "$f"
  printf '// hearth source sha256 %s\n' "$(stamp_of "$name")" >>"$out/$name.ptx.tmp"
  mv "$out/$name.ptx.tmp" "$out/$name.ptx"
  echo "$name.ptx: $(grep -m1 '^\.version' "$out/$name.ptx"), $(grep -m1 '^\.target' "$out/$name.ptx")"
done
