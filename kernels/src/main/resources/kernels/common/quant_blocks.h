/*
 * quant_blocks.h: byte layouts of the GGUF quantized blocks, as plain macros that both the
 * OpenCL and the CUDA kernels include. Each block holds BLOCK elements in BYTES bytes,
 * little-endian; fields are given as byte offsets from the block's start.
 *
 *   Q4_0 (32 elements, 18 bytes):  half d; uchar qs[16]
 *        x[j] = d * ((qs[j] & 15) - 8), x[j + 16] = d * ((qs[j] >> 4) - 8)
 *   Q8_0 (32 elements, 34 bytes):  half d; char qs[32]       x[j] = d * qs[j]
 *   Q4_K (256 elements, 144 bytes): half d; half dmin; uchar scales[12]; uchar qs[128]
 *        8 sub-blocks of 32 with 6-bit scale and min packed in scales[]; 64 elements per 32 bytes
 *        of qs: low nibbles first, then high nibbles.
 *        x = d * scale[s] * q - dmin * min[s]
 *   Q6_K (256 elements, 210 bytes): uchar ql[128]; uchar qh[64]; char scales[16]; half d
 *        16 sub-blocks of 16 with an int8 scale; q = (4 low bits from ql | 2 high bits from qh) - 32
 *        x = d * scales[i] * q
 *
 * Checked against: the reference codecs of dev.hearth.runtime.dtype (tests of each backend).
 */
#ifndef HEARTH_QUANT_BLOCKS_H
#define HEARTH_QUANT_BLOCKS_H

#define Q4_0_BLOCK 32
#define Q4_0_BYTES 18
#define Q4_0_QS 2

#define Q8_0_BLOCK 32
#define Q8_0_BYTES 34
#define Q8_0_QS 2

#define QK_K 256

#define Q4_K_BYTES 144
#define Q4_K_DMIN 2
#define Q4_K_SCALES 4
#define Q4_K_QS 16

#define Q6_K_BYTES 210
#define Q6_K_QL 0
#define Q6_K_QH 128
#define Q6_K_SCALES 192
#define Q6_K_D 208

#endif
