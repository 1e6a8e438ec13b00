package dev.hearth.runtime.dtype;

import dev.hearth.runtime.HearthException;

import java.util.EnumMap;
import java.util.Map;

/** The reference codecs, one per supported type. */
public final class Codecs {
    private static final Map<DType, QuantCodec> CODECS = new EnumMap<>(DType.class);

    static {
        // Filled by the codec classes of this package.
        for (QuantCodec c : ReferenceCodecs.all()) CODECS.put(c.type(), c);
    }

    private Codecs() {
    }

    public static boolean has(DType t) {
        return CODECS.containsKey(t);
    }

    public static QuantCodec of(DType t) {
        QuantCodec c = CODECS.get(t);
        if (c == null) {
            throw new HearthException("type " + t + " is not supported (supported: " + DType.supportedNames() + ")");
        }
        return c;
    }
}
