package dev.hearth.backend.cpu;

/**
 * Working memory of one stream, sized on first use and grown rarely: activations as float,
 * quantized activations, and per-thread row, tile and partial-sum buffers for the kernels.
 */
final class Scratch {
    final int threads;
    float[] x = new float[0];
    float[] token = new float[0];
    float[] a = new float[0], b = new float[0], c = new float[0];
    int[] pairs = new int[0];
    short[] shorts = new short[0];
    float[] shortScales = new float[0];
    short[] lanes = new short[0];
    int[] laneScales = new int[0];
    final short[] tmp = new short[32];
    final float[][] rowBuf;
    /** Per thread: Q4_K/Q5_K's decoded scales and mins. */
    final int[][] kScales;
    final float[][] tile;
    final float[][] part;
    /** The activations quantized last: their node and layout, valid within one compute. */
    Object quantizedFor;
    int quantizedLayout;

    /**
     * Whether the activations of {@code key} must be quantized (again) into {@code layout}: true
     * where the last quantization was of other activations or another layout, or where
     * {@code key} is null (not to be reused); records {@code key} and {@code layout} as the last.
     */
    boolean quantize(Object key, int layout) {
        boolean stale = key == null || quantizedFor != key || quantizedLayout != layout;
        quantizedFor = key;
        quantizedLayout = layout;
        return stale;
    }

    Scratch(int threads) {
        this.threads = threads;
        rowBuf = new float[threads][0];
        kScales = new int[threads][16];
        tile = new float[threads][0];
        part = new float[threads][0];
    }

    float[] x(int n) {
        if (x.length < n) x = new float[grow(n)];
        return x;
    }

    float[] token(int n) {
        if (token.length < n) token = new float[grow(n)];
        return token;
    }

    float[] a(int n) {
        if (a.length < n) a = new float[grow(n)];
        return a;
    }

    float[] b(int n) {
        if (b.length < n) b = new float[grow(n)];
        return b;
    }

    float[] c(int n) {
        if (c.length < n) c = new float[grow(n)];
        return c;
    }

    int[] pairs(int n) {
        if (pairs.length < n) pairs = new int[grow(n)];
        return pairs;
    }

    short[] shorts(int n) {
        if (shorts.length < n) shorts = new short[grow(n)];
        return shorts;
    }

    float[] shortScales(int n) {
        if (shortScales.length < n) shortScales = new float[grow(n)];
        return shortScales;
    }

    short[] lanes(int n) {
        if (lanes.length < n) lanes = new short[grow(n)];
        return lanes;
    }


    int[] laneScales(int n) {
        if (laneScales.length < n) laneScales = new int[grow(n)];
        return laneScales;
    }

    void rowBufs(int n) {
        for (int i = 0; i < threads; i++) if (rowBuf[i].length < n) rowBuf[i] = new float[n];
    }

    void tiles(int tileFloats, int partFloats) {
        for (int i = 0; i < threads; i++) {
            if (tile[i].length < tileFloats) tile[i] = new float[tileFloats];
            if (part[i].length < partFloats) part[i] = new float[partFloats];
        }
    }

    private static int grow(int n) {
        return (int) Math.min(Integer.MAX_VALUE - 16, Math.max(n, (long) n * 5 / 4));
    }
}
