package dev.hearth.runtime.dtype;

import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.gguf.GgufTensorInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The codecs against llama.cpp's own files of stories260K: every tensor of the F16, Q8_0 and Q4_0
 * files decodes to within its type's error bound of the same tensor in the F32 file, and
 * re-encoding the F32 weights with our quantizers reproduces llama-quantize's bytes.
 */
class ModelFilesTest {
    private static GgufFile f32;

    @BeforeAll
    static void open() {
        Path p = models().resolve("stories260K-f32.gguf");
        if (!Files.isRegularFile(p)) {
            throw new AssertionError("test data file " + p.toAbsolutePath() + " is missing (set -Dhearth.testdata=DIR)");
        }
        f32 = GgufFile.open(p);
    }

    @AfterAll
    static void close() {
        if (f32 != null) f32.close();
    }

    private static Path models() {
        return Path.of(System.getProperty("hearth.testdata", "../testdata"));
    }

    private static GgufFile file(String suffix) {
        Path p = models().resolve("stories260K-" + suffix + ".gguf");
        if (!Files.isRegularFile(p)) throw new AssertionError("test data file " + p.toAbsolutePath() + " is missing");
        return GgufFile.open(p);
    }

    private static float[] decode(GgufFile f, GgufTensorInfo t) {
        return Codecs.dequantize(t.desc().type(), f.data(t), 0, Math.toIntExact(t.desc().elements()));
    }

    /** Bounds on NMSE and on the largest error over its row's largest magnitude, per type. */
    private static double nmseBound(DType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 1e-7;   // relative rounding error <= 2^-11, NMSE ~ 2^-22/3
            case Q8_0 -> 1e-4;  // step absmax/127
            case Q4_0 -> 1.5e-2; // step absmax/8
            default -> throw new AssertionError(t);
        };
    }

    private static double maxErrBound(DType t) {
        return switch (t) {
            case F32 -> 0;
            case F16 -> 0x1p-11;
            // half a step (absmax/254) plus the scale's fp16 rounding (127 * 2^-11 steps of absmax/127)
            case Q8_0 -> 1.0 / 254 + 0x1p-11 + 1e-6;
            // a full step (absmax/8) where +8 clamps to 7, plus the scale's fp16 rounding
            case Q4_0 -> 1.0 / 8 + 8 * 0x1p-11 + 1e-6;
            default -> throw new AssertionError(t);
        };
    }

    private static void checkAgainstF32(String suffix, Set<DType> expectedTypes) {
        try (GgufFile f = file(suffix)) {
            Set<DType> seen = EnumSet.noneOf(DType.class);
            Map<DType, double[]> worst = new EnumMap<>(DType.class);
            for (GgufTensorInfo t : f.tensorList()) {
                GgufTensorInfo ref = f32.tensor(t.name());
                assertNotNull(ref, t.name() + " is missing from the F32 file");
                assertArrayEquals(ref.desc().ne(), t.desc().ne(), t.name());
                DType type = t.desc().type();
                seen.add(type);
                float[] want = decode(f32, ref), got = decode(f, t);
                double nmse = CodecTesting.nmse(want, got);
                double maxErr = CodecTesting.maxErrOverRowAbsMax(want, got, (int) t.desc().rowLength());
                assertTrue(nmse <= nmseBound(type), t + ": NMSE " + nmse + " > " + nmseBound(type));
                assertTrue(maxErr <= maxErrBound(type), t + ": max error / row absmax " + maxErr + " > " + maxErrBound(type));
                if (type != DType.F32) assertTrue(nmse > 0, t + " decodes identical to F32: suspicious");
                double[] w = worst.computeIfAbsent(type, k -> new double[2]);
                w[0] = Math.max(w[0], nmse);
                w[1] = Math.max(w[1], maxErr);
            }
            worst.forEach((type, w) -> System.out.printf("%s file, %s tensors: worst NMSE %.3g, worst max error / row absmax %.3g%n",
                    suffix, type, w[0], w[1]));
            assertEquals(expectedTypes, seen, suffix + ": tensor types");
        }
    }

    @Test
    void f16FileMatchesF32() {
        checkAgainstF32("f16", EnumSet.of(DType.F32, DType.F16));
    }

    @Test
    void q8_0FileMatchesF32() {
        checkAgainstF32("q8_0", EnumSet.of(DType.F32, DType.F16, DType.Q8_0));
    }

    @Test
    void q4_0FileMatchesF32() {
        checkAgainstF32("q4_0", EnumSet.of(DType.F32, DType.F16, DType.Q4_0, DType.Q8_0));
    }

    /** Fraction of blocks of {@code type} in the file whose bytes our quantizer reproduces from the F32 weights. */
    private static double identicalBlocks(String suffix, DType type) {
        long blocks = 0, same = 0;
        try (GgufFile f = file(suffix)) {
            for (GgufTensorInfo t : f.tensorList()) {
                if (t.desc().type() != type) continue;
                float[] x = decode(f32, f32.tensor(t.name()));
                MemorySegment ours = Codecs.quantize(type, x);
                MemorySegment theirs = f.data(t);
                assertEquals(theirs.byteSize(), ours.byteSize(), t.name());
                for (long o = 0; o < theirs.byteSize(); o += type.typeSize) {
                    blocks++;
                    if (theirs.asSlice(o, type.typeSize).mismatch(ours.asSlice(o, type.typeSize)) < 0) same++;
                }
            }
        }
        assertTrue(blocks > 0, "no " + type + " tensors in " + suffix);
        double frac = (double) same / blocks;
        System.out.printf("re-encoding F32 as %s reproduces %d of %d blocks of the %s file (%.4f)%n", type, same, blocks, suffix, frac);
        return frac;
    }

    @Test
    void q8_0QuantizerReproducesLlamaQuantize() {
        assertTrue(identicalBlocks("q8_0", DType.Q8_0) >= 0.99);
        // The Q4_0 file keeps output.weight as Q8_0.
        assertTrue(identicalBlocks("q4_0", DType.Q8_0) >= 0.99);
    }

    @Test
    void q4_0QuantizerReproducesLlamaQuantize() {
        assertTrue(identicalBlocks("q4_0", DType.Q4_0) >= 0.99);
    }

    @Test
    void f16EncoderReproducesConverter() {
        assertEquals(1.0, identicalBlocks("f16", DType.F16));
        // The Q8_0 and Q4_0 files keep ffn_down as F16.
        assertEquals(1.0, identicalBlocks("q8_0", DType.F16));
    }

    @Test
    void oneDimensionalTensorsStayF32Exactly() {
        try (GgufFile f = file("q4_0")) {
            int n = 0;
            for (GgufTensorInfo t : f.tensorList()) {
                if (t.desc().type() != DType.F32) continue;
                n++;
                MemorySegment a = f.data(t), b = f32.data(t.name());
                assertEquals(-1, a.mismatch(b), t.name());
            }
            assertEquals(11, n, "norm weights in the Q4_0 file");
        }
    }
}
