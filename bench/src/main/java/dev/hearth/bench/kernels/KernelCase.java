package dev.hearth.bench.kernels;

import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.conformance.OpCase;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.graph.Graph;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * One kernel benchmark case: an op at a shape and a type. Cases of the family "1b" and "8b" are
 * the shapes of Llama-3.2-1B and Llama-3-8B, built by {@link KernelCases} with {@link CaseData};
 * cases of the family "ops" are the conformance cases of {@code OpCases}, as they are. The graph
 * alone ({@link #graph}) is cheap, for support checks and {@link #work}; {@link #instantiate}
 * builds the data too.
 */
public final class KernelCase {
    private final String op;
    private final DType type;
    private final String family;
    private final String shape;
    private final int tokens;
    private final Consumer<CaseData> definition;
    private final OpCase conformance;
    private volatile Work work;

    private KernelCase(String op, DType type, String family, String shape, int tokens, Consumer<CaseData> definition,
                       OpCase conformance) {
        this.op = op;
        this.type = type;
        this.family = family;
        this.shape = shape;
        this.tokens = tokens;
        this.definition = definition;
        this.conformance = conformance;
    }

    /**
     * A case at a model's shape.
     *
     * @param family     "1b" or "8b"
     * @param shape      the parameters, "attn_q k=2048 n=2048 t=1"
     * @param tokens     T, the tokens (rows of activations) of one run
     * @param definition adds inputs, weights, the op and the output to a {@link CaseData}
     */
    static KernelCase model(String op, DType type, String family, String shape, int tokens, Consumer<CaseData> definition) {
        return new KernelCase(op, type, family, shape, tokens, definition, null);
    }

    /** A conformance case as a kernel case of the family "ops". */
    static KernelCase conformance(OpCase c) {
        return new KernelCase(c.op(), c.type(), "ops", c.name(), -1, null, c);
    }

    public String op() {
        return op;
    }

    /** The type the case is about (weight or cache type), or null for F32 activations only. */
    public DType type() {
        return type;
    }

    /** The type as a lower-case label; "f32" where the case has no type of its own. */
    public String typeLabel() {
        return type == null ? "f32" : type.name().toLowerCase(Locale.ROOT);
    }

    /** "1b", "8b" or "ops". */
    public String family() {
        return family;
    }

    /** The parameters, "attn_q k=2048 n=2048 t=1" (for "ops", the conformance case's name). */
    public String shape() {
        return shape;
    }

    /** The tokens of one run, or -1 where the case does not say (conformance cases). */
    public int tokens() {
        return tokens;
    }

    /** The case without its type: "mul_mat 1b attn_q k=2048 n=2048 t=1"; with {@link #typeLabel} it names the case. */
    public String shapeName() {
        return conformance != null ? "ops " + shape : op + " " + family + " " + shape;
    }

    /** Unique among the cases: "mul_mat 1b attn_q k=2048 n=2048 t=1 q4_0". */
    public String name() {
        return shapeName() + " " + typeLabel();
    }

    /** The graph without its data. */
    public Graph graph() {
        if (conformance != null) {
            try (OpCase.Instance inst = conformance.instantiate()) {
                return inst.graph();
            }
        }
        CaseData b = new CaseData(name(), false);
        definition.accept(b);
        for (Node n : b.outputs()) b.graph().output(n);
        return b.graph();
    }

    /** Bytes moved and floating-point operations of one run. */
    public Work work() {
        Work w = work;
        if (w == null) {
            if (conformance != null) {
                try (OpCase.Instance inst = conformance.instantiate()) {
                    w = Work.of(inst.graph(), ints(inst));
                }
            } else {
                CaseData b = new CaseData(name(), false);
                definition.accept(b);
                for (Node n : b.outputs()) b.graph().output(n);
                w = Work.of(b.graph(), b.intInputs());
            }
            work = w;
        }
        return w;
    }

    /** Why {@code device} cannot run this case (its first unsupported node), or null where it can. */
    public String unsupported(Device device) {
        for (Node n : graph().nodes()) {
            if (!n.isLeaf() && !device.supports(n)) return device.whyNot(n);
        }
        return null;
    }

    /** Builds the graph and its data; close the instance to free the data. */
    public OpCase.Instance instantiate() {
        if (conformance != null) return conformance.instantiate();
        CaseData b = new CaseData(name(), true);
        try {
            definition.accept(b);
            return b.instance();
        } catch (RuntimeException e) {
            b.discard();
            throw e;
        }
    }

    private static Map<String, int[]> ints(OpCase.Instance inst) {
        Map<String, int[]> out = new LinkedHashMap<>();
        for (Node n : inst.graph().nodes()) {
            if (n.op() instanceof Op.Input in && n.desc().type() == DType.I32) {
                MemorySegment s = inst.inputs().get(in.name());
                out.put(in.name(), s.toArray(ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN)));
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return name();
    }
}
