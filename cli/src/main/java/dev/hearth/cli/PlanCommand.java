package dev.hearth.cli;

import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.ModelWeights;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.gguf.GgufFile;

/** {@code hearth plan}: where each layer of a model would go, as a table; loads nothing onto a device. */
final class PlanCommand {
    static final String HELP = """
            usage: hearth plan -m MODEL [--ctx N] [--backend B] [--gpu-layers auto|N|all] [--vram-budget SIZE] [--devices D1,D2 --split 3,1]
                               [--cpu-moe | --n-cpu-moe N]
              prints the placement table (device, layers, weights, KV, compute, free after) and exits
            """ + ModelOptions.HELP;

    static int run(String[] argv) {
        if (Main.help(argv, HELP)) return 0;
        Args a = new Args("plan", argv, 0, ModelOptions.SPEC);
        try (GgufFile f = GgufFile.open(ModelOptions.modelPath(a))) {
            ModelConfig c = ModelConfig.fromGguf(f);
            ModelWeights w = new ModelWeights(f, c);
            int ctx = a.getInt("c", Math.min(c.contextLength(), 4096));
            DType cache = ModelOptions.cacheType(a, c);
            ModelOptions.Placed p = ModelOptions.place(a, w, ctx, a.getInt("b", 512), cache);
            if (p.plan() == null) {
                System.out.print(ModelOptions.hostPlan(p, w, cache, ctx, a.getInt("b", 512)).table());
                System.out.println("note: every layer on " + p.placement().device(0).name() + " (no GPU device chosen)");
            } else {
                System.out.print(p.plan().table());
            }
        }
        return 0;
    }
}
