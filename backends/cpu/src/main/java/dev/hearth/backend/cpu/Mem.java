package dev.hearth.backend.cpu;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Little-endian layouts, the vector species the kernels use, and half-float helpers. */
final class Mem {
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfByte I8 = ValueLayout.JAVA_BYTE;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(LE);
    static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);

    /** Floats per vector: 8 on AVX2, 16 on AVX-512, 4 on NEON. */
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int FL = F.length();
    /** 256-bit species of the integer dot kernels (which are written for 8 int lanes). */
    static final VectorSpecies<Float> F256 = FloatVector.SPECIES_256;
    static final VectorSpecies<Integer> I256 = IntVector.SPECIES_256;
    static final VectorSpecies<Short> S256 = ShortVector.SPECIES_256;
    static final VectorSpecies<Short> S128 = ShortVector.SPECIES_128;
    static final VectorSpecies<Byte> B128 = ByteVector.SPECIES_128;
    static final VectorSpecies<Byte> B256 = ByteVector.SPECIES_256;
    static final VectorSpecies<Byte> B64 = ByteVector.SPECIES_64;
    /** Whether 256-bit vectors are native here (AVX2 and up); the integer kernels need them. */
    static final boolean V256 = FloatVector.SPECIES_PREFERRED.vectorBitSize() >= 256;

    /** 2^112: a half's bits shifted into a float's place give its value times 2^-112. */
    static final float HALF_BIAS = 0x1p112f;

    private Mem() {
    }

    static float half(MemorySegment s, long off) {
        return Float.float16ToFloat(s.get(I16, off));
    }

    static float bf16(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    static int u8(MemorySegment s, long off) {
        return s.get(I8, off) & 0xff;
    }

    /** The bytes of a host buffer at a tensor's place, as a {@link #view}. */
    static MemorySegment segment(dev.hearth.runtime.backend.TensorRef r) {
        MemorySegment s = r.buffer().hostSegment();
        if (s == null) throw new IllegalStateException("the cpu device computes in host memory only: " + r.desc());
        return view(s.asSlice(r.offset(), r.bytes()));
    }

    /**
     * The same native memory as a plain native segment of the global scope. The kernels then meet
     * one kind of segment only: a mapped file's segment next to allocated ones makes the JIT fall
     * back from the Vector API intrinsics (a matrix-vector product three times slower), and no
     * scope means no liveness check per access. Whoever keeps a view checks that the original's
     * scope is alive before using it (CpuStream does, per compute). Heap segments stay as they are.
     */
    static MemorySegment view(MemorySegment s) {
        return s.isNative() ? MemorySegment.ofAddress(s.address()).reinterpret(s.byteSize()) : s;
    }
}
