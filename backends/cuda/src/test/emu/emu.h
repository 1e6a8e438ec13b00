/*
 * emu.h: runs Hearth's CUDA kernels on the CPU, for machines without a GPU. Each CUDA thread is
 * a fiber of one OS thread (entered through ucontext, switched with _setjmp/_longjmp, which
 * unlike swapcontext make no system call); blocks run one after another (so __shared__ can be a
 * static), each block's fibers round-robin: a fiber runs until it waits at a barrier or returns.
 * __syncthreads is a barrier of the block's fibers, warp shuffles exchange values through memory
 * between two barriers of the warp's 32 fibers. The fibers' stacks are reused by every block (a
 * fiber per CUDA thread costs a context switch per wait, where an OS thread per CUDA thread cost
 * a thread creation per block and a futex wake per barrier). A launch whose fibers all wait and
 * none can proceed (a barrier some thread never reaches) aborts with a message. The sm_80
 * primitives of mma.cuh: mma.sync (m16n8k16 f16, m16n8k32 s8) gathers the 32 lanes' fragments
 * through the warp's exchange (emu_mma_f16_16x8x16, emu_mma_s8_16x8x32), cp.async copies at
 * once. Slow, but it executes the kernels' own index arithmetic, block layouts and reductions, which is what
 * emu_test.cpp checks.
 */
#pragma once
/* emu.h must come before any system header: fiber switches longjmp between stacks, which the
 * fortified longjmp refuses. */
#undef _FORTIFY_SOURCE
#define _GNU_SOURCE 1
#define HEARTH_CUDA_EMU 1
#include <cmath>
#include <csetjmp>
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
#define __align__(n) __attribute__((aligned(n)))

struct uint4 { unsigned x, y, z, w; };
struct uint2 { unsigned x, y; };
inline uint2 make_uint2(unsigned x, unsigned y) { return {x, y}; }

struct EmuFiber {
    ucontext_t ctx;  /* the entry, for the first switch */
    jmp_buf resume;  /* where it waits, for the next ones */
    std::unique_ptr<char[]> stack;
    bool started = false, done = false;
};

struct EmuBarrier {
    unsigned count = 0, generation = 0;
};

struct EmuBlock {
    std::vector<EmuFiber> fibers;
    jmp_buf scheduler;
    unsigned current = 0;
    unsigned long long progress = 0; /* arrivals and returns, to tell a deadlock */
    EmuBarrier block;
    std::vector<EmuBarrier> warps;
    float exchange[1024];
    int exchange_i[1024];
    unsigned fragments[1024][6]; /* each lane's mma registers a[4], b[2] */
};
inline EmuBlock* emu_block;
inline constexpr size_t EMU_STACK = 256 * 1024;

inline void emu_yield() {
    if (!_setjmp(emu_block->fibers[emu_block->current].resume)) _longjmp(emu_block->scheduler, 1);
}

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

/* f16 bits to float (the mock __half's conversion). */
inline float emu_half(unsigned short bits) { __half h; h.bits = bits; return __half2float(h); }

/*
 * mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32, d += A * B, as the PTX ISA lays out the
 * fragments (see mma.cuh): every lane puts its registers in the warp's exchange, and after the
 * warp's barrier reads A and B back from all 32 lanes, and computes its four elements of D from
 * the products (exact in f32) summed in double.
 */
inline void emu_mma_f16_16x8x16(float* d, const unsigned* a, const unsigned* b) {
    unsigned t = threadIdx.x, w = t >> 5, lane = t & 31;
    unsigned* mine = emu_block->fragments[t];
    for (int i = 0; i < 4; i++) mine[i] = a[i];
    for (int i = 0; i < 2; i++) mine[4 + i] = b[i];
    emu_warp_wait();
    float A[16][16], B[16][8];
    for (unsigned l = 0; l < 32; l++) {
        const unsigned* f = emu_block->fragments[(w << 5) | l];
        unsigned g = l >> 2, q = l & 3;
        for (int r = 0; r < 4; r++)
            for (int h = 0; h < 2; h++) A[g + 8 * (r & 1)][2 * q + h + 8 * (r >> 1)] = emu_half((unsigned short)(f[r] >> (16 * h)));
        for (int r = 0; r < 2; r++)
            for (int h = 0; h < 2; h++) B[2 * q + h + 8 * r][g] = emu_half((unsigned short)(f[4 + r] >> (16 * h)));
    }
    emu_warp_wait();
    unsigned g = lane >> 2, q = lane & 3;
    for (int i = 0; i < 4; i++) {
        unsigned row = g + 8 * (i >> 1), col = 2 * q + (i & 1);
        double s = d[i];
        for (int k = 0; k < 16; k++) s += (double)A[row][k] * B[k][col];
        d[i] = (float)s;
    }
}

/* mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32, d += A * B, likewise (see mma.cuh). */
inline void emu_mma_s8_16x8x32(int* d, const unsigned* a, const unsigned* b) {
    unsigned t = threadIdx.x, w = t >> 5, lane = t & 31;
    unsigned* mine = emu_block->fragments[t];
    for (int i = 0; i < 4; i++) mine[i] = a[i];
    for (int i = 0; i < 2; i++) mine[4 + i] = b[i];
    emu_warp_wait();
    int A[16][32], B[32][8];
    for (unsigned l = 0; l < 32; l++) {
        const unsigned* f = emu_block->fragments[(w << 5) | l];
        unsigned g = l >> 2, q = l & 3;
        for (int r = 0; r < 4; r++)
            for (int h = 0; h < 4; h++) A[g + 8 * (r & 1)][4 * q + h + 16 * (r >> 1)] = (signed char)(f[r] >> (8 * h));
        for (int r = 0; r < 2; r++)
            for (int h = 0; h < 4; h++) B[4 * q + h + 16 * r][g] = (signed char)(f[4 + r] >> (8 * h));
    }
    emu_warp_wait();
    unsigned g = lane >> 2, q = lane & 3;
    for (int i = 0; i < 4; i++) {
        unsigned row = g + 8 * (i >> 1), col = 2 * q + (i & 1);
        for (int k = 0; k < 32; k++) d[i] += A[row][k] * B[k][col];
    }
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
    _longjmp(emu_block->scheduler, 1);
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
                    f.ctx.uc_link = nullptr;
                    makecontext(&f.ctx, emu_fiber_main, 0);
                    f.started = f.done = false;
                }
                for (unsigned live = bx; live > 0;) {
                    unsigned long long before = b->progress;
                    live = 0;
                    for (unsigned t = 0; t < bx; t++) {
                        if (b->fibers[t].done) continue;
                        b->current = t;
                        threadIdx = {t, 0, 0};
                        EmuFiber& f = b->fibers[t];
                        if (!_setjmp(b->scheduler)) {
                            if (f.started) _longjmp(f.resume, 1);
                            f.started = true;
                            setcontext(&f.ctx);
                        }
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
