package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;

import static dev.hearth.backend.cpu.Mem.F256;

/**
 * Causal grouped-query attention over an F32, F16, Q8_0 or Q4_0 KV cache: for token t and KV head
 * g, the head's K and V rows 0..pos[t] are read once as floats (quantized blocks decoded with the
 * vector decoders of {@link Decode}) and the query heads of g's group share
 * them. Scores scale * q·k, softmax (minus the max, vector exp), then the probability-weighted
 * sum of V rows with the sums in registers, 32 dimensions at a time. The pool takes (t, g)
 * pairs. With a sliding window only the rows pos[t] - window + 1..pos[t] are read; with a soft
 * cap each score becomes cap * tanh(score / cap); with sinks, each head's sink logit joins its
 * softmax's denominator. Position p is read from cache row p % R (a sliding-window layer's cache
 * may be a ring of R rows). Checked against ReferenceOps.attention in OpsTest and the conformance cases.
 */
final class Attention {
    private Attention() {
    }

    /**
     * Floats of a per-thread buffer: scores of a group over the context, its K and V rows as
     * floats, the group's sums, and room to decode the blocks that hold one head's part of a row.
     */
    static int bufferFloats(int group, int ctx, int headDim) {
        return group * ctx + 2 * ctx * headDim + group + headDim + 64;
    }

    static void run(CpuPool pool, float[][] buffers, float[] q, MemorySegment k, DType kType, MemorySegment v, DType vType, int[] pos,
                    int tokens, int heads, int kvHeads, int headDim, float scale, int window, float softcap, float[] sinks, long rows,
                    float[] out) {
        int n = span(pos, tokens, window);
        pool.run(tokens * kvHeads, (i, w) -> task(i / kvHeads, i % kvHeads, buffers[w], n, q, k, kType, v, vType, pos,
                heads, kvHeads, headDim, scale, window, softcap, sinks, rows, out));
    }

    /** The most cache positions one of the tokens attends to: its position + 1, or its window. */
    static int span(int[] pos, int tokens, int window) {
        int n = 0;
        for (int t = 0; t < tokens; t++) n = Math.max(n, window > 0 ? Math.min(pos[t] + 1, window) : pos[t] + 1);
        return n;
    }

    private static void task(int t, int g, float[] buf, int ctx, float[] q, MemorySegment kc, DType kType, MemorySegment vc,
                             DType vType, int[] pos, int heads, int kvHeads, int headDim, float scale, int window, float softcap,
                             float[] sinks, long rows, float[] out) {
        int first = window > 0 ? Math.max(0, pos[t] - window + 1) : 0;
        int n = pos[t] + 1 - first; // rows first..pos[t], at 0..n-1 in the buffer
        int group = heads / kvHeads;
        int qRow = heads * headDim, kvRow = kvHeads * headDim;
        int kAt = group * ctx, vAt = kAt + ctx * headDim, sums = vAt + ctx * headDim;
        int q0 = t * qRow + g * group * headDim;
        // this KV head's rows 0..n-1 as floats, K then V, each row contiguous
        for (int j = 0; j < n; j++) {
            long row = first + j < rows ? first + j : (first + j) % rows; // position p lives at row p % R
            load(kc, kType, row * kvRow + (long) g * headDim, headDim, buf, kAt + j * headDim, sums + group);
            load(vc, vType, row * kvRow + (long) g * headDim, headDim, buf, vAt + j * headDim, sums + group);
        }
        int hv = headDim & ~7;
        for (int h = 0; h < group; h++) {
            int qh = q0 + h * headDim, sc = h * ctx;
            for (int j = 0; j < n; j++) {
                int kr = kAt + j * headDim;
                FloatVector acc = FloatVector.zero(F256);
                for (int d = 0; d < hv; d += 8) acc = FloatVector.fromArray(F256, q, qh + d).fma(FloatVector.fromArray(F256, buf, kr + d), acc);
                float s = acc.reduceLanes(VectorOperators.ADD);
                for (int d = hv; d < headDim; d++) s += q[qh + d] * buf[kr + d];
                buf[sc + j] = scale * s;
            }
            if (softcap > 0) {
                float inv = 1f / softcap;
                for (int j = 0; j < n; j++) buf[sc + j] = softcap * (float) Math.tanh(buf[sc + j] * inv);
            }
            float max = Elementwise.max(buf, sc, n);
            if (sinks == null) {
                buf[sums + h] = 1f / Elementwise.expShift(buf, sc, n, max, buf, sc);
            } else {
                // the head's sink joins the softmax's denominator only
                float sink = sinks[g * group + h];
                max = Math.max(max, sink);
                buf[sums + h] = 1f / (Elementwise.expShift(buf, sc, n, max, buf, sc) + (float) Math.exp(sink - max));
            }
        }
        // out = sum_j p_j v_j, 32 dimensions at a time with the sums in registers
        for (int h = 0; h < group; h++) {
            int sc = h * ctx, o = q0 + h * headDim;
            float inv = buf[sums + h];
            int d = 0;
            for (; d + 32 <= headDim; d += 32) {
                FloatVector a0 = FloatVector.zero(F256), a1 = a0, a2 = a0, a3 = a0;
                for (int j = 0, vr = vAt + d; j < n; j++, vr += headDim) {
                    FloatVector p = FloatVector.broadcast(F256, buf[sc + j]);
                    a0 = FloatVector.fromArray(F256, buf, vr).fma(p, a0);
                    a1 = FloatVector.fromArray(F256, buf, vr + 8).fma(p, a1);
                    a2 = FloatVector.fromArray(F256, buf, vr + 16).fma(p, a2);
                    a3 = FloatVector.fromArray(F256, buf, vr + 24).fma(p, a3);
                }
                a0.mul(inv).intoArray(out, o + d);
                a1.mul(inv).intoArray(out, o + d + 8);
                a2.mul(inv).intoArray(out, o + d + 16);
                a3.mul(inv).intoArray(out, o + d + 24);
            }
            for (; d + 8 <= headDim; d += 8) {
                FloatVector a0 = FloatVector.zero(F256);
                for (int j = 0, vr = vAt + d; j < n; j++, vr += headDim) a0 = FloatVector.fromArray(F256, buf, vr).fma(FloatVector.broadcast(F256, buf[sc + j]), a0);
                a0.mul(inv).intoArray(out, o + d);
            }
            for (; d < headDim; d++) {
                float a = 0;
                for (int j = 0; j < n; j++) a += buf[sc + j] * buf[vAt + j * headDim + d];
                out[o + d] = a * inv;
            }
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
