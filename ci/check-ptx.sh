#!/usr/bin/env bash
# check-ptx.sh: checks the committed PTX of kernels/src/main/resources/kernels/cuda.
#   1. Every .cu has a .ptx whose source stamp (last line) matches the SHA-256 of its sources
#      (ci/build-ptx.sh --stamp), and whose header says .version 7.8 (drivers R520+) and the
#      target ci/build-ptx.sh gives it (sm_75; sm_80 for the tensor-core modules).
#   2. Where an nvcc of the release the PTX was built with is found (see ci/build-ptx.sh), the
#      PTX is rebuilt into a temporary folder and must equal the committed files byte for byte.
#   3. Where ptxas is found, every PTX file must assemble for its target, sm_86, sm_89 and sm_90.
#   4. Where ptxas is found, prints the registers and spill bytes of every kernel for sm_90
#      (ptxas -v) and fails where a matrix-vector kernel (mul_mat_vec_*, mul_mat_id_*) spills or
#      goes over its family's register budget: the 1-token variants (_t1) and mul_mat_id 48,
#      _t4 64, _t8 80 (measured with ptxas 13.0: at most 45, 48 and 64).
# Steps 2-4 are skipped with a message where the tools are absent. Exit 1 on any failure.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
src=$root/kernels/src/main/resources/kernels/cuda
fail=0

for cu in "$src"/*.cu; do
  name=$(basename "$cu" .cu)
  ptx=$src/$name.ptx
  if [ ! -f "$ptx" ]; then echo "FAIL $name.ptx is missing: run ci/build-ptx.sh"; fail=1; continue; fi
  want=$("$root/ci/build-ptx.sh" --stamp "$name")
  got=$(sed -n 's|^// hearth source sha256 \([0-9a-f]*\)$|\1|p' "$ptx")
  [ "$want" = "$got" ] || { echo "FAIL $name.ptx was not built from the current $name.cu and headers: run ci/build-ptx.sh"; fail=1; }
  grep -qx '.version 7.8' "$ptx" || { echo "FAIL $name.ptx: $(grep -m1 '^\.version' "$ptx") is not 7.8"; fail=1; }
  target=$("$root/ci/build-ptx.sh" --target "$name")
  grep -qx ".target $target" "$ptx" || { echo "FAIL $name.ptx: $(grep -m1 '^\.target' "$ptx") is not $target"; fail=1; }
done
echo "stamps and headers checked"

if which=$("$root/ci/build-ptx.sh" --which 2>/dev/null); then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  if "$root/ci/build-ptx.sh" "$tmp" >/dev/null; then
    for ptx in "$src"/*.ptx; do
      cmp -s "$ptx" "$tmp/$(basename "$ptx")" || { echo "FAIL $(basename "$ptx") differs from a rebuild with $which"; fail=1; }
    done
    echo "rebuilt with $which and compared"
  else
    echo "FAIL rebuilding with $which"; fail=1
  fi
else
  echo "skipped rebuild: no nvcc of the release the PTX was built with (see ci/build-ptx.sh)"
fi

ptxas=$(command -v ptxas || ls /usr/local/cuda/bin/ptxas 2>/dev/null || true)
if [ -n "$ptxas" ]; then
  for ptx in "$src"/*.ptx; do
    for sm in "$("$root/ci/build-ptx.sh" --target "$(basename "$ptx" .ptx)")" sm_86 sm_89 sm_90; do
      if ! err=$("$ptxas" -arch=$sm "$ptx" -o /dev/null 2>&1); then
        echo "FAIL $(basename "$ptx") does not assemble for $sm: $err"; fail=1
      fi
    done
  done
  echo "assembled for each module's target (sm_75 or sm_80), sm_86, sm_89 and sm_90 with $ptxas"
  echo "registers and spills for sm_90 (kernel registers spill-stores spill-loads):"
  for ptx in "$src"/*.ptx; do
    "$ptxas" -arch=sm_90 -v "$ptx" -o /dev/null 2>&1 | awk '
      /Compiling entry function/ { split($0, q, "'"'"'"); name = q[2] }
      /bytes spill stores/ { for (i = 1; i <= NF; i++) { if ($(i+1) == "bytes" && $(i+2) == "spill") { if ($(i+3) == "stores,") st = $i; else ld = $i } } }
      /Used [0-9]+ registers/ { for (i = 1; i <= NF; i++) if ($i == "Used") r = $(i+1); print name, r, st, ld }'
  done | sort >"${TMPDIR:-/tmp}/hearth-ptx-regs.$$"
  while read -r name regs st ld; do
    budget=""
    case $name in
      mul_mat_vec_*_t1|mul_mat_id_*) budget=48 ;;
      mul_mat_vec_*_t4) budget=64 ;;
      mul_mat_vec_*_t8) budget=80 ;;
    esac
    printf '  %-32s %4s %4s %4s%s\n' "$name" "$regs" "$st" "$ld" "${budget:+  (budget $budget)}"
    if [ -n "$budget" ]; then
      [ "$st" = 0 ] && [ "$ld" = 0 ] || { echo "FAIL $name spills ($st bytes stored, $ld loaded)"; fail=1; }
      [ "$regs" -le "$budget" ] || { echo "FAIL $name uses $regs registers (budget $budget)"; fail=1; }
    fi
  done <"${TMPDIR:-/tmp}/hearth-ptx-regs.$$"
  rm -f "${TMPDIR:-/tmp}/hearth-ptx-regs.$$"
else
  echo "skipped assembly and registers: no ptxas"
fi

[ $fail = 0 ] && echo "PTX OK" || echo "PTX check FAILED"
exit $fail
