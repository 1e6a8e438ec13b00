#!/usr/bin/env bash
# Makes sure an OpenCL platform exists: installs PoCL (an OpenCL 3.0 platform on the CPU) with
# apt-get where none is registered. Needs root (or sudo) on Debian or Ubuntu.
set -uo pipefail
# JOCL 2.0.6 opens the ICD loader as libOpenCL.so.1: no development package (ocl-icd-opencl-dev).
loader=""
for f in /usr/lib/*/libOpenCL.so.1 /usr/lib64/libOpenCL.so.1 /usr/lib/libOpenCL.so.1; do [ -e "$f" ] && loader="$f"; done
if ls /etc/OpenCL/vendors/*.icd >/dev/null 2>&1 && [ -n "$loader" ]; then
  exit 0
fi
command -v apt-get >/dev/null || { echo "install-pocl: no apt-get here; install an OpenCL driver (e.g. PoCL) by hand" >&2; exit 1; }
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo -n"
echo "install-pocl: installing pocl-opencl-icd (apt-get update first)..." >&2
$SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq pocl-opencl-icd ocl-icd-libopencl1 >&2
