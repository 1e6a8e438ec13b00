package dev.hearth.backend.opencl;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.graph.Node;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_kernel;

import java.util.ArrayList;
import java.util.List;

/**
 * One kernel launch, planned once per subgraph: the kernel, its arguments (sizes and values),
 * and the global and local work sizes. Arguments are set just before each enqueue, since a
 * kernel object is shared by every launch of that kernel.
 */
record Launch(Node node, cl_kernel kernel, long[] argSizes, Pointer[] argValues, long[] global, long[] local) {

    /** Collects a kernel's arguments in order. */
    static final class Args {
        private final OpenClDevice device;
        private final List<Long> sizes = new ArrayList<>();
        private final List<Pointer> values = new ArrayList<>();

        Args(OpenClDevice device) {
            this.device = device;
        }

        /** A tensor: its buffer, then its byte offset (ulong). */
        Args tensor(TensorRef r) {
            if (!(r.buffer() instanceof OpenClBuffer b) || b.device() != device) {
                throw new IllegalStateException(r.desc() + " is not in a buffer of " + device.name() + ": " + r.buffer());
            }
            long align = switch (r.desc().type()) {
                case F32, I32 -> 4;
                case MXFP4 -> 1; // bytes only: an E8M0 scale and nibbles
                default -> 2; // halves, and the half scales of quantized blocks
            };
            if (r.offset() % align != 0) {
                throw new HearthException(r.desc() + " starts at byte " + r.offset() + " of its buffer; the OpenCL kernels need "
                        + align + "-byte alignment (GGUF aligns tensors to 32 bytes)");
            }
            add(Sizeof.cl_mem, Pointer.to(b.mem()));
            return u64(r.offset());
        }

        /** A buffer of the backend's own (scratch), then a byte offset. */
        Args buffer(OpenClBuffer b, long offset) {
            add(Sizeof.cl_mem, Pointer.to(b.mem()));
            return u64(offset);
        }

        Args u32(long v) {
            if (v < 0 || v > 0xffff_ffffL) throw new HearthException("OpenCL kernel argument " + v + " does not fit 32 bits");
            return add(Sizeof.cl_uint, Pointer.to(new int[] {(int) v}));
        }

        Args i32(int v) {
            return add(Sizeof.cl_int, Pointer.to(new int[] {v}));
        }

        Args u64(long v) {
            return add(Sizeof.cl_ulong, Pointer.to(new long[] {v}));
        }

        Args f32(float v) {
            return add(Sizeof.cl_float, Pointer.to(new float[] {v}));
        }

        /** Local memory of {@code bytes}, sized at launch. */
        Args local(long bytes) {
            return add(bytes, null);
        }

        private Args add(long size, Pointer value) {
            sizes.add(size);
            values.add(value);
            return this;
        }

        Launch launch(Node node, cl_kernel kernel, long[] global, long[] local) {
            long[] s = new long[sizes.size()];
            for (int i = 0; i < s.length; i++) s[i] = sizes.get(i);
            return new Launch(node, kernel, s, values.toArray(new Pointer[0]), global, local);
        }
    }
}
