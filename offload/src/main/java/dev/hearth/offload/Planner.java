package dev.hearth.offload;

import dev.hearth.runtime.HearthException;

import java.util.ArrayList;
import java.util.List;

/**
 * Decides which blocks of a model go to which GPU, as llama.cpp's -ngl does: the last blocks go
 * to the GPU(s), the output head with them when every block does (or, under "auto", whenever it
 * fits), the embedding and the first blocks stay on the CPU, and each block's KV cache lives with
 * it. A pure function of numbers: no device is touched.
 *
 * <p>A GPU may use its free memory less the margin, and no more than its budget. A GPU that holds
 * anything also reserves the compute buffer. Under "auto" the planner offloads as many blocks as
 * fit; where not even one fits at the requested context, it halves the context down to the floor
 * first, and says so. An explicit count that does not fit shrinks the context the same way, and
 * fails with the numbers and a count that would fit where even the floor is not enough.
 */
public final class Planner {
    private Planner() {
    }

    public static Plan plan(PlanRequest r) {
        MemoryProfile p = r.profile();
        int n = p.layers();
        int gpus = r.gpus().size();
        List<String> notes = new ArrayList<>();
        boolean moe = false;
        for (long e : p.layerExperts()) moe |= e > 0;
        int m = !moe ? 0 : r.cpuMoe() >= 0 ? Math.min(r.cpuMoe(), n) : r.gpuLayers() == PlanRequest.AUTO ? PlanRequest.AUTO : 0;
        if (gpus == 0 || r.gpuLayers() == 0) {
            if (gpus == 0 && r.gpuLayers() > 0) notes.add("no GPU device: every layer runs on the CPU");
            return build(r, 0, false, r.ctx(), 0, notes);
        }
        if (r.gpuLayers() == PlanRequest.AUTO) {
            int ctx = r.ctx();
            while (true) {
                int mm = m;
                Choice c;
                if (mm == PlanRequest.AUTO) {
                    // A byte of GPU memory buys more holding attention and dense weights (read for every
                    // token) than holding experts (a few of which each token reads): experts leave the GPU
                    // first, layer by layer from the first, and whole layers only after.
                    mm = n;
                    for (int k = 0; k <= n; k++) {
                        if (fits(r, n, true, ctx, k)) {
                            mm = k;
                            break;
                        }
                    }
                    if (mm > 0) notes.add("the experts of " + (mm == n ? "every layer" : "layers " + Plan.ranges(range(mm))) + " stay on the CPU; attention and dense weights go to the GPU");
                }
                c = best(r, ctx, mm);
                if (c.blocks > 0 || ctx <= r.ctxFloor()) {
                    if (ctx != r.ctx() && c.blocks > 0) notes.add("context shrunk from " + r.ctx() + " to " + ctx + " so that layers fit on the GPU");
                    if (c.blocks == 0) {
                        ctx = r.ctx(); // shrinking did not help: keep the context asked for
                        c = best(r, ctx, mm);
                        notes.add(nothingFits(r, ctx));
                    }
                    else if (c.blocks < n) notes.add(c.blocks + " of " + n + " blocks fit on the GPU; the rest run on the CPU");
                    return build(r, c.blocks, c.head, ctx, mm, notes);
                }
                if (m == PlanRequest.AUTO) notes.clear();
                ctx = Math.max(r.ctxFloor(), ctx / 2);
            }
        }
        int want = Math.min(r.gpuLayers(), n);
        boolean head = r.gpuLayers() >= n;
        if (r.gpuLayers() > n) notes.add("--gpu-layers " + r.gpuLayers() + " is more than the model's " + n + " blocks: all of them go to the GPU");
        int ctx = r.ctx();
        while (!fits(r, want, head, ctx, m)) {
            if (ctx <= r.ctxFloor()) {
                Choice c = best(r, r.ctxFloor(), m);
                long need = need(r, want, head, r.ctxFloor(), m);
                throw new HearthException(String.format("%d layers need %s on %s even at a context of %d, but %s is free%s: try --gpu-layers %d%s%s",
                        want, Plan.mib(need), r.gpus().getLast().name(), r.ctxFloor(), Plan.mib(capacity(r, gpus - 1)),
                        r.budgets() != null && r.budgets()[gpus - 1] >= 0 ? " within the budget" : "", c.blocks,
                        c.blocks == 0 ? " (the CPU alone)" : "", moe && m < n ? ", or --cpu-moe to keep the experts on the CPU" : ""));
            }
            ctx = Math.max(r.ctxFloor(), ctx / 2);
        }
        if (ctx != r.ctx()) notes.add("context shrunk from " + r.ctx() + " to " + ctx + " so that " + want + " layers fit on the GPU");
        return build(r, want, head, ctx, m, notes);
    }

    private static List<Integer> range(int n) {
        List<Integer> l = new ArrayList<>();
        for (int i = 0; i < n; i++) l.add(i);
        return l;
    }

    private record Choice(int blocks, boolean head) {
    }

    /** The most bytes offloadable at {@code ctx}: the largest block count with the head, or without it. */
    private static Choice best(PlanRequest r, int ctx, int m) {
        int n = r.profile().layers();
        int withHead = -1;
        for (int k = n; k >= 0; k--) {
            if (fits(r, k, true, ctx, m)) {
                withHead = k;
                break;
            }
        }
        int without = 0;
        for (int k = n; k >= 0; k--) {
            if (fits(r, k, false, ctx, m)) {
                without = k;
                break;
            }
        }
        if (withHead < 0) return new Choice(without, false);
        long a = offloaded(r, withHead, true, m);
        long b = offloaded(r, without, false, m);
        return a >= b ? new Choice(withHead, true) : new Choice(without, false);
    }

    private static long offloaded(PlanRequest r, int blocks, boolean head, int m) {
        MemoryProfile p = r.profile();
        long s = head ? p.headWeights() : 0;
        for (int l = p.layers() - blocks; l < p.layers(); l++) s += gpuWeights(p, l, m);
        return s;
    }

    /** Bytes of block {@code l} that a GPU holding it takes: all of it, or its dense part where its experts stay on the CPU (l < m). */
    static long gpuWeights(MemoryProfile p, int l, int m) {
        return p.layerWeights()[l] - (l < m ? p.layerExperts()[l] : 0);
    }

    private static String nothingFits(PlanRequest r, int ctx) {
        MemoryProfile p = r.profile();
        int last = p.layers() - 1;
        long one = gpuWeights(p, last, 0) - p.layerExperts()[last] + p.kvBytes(last, ctx) + p.computeBytes() + r.margin();
        return String.format("not even one layer fits on %s (one needs %s with the compute buffer and margin; %s may be used): the layers run on the CPU",
                r.gpus().getFirst().name(), Plan.mib(one), Plan.mib(Math.max(0, capacity(r, 0) + r.margin())));
    }

    /** Blocks 0..n-1 per GPU for {@code blocks} offloaded blocks: contiguous ranges by the split shares. */
    static int[] assign(PlanRequest r, int blocks, boolean head) {
        int n = r.profile().layers();
        int g = r.gpus().size();
        int[] dev = new int[n];
        java.util.Arrays.fill(dev, -1);
        double[] share = shares(r);
        int first = n - blocks;
        double acc = 0;
        int l = first;
        for (int i = 0; i < g; i++) {
            acc += share[i];
            int end = i == g - 1 ? n : first + (int) Math.round(acc * blocks);
            for (; l < end; l++) dev[l] = i;
        }
        return dev;
    }

    private static double[] shares(PlanRequest r) {
        int g = r.gpus().size();
        double[] s = new double[g];
        double total = 0;
        for (int i = 0; i < g; i++) {
            s[i] = r.split() != null ? r.split()[i] : Math.max(0, capacity(r, i));
            total += s[i];
        }
        for (int i = 0; i < g; i++) s[i] = total > 0 ? s[i] / total : 1.0 / g;
        return s;
    }

    /** Bytes GPU {@code i} may use: free less the margin, capped by its budget. */
    static long capacity(PlanRequest r, int i) {
        long c = r.gpus().get(i).free() - r.margin();
        if (r.budgets() != null && r.budgets()[i] >= 0) c = Math.min(c, r.budgets()[i]);
        return c;
    }

    private static long[] use(PlanRequest r, int[] dev, boolean head, int ctx, int m) {
        MemoryProfile p = r.profile();
        long[] used = new long[r.gpus().size()];
        boolean[] any = new boolean[used.length];
        for (int l = 0; l < dev.length; l++) {
            if (dev[l] < 0) continue;
            used[dev[l]] += gpuWeights(p, l, m) + p.kvBytes(l, ctx);
            any[dev[l]] = true;
        }
        if (head) {
            int h = headDevice(dev, used.length);
            used[h] += p.headWeights();
            any[h] = true;
        }
        for (int i = 0; i < used.length; i++) if (any[i]) used[i] += p.computeBytes();
        return used;
    }

    private static int headDevice(int[] dev, int gpus) {
        return dev.length > 0 && dev[dev.length - 1] >= 0 ? dev[dev.length - 1] : gpus - 1;
    }

    private static boolean fits(PlanRequest r, int blocks, boolean head, int ctx, int m) {
        long[] used = use(r, assign(r, blocks, head), head, ctx, m);
        for (int i = 0; i < used.length; i++) if (used[i] > 0 && used[i] > capacity(r, i)) return false;
        return true;
    }

    private static long need(PlanRequest r, int blocks, boolean head, int ctx, int m) {
        long most = 0;
        for (long u : use(r, assign(r, blocks, head), head, ctx, m)) most = Math.max(most, u);
        return most;
    }

    private static Plan build(PlanRequest r, int blocks, boolean head, int ctx, int m, List<String> notes) {
        MemoryProfile p = r.profile();
        int n = p.layers();
        int[] dev = r.gpus().isEmpty() ? new int[n] : assign(r, blocks, head);
        if (r.gpus().isEmpty()) java.util.Arrays.fill(dev, -1);
        int headDev = head ? headDevice(dev, r.gpus().size()) : -1;
        List<Plan.Row> rows = new ArrayList<>();
        for (int i = 0; i < r.gpus().size(); i++) {
            List<Integer> ls = new ArrayList<>();
            long w = 0;
            long kv = 0;
            List<Integer> dense = new ArrayList<>();
            for (int l = 0; l < n; l++) {
                if (dev[l] == i) {
                    ls.add(l);
                    if (l < m && p.layerExperts()[l] > 0) dense.add(l);
                    w += gpuWeights(p, l, m);
                    kv += p.kvBytes(l, ctx);
                }
            }
            if (headDev == i) w += p.headWeights();
            boolean used = !ls.isEmpty() || headDev == i;
            long compute = used ? p.computeBytes() : 0;
            String layers = Plan.ranges(ls) + (headDev == i ? (ls.isEmpty() ? "head" : " +head") : "")
                    + (dense.isEmpty() ? "" : " (experts of " + Plan.ranges(dense) + " on cpu)");
            rows.add(new Plan.Row(r.gpus().get(i).name(), layers, w, kv, compute, r.gpus().get(i).free() - w - kv - compute));
        }
        List<Integer> cpu = new ArrayList<>();
        List<Integer> cpuExperts = new ArrayList<>();
        long w = p.embeddingWeights();
        long kv = 0;
        boolean[] expertsOnCpu = new boolean[n];
        for (int l = 0; l < n; l++) {
            if (dev[l] < 0) {
                cpu.add(l);
                w += p.layerWeights()[l];
                kv += p.kvBytes(l, ctx);
            } else if (l < m && p.layerExperts()[l] > 0) {
                cpuExperts.add(l);
                expertsOnCpu[l] = true;
                w += p.layerExperts()[l];
            }
        }
        if (headDev < 0) w += p.headWeights();
        String layers = "embd" + (cpu.isEmpty() ? "" : "," + Plan.ranges(cpu)) + (headDev < 0 ? ",head" : "")
                + (cpuExperts.isEmpty() ? "" : " +experts " + Plan.ranges(cpuExperts));
        // Weights on the CPU are mapped from the file, so they take page cache, not heap.
        long hostUse = kv + p.computeBytes();
        rows.add(new Plan.Row("cpu", layers, w, kv, p.computeBytes(), r.hostFree() > 0 ? r.hostFree() - hostUse - w : Long.MIN_VALUE));
        // What one generated token reads where: the figure a device's memory bandwidth turns into speed.
        long gpuRead = headDev >= 0 ? p.headWeights() : 0, cpuRead = headDev < 0 ? p.headWeights() : 0;
        for (int l = 0; l < n; l++) {
            long experts = Math.round(p.layerExperts()[l] * p.expertShare());
            long dense = p.tokenBytes(l) - experts;
            if (dev[l] < 0) cpuRead += dense + experts;
            else if (expertsOnCpu[l]) { gpuRead += dense; cpuRead += experts; }
            else gpuRead += dense + experts;
        }
        if (!r.gpus().isEmpty()) {
            notes.add(String.format(java.util.Locale.ROOT, "a generated token reads %s of weights on the GPU%s and %s on the CPU",
                    Plan.mib(gpuRead), r.gpus().size() > 1 ? "s" : "", Plan.mib(cpuRead)));
        }
        if (r.hostFree() > 0 && r.hostFree() - hostUse - w < 0) {
            notes.add("the CPU part (" + Plan.mib(w + hostUse) + ") is more than the free memory; pages of the model file will be read again as they are needed");
        }
        return new Plan(dev, headDev, ctx, rows, List.copyOf(notes), expertsOnCpu);
    }
}
