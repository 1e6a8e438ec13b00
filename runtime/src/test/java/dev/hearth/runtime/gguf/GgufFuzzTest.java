package dev.hearth.runtime.gguf;

import dev.hearth.runtime.HearthException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seeded mutations of the header region of real and written GGUF files: bit flips, interesting
 * values (0, all ones, lengths near the file size), inserted, deleted and repeated bytes. Every
 * mutant must either open (and then be readable through every accessor and GgufInfo) or fail
 * with a HearthException; anything else fails the test with the seed that reproduces it.
 * Runs for {@code -Dhearth.fuzz.seconds} (default 10); {@code -Dhearth.fuzz.seed} fixes the seed.
 * Most mutants are parsed from memory ({@link GgufFile#parse}); every eighth is written and mapped.
 */
class GgufFuzzTest {
    private static final long[] INTERESTING = {0, 1, 2, 3, 4, 7, 8, 16, 31, 32, 33, 63, 64, 127, 128, 255, 256, 4096,
            0x7FFF, 0xFFFF, 0x7FFF_FFFFL, 0x8000_0000L, 0xFFFF_FFFFL, 1L << 32, 1L << 40, 1L << 62,
            Long.MAX_VALUE, Long.MIN_VALUE, -1, -2, -32};

    private record Seed(String name, byte[] bytes, int headerEnd) {
    }

    @Test
    void mutantsOpenOrFailCleanly(@TempDir Path dir) throws IOException {
        double seconds = Double.parseDouble(System.getProperty("hearth.fuzz.seconds", "10"));
        long base = Long.getLong("hearth.fuzz.seed", new SplittableRandom().nextLong());
        List<Seed> seeds = seeds(dir);
        Path p = dir.resolve("mutant.gguf");
        long deadline = System.nanoTime() + (long) (seconds * 1e9);
        long[] counts = new long[2]; // opened, refused
        assertTimeoutPreemptively(Duration.ofMillis((long) (seconds * 1000) + 60_000), () -> {
            for (long i = 0; i == 0 || System.nanoTime() < deadline; i++) {
                long seed = base + i;
                SplittableRandom rnd = new SplittableRandom(seed);
                Seed s = seeds.get(rnd.nextInt(seeds.size()));
                StringBuilder log = new StringBuilder(s.name());
                byte[] m = mutate(s, rnd, log);
                // Most mutants are parsed in memory, for speed; one in eight goes through a real file.
                boolean viaFile = i % 8 == 0;
                if (viaFile) Files.write(p, m);
                try (GgufFile f = viaFile ? GgufFile.open(p) : GgufFile.parse(p, MemorySegment.ofArray(m))) {
                    exercise(f);
                    counts[0]++;
                } catch (HearthException e) {
                    counts[1]++;
                } catch (Throwable t) {
                    throw new AssertionError("mutant of " + log + " threw " + t
                            + " (reproduce with -Dhearth.fuzz.seed=" + base + ", iteration " + i + ", seed " + seed + ")", t);
                }
            }
        }, () -> "fuzzing hung (base seed " + base + ")");
        assertTrue(counts[0] + counts[1] > 0, "no mutant was tried");
        // Both outcomes should occur; otherwise the mutations are too weak or too strong to test much.
        assertTrue(counts[1] > 0, "no mutant was refused (seed " + base + ")");
        System.out.printf("gguf fuzz: %d mutants opened, %d refused, seed %d%n", counts[0], counts[1], base);
    }

    /** Everything a caller might touch on an opened file. */
    private static void exercise(GgufFile f) {
        for (var kv : f.metadata().entrySet()) kv.getValue().summary(3);
        for (GgufTensorInfo t : f.tensorList()) {
            MemorySegment d = f.data(t);
            if (d.byteSize() > 0) {
                d.get(ValueLayout.JAVA_BYTE, 0);
                d.get(ValueLayout.JAVA_BYTE, d.byteSize() - 1);
            }
            t.desc().elements();
            t.desc().rows();
        }
        GgufInfo.render(f);
        f.getString("general.architecture", "");
        f.getArray("tokenizer.ggml.tokens");
    }

    private static List<Seed> seeds(Path dir) throws IOException {
        List<Seed> seeds = new ArrayList<>();
        Path small = dir.resolve("small.gguf");
        GgufWriter w = GgufTestSupport.smallWriter();
        w.put("nested", GgufValue.array(GgufValueType.ARRAY, List.of(GgufArray.of(GgufValueType.INT16, List.of(-1, 2)))));
        w.put("general.alignment", GgufValue.u32(64));
        w.write(small);
        seeds.add(seed("small", small));
        for (String name : List.of("stories260K-f32.gguf", "stories260K-f32-gguf-v1.gguf", "stories260K-q4_0.gguf")) {
            seeds.add(seed(name, GgufTestSupport.model(name)));
        }
        return seeds;
    }

    private static Seed seed(String name, Path p) throws IOException {
        byte[] b = Files.readAllBytes(p);
        int headerEnd;
        try (GgufFile f = GgufFile.open(p)) {
            headerEnd = (int) f.dataOffset();
        }
        return new Seed(name, b, headerEnd);
    }

    private static byte[] mutate(Seed s, SplittableRandom rnd, StringBuilder log) {
        byte[] b = s.bytes();
        int n = 1 + rnd.nextInt(4);
        for (int k = 0; k < n; k++) {
            int region = Math.min(s.headerEnd(), b.length);
            if (region == 0) break;
            int at = rnd.nextInt(region);
            int kind = rnd.nextInt(7);
            switch (kind) {
                case 0 -> { // flip a bit
                    b = b == s.bytes() ? b.clone() : b;
                    b[at] ^= (byte) (1 << rnd.nextInt(8));
                    log.append(" flip@").append(at);
                }
                case 1 -> { // one byte set to an interesting value
                    b = b == s.bytes() ? b.clone() : b;
                    b[at] = (byte) INTERESTING[rnd.nextInt(INTERESTING.length)];
                    log.append(" byte@").append(at);
                }
                case 2, 3 -> { // a 4- or 8-byte little-endian interesting value, or a length near the file's end
                    b = b == s.bytes() ? b.clone() : b;
                    int width = kind == 2 ? 4 : 8;
                    long v = rnd.nextInt(4) == 0 ? b.length - at + rnd.nextInt(-16, 16) : INTERESTING[rnd.nextInt(INTERESTING.length)];
                    for (int i = 0; i < width && at + i < b.length; i++) b[at + i] = (byte) (v >>> (8 * i));
                    log.append(" int").append(width * 8).append('@').append(at).append('=').append(v);
                }
                case 4 -> { // insert bytes
                    int len = 1 + rnd.nextInt(16);
                    byte[] ins = new byte[len];
                    if (rnd.nextBoolean()) rnd.nextBytes(ins);
                    b = splice(b, at, 0, ins);
                    log.append(" insert").append(len).append('@').append(at);
                }
                case 5 -> { // delete bytes
                    int len = 1 + rnd.nextInt(Math.min(16, b.length - at));
                    b = splice(b, at, len, new byte[0]);
                    log.append(" delete").append(len).append('@').append(at);
                }
                default -> { // repeat a chunk of the header
                    int len = 1 + rnd.nextInt(Math.min(64, region - at));
                    b = splice(b, at, 0, Arrays.copyOfRange(b, at, at + len));
                    log.append(" repeat").append(len).append('@').append(at);
                }
            }
        }
        if (rnd.nextInt(8) == 0) { // sometimes cut the file too
            int cut = rnd.nextInt(b.length + 1);
            b = Arrays.copyOf(b, cut);
            log.append(" cut@").append(cut);
        }
        return b;
    }

    private static byte[] splice(byte[] b, int at, int remove, byte[] insert) {
        byte[] r = new byte[b.length - remove + insert.length];
        System.arraycopy(b, 0, r, 0, at);
        System.arraycopy(insert, 0, r, at, insert.length);
        System.arraycopy(b, at + remove, r, at + insert.length, b.length - at - remove);
        return r;
    }
}
