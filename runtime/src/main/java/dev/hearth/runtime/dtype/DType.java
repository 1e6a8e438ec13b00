package dev.hearth.runtime.dtype;

import dev.hearth.runtime.HearthException;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Every tensor type GGUF can name: its GGUF id, elements per block and bytes per block.
 * Ids that ggml retired (Q4_2, Q4_3, the interleaved 4x4/4x8/8x8 repacks) are kept so that
 * {@code hearth info} can name any file, and are marked {@code retired}.
 */
public enum DType {
    F32(0, 1, 4),
    F16(1, 1, 2),
    Q4_0(2, 32, 18),
    Q4_1(3, 32, 20),
    Q4_2(4, 32, 0, true),
    Q4_3(5, 32, 0, true),
    Q5_0(6, 32, 22),
    Q5_1(7, 32, 24),
    Q8_0(8, 32, 34),
    Q8_1(9, 32, 36),
    Q2_K(10, 256, 84),
    Q3_K(11, 256, 110),
    Q4_K(12, 256, 144),
    Q5_K(13, 256, 176),
    Q6_K(14, 256, 210),
    Q8_K(15, 256, 292),
    IQ2_XXS(16, 256, 66),
    IQ2_XS(17, 256, 74),
    IQ3_XXS(18, 256, 98),
    IQ1_S(19, 256, 50),
    IQ4_NL(20, 32, 18),
    IQ3_S(21, 256, 110),
    IQ2_S(22, 256, 82),
    IQ4_XS(23, 256, 136),
    I8(24, 1, 1),
    I16(25, 1, 2),
    I32(26, 1, 4),
    I64(27, 1, 8),
    F64(28, 1, 8),
    IQ1_M(29, 256, 56),
    BF16(30, 1, 2),
    Q4_0_4_4(31, 32, 18, true),
    Q4_0_4_8(32, 32, 18, true),
    Q4_0_8_8(33, 32, 18, true),
    TQ1_0(34, 256, 54),
    TQ2_0(35, 256, 66),
    IQ4_NL_4_4(36, 32, 18, true),
    IQ4_NL_4_8(37, 32, 18, true),
    IQ4_NL_8_8(38, 32, 18, true),
    MXFP4(39, 32, 17);

    private static final DType[] BY_ID = new DType[64];

    static {
        for (DType t : values()) BY_ID[t.id] = t;
    }

    public final int id;
    public final int blockSize;
    public final int typeSize;
    public final boolean retired;

    DType(int id, int blockSize, int typeSize) {
        this(id, blockSize, typeSize, false);
    }

    DType(int id, int blockSize, int typeSize, boolean retired) {
        this.id = id;
        this.blockSize = blockSize;
        this.typeSize = typeSize;
        this.retired = retired;
    }

    /** The type with this GGUF id, or null where there is none. */
    public static DType byId(long id) {
        return id >= 0 && id < BY_ID.length ? BY_ID[(int) id] : null;
    }

    public boolean isQuantized() {
        return blockSize > 1;
    }

    /** Bytes that {@code n} elements take; {@code n} must be a multiple of the block size. */
    public long bytesFor(long n) {
        if (n % blockSize != 0) {
            throw new HearthException(name() + ": " + n + " elements do not fill whole blocks of " + blockSize);
        }
        return Math.multiplyExact(n / blockSize, (long) typeSize);
    }

    /** The types that have a reference codec, for error messages. */
    public static String supportedNames() {
        return Arrays.stream(values()).filter(t -> Codecs.has(t)).map(Enum::name).collect(Collectors.joining(", "));
    }
}
