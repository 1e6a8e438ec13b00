/*
 * emu.h: runs Hearth's CUDA kernels on the CPU, for machines without a GPU. Each CUDA thread is
 * a fiber (ucontext) of one OS thread; blocks run one after another (so __shared__ can be a
 * static), each block's fibers round-robin: a fiber runs until it waits at a barrier or returns.
 * __syncthreads is a barrier of the block's fibers, warp shuffles exchange values through memory
 * between two barriers of the warp's 32 fibers. The fibers' stacks are reused by every block (a
 * fiber per CUDA thread costs a context switch per wait, where an OS thread per CUDA thread cost
 * a thread creation per block and a futex wake per barrier). A launch whose fibers all wait and
 * none can proceed (a barrier some thread never reaches) aborts with a message. Slow, but it
 * executes the kernels' own index arithmetic, block layouts and reductions, which is what
 * emu_test.cpp checks.
 */
#pragma once
#define _GNU_SOURCE 1
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <ucontext.h>
#include <vector>
#include "mock/cuda_fp16.h"

using std::min;
using std::max;

struct uint3_ { unsigned x = 0, y = 0, z = 0; };
inline thread_local uint3_ threadIdx, blockIdx;
inline uint3_ blockDim, gridDim;

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __shared__ static

struct EmuFiber {
    ucontext_t ctx;
    std::unique_ptr<char[]> stack;
    bool done = false;
};

struct EmuBarrier {
    unsigned count = 0, generation = 0;
};

struct EmuBlock {
    std::vector<EmuFiber> fibers;
    ucontext_t scheduler;
    unsigned current = 0;
    unsigned long long progress = 0; /* arrivals and returns, to tell a deadlock */
    EmuBarrier block;
    std::vector<EmuBarrier> warps;
    float exchange[1024];
    int exchange_i[1024];
};
inline EmuBlock* emu_block;
inline constexpr size_t EMU_STACK = 256 * 1024;

inline void emu_yield() { swapcontext(&emu_block->fibers[emu_block->current].ctx, &emu_block->scheduler); }

/* Arrive at a barrier of n fibers and wait until all n have arrived. */
inline void emu_wait(EmuBarrier& b, unsigned n) {
    emu_block->progress++;
    unsigned g = b.generation;
    if (++b.count == n) {
        b.count = 0;
        b.generation++;
        return;
    }
    while (b.generation == g) emu_yield();
}

inline void __syncthreads() { emu_wait(emu_block->block, blockDim.x); }

inline void emu_warp_wait() {
    unsigned w = threadIdx.x >> 5;
    emu_wait(emu_block->warps[w], min(32u, blockDim.x - 32 * w));
}

inline float __shfl_xor_sync(unsigned, float v, int o) {
    unsigned t = threadIdx.x, w = t >> 5, lane = t & 31;
    emu_block->exchange[t] = v;
    emu_warp_wait();
    float r = emu_block->exchange[(w << 5) | (lane ^ o)];
    emu_warp_wait();
    return r;
}

inline int __shfl_xor_sync(unsigned, int v, int o) {
    unsigned t = threadIdx.x, w = t >> 5, lane = t & 31;
    emu_block->exchange_i[t] = v;
    emu_warp_wait();
    int r = emu_block->exchange_i[(w << 5) | (lane ^ o)];
    emu_warp_wait();
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

inline std::function<void()> emu_job;

inline void emu_fiber_main() {
    emu_job();
    emu_block->fibers[emu_block->current].done = true;
    emu_block->progress++;
}

/* Runs kernel(args...) over grid x block (block: x only), blocks in turn, fibers round-robin. */
template <typename... P, typename... A>
void emu_launch(void (*kernel)(P...), unsigned gx, unsigned gy, unsigned gz, unsigned bx, A... args) {
    gridDim = {gx, gy, gz};
    blockDim = {bx, 1, 1};
    auto b = std::make_unique<EmuBlock>();
    b->fibers.resize(bx);
    for (auto& f : b->fibers) f.stack.reset(new char[EMU_STACK]);
    b->warps.resize((bx + 31) / 32);
    emu_block = b.get();
    emu_job = [&] { kernel(((P)args)...); };
    for (unsigned z = 0; z < gz; z++)
        for (unsigned y = 0; y < gy; y++)
            for (unsigned x = 0; x < gx; x++) {
                blockIdx = {x, y, z};
                for (auto& f : b->fibers) {
                    getcontext(&f.ctx);
                    f.ctx.uc_stack.ss_sp = f.stack.get();
                    f.ctx.uc_stack.ss_size = EMU_STACK;
                    f.ctx.uc_link = &b->scheduler;
                    makecontext(&f.ctx, emu_fiber_main, 0);
                    f.done = false;
                }
                for (unsigned live = bx; live > 0;) {
                    unsigned long long before = b->progress;
                    live = 0;
                    for (unsigned t = 0; t < bx; t++) {
                        if (b->fibers[t].done) continue;
                        b->current = t;
                        threadIdx = {t, 0, 0};
                        swapcontext(&b->scheduler, &b->fibers[t].ctx);
                        live += !b->fibers[t].done;
                    }
                    if (live > 0 && b->progress == before) {
                        std::fprintf(stderr, "emu: block (%u,%u,%u): %u threads wait at barriers that can never complete\n", x, y, z, live);
                        std::abort();
                    }
                }
            }
    emu_block = nullptr;
}
