package dev.hearth.runtime.conformance;

import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.conformance.ConformanceRunner.Result;
import dev.hearth.runtime.conformance.ConformanceRunner.Status;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;
import dev.hearth.runtime.reference.ReferenceDevice;
import dev.hearth.runtime.reference.ReferenceProvider;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole suite on a second reference device (so it runs with no backend at all), and the
 * runner's verdicts on devices that are wrong, partial or broken.
 */
class ConformanceRunnerTest {
    private final ConformanceRunner runner = new ConformanceRunner();

    @Test
    void everyCasePassesExactlyOnASecondReferenceDevice() {
        Device second = new ReferenceDevice(new ReferenceProvider(), "reference-2");
        List<String> bad = new ArrayList<>();
        for (Result r : runner.runAll(OpCases.all(), second)) {
            if (r.status() != Status.PASS || r.nmse() != 0) bad.add(r.toString());
        }
        assertTrue(bad.isEmpty(), String.join("\n", bad));
    }

    @Test
    void aDeviceWhoseAddSubtractsFails() {
        Device wrong = new WrongDevice(n -> true);
        List<OpCase> cases = new ArrayList<>(OpCases.of("add"));
        cases.addAll(OpCases.of("llama_layer").subList(0, 1));
        cases.addAll(OpCases.of("scale"));
        cases.addAll(OpCases.of("mul"));
        for (OpCase c : cases) {
            Result r = runner.run(c, wrong);
            boolean hasAdd = c.op().equals("add") || c.op().equals("llama_layer");
            assertEquals(hasAdd ? Status.FAIL : Status.PASS, r.status(), r.toString());
            if (hasAdd) assertTrue(r.nmse() > c.tolerance(), r.toString());
        }
    }

    @Test
    void unsupportedCasesAreSkippedWithTheReason() {
        Device scaleOnly = new WrongDevice(n -> n.op() instanceof Op.Scale);
        Result mm = runner.run(OpCases.of("mul_mat").getFirst(), scaleOnly);
        assertEquals(Status.SKIP, mm.status());
        assertEquals("wrong has no MulMat", mm.detail());
        assertEquals(Status.PASS, runner.run(OpCases.of("scale").getFirst(), scaleOnly).status());
    }

    @Test
    void aDeviceThatThrowsFails() {
        Result r = runner.run(OpCases.of("softmax").getFirst(), new WrongDevice(n -> true, true));
        assertEquals(Status.FAIL, r.status());
        assertTrue(r.detail().contains("kernel launch failed"), r.detail());
        assertTrue(Double.isNaN(r.nmse()));
    }

    @Test
    void nmse() {
        assertEquals(0, ConformanceRunner.nmse(new float[]{1, 2}, new float[]{1, 2}));
        // error 0.25 + 0, reference 1 + 4
        assertEquals(0.05, ConformanceRunner.nmse(new float[]{1.5f, 2}, new float[]{1, 2}), 1e-12);
        assertEquals(2, ConformanceRunner.nmse(new float[]{1, 1}, new float[]{0, 0}), 1e-12);
        assertTrue(Double.isNaN(ConformanceRunner.nmse(new float[]{Float.NaN}, new float[]{1})));
        assertTrue(Double.isNaN(ConformanceRunner.nmse(new float[]{1}, new float[]{1, 2})));
        assertEquals(0, ConformanceRunner.nmse(new float[]{Float.NEGATIVE_INFINITY, 1}, new float[]{Float.NEGATIVE_INFINITY, 1}));
    }

    @Test
    void nodesOfACaseAreCheckedBeforeRunning() {
        try (OpCase.Instance inst = OpCases.of("attention").getFirst().instantiate()) {
            assertEquals(null, ConformanceRunner.unsupported(inst, new ReferenceDevice()));
            Node att = inst.graph().outputs().getFirst();
            String why = ConformanceRunner.unsupported(inst, new WrongDevice(n -> !(n.op() instanceof Op.Attention)));
            assertEquals("wrong has no Attention", why, att.toString());
        }
    }
}
