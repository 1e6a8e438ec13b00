package dev.hearth.backend.cuda;

import jcuda.driver.CUresult;

/** Small helpers around the JCuda driver API: result checks and one-line error texts. */
final class Cuda {
    private Cuda() {
    }

    /** Throws where {@code result} is not CUDA_SUCCESS, naming the call. */
    static void check(int result, String what) {
        if (result != CUresult.CUDA_SUCCESS) throw new IllegalStateException("CUDA " + what + " failed: " + name(result));
    }

    /** The CUresult's name, "CUDA_ERROR_OUT_OF_MEMORY". */
    static String name(int result) {
        try {
            return CUresult.stringFor(result);
        } catch (RuntimeException e) {
            return "CUDA error " + result;
        }
    }

    /**
     * Why JCuda's native library did not load, in one line: the loader's complaint about libcuda
     * where the message (or a cause's) has one ("libcuda.so.1: cannot open shared object file"),
     * else the first line of the message.
     */
    static String loadFailure(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            String m = c.getMessage();
            if (m == null) continue;
            for (String line : m.split("\\R")) {
                int i = line.indexOf("libcuda");
                if (i >= 0) return oneLine(new RuntimeException(line.substring(i)));
            }
        }
        return oneLine(t);
    }

    /** The first line of a throwable's message (or its class), at most 240 characters. */
    static String oneLine(Throwable t) {
        String m = t.getMessage();
        if (m == null || m.isBlank()) m = t.getClass().getSimpleName();
        m = m.strip();
        int nl = m.indexOf('\n');
        if (nl >= 0) m = m.substring(0, nl).strip();
        return m.length() > 240 ? m.substring(0, 240) + "..." : m;
    }
}
