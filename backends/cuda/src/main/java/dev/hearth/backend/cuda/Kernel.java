package dev.hearth.backend.cuda;

/**
 * Every CUDA kernel entry point the backend launches: the PTX module (a file
 * {@code kernels/cuda/MODULE.ptx} of the hearth-kernels jar, built from {@code MODULE.cu}) and the
 * {@code extern "C"} name inside it. PtxTest checks that each name is an entry of its module.
 * mul_mat's matrix-vector kernels come per weight type in three token variants, {@code _T1},
 * {@code _T4} and {@code _T8} (tokens per block; see {@link KernelCalls#vecVariant}).
 */
enum Kernel {
    GET_ROWS("get_rows", "get_rows"),
    MUL_MAT_VEC_F32_T1("mul_mat_vec", "mul_mat_vec_f32_t1"),
    MUL_MAT_VEC_F32_T4("mul_mat_vec", "mul_mat_vec_f32_t4"),
    MUL_MAT_VEC_F32_T8("mul_mat_vec", "mul_mat_vec_f32_t8"),
    MUL_MAT_VEC_F16_T1("mul_mat_vec", "mul_mat_vec_f16_t1"),
    MUL_MAT_VEC_F16_T4("mul_mat_vec", "mul_mat_vec_f16_t4"),
    MUL_MAT_VEC_F16_T8("mul_mat_vec", "mul_mat_vec_f16_t8"),
    MUL_MAT_VEC_BF16_T1("mul_mat_vec", "mul_mat_vec_bf16_t1"),
    MUL_MAT_VEC_BF16_T4("mul_mat_vec", "mul_mat_vec_bf16_t4"),
    MUL_MAT_VEC_BF16_T8("mul_mat_vec", "mul_mat_vec_bf16_t8"),
    MUL_MAT_VEC_Q4_0_T1("mul_mat_vec", "mul_mat_vec_q4_0_t1"),
    MUL_MAT_VEC_Q4_0_T4("mul_mat_vec", "mul_mat_vec_q4_0_t4"),
    MUL_MAT_VEC_Q4_0_T8("mul_mat_vec", "mul_mat_vec_q4_0_t8"),
    MUL_MAT_VEC_Q4_1_T1("mul_mat_vec", "mul_mat_vec_q4_1_t1"),
    MUL_MAT_VEC_Q4_1_T4("mul_mat_vec", "mul_mat_vec_q4_1_t4"),
    MUL_MAT_VEC_Q4_1_T8("mul_mat_vec", "mul_mat_vec_q4_1_t8"),
    MUL_MAT_VEC_Q5_0_T1("mul_mat_vec", "mul_mat_vec_q5_0_t1"),
    MUL_MAT_VEC_Q5_0_T4("mul_mat_vec", "mul_mat_vec_q5_0_t4"),
    MUL_MAT_VEC_Q5_0_T8("mul_mat_vec", "mul_mat_vec_q5_0_t8"),
    MUL_MAT_VEC_Q5_1_T1("mul_mat_vec", "mul_mat_vec_q5_1_t1"),
    MUL_MAT_VEC_Q5_1_T4("mul_mat_vec", "mul_mat_vec_q5_1_t4"),
    MUL_MAT_VEC_Q5_1_T8("mul_mat_vec", "mul_mat_vec_q5_1_t8"),
    MUL_MAT_VEC_Q8_0_T1("mul_mat_vec", "mul_mat_vec_q8_0_t1"),
    MUL_MAT_VEC_Q8_0_T4("mul_mat_vec", "mul_mat_vec_q8_0_t4"),
    MUL_MAT_VEC_Q8_0_T8("mul_mat_vec", "mul_mat_vec_q8_0_t8"),
    MUL_MAT_VEC_MXFP4_T1("mul_mat_vec", "mul_mat_vec_mxfp4_t1"),
    MUL_MAT_VEC_MXFP4_T4("mul_mat_vec", "mul_mat_vec_mxfp4_t4"),
    MUL_MAT_VEC_MXFP4_T8("mul_mat_vec", "mul_mat_vec_mxfp4_t8"),
    MUL_MAT_VEC_Q2_K_T1("mul_mat_vec", "mul_mat_vec_q2_k_t1"),
    MUL_MAT_VEC_Q2_K_T4("mul_mat_vec", "mul_mat_vec_q2_k_t4"),
    MUL_MAT_VEC_Q2_K_T8("mul_mat_vec", "mul_mat_vec_q2_k_t8"),
    MUL_MAT_VEC_Q3_K_T1("mul_mat_vec", "mul_mat_vec_q3_k_t1"),
    MUL_MAT_VEC_Q3_K_T4("mul_mat_vec", "mul_mat_vec_q3_k_t4"),
    MUL_MAT_VEC_Q3_K_T8("mul_mat_vec", "mul_mat_vec_q3_k_t8"),
    MUL_MAT_VEC_Q4_K_T1("mul_mat_vec", "mul_mat_vec_q4_k_t1"),
    MUL_MAT_VEC_Q4_K_T4("mul_mat_vec", "mul_mat_vec_q4_k_t4"),
    MUL_MAT_VEC_Q4_K_T8("mul_mat_vec", "mul_mat_vec_q4_k_t8"),
    MUL_MAT_VEC_Q5_K_T1("mul_mat_vec", "mul_mat_vec_q5_k_t1"),
    MUL_MAT_VEC_Q5_K_T4("mul_mat_vec", "mul_mat_vec_q5_k_t4"),
    MUL_MAT_VEC_Q5_K_T8("mul_mat_vec", "mul_mat_vec_q5_k_t8"),
    MUL_MAT_VEC_Q6_K_T1("mul_mat_vec", "mul_mat_vec_q6_k_t1"),
    MUL_MAT_VEC_Q6_K_T4("mul_mat_vec", "mul_mat_vec_q6_k_t4"),
    MUL_MAT_VEC_Q6_K_T8("mul_mat_vec", "mul_mat_vec_q6_k_t8"),
    QUANTIZE_Q8_1("mul_mat_vec", "quantize_q8_1"),
    MUL_MAT_TILED_F32("mul_mat_tiled", "mul_mat_tiled_f32"),
    MUL_MAT_TILED_F16("mul_mat_tiled", "mul_mat_tiled_f16"),
    MUL_MAT_TILED_BF16("mul_mat_tiled", "mul_mat_tiled_bf16"),
    MUL_MAT_TILED_Q4_0("mul_mat_tiled", "mul_mat_tiled_q4_0"),
    MUL_MAT_TILED_Q4_1("mul_mat_tiled", "mul_mat_tiled_q4_1"),
    MUL_MAT_TILED_Q5_0("mul_mat_tiled", "mul_mat_tiled_q5_0"),
    MUL_MAT_TILED_Q5_1("mul_mat_tiled", "mul_mat_tiled_q5_1"),
    MUL_MAT_TILED_Q8_0("mul_mat_tiled", "mul_mat_tiled_q8_0"),
    MUL_MAT_TILED_MXFP4("mul_mat_tiled", "mul_mat_tiled_mxfp4"),
    MUL_MAT_TILED_Q2_K("mul_mat_tiled", "mul_mat_tiled_q2_k"),
    MUL_MAT_TILED_Q3_K("mul_mat_tiled", "mul_mat_tiled_q3_k"),
    MUL_MAT_TILED_Q4_K("mul_mat_tiled", "mul_mat_tiled_q4_k"),
    MUL_MAT_TILED_Q5_K("mul_mat_tiled", "mul_mat_tiled_q5_k"),
    MUL_MAT_TILED_Q6_K("mul_mat_tiled", "mul_mat_tiled_q6_k"),
    MUL_MAT_MMA_F32_64X32("mul_mat_mma", "mul_mat_mma_f32_64x32"),
    MUL_MAT_MMA_F16_64X32("mul_mat_mma", "mul_mat_mma_f16_64x32"),
    MUL_MAT_MMA_BF16_64X32("mul_mat_mma", "mul_mat_mma_bf16_64x32"),
    MUL_MAT_MMA_Q4_0_64X32("mul_mat_mma", "mul_mat_mma_q4_0_64x32"),
    MUL_MAT_MMA_Q8_0_64X32("mul_mat_mma", "mul_mat_mma_q8_0_64x32"),
    MUL_MAT_MMA_Q4_1_64X32("mul_mat_mma", "mul_mat_mma_q4_1_64x32"),
    MUL_MAT_MMA_Q5_0_64X32("mul_mat_mma", "mul_mat_mma_q5_0_64x32"),
    MUL_MAT_MMA_Q5_1_64X32("mul_mat_mma", "mul_mat_mma_q5_1_64x32"),
    MUL_MAT_MMA_MXFP4_64X32("mul_mat_mma", "mul_mat_mma_mxfp4_64x32"),
    MUL_MAT_MMA_Q2_K_64X32("mul_mat_mma", "mul_mat_mma_q2_k_64x32"),
    MUL_MAT_MMA_Q3_K_64X32("mul_mat_mma", "mul_mat_mma_q3_k_64x32"),
    MUL_MAT_MMA_Q5_K_64X32("mul_mat_mma", "mul_mat_mma_q5_k_64x32"),
    MUL_MAT_MMA_Q4_K_64X32("mul_mat_mma", "mul_mat_mma_q4_k_64x32"),
    MUL_MAT_MMA_Q6_K_64X32("mul_mat_mma", "mul_mat_mma_q6_k_64x32"),
    MUL_MAT_MMA_F32_128X64("mul_mat_mma", "mul_mat_mma_f32_128x64"),
    MUL_MAT_MMA_F16_128X64("mul_mat_mma", "mul_mat_mma_f16_128x64"),
    MUL_MAT_MMA_BF16_128X64("mul_mat_mma", "mul_mat_mma_bf16_128x64"),
    MUL_MAT_MMA_Q4_0_128X64("mul_mat_mma", "mul_mat_mma_q4_0_128x64"),
    MUL_MAT_MMA_Q8_0_128X64("mul_mat_mma", "mul_mat_mma_q8_0_128x64"),
    MUL_MAT_MMA_Q4_1_128X64("mul_mat_mma", "mul_mat_mma_q4_1_128x64"),
    MUL_MAT_MMA_Q5_0_128X64("mul_mat_mma", "mul_mat_mma_q5_0_128x64"),
    MUL_MAT_MMA_Q5_1_128X64("mul_mat_mma", "mul_mat_mma_q5_1_128x64"),
    MUL_MAT_MMA_MXFP4_128X64("mul_mat_mma", "mul_mat_mma_mxfp4_128x64"),
    MUL_MAT_MMA_Q2_K_128X64("mul_mat_mma", "mul_mat_mma_q2_k_128x64"),
    MUL_MAT_MMA_Q3_K_128X64("mul_mat_mma", "mul_mat_mma_q3_k_128x64"),
    MUL_MAT_MMA_Q5_K_128X64("mul_mat_mma", "mul_mat_mma_q5_k_128x64"),
    MUL_MAT_MMA_Q4_K_128X64("mul_mat_mma", "mul_mat_mma_q4_k_128x64"),
    MUL_MAT_MMA_Q6_K_128X64("mul_mat_mma", "mul_mat_mma_q6_k_128x64"),
    RMS_NORM("rms_norm", "rms_norm"),
    RMS_NORM_Q8_1("rms_norm", "rms_norm_q8_1"),
    ADD_RMS_NORM_Q8_1("rms_norm", "add_rms_norm_q8_1"),
    LAYER_NORM("layer_norm", "layer_norm"),
    ROPE("rope", "rope"),
    ROPE_STORE("rope", "rope_store"),
    KV_STORE_F32("kv_store", "kv_store_f32"),
    KV_STORE_F16("kv_store", "kv_store_f16"),
    KV_STORE_Q8_0("kv_store", "kv_store_q8_0"),
    KV_STORE_Q4_0("kv_store", "kv_store_q4_0"),
    ATTENTION_PARTIAL_F32("attention", "attention_partial_f32"),
    ATTENTION_PARTIAL_F16("attention", "attention_partial_f16"),
    ATTENTION_PARTIAL_Q8_0("attention", "attention_partial_q8_0"),
    ATTENTION_PARTIAL_Q4_0("attention", "attention_partial_q4_0"),
    ATTENTION_COMBINE("attention", "attention_combine"),
    ATTENTION_MMA_F32_D64("attention_mma", "attention_mma_f32_d64"),
    ATTENTION_MMA_F32_D80("attention_mma", "attention_mma_f32_d80"),
    ATTENTION_MMA_F32_D96("attention_mma", "attention_mma_f32_d96"),
    ATTENTION_MMA_F32_D128("attention_mma", "attention_mma_f32_d128"),
    ATTENTION_MMA_F16_D64("attention_mma", "attention_mma_f16_d64"),
    ATTENTION_MMA_F16_D80("attention_mma", "attention_mma_f16_d80"),
    ATTENTION_MMA_F16_D96("attention_mma", "attention_mma_f16_d96"),
    ATTENTION_MMA_F16_D128("attention_mma", "attention_mma_f16_d128"),
    ADD("elementwise", "add"),
    MUL("elementwise", "mul"),
    SCALE("elementwise", "scale"),
    SWIGLU("elementwise", "swiglu"),
    SWIGLU_Q8_1("elementwise", "swiglu_q8_1"),
    GEGLU("elementwise", "geglu"),
    SOFTCAP("elementwise", "softcap"),
    SWIGLU_OAI("elementwise", "swiglu_oai"),
    SOFTMAX("softmax", "softmax"),
    CONVERT("convert", "convert"),
    TOP_K("experts", "top_k"),
    GATHER("experts", "gather"),
    WEIGHTED_SUM("experts", "weighted_sum"),
    ADD_ID("experts", "add_id"),
    MUL_MAT_ID_F32("experts", "mul_mat_id_f32"),
    MUL_MAT_ID_F16("experts", "mul_mat_id_f16"),
    MUL_MAT_ID_BF16("experts", "mul_mat_id_bf16"),
    MUL_MAT_ID_Q4_0("experts", "mul_mat_id_q4_0"),
    MUL_MAT_ID_Q4_1("experts", "mul_mat_id_q4_1"),
    MUL_MAT_ID_Q5_0("experts", "mul_mat_id_q5_0"),
    MUL_MAT_ID_Q5_1("experts", "mul_mat_id_q5_1"),
    MUL_MAT_ID_Q8_0("experts", "mul_mat_id_q8_0"),
    MUL_MAT_ID_MXFP4("experts", "mul_mat_id_mxfp4"),
    MUL_MAT_ID_Q2_K("experts", "mul_mat_id_q2_k"),
    MUL_MAT_ID_Q3_K("experts", "mul_mat_id_q3_k"),
    MUL_MAT_ID_Q4_K("experts", "mul_mat_id_q4_k"),
    MUL_MAT_ID_Q5_K("experts", "mul_mat_id_q5_k"),
    MUL_MAT_ID_Q6_K("experts", "mul_mat_id_q6_k");

    /** The PTX modules, in the order of their files. */
    static final java.util.List<String> MODULES = java.util.List.of(
            "attention", "attention_mma", "convert", "elementwise", "experts", "get_rows", "kv_store", "layer_norm", "mul_mat_mma", "mul_mat_tiled", "mul_mat_vec",
            "rms_norm", "rope", "softmax");

    final String module;
    final String entry;

    Kernel(String module, String entry) {
        this.module = module;
        this.entry = entry;
    }

    /**
     * Modules built for compute_80 (tensor cores, cp.async; ci/build-ptx.sh's SM80_MODULES): loaded
     * only on devices of compute capability 8.0 or more.
     */
    static final java.util.List<String> SM80_MODULES = java.util.List.of("attention_mma", "mul_mat_mma");

    /** The .target of a module's PTX: sm_80 for SM80_MODULES, else sm_75. */
    static String target(String module) {
        return SM80_MODULES.contains(module) ? "sm_80" : "sm_75";
    }

    /** The class-path resource of a module's PTX. */
    static String resource(String module) {
        return "/kernels/cuda/" + module + ".ptx";
    }
}
