/*
 * emu.h: runs Hearth's CUDA kernels on the CPU, for machines without a GPU. Each CUDA thread is
 * an OS thread; blocks run one after another (so __shared__ can be a static); __syncthreads is a
 * barrier of the block's threads, warp shuffles exchange values through memory between two
 * barriers of the warp's 32 threads. Slow, but it executes the kernels' own index arithmetic,
 * block layouts and reductions, which is what emu_test.cpp checks.
 */
#pragma once
#define _GNU_SOURCE 1
#include <barrier>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <thread>
#include <vector>
#include "mock/cuda_fp16.h"

struct uint3_ { unsigned x = 0, y = 0, z = 0; };
inline thread_local uint3_ threadIdx, blockIdx;
inline uint3_ blockDim, gridDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __shared__ static

struct EmuBlock {
    std::unique_ptr<std::barrier<>> block;
    std::vector<std::unique_ptr<std::barrier<>>> warps;
    float exchange[1024];
    int exchange_i[1024];
};
inline EmuBlock* emu_block;

inline void __syncthreads() { emu_block->block->arrive_and_wait(); }

inline float __shfl_xor_sync(unsigned, float v, int o) {
    unsigned t = threadIdx.x, w = t >> 5, lane = t & 31;
    emu_block->exchange[t] = v;
    emu_block->warps[w]->arrive_and_wait();
    float r = emu_block->exchange[(w << 5) | (lane ^ o)];
    emu_block->warps[w]->arrive_and_wait();
    return r;
}

inline int __shfl_xor_sync(unsigned, int v, int o) {
    unsigned t = threadIdx.x, w = t >> 5, lane = t & 31;
    emu_block->exchange_i[t] = v;
    emu_block->warps[w]->arrive_and_wait();
    int r = emu_block->exchange_i[(w << 5) | (lane ^ o)];
    emu_block->warps[w]->arrive_and_wait();
    return r;
}

inline int __dp4a(int a, int b, int c) {
    for (int i = 0; i < 4; i++) c += (int)(signed char)(a >> (8 * i)) * (int)(signed char)(b >> (8 * i));
    return c;
}
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline int __float2int_rn(float x) { return (int)std::nearbyint(x); }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
using std::min;
using std::max;

/* Runs kernel(args...) over grid x block (block: x only), blocks in turn. */
template <typename... P, typename... A>
void emu_launch(void (*kernel)(P...), unsigned gx, unsigned gy, unsigned gz, unsigned bx, A... args) {
    gridDim = {gx, gy, gz};
    blockDim = {bx, 1, 1};
    for (unsigned z = 0; z < gz; z++)
        for (unsigned y = 0; y < gy; y++)
            for (unsigned x = 0; x < gx; x++) {
                EmuBlock b;
                b.block = std::make_unique<std::barrier<>>(bx);
                for (unsigned w = 0; w < (bx + 31) / 32; w++) b.warps.push_back(std::make_unique<std::barrier<>>(32));
                emu_block = &b;
                std::vector<std::thread> threads;
                for (unsigned t = 0; t < bx; t++)
                    threads.emplace_back([&, t] {
                        threadIdx = {t, 0, 0};
                        blockIdx = {x, y, z};
                        kernel(((P)args)...);
                    });
                for (auto& th : threads) th.join();
            }
}
