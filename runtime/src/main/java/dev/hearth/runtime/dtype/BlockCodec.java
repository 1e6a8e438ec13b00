package dev.hearth.runtime.dtype;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import static dev.hearth.runtime.dtype.ReferenceCodecs.I8;

/**
 * A codec of fixed-size blocks. Rows are moved between the segment and a byte array a chunk of
 * blocks at a time (one bulk copy instead of a checked access per byte); subclasses decode and
 * encode single blocks in that array.
 */
abstract class BlockCodec implements QuantCodec {
    /** Blocks copied per chunk: a few KiB. */
    private static final int CHUNK_BYTES = 4096;

    final DType type;
    final int blockSize;
    final int typeSize;
    private final int chunkBlocks;

    BlockCodec(DType type) {
        this.type = type;
        this.blockSize = type.blockSize;
        this.typeSize = type.typeSize;
        this.chunkBlocks = Math.max(1, CHUNK_BYTES / typeSize);
    }

    @Override
    public final DType type() {
        return type;
    }

    /** Decodes the block at {@code b[p..p+typeSize)} into {@code y[o..o+blockSize)}. */
    abstract void decode(byte[] b, int p, float[] y, int o);

    /** Encodes {@code x[s..s+blockSize)} into {@code b[p..p+typeSize)}, which arrives zeroed. */
    abstract void encode(float[] x, int s, byte[] b, int p);

    @Override
    public void dequantizeRow(MemorySegment src, long off, float[] dst, int o, int n) {
        Codecs.checkWholeBlocks(type, n);
        int blocks = n / blockSize;
        byte[] buf = new byte[Math.min(blocks, chunkBlocks) * typeSize];
        for (int done = 0; done < blocks; ) {
            int k = Math.min(blocks - done, chunkBlocks);
            MemorySegment.copy(src, I8, off, buf, 0, k * typeSize);
            for (int i = 0; i < k; i++) decode(buf, i * typeSize, dst, o + i * blockSize);
            done += k;
            off += (long) k * typeSize;
            o += k * blockSize;
        }
    }

    @Override
    public void quantizeRow(float[] src, int s, MemorySegment dst, long off, int n) {
        Codecs.checkWholeBlocks(type, n);
        int blocks = n / blockSize;
        byte[] buf = new byte[Math.min(blocks, chunkBlocks) * typeSize];
        for (int done = 0; done < blocks; ) {
            int k = Math.min(blocks - done, chunkBlocks);
            Arrays.fill(buf, (byte) 0);
            for (int i = 0; i < k; i++) encode(src, s + i * blockSize, buf, i * typeSize);
            MemorySegment.copy(buf, 0, dst, I8, off, k * typeSize);
            done += k;
            off += (long) k * typeSize;
            s += k * blockSize;
        }
    }
}
