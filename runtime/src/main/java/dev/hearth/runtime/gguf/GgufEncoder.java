package dev.hearth.runtime.gguf;

import dev.hearth.runtime.tensor.TensorDesc;

import java.util.Arrays;
import java.util.Map;

/** Builds the bytes of a GGUF v3 header: magic, counts, metadata and tensor infos, little-endian. */
final class GgufEncoder {
    private byte[] buf = new byte[4096];
    private int len;

    static byte[] header(Map<String, GgufValue> metadata, Iterable<TensorDesc> tensors, long[] offsets, int nTensors) {
        GgufEncoder e = new GgufEncoder();
        e.u32(GgufReader.MAGIC);
        e.u32(3);
        e.i64(nTensors);
        e.i64(metadata.size());
        for (Map.Entry<String, GgufValue> kv : metadata.entrySet()) {
            e.string(kv.getKey());
            e.u32(kv.getValue().type().id());
            e.value(kv.getValue().type(), kv.getValue().value());
        }
        int i = 0;
        for (TensorDesc t : tensors) {
            e.string(t.name());
            e.u32(t.rank());
            for (long d : t.ne()) e.i64(d);
            e.u32(t.type().id);
            e.i64(offsets[i++]);
        }
        return Arrays.copyOf(e.buf, e.len);
    }

    private void value(GgufValueType type, Object v) {
        switch (type) {
            case UINT8, INT8 -> u8(((Number) v).intValue());
            case UINT16, INT16 -> u16(((Number) v).intValue());
            case UINT32, INT32 -> u32(((Number) v).longValue());
            case FLOAT32 -> u32(Float.floatToRawIntBits((Float) v));
            case BOOL -> u8((Boolean) v ? 1 : 0);
            case STRING -> string((String) v);
            case UINT64, INT64 -> i64(((Number) v).longValue());
            case FLOAT64 -> i64(Double.doubleToRawLongBits((Double) v));
            case ARRAY -> {
                GgufArray a = (GgufArray) v;
                u32(a.elementType().id());
                i64(a.size());
                for (Object x : a.values()) value(a.elementType(), x);
            }
        }
    }

    private void string(String s) {
        byte[] b = GgufStrings.encode(s);
        i64(b.length);
        room(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
    }

    private void u8(int v) {
        room(1);
        buf[len++] = (byte) v;
    }

    private void u16(int v) {
        room(2);
        buf[len++] = (byte) v;
        buf[len++] = (byte) (v >>> 8);
    }

    private void u32(long v) {
        room(4);
        for (int k = 0; k < 4; k++) buf[len++] = (byte) (v >>> (8 * k));
    }

    private void i64(long v) {
        room(8);
        for (int k = 0; k < 8; k++) buf[len++] = (byte) (v >>> (8 * k));
    }

    private void room(int n) {
        if (len + (long) n > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("GGUF header larger than 2 GiB");
        if (len + n > buf.length) buf = Arrays.copyOf(buf, (int) Math.min(Integer.MAX_VALUE - 16, Math.max(buf.length * 2L, len + (long) n)));
    }
}
