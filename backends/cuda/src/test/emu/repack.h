/*
 * repack.h: Q4_0 or Q8_0 rows in the layout CudaDevice.prepareWeight gives them (T_Q4_0R,
 * T_Q8_0R in common.cuh): each row's block quants (16 or 32 bytes a block) in block order, then
 * its half scales; the same bytes a row. For emu_test.cpp and emu_mma_test.cpp (after common.cuh).
 */
#pragma once
#include <cstring>
#include <vector>

static std::vector<uint8_t> repack_rows(int type, int K, int rows, const std::vector<uint8_t>& w) {
    size_t rb = row_bytes_of(type, K), bb = block_bytes(type), qb = bb - 2, nb = K / 32;
    std::vector<uint8_t> r(w.size());
    for (size_t n = 0; n < (size_t)rows; n++)
        for (size_t b = 0; b < nb; b++) {
            const uint8_t* blk = w.data() + n * rb + b * bb;
            std::memcpy(r.data() + n * rb + b * qb, blk + 2, qb);
            std::memcpy(r.data() + n * rb + nb * qb + 2 * b, blk, 2);
        }
    return r;
}
