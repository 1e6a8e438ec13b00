/*
 * quant_blocks.h: byte layouts of the GGUF quantized blocks, as plain macros that both the
 * OpenCL and the CUDA kernels include. Each block holds BLOCK elements in BYTES bytes,
 * little-endian; fields are given as byte offsets from the block's start.
 *
 *   Q4_0 (32 elements, 18 bytes):  half d; uchar qs[16]
 *        x[j] = d * ((qs[j] & 15) - 8), x[j + 16] = d * ((qs[j] >> 4) - 8)
 *   Q4_1 (32 elements, 20 bytes):  half d; half m; uchar qs[16]    nibbles as Q4_0, x = d * q + m
 *   Q5_0 (32 elements, 22 bytes):  half d; uchar qh[4]; uchar qs[16]
 *        bit j of qh (little-endian uint32) is the fifth bit of element j; x = d * (q - 16)
 *   Q5_1 (32 elements, 24 bytes):  half d; half m; uchar qh[4]; uchar qs[16]   x = d * q + m
 *   Q8_0 (32 elements, 34 bytes):  half d; char qs[32]       x[j] = d * qs[j]
 *   Q8_1 (32 elements, 36 bytes):  half d; half s (sum, unused here); char qs[32]   x = d * qs[j]
 *   Q2_K (256 elements, 84 bytes):  uchar scales[16] (4-bit scale | 4-bit min); uchar qs[64]; half d; half dmin
 *        x = d * (scale & 15) * q - dmin * (scale >> 4), q 2 bits
 *   Q3_K (256 elements, 110 bytes): uchar hmask[32]; uchar qs[64]; uchar scales[12]; half d
 *        16 6-bit scales (minus 32); q = 2 low bits from qs, minus 4 where the hmask bit is clear
 *   Q5_K (256 elements, 176 bytes): half d; half dmin; uchar scales[12]; uchar qh[32]; uchar qs[128]
 *        as Q4_K, with a fifth bit per element from qh (bit s for sub-block s)
 *   Q2_K and Q3_K order their elements as: 2 halves of 128; in each, 4 shifts (0, 2, 4, 6) of 32
 *   bytes of qs; in each, 2 groups of 16 with a scale each.
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

#define Q4_1_BYTES 20
#define Q4_1_M 2
#define Q4_1_QS 4

#define Q5_0_BYTES 22
#define Q5_0_QH 2
#define Q5_0_QS 6

#define Q5_1_BYTES 24
#define Q5_1_M 2
#define Q5_1_QH 4
#define Q5_1_QS 8

#define Q8_1_BYTES 36
#define Q8_1_QS 4

#define Q8_0_BLOCK 32
#define Q8_0_BYTES 34
#define Q8_0_QS 2

#define QK_K 256

#define Q2_K_BYTES 84
#define Q2_K_SCALES 0
#define Q2_K_QS 16
#define Q2_K_D 80
#define Q2_K_DMIN 82

#define Q3_K_BYTES 110
#define Q3_K_HMASK 0
#define Q3_K_QS 32
#define Q3_K_SCALES 96
#define Q3_K_D 108

#define Q5_K_BYTES 176
#define Q5_K_DMIN 2
#define Q5_K_SCALES 4
#define Q5_K_QH 16
#define Q5_K_QS 48

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
