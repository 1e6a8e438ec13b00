package dev.hearth.backend.cuda;

import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.RepackedRanges;
import dev.hearth.runtime.dtype.DType;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.MemorySegment;

/**
 * GPU memory from cuMemAlloc, zeroed when allocated unless it holds weights (see
 * CudaDevice.allocate), entered in the device's ledger until closed. Reads and writes are synchronous copies on
 * the legacy default stream, which waits for the work already queued on the device's streams
 * (they are blocking streams), so a write never overtakes a kernel that reads the old bytes.
 * Large and heap-backed copies go through the device's pinned staging buffers. Weights that
 * CudaDevice.prepareWeight has repacked (WeightRepack) are recorded by their byte range, which
 * the kernels read in the repacked layout until a write touches the range; reads give back the
 * GGUF layout (whole rows of a repacked range, unpacked on the host).
 */
final class CudaBuffer implements Buffer {
    private final CudaDevice device;
    private final DevicePointer ptr;
    private final long size;
    private final BufferUsage usage;
    private final long address;
    private boolean closed;
    /** Weights repacked in place (CudaDevice.prepareWeight). */
    private final RepackedRanges repacked = new RepackedRanges();

    CudaBuffer(CudaDevice device, DevicePointer ptr, long size, BufferUsage usage) {
        this.device = device;
        this.ptr = ptr;
        this.size = size;
        this.usage = usage;
        this.address = ptr.address();
    }

    @Override
    public Device device() {
        return device;
    }

    CudaDevice cudaDevice() {
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

    /** The device address of byte {@code offset}, for kernel arguments. */
    long address(long offset) {
        return address + offset;
    }

    DevicePointer pointer() {
        return ptr;
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
        checkRange(offset, packed.byteSize());
        if (packed.byteSize() == 0 || repacked.meets(offset, packed.byteSize())) return false;
        device.staging().upload(ptr.withByteOffset(offset), packed);
        repacked.add(offset, packed.byteSize(), type, rowLength);
        return true;
    }

    private synchronized void written(long offset, long bytes) {
        repacked.written(offset, bytes);
    }

    private void checkRange(long offset, long bytes) {
        if (closed) throw new IllegalStateException("buffer on " + device.name() + " is closed");
        if (offset < 0 || bytes < 0 || offset > size - bytes) {
            throw new IndexOutOfBoundsException(bytes + " bytes at " + offset + " outside a buffer of " + size + " on " + device.name());
        }
    }

    @Override
    public void write(long offset, MemorySegment src) {
        checkRange(offset, src.byteSize());
        if (src.byteSize() == 0) return;
        written(offset, src.byteSize());
        device.staging().upload(ptr.withByteOffset(offset), src);
    }

    @Override
    public void read(long offset, MemorySegment dst) {
        checkRange(offset, dst.byteSize());
        if (dst.byteSize() == 0) return;
        device.staging().download(dst, ptr.withByteOffset(offset));
        unpack(offset, dst);
    }

    private synchronized void unpack(long offset, MemorySegment dst) {
        repacked.unpack(offset, dst);
    }

    @Override
    public void clear(long offset, long bytes) {
        checkRange(offset, bytes);
        if (bytes == 0) return;
        written(offset, bytes);
        synchronized (device.staging()) { // the legacy stream, see CudaPlan.record
            device.makeCurrent();
            Cuda.check(JCudaDriver.cuMemsetD8(ptr.withByteOffset(offset), (byte) 0, bytes), "cuMemsetD8");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        synchronized (device.staging()) { // cuMemFree may synchronize the device: not while a graph records
            device.makeCurrent();
            JCudaDriver.cuMemFree(ptr);
        }
        device.ledger().closed(CudaLedger.Kind.DEVICE_MEMORY, ptr);
        device.closed(this);
    }
}
