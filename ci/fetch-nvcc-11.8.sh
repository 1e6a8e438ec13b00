#!/usr/bin/env bash
# fetch-nvcc-11.8.sh: lays out CUDA 11.8's nvcc (the compiler of the committed PTX, see
# ci/build-ptx.sh) in ${HEARTH_CUDA_11_8:-$HOME/.cache/hearth/cuda-11.8}, from Debian bookworm's
# non-free packages nvidia-cuda-toolkit and nvidia-cuda-dev (about 860 MB to download, of which
# only nvcc, cicc, cudafe++, ptxas, libdevice and the headers are kept, about 90 MB). Installs
# nothing system-wide: apt-get only downloads, into a temporary folder, with its own source list.
set -euo pipefail
dest=${HEARTH_CUDA_11_8:-$HOME/.cache/hearth/cuda-11.8}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/lists/partial" "$work/debs" "$work/root"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm non-free" >"$work/sources.list"
apt_opts=(-o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$work/lists")
apt-get "${apt_opts[@]}" update >/dev/null
(cd "$work/debs" && apt-get "${apt_opts[@]}" download nvidia-cuda-toolkit nvidia-cuda-dev)
dpkg -x "$work"/debs/nvidia-cuda-toolkit_*.deb "$work/root"
dpkg-deb --fsys-tarfile "$work"/debs/nvidia-cuda-dev_*.deb | tar -x -C "$work/root" './usr/include'
r=$work/root/usr
mkdir -p "$dest/bin" "$dest/nvvm"
cp "$r/lib/nvidia-cuda-toolkit/bin/nvcc" "$r/lib/nvidia-cuda-toolkit/bin/cicc" "$dest/bin/"
cp -r "$r/lib/nvidia-cuda-toolkit/bin/crt" "$dest/bin/"
cp "$r/bin/cudafe++" "$r/bin/ptxas" "$r/bin/fatbinary" "$r/bin/bin2c" "$dest/bin/"
rm -rf "$dest/include" "$dest/nvvm/libdevice"
cp -r "$r/include" "$dest/include"
cp -r "$r/lib/nvidia-cuda-toolkit/libdevice" "$dest/nvvm/"
cat >"$dest/bin/nvcc.profile" <<'PROFILE'
TOP              = $(_HERE_)/..
NVVMIR_LIBRARY_DIR = $(TOP)/nvvm/libdevice
PATH            += $(_HERE_):
INCLUDES        +=  "-I$(TOP)/include" $(_SPACE_)
PROFILE
"$dest/bin/nvcc" --version | tail -n2
echo "nvcc 11.8 is in $dest/bin; ci/build-ptx.sh finds it there"
