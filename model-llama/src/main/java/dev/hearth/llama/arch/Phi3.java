package dev.hearth.llama.arch;

import dev.hearth.llama.Architecture;
import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.ModelGraph;
import dev.hearth.llama.ModelWeights;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.gguf.GgufFile;

import static dev.hearth.llama.ModelWeights.blk;

/**
 * Phi-3 and Phi-3.5 mini/medium, Phi-4-mini: LLaMA's blocks with rope over halves and two fused
 * matrices, {@code attn_qkv} ([q; k; v] rows) and {@code ffn_up} ([gate; up] rows). Each part is
 * bound as a weight of its own over the fused tensor's bytes (rows are contiguous), so the graph
 * and every backend see LLaMA's three projections and no copy is made. As llama.cpp does, a
 * sliding window in the file is not applied.
 */
public final class Phi3 implements Architecture {
    @Override
    public String name() {
        return "phi3";
    }

    @Override
    public ModelConfig config(GgufFile f) {
        ModelConfig.req(f, "phi3.feed_forward_length");
        return ModelConfig.read(f, this, "attention.layer_norm_rms_epsilon", Op.RopeMode.NEOX);
    }

    @Override
    public void weights(ModelConfig c, ModelWeights.Table t) {
        t.embeddingAndHead();
        long qkv = c.qDim() + 2L * c.kvDim();
        for (int l = 0; l < c.layers(); l++) {
            Blocks.norms(t, l, "attn_norm", "ffn_norm");
            if (t.has(blk(l, "attn_qkv"))) {
                t.slice(blk(l, "attn_q"), blk(l, "attn_qkv"), c.dim(), qkv, 0, c.qDim());
                t.slice(blk(l, "attn_k"), blk(l, "attn_qkv"), c.dim(), qkv, c.qDim(), c.kvDim());
                t.slice(blk(l, "attn_v"), blk(l, "attn_qkv"), c.dim(), qkv, c.qDim() + c.kvDim(), c.kvDim());
                t.need(blk(l, "attn_output"), c.qDim(), c.dim());
            } else {
                Blocks.attentionWeights(t, l);
            }
            t.slice(blk(l, "ffn_gate"), blk(l, "ffn_up"), c.dim(), 2L * c.ffnDim(), 0, c.ffnDim());
            t.slice(blk(l, "ffn_up"), blk(l, "ffn_up"), c.dim(), 2L * c.ffnDim(), c.ffnDim(), c.ffnDim());
            t.need(blk(l, "ffn_down"), c.ffnDim(), c.dim());
        }
    }

    @Override
    public Node forward(ModelGraph.Builder b) {
        return Blocks.preNormDecoder(b, false);
    }
}
