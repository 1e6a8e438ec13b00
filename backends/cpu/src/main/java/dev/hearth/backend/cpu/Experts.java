package dev.hearth.backend.cpu;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.dtype.DType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The mixture-of-experts ops: top_k (each token's experts), mul_mat_id (each token's rows times
 * its experts only) and weighted_sum (the experts' outputs mixed by the router's weights).
 * mul_mat_id groups the slots of a batch by expert, so that each selected expert's weights are
 * read once per batch, and runs {@link MatMul} on that expert's rows: the matrix-vector kernels
 * (and the repacked layout, sliced at the expert's first group of 8 rows) for one or two slots,
 * the GEMM for more. Checked against the reference ops by the conformance cases.
 */
final class Experts {
    private Experts() {
    }

    /** The indices of the k largest of each row of {@code e}, largest first, lower index first among equals. */
    static void topK(float[] x, int e, int rows, int k, int[] out) {
        for (int r = 0; r < rows; r++) {
            int o = r * e;
            for (int j = 0; j < k; j++) {
                int best = -1;
                for (int i = 0; i < e; i++) {
                    if (taken(out, r * k, j, i)) continue;
                    if (best < 0 || x[o + i] > x[o + best]) best = i;
                }
                out[r * k + j] = best;
            }
        }
    }

    private static boolean taken(int[] out, int from, int count, int i) {
        for (int j = 0; j < count; j++) if (out[from + j] == i) return true;
        return false;
    }

    /** out[t] = sum over j of w[t][j] * y[t * k + j], rows of {@code n}. */
    static void weightedSum(float[] y, int n, float[] w, int k, int tokens, float[] out) {
        for (int t = 0; t < tokens; t++) {
            int o = t * n;
            java.util.Arrays.fill(out, o, o + n, 0f);
            for (int j = 0; j < k; j++) {
                float wj = w[t * k + j];
                int yo = (t * k + j) * n;
                for (int i = 0; i < n; i++) out[o + i] += wj * y[yo + i];
            }
        }
    }

    /** One mul_mat_id step, bound to its memory, with gather and scatter buffers of its own. */
    static final class MulMatId {
        private final DType type;
        private final MemorySegment w, x, ids, out;
        private final Repack.Copy packed;
        private final int k, n, experts, used, tokens;
        private final boolean perSlot;
        private final String name;
        private final MemorySegment xs, ys;
        private final int[] slots, idv, count, cursor;

        MulMatId(DType type, MemorySegment w, Repack.Copy packed, int k, int n, int experts, MemorySegment x, long xRows,
                 MemorySegment ids, int used, int tokens, MemorySegment out, String name) {
            this.type = type;
            this.w = w;
            this.packed = packed;
            this.k = k;
            this.n = n;
            this.experts = experts;
            this.x = x;
            this.ids = ids;
            this.used = used;
            this.tokens = tokens;
            this.out = out;
            this.name = name;
            this.perSlot = xRows == (long) used * tokens;
            int total = used * tokens;
            Arena arena = Arena.ofAuto();
            this.xs = arena.allocate(4L * k * total, 64);
            this.ys = arena.allocate(4L * n * total, 64);
            this.slots = new int[total];
            this.idv = new int[total];
            this.count = new int[experts + 1];
            this.cursor = new int[experts];
        }

        void run(CpuPool pool, Scratch s) {
            int total = used * tokens;
            MemorySegment.copy(ids, Mem.I32, 0, idv, 0, total);
            // counting sort of the slots by expert
            java.util.Arrays.fill(count, 0);
            for (int i = 0; i < total; i++) {
                int e = idv[i];
                if (e < 0 || e >= experts) throw new HearthException("mul_mat_id: expert " + e + " is outside " + name + " (" + experts + " experts)");
                count[e + 1]++;
            }
            for (int e = 0; e < experts; e++) count[e + 1] += count[e];
            System.arraycopy(count, 0, cursor, 0, experts);
            for (int i = 0; i < total; i++) slots[cursor[idv[i]]++] = i;
            long rowBytes = type.bytesFor(k);
            int nb = k / type.blockSize;
            for (int e = 0; e < experts; e++) {
                int c = count[e + 1] - count[e];
                if (c == 0) continue;
                for (int j = 0; j < c; j++) {
                    int slot = slots[count[e] + j];
                    int row = perSlot ? slot : slot / used;
                    MemorySegment.copy(x, 4L * k * row, xs, 4L * k * j, 4L * k);
                }
                MemorySegment we = w.asSlice(rowBytes * n * e, rowBytes * n);
                MatMul.run(pool, s, type, we, packed, Repack.bytes(type, nb, n * e), k, n, xs, c, ys, null);
                for (int j = 0; j < c; j++) {
                    int slot = slots[count[e] + j];
                    MemorySegment.copy(ys, 4L * n * j, out, 4L * n * slot, 4L * n);
                }
            }
        }
    }
}
