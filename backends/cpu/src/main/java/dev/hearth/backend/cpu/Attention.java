package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.hearth.backend.cpu.Mem.F256;

/**
 * Causal grouped-query attention over an F32, F16, Q8_0 or Q4_0 KV cache, as flash attention
 * computes it: a task takes a block of up to {@link #BLOCK} query tokens and one KV head g, and
 * walks g's K and V rows in chunks of {@link #CHUNK} rows, each decoded to floats once (quantized
 * blocks with the vector decoders of {@link Decode}) and met by every query head of the block's
 * tokens while it is in L1. Each query head keeps an online softmax (its running max and sum)
 * and its probability-weighted sum of V rows, rescaled when the max grows; scores are
 * scale * q·k. So a prompt reads and decodes the cache once per block of tokens instead of once
 * per token, and nothing grows with the context but time. With a sliding window token t reads
 * only the rows pos[t] - window + 1..pos[t]; with a soft cap each score becomes
 * cap * tanh(score / cap); with sinks, each head's sink logit joins its softmax's denominator.
 * Position p is read from cache row p % R (a sliding-window layer's cache may be a ring of R
 * rows). Checked against ReferenceOps.attention in OpsTest and the conformance cases.
 */
final class Attention {
    /** Query tokens per task, and cache rows per chunk. */
    static final int BLOCK = 8, CHUNK = 64;

    private Attention() {
    }

    /**
     * Floats of a per-thread buffer: per query head of a block, a chunk's scores, its running
     * sums and its max and denominator; a chunk of K and of V rows as floats; room to decode the
     * blocks that hold one head's part of a row.
     */
    static int bufferFloats(int group, int headDim) {
        return BLOCK * group * (CHUNK + headDim + 2) + 2 * CHUNK * headDim + headDim + 64;
    }

    static void run(CpuPool pool, float[][] buffers, float[] q, MemorySegment k, DType kType, MemorySegment v, DType vType, int[] pos,
                    int tokens, int heads, int kvHeads, int headDim, float scale, int window, float softcap, float[] sinks, long rows,
                    float[] out) {
        int blocks = (tokens + BLOCK - 1) / BLOCK;
        pool.run(blocks * kvHeads, (i, w) -> {
            int t0 = (i / kvHeads) * BLOCK;
            task(t0, Math.min(tokens, t0 + BLOCK), i % kvHeads, buffers[w], q, k, kType, v, vType, pos, heads, kvHeads, headDim, scale,
                    window, softcap, sinks, rows, out);
        });
    }

    private static int first(int p, int window) {
        return window > 0 ? Math.max(0, p - window + 1) : 0;
    }

    private static void task(int t0, int t1, int g, float[] buf, float[] q, MemorySegment kc, DType kType, MemorySegment vc,
                             DType vType, int[] pos, int heads, int kvHeads, int headDim, float scale, int window, float softcap,
                             float[] sinks, long rows, float[] out) {
        int group = heads / kvHeads;
        int qRow = heads * headDim, kvRow = kvHeads * headDim;
        int qh = (t1 - t0) * group; // query heads of the block: (t - t0) * group + h
        // buffer: scores [qh][CHUNK], sums [qh][headDim], max [qh], denominator [qh], K chunk, V chunk, decode room
        int accAt = qh * CHUNK, maxAt = accAt + qh * headDim, denAt = maxAt + qh, kAt = denAt + qh, vAt = kAt + CHUNK * headDim;
        int tmp = vAt + CHUNK * headDim;
        java.util.Arrays.fill(buf, accAt, maxAt, 0f);
        java.util.Arrays.fill(buf, maxAt, denAt, Float.NEGATIVE_INFINITY);
        java.util.Arrays.fill(buf, denAt, kAt, 0f);
        int lo = Integer.MAX_VALUE, hi = -1;
        for (int t = t0; t < t1; t++) {
            lo = Math.min(lo, first(pos[t], window));
            hi = Math.max(hi, pos[t]);
        }
        for (int c0 = lo; c0 <= hi; c0 += CHUNK) {
            int c1 = Math.min(hi + 1, c0 + CHUNK); // positions c0..c1-1 at chunk rows 0..
            boolean needed = false;
            for (int t = t0; t < t1 && !needed; t++) needed = first(pos[t], window) < c1 && pos[t] >= c0;
            if (!needed) continue;
            for (int p = c0; p < c1; p++) {
                long row = p < rows ? p : p % rows; // position p lives at row p % R
                load(kc, kType, row * kvRow + (long) g * headDim, headDim, buf, kAt + (p - c0) * headDim, tmp);
                load(vc, vType, row * kvRow + (long) g * headDim, headDim, buf, vAt + (p - c0) * headDim, tmp);
            }
            for (int t = t0; t < t1; t++) {
                int a = Math.max(c0, first(pos[t], window)), b = Math.min(c1 - 1, pos[t]); // this token's positions in the chunk
                if (a > b) continue;
                int n = b - a + 1, j0 = a - c0;
                for (int h = 0; h < group; h++) {
                    int x = (t - t0) * group + h;
                    int qo = t * qRow + (g * group + h) * headDim, sc = x * CHUNK;
                    for (int j = 0; j < n; j++) {
                        int kr = kAt + (j0 + j) * headDim;
                        float s = DotF.dot(q, qo, buf, kr, headDim) * scale;
                        if (softcap > 0) s = softcap * (float) Math.tanh(s / softcap);
                        buf[sc + j] = s;
                    }
                    float m = buf[maxAt + x];
                    float nm = Math.max(m, Elementwise.max(buf, sc, n));
                    int o = accAt + x * headDim;
                    if (nm > m && m != Float.NEGATIVE_INFINITY) {
                        float f = (float) Math.exp(m - nm); // earlier chunks were weighed against a smaller max
                        buf[denAt + x] *= f;
                        for (int d = 0; d < headDim; d++) buf[o + d] *= f;
                    }
                    buf[maxAt + x] = nm;
                    buf[denAt + x] += Elementwise.expShift(buf, sc, n, nm, buf, sc);
                    accumulate(buf, sc, n, vAt + j0 * headDim, headDim, o);
                }
            }
        }
        for (int t = t0; t < t1; t++) {
            for (int h = 0; h < group; h++) {
                int x = (t - t0) * group + h;
                float den = buf[denAt + x];
                // the head's sink joins the softmax's denominator only (weighed against the same max as the sums)
                if (sinks != null) den += (float) Math.exp(sinks[g * group + h] - buf[maxAt + x]);
                float inv = 1f / den;
                int o = accAt + x * headDim, oo = t * qRow + (g * group + h) * headDim;
                for (int d = 0; d < headDim; d++) out[oo + d] = buf[o + d] * inv;
            }
        }
    }

    /** {@code buf[o..o+headDim) += sum_j p_j * V row j}, for the n probabilities at {@code buf[sc..)} and the V rows from {@code buf[vr..)}. */
    private static void accumulate(float[] buf, int sc, int n, int vr, int headDim, int o) {
        int d = 0;
        for (; d + 32 <= headDim; d += 32) {
            FloatVector a0 = FloatVector.fromArray(F256, buf, o + d), a1 = FloatVector.fromArray(F256, buf, o + d + 8);
            FloatVector a2 = FloatVector.fromArray(F256, buf, o + d + 16), a3 = FloatVector.fromArray(F256, buf, o + d + 24);
            for (int j = 0, r = vr + d; j < n; j++, r += headDim) {
                FloatVector p = FloatVector.broadcast(F256, buf[sc + j]);
                a0 = FloatVector.fromArray(F256, buf, r).fma(p, a0);
                a1 = FloatVector.fromArray(F256, buf, r + 8).fma(p, a1);
                a2 = FloatVector.fromArray(F256, buf, r + 16).fma(p, a2);
                a3 = FloatVector.fromArray(F256, buf, r + 24).fma(p, a3);
            }
            a0.intoArray(buf, o + d);
            a1.intoArray(buf, o + d + 8);
            a2.intoArray(buf, o + d + 16);
            a3.intoArray(buf, o + d + 24);
        }
        for (; d + 8 <= headDim; d += 8) {
            FloatVector a0 = FloatVector.fromArray(F256, buf, o + d);
            for (int j = 0, r = vr + d; j < n; j++, r += headDim) a0 = FloatVector.fromArray(F256, buf, r).fma(FloatVector.broadcast(F256, buf[sc + j]), a0);
            a0.intoArray(buf, o + d);
        }
        for (; d < headDim; d++) {
            float a = buf[o + d];
            for (int j = 0; j < n; j++) a += buf[sc + j] * buf[vr + j * headDim + d];
            buf[o + d] = a;
        }
    }

    /**
     * Elements {@code e..e+n} of the cache into {@code dst[o..o+n)}. For a Q8_0 or Q4_0 cache the
     * blocks of 32 that hold them are decoded ({@link Decode#row}): straight into place where the
     * head is whole blocks, else into {@code dst[tmp..)} and the head's part copied from there
     * (a head dim under 32: several heads share a block).
     */
    private static void load(MemorySegment s, DType type, long e, int n, float[] dst, int o, int tmp) {
        switch (type) {
            case F32 -> MemorySegment.copy(s, Mem.F32, 4 * e, dst, o, n);
            case F16 -> Decode.f16(s, 2 * e, dst, o, n);
            default -> {
                long b0 = e / 32, b1 = (e + n + 31) / 32;
                if (e % 32 == 0 && n % 32 == 0) {
                    Decode.row(type, s, b0 * type.typeSize, dst, o, n);
                } else {
                    Decode.row(type, s, b0 * type.typeSize, dst, tmp, (int) (b1 - b0) * 32);
                    System.arraycopy(dst, tmp + (int) (e - 32 * b0), dst, o, n);
                }
            }
        }
    }
}
