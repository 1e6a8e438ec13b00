package dev.hearth.backend.cuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.List;

/** One kernel launch with its grid, block and arguments, built once and launched many times. */
record Launch(Kernel kernel, CUfunction function, int gridX, int gridY, int gridZ, int block, Pointer params) {

    void launch(CUstream stream) {
        Cuda.check(JCudaDriver.cuLaunchKernel(function, gridX, gridY, gridZ, block, 1, 1, 0, stream, params, null),
                "cuLaunchKernel " + kernel.entry);
    }

    /** Kernel arguments in order, each passed by value as the kernel declares it. */
    static final class Args {
        private final List<NativePointerObject> values = new ArrayList<>();

        /** A device pointer (any pointer type in the kernel); 0 for null. */
        Args ptr(long address) {
            values.add(Pointer.to(new long[]{address}));
            return this;
        }

        Args i32(long v) {
            values.add(Pointer.to(new int[]{Math.toIntExact(v)}));
            return this;
        }

        Args i64(long v) {
            values.add(Pointer.to(new long[]{v}));
            return this;
        }

        Args f32(float v) {
            values.add(Pointer.to(new float[]{v}));
            return this;
        }

        Pointer build() {
            return Pointer.to(values.toArray(new NativePointerObject[0]));
        }
    }
}
