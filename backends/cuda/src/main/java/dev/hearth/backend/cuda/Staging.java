package dev.hearth.backend.cuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Host-device copies of one device. Native segments up to {@link #DIRECT} bytes are copied in
 * place; larger or heap-backed ones go through two pinned (page-locked) buffers of
 * {@link #CHUNK} bytes in turn: while the DMA engine moves one chunk, the host fills the other
 * (from a mapped model file, page faults included). Where pinned memory cannot be had, ordinary
 * native memory does the same job, more slowly. All copies use the legacy default stream, so they
 * wait for kernels already queued on the device's (blocking) streams. The methods hold this
 * object's lock, which also keeps them out of the short windows in which a stream records a CUDA
 * graph (see CudaPlan.record). The pinned buffers and events are made on first use, entered in
 * the device's ledger, and freed by {@link #close} (the device's close).
 */
final class Staging {
    static final long DIRECT = 1L << 20;
    static final long CHUNK = 16L << 20;

    private final CudaDevice device;
    private final MemorySegment[] host = new MemorySegment[2];
    private final Pointer[] hostPtr = new Pointer[2];
    private final CUevent[] done = new CUevent[2];
    /** The pinned buffers from cuMemHostAlloc (null where the fallback memory stands in). */
    private final Pointer[] pinned = new Pointer[2];
    private Arena fallback;
    private boolean closed;

    Staging(CudaDevice device) {
        this.device = device;
    }

    private void init() {
        if (closed) throw new IllegalStateException(device.name() + " is closed");
        if (host[0] != null) return;
        CudaLedger ledger = device.ledger();
        for (int i = 0; i < 2; i++) {
            Pointer p = new Pointer();
            if (JCudaDriver.cuMemHostAlloc(p, CHUNK, 0) == 0) {
                pinned[i] = p;
                ledger.opened(CudaLedger.Kind.PINNED_HOST, p);
                hostPtr[i] = p;
                host[i] = MemorySegment.ofBuffer(p.getByteBuffer(0, CHUNK));
            } else {
                if (fallback == null) fallback = Arena.ofShared();
                host[i] = fallback.allocate(CHUNK, 4096);
                hostPtr[i] = Pointer.to(host[i].asByteBuffer());
            }
            CUevent e = new CUevent();
            Cuda.check(JCudaDriver.cuEventCreate(e, 0), "cuEventCreate");
            done[i] = e;
            ledger.opened(CudaLedger.Kind.EVENT, e);
        }
    }

    /** Frees the pinned buffers and events; a later copy that needs them fails. */
    synchronized void close() {
        closed = true;
        device.makeCurrent();
        CudaLedger ledger = device.ledger();
        for (int i = 0; i < 2; i++) {
            if (done[i] != null) {
                JCudaDriver.cuEventDestroy(done[i]);
                ledger.closed(CudaLedger.Kind.EVENT, done[i]);
            }
            if (pinned[i] != null) {
                JCudaDriver.cuMemFreeHost(pinned[i]);
                ledger.closed(CudaLedger.Kind.PINNED_HOST, pinned[i]);
            }
            done[i] = null;
            pinned[i] = null;
            hostPtr[i] = null;
            host[i] = null;
        }
        if (fallback != null) fallback.close();
        fallback = null;
    }

    /** Copies all of {@code src} to {@code dst}; returns when the copy is complete. */
    synchronized void upload(CUdeviceptr dst, MemorySegment src) {
        device.makeCurrent();
        long n = src.byteSize();
        if (src.isNative() && n <= DIRECT) {
            Cuda.check(JCudaDriver.cuMemcpyHtoD(dst, Pointer.to(src.asByteBuffer()), n), "cuMemcpyHtoD");
            return;
        }
        init();
        boolean[] pending = new boolean[2];
        int slot = 0;
        for (long off = 0; off < n; off += CHUNK, slot ^= 1) {
            long len = Math.min(CHUNK, n - off);
            if (pending[slot]) Cuda.check(JCudaDriver.cuEventSynchronize(done[slot]), "cuEventSynchronize");
            MemorySegment.copy(src, off, host[slot], 0, len);
            Cuda.check(JCudaDriver.cuMemcpyHtoDAsync(dst.withByteOffset(off), hostPtr[slot], len, (CUstream) null), "cuMemcpyHtoDAsync");
            Cuda.check(JCudaDriver.cuEventRecord(done[slot], null), "cuEventRecord");
            pending[slot] = true;
        }
        for (int i = 0; i < 2; i++) if (pending[i]) Cuda.check(JCudaDriver.cuEventSynchronize(done[i]), "cuEventSynchronize");
    }

    /** Copies {@code dst.byteSize()} bytes from {@code src} into {@code dst}. */
    synchronized void download(MemorySegment dst, CUdeviceptr src) {
        device.makeCurrent();
        long n = dst.byteSize();
        if (dst.isNative() && !dst.isReadOnly()) {
            for (long off = 0; off < n; off += Integer.MAX_VALUE) {
                long len = Math.min(Integer.MAX_VALUE, n - off);
                Cuda.check(JCudaDriver.cuMemcpyDtoH(Pointer.to(dst.asSlice(off, len).asByteBuffer()), src.withByteOffset(off), len), "cuMemcpyDtoH");
            }
            return;
        }
        init();
        for (long off = 0; off < n; off += CHUNK) {
            long len = Math.min(CHUNK, n - off);
            Cuda.check(JCudaDriver.cuMemcpyDtoH(hostPtr[0], src.withByteOffset(off), len), "cuMemcpyDtoH");
            MemorySegment.copy(host[0], 0, dst, off, len);
        }
    }
}
