#!/bin/sh
# Writes testdata/mxfp4/mxfp4-reference.gguf from llama.cpp's tools and ggml's own MXFP4 code.
#   S: a llama.cpp source tree built with cmake in S/build (llama-quantize, libggml-base.a)
#   M: a folder holding gpt-oss-tiny-f32.gguf (the shared tiny architecture models)
# Needs numpy; gguf-py is taken from S.
set -e
S=${S:-$HOME/.cache/hearth-peer/src}
M=${M:-/work/shared/models/arch}
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-$HERE/../mxfp4/mxfp4-reference.gguf}
T=$(mktemp -d)
gcc -O2 -fopenmp -I"$S/ggml/include" "$HERE/mxfp4-ggml.c" "$S/build/ggml/src/libggml-base.a" -lm -lpthread -lstdc++ -o "$T/mxfp4-ggml"
"$S/build/bin/llama-quantize" "$M/gpt-oss-tiny-f32.gguf" "$T/moe.gguf" MXFP4_MOE > "$T/quantize.log" 2>&1
"$T/mxfp4-ggml" deq "$T/moe.gguf" blk.0.ffn_gate_exps.weight "$T/gate.deq"
cd "$T"
PYTHONPATH="$S/gguf-py" python3 - "$M/gpt-oss-tiny-f32.gguf" "$OUT" "$T/mxfp4-ggml" <<'PY'
import subprocess, sys
import numpy as np
from gguf import GGUFReader, GGUFWriter, GGMLQuantizationType as Q

f32_path, out, tool = sys.argv[1:4]
rng = np.random.default_rng(39)
blocks = []
# amax a few ulps below, at and above powers of two: where floor(log2f(amax)) can round up
for k in range(-30, 31, 3):
    for ulps in (-3, -1, 0, 1):
        a = np.float32(2.0**k)
        for _ in range(abs(ulps)):
            a = np.nextafter(a, np.float32(0 if ulps < 0 else np.inf), dtype=np.float32)
        b = rng.uniform(-1, 1, 32).astype(np.float32) * a
        b[rng.integers(32)] = -a if k % 2 else a
        blocks.append(b)
# amax 7.99 gives e = 127, half scale 0.5: ties halfway between table values, values past 6, signed zeros
t = np.array([0, .25, .75, 1.25, 1.75, 2.5, 3.5, 5, 6.5, 7, 7.9, 7.99, -0.25, -0.75, -5, -7.99, -0.0, 0.0,
              0.1, 0.4, 0.6, 1.1, 1.4, 1.6, 2.2, 2.7, 3.2, 3.7, 4.5, 5.5, -6.5, -7.5], np.float32)
blocks += [t, t * np.float32(2.0**-100), t * np.float32(2.0**100), np.zeros(32, np.float32), -np.zeros(32, np.float32)]
# near the ends of the exponents ggml's formula reaches
for a in (2.0**-124, 2.0**-120, 2.0**126, 3.0e38):
    b = rng.uniform(-1, 1, 32).astype(np.float32) * np.float32(a)
    b[5] = np.float32(a)
    blocks.append(b)
np.concatenate(blocks).astype('<f4').tofile('edge.f32')
subprocess.run([tool, 'quant', 'edge.f32', 'edge.mxfp4', 'edge.deq'], check=True)

src, mx = GGUFReader(f32_path), GGUFReader('moe.gguf')
def tensor(r, name): return next(x for x in r.tensors if x.name == name)
w = GGUFWriter(out, 'mxfp4-reference')
w.add_string('general.description', "MXFP4 tensors written by llama-quantize (MXFP4_MOE) and by ggml_quantize_chunk, "
             "with their F32 inputs and ggml's dequantization of them")
for name in ('blk.0.ffn_gate_exps.weight', 'blk.0.ffn_down_exps.weight'):
    short = name.split('.')[2]
    w.add_tensor(short + '.f32', np.asarray(tensor(src, name).data, dtype='<f4'))
    w.add_tensor(short + '.mxfp4', np.asarray(tensor(mx, name).data), raw_dtype=Q.MXFP4)
w.add_tensor('ffn_gate_exps.ggml', np.fromfile('gate.deq', '<f4').reshape(4, 64, 128))
w.add_tensor('edge.f32', np.fromfile('edge.f32', '<f4').reshape(-1, 32))
w.add_tensor('edge.mxfp4', np.fromfile('edge.mxfp4', np.uint8).reshape(-1, 17), raw_dtype=Q.MXFP4)
w.add_tensor('edge.ggml', np.fromfile('edge.deq', '<f4').reshape(-1, 32))
w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
PY
rm -rf "$T"
