package dev.hearth.offload;

import java.util.List;

/**
 * What the planner is asked: the model's profile, the devices that can take layers (GPUs, in
 * order) with their free memory, the context wanted and the floor it may shrink to, a safety
 * margin per device, and the user's choices.
 *
 * @param gpuLayers  -1 for auto (as many as fit), else the number of blocks to offload; more
 *                   than the model has means all (and the output head)
 * @param budgets    per GPU, the most bytes it may use (--vram-budget), or -1 for no cap
 * @param split      per GPU, its share of the offloaded layers (--split), or null for shares by free memory
 * @param hostFree   free host memory, for a warning when the CPU part will not fit
 * @param cpuMoe     of a mixture-of-experts model, the experts of blocks 0..cpuMoe-1 stay on the CPU
 *                   whatever device holds the rest of the block (--n-cpu-moe; --cpu-moe is all); -1
 *                   for auto: with --gpu-layers auto, as many as needed for every block to fit, else none
 */
public record PlanRequest(MemoryProfile profile, List<GpuInfo> gpus, int ctx, int ctxFloor, long margin,
                          int gpuLayers, long[] budgets, double[] split, long hostFree, int cpuMoe) {
    public static final int AUTO = -1;

    public PlanRequest(MemoryProfile profile, List<GpuInfo> gpus, int ctx, int ctxFloor, long margin,
                       int gpuLayers, long[] budgets, double[] split, long hostFree) {
        this(profile, gpus, ctx, ctxFloor, margin, gpuLayers, budgets, split, hostFree, AUTO);
    }

    /** A device that can take layers: its name and free memory as the driver says now. */
    public record GpuInfo(String name, long free) {
    }
}
