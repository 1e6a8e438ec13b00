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
 *   <li>Loading repacks Q4_0 and Q8_0 matrices whose rows are a multiple of 256 long
 *       ({@link dev.hearth.backend.opencl.OpenClDevice#prepareWeight}, the layout of
 *       {@link dev.hearth.runtime.backend.WeightRepack}: each row's quants, then its scales), in
 *       place, so the matrix-vector kernels read the quants with 16-byte loads; mul_mat and
 *       get_rows read them so (the q4_0r and q8_0r kernels), another op reading one is refused,
 *       and buffer reads give the GGUF layout back. Expert tensors (mul_mat_id) stay as they
 *       are. {@code -Dhearth.opencl.repack=false} turns it off. The layout is for GPUs: on
 *       PoCL (a CPU, where unaligned loads cost little) the kernel bench's Llama-3.2-1B mul_mat
 *       cases took 3-4% longer with it (geometric mean; 0.92 to 1.16 per case).</li>
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
