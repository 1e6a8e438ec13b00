package dev.hearth.backend.cuda;

import jcuda.driver.CUdeviceptr;

/** A device pointer that tells its address, for kernel arguments passed by value. */
final class DevicePointer extends CUdeviceptr {
    long address() {
        return getNativePointer() + getByteOffset();
    }
}
