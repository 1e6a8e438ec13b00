/**
 * The OpenCL backend, on JOCL: every device of every OpenCL platform (GPUs from any vendor,
 * PoCL on the CPU), found through {@link java.util.ServiceLoader} as provider "opencl".
 *
 * <p>How it works: {@link dev.hearth.backend.opencl.OpenClDevice} holds a context and one
 * in-order queue; buffers are cl_mem objects that read and write through that queue (blocking),
 * so results are read after the kernels that made them. {@code OpenClStream.compute} plans a
 * subgraph's kernel launches once and then only enqueues them: no host synchronization inside
 * a compute, one {@code clFinish} per {@code synchronize()}. The kernel sources are resources
 * of the kernels module ({@code kernels/opencl/*.cl}, each with a header saying what it computes);
 * each file is built once per device per process, and its binary is kept on disk so a second
 * start does not compile.
 *
 * <p>What to know when using it:
 * <ul>
 *   <li>JOCL loads {@code libOpenCL.so} (on Debian the package ocl-icd-opencl-dev; the runtime
 *       package has only libOpenCL.so.1). Without a platform, {@code devices()} is empty and
 *       {@code unavailableReason()} says what is missing.</li>
 *   <li>One buffer cannot exceed {@code CL_DEVICE_MAX_MEM_ALLOC_SIZE}, often a quarter of the
 *       device's memory: allocate weights per layer (or per tensor), not one buffer for all.
 *       A larger request fails with a message that says so.</li>
 *   <li>Tensors must start at 4-byte aligned offsets (F32, I32), 2-byte (the rest) or any byte
 *       (MXFP4); GGUF's 32-byte alignment is fine.</li>
 *   <li>Generation (up to 8 tokens) reads each weight row once for all tokens; quantized weights
 *       go by int8 dot products with the activations quantized once per product
 *       ({@code mul_mat_q8.cl}), using cl_khr_integer_dot_product where the device has it.</li>
 *   <li>{@link dev.hearth.backend.opencl.OpenClDevice#close} releases every OpenCL object the
 *       device made; the provider's shared devices live as long as the process.</li>
 *   <li>Free memory: from cl_amd_device_attribute_query where present, else the device's total
 *       minus what this process has allocated on it.</li>
 *   <li>Weight uploads report progress to {@link dev.hearth.backend.opencl.OpenClDevice#setUploadListener}
 *       and to the System.Logger of OpenClDevice at DEBUG.</li>
 *   <li>Program cache folder: {@code -Dhearth.cache=DIR} or {@code $HEARTH_CACHE} (then
 *       {@code DIR/opencl}), else {@code ~/.cache/hearth/opencl}. Extra build options:
 *       {@code -Dhearth.opencl.buildOptions} (the tests pass -cl-opt-disable, which PoCL compiles
 *       several times faster). {@code -Dhearth.opencl.subgroups=false} turns sub-group
 *       reductions off.</li>
 * </ul>
 */
package dev.hearth.backend.opencl;
