package dev.hearth.backend.cpu;

import dev.hearth.runtime.dtype.DType;
import jdk.incubator.vector.FloatVector;

import java.lang.foreign.MemorySegment;

import static dev.hearth.backend.cpu.Mem.F256;

/**
 * Causal grouped-query attention over an F32 or F16 KV cache: for token t and KV head g, the
 * query heads of g's group share each K and V row as it is read. Two passes per (t, g): scores
 * scale * q·k for cache rows 0..pos[t], then softmax (minus the max, vector exp) and the
 * probability-weighted sum of V rows. The pool takes (t, g) pairs. Checked against
 * ReferenceOps.attention in OpsTest.
 */
final class Attention {
    private Attention() {
    }

    /** Per-thread buffers: scores of a group over the context, one K or V row, accumulators. */
    static float[] buffer(int group, int ctx, int headDim) {
        return new float[group * ctx + headDim + group * headDim + group];
    }

    static void run(CpuPool pool, float[][] buffers, float[] q, MemorySegment k, DType kType, MemorySegment v, DType vType, int[] pos,
                    int tokens, int heads, int kvHeads, int headDim, float scale, float[] out) {
        int ctx = 0;
        for (int t = 0; t < tokens; t++) ctx = Math.max(ctx, pos[t] + 1);
        int n = ctx;
        pool.run(tokens * kvHeads, (i, w) -> task(i / kvHeads, i % kvHeads, buffers[w], n, q, k, kType, v, vType, pos,
                heads, kvHeads, headDim, scale, out));
    }

    private static void task(int t, int g, float[] buf, int ctx, float[] q, MemorySegment kc, DType kType, MemorySegment vc,
                             DType vType, int[] pos, int heads, int kvHeads, int headDim, float scale, float[] out) {
        int n = pos[t] + 1;
        int group = heads / kvHeads;
        int qRow = heads * headDim, kvRow = kvHeads * headDim;
        int row = group * ctx, acc = row + headDim, sums = acc + group * headDim;
        int q0 = t * qRow + g * group * headDim;
        for (int j = 0; j < n; j++) {
            load(kc, kType, (long) j * kvRow + (long) g * headDim, headDim, buf, row);
            for (int h = 0; h < group; h++) buf[h * ctx + j] = scale * DotF.dot(q, q0 + h * headDim, buf, row, headDim);
        }
        for (int h = 0; h < group; h++) {
            float max = Elementwise.max(buf, h * ctx, n);
            buf[sums + h] = 1f / Elementwise.expShift(buf, h * ctx, n, max, buf, h * ctx);
        }
        java.util.Arrays.fill(buf, acc, acc + group * headDim, 0f);
        for (int j = 0; j < n; j++) {
            load(vc, vType, (long) j * kvRow + (long) g * headDim, headDim, buf, row);
            for (int h = 0; h < group; h++) {
                float p = buf[h * ctx + j];
                int a = acc + h * headDim;
                int d = 0;
                for (; d + 8 <= headDim; d += 8) {
                    FloatVector.fromArray(F256, buf, row + d).fma(FloatVector.broadcast(F256, p), FloatVector.fromArray(F256, buf, a + d))
                            .intoArray(buf, a + d);
                }
                for (; d < headDim; d++) buf[a + d] += p * buf[row + d];
            }
        }
        for (int h = 0; h < group; h++) {
            float inv = buf[sums + h];
            int a = acc + h * headDim, o = q0 + h * headDim;
            for (int d = 0; d < headDim; d++) out[o + d] = buf[a + d] * inv;
        }
    }

    /** Elements {@code e..e+n} of an F32 or F16 cache into {@code dst[o..o+n)}. */
    private static void load(MemorySegment s, DType type, long e, int n, float[] dst, int o) {
        if (type == DType.F32) {
            MemorySegment.copy(s, Mem.F32, 4 * e, dst, o, n);
            return;
        }
        Decode.f16(s, 2 * e, dst, o, n);
    }
}
