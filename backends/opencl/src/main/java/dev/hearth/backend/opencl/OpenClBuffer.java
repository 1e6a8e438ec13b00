package dev.hearth.backend.opencl;

import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.RepackedRanges;
import dev.hearth.runtime.dtype.DType;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.cl_mem;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A cl_mem on one device. Reads and writes are blocking and go through the device's single
 * in-order queue, so they come after every kernel enqueued before them. Large copies go in
 * chunks; writes to WEIGHTS buffers report progress to the device's upload listener. Weights
 * that OpenClDevice.prepareWeight has repacked (WeightRepack) are recorded by their byte range,
 * which mul_mat's and get_rows' kernels read in the repacked layout until a write touches the
 * range; reads give back the GGUF layout (whole rows of a repacked range, unpacked on the host;
 * a read of part of a row fails).
 */
final class OpenClBuffer implements Buffer {
    private static final long CHUNK = 64L << 20;

    private final OpenClDevice device;
    private final long size;
    private final BufferUsage usage;
    private cl_mem mem;
    /** Weights repacked in place (OpenClDevice.prepareWeight). */
    private final RepackedRanges repacked = new RepackedRanges();

    OpenClBuffer(OpenClDevice device, cl_mem mem, long size, BufferUsage usage) {
        this.device = device;
        this.mem = mem;
        this.size = size;
        this.usage = usage;
    }

    cl_mem mem() {
        if (mem == null) throw new IllegalStateException("buffer of " + size + " bytes on " + device.name() + " is closed");
        return mem;
    }

    @Override
    public Device device() {
        return device;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public BufferUsage usage() {
        return usage;
    }

    /** Whether the tensor at {@code offset} was repacked (a range recorded by {@link #writeRepacked} starts there). */
    synchronized boolean isRepacked(long offset) {
        return repacked.startsAt(offset);
    }

    /**
     * Writes a repacked tensor's bytes at {@code offset}, rows of {@code rowLength} elements of
     * {@code type}, and records the range as repacked; false (nothing written) where the range
     * meets one already recorded.
     */
    synchronized boolean writeRepacked(long offset, MemorySegment packed, DType type, long rowLength) {
        check(offset, packed.byteSize());
        if (packed.byteSize() == 0 || repacked.meets(offset, packed.byteSize())) return false;
        copyIn(offset, packed, false);
        repacked.add(offset, packed.byteSize(), type, rowLength);
        return true;
    }

    @Override
    public void write(long offset, MemorySegment src) {
        check(offset, src.byteSize());
        synchronized (this) {
            repacked.written(offset, src.byteSize());
        }
        copyIn(offset, src, usage == BufferUsage.WEIGHTS);
    }

    /** Copies {@code src} to the device at {@code offset}; {@code progress}: tell the upload listener. */
    private void copyIn(long offset, MemorySegment src, boolean progress) {
        long total = src.byteSize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = src.isNative() ? null : arena.allocate(Math.min(total, CHUNK), 64);
            for (long done = 0; done < total; ) {
                long n = Math.min(CHUNK, total - done);
                MemorySegment part = src.asSlice(done, n);
                if (staging != null) {
                    MemorySegment.copy(part, 0, staging, 0, n);
                    part = staging.asSlice(0, n);
                }
                synchronized (device) {
                    CL.clEnqueueWriteBuffer(device.queue(), mem(), true, offset + done, n, Pointer.to(part.asByteBuffer()), 0, null, null);
                }
                done += n;
                if (progress) device.uploaded(n);
            }
        }
    }

    @Override
    public void read(long offset, MemorySegment dst) {
        check(offset, dst.byteSize());
        long total = dst.byteSize();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = dst.isNative() ? null : arena.allocate(Math.min(total, CHUNK), 64);
            for (long done = 0; done < total; ) {
                long n = Math.min(CHUNK, total - done);
                MemorySegment part = staging != null ? staging.asSlice(0, n) : dst.asSlice(done, n);
                synchronized (device) {
                    CL.clEnqueueReadBuffer(device.queue(), mem(), true, offset + done, n, Pointer.to(part.asByteBuffer()), 0, null, null);
                }
                if (staging != null) MemorySegment.copy(part, 0, dst, done, n);
                done += n;
            }
        }
        synchronized (this) {
            repacked.unpack(offset, dst);
        }
    }

    @Override
    public void clear(long offset, long bytes) {
        check(offset, bytes);
        if (bytes == 0) return;
        synchronized (this) {
            repacked.written(offset, bytes);
        }
        synchronized (device) {
            CL.clEnqueueFillBuffer(device.queue(), mem(), Pointer.to(new byte[] {0}), 1, offset, bytes, 0, null, null);
            CL.clFinish(device.queue());
        }
    }

    private void check(long offset, long bytes) {
        if (offset < 0 || bytes < 0 || offset + bytes > size) {
            throw new IndexOutOfBoundsException(bytes + " bytes at " + offset + " outside a buffer of " + size + " on " + device.name());
        }
    }

    @Override
    public void close() {
        cl_mem m;
        synchronized (this) {
            m = mem;
            mem = null;
        }
        if (m != null) {
            synchronized (device) {
                CL.clReleaseMemObject(m);
            }
            device.released(this);
        }
    }

    @Override
    public String toString() {
        return usage + " buffer of " + size + " bytes on " + device.name();
    }
}
