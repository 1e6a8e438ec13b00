package dev.hearth.backend.opencl;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Runs a step with the process's stdout and stderr (file descriptors 1 and 2) sent to a file and
 * returns what was written there. JOCL's native library prints "Could not load libOpenCL.so.1,
 * error ..." to stdout while its class initializes; the provider puts that reason into its own one-line
 * message instead. Where the C library's {@code dup}/{@code dup2}/{@code open} cannot be found
 * (not Linux or macOS), the step runs as is and nothing is captured.
 */
final class CapturedOutput {
    private static final MethodHandle DUP, DUP2, OPEN, CLOSE, FFLUSH;

    static {
        MethodHandle dup = null, dup2 = null, open = null, close = null, fflush = null;
        try {
            Linker l = Linker.nativeLinker();
            var lookup = l.defaultLookup();
            FunctionDescriptor intInt = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT);
            dup = l.downcallHandle(lookup.find("dup").orElseThrow(), intInt);
            close = l.downcallHandle(lookup.find("close").orElseThrow(), intInt);
            fflush = l.downcallHandle(lookup.find("fflush").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
            dup2 = l.downcallHandle(lookup.find("dup2").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            open = l.downcallHandle(lookup.find("open").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
                    Linker.Option.firstVariadicArg(2));
        } catch (RuntimeException | Error e) {
            dup = null;
        }
        DUP = dup;
        DUP2 = dup2;
        OPEN = open;
        CLOSE = close;
        FFLUSH = fflush;
    }

    private CapturedOutput() {
    }

    /** Runs {@code step}; returns what it wrote to stdout and stderr (empty where nothing could be captured). */
    static String during(Runnable step) {
        if (DUP == null) {
            step.run();
            return "";
        }
        Path file;
        try {
            file = Files.createTempFile("hearth-stderr", ".txt");
        } catch (IOException e) {
            step.run();
            return "";
        }
        int[] saved = {-1, -1};
        try (Arena a = Arena.ofConfined()) {
            System.out.flush();
            System.err.flush();
            int fd = (int) OPEN.invokeExact(a.allocateFrom(file.toString()), 1 /* O_WRONLY */);
            if (fd >= 0) {
                for (int i = 0; i < 2; i++) {
                    saved[i] = (int) DUP.invokeExact(i + 1);
                    if (saved[i] >= 0) {
                        int ignored = (int) DUP2.invokeExact(fd, i + 1);
                    }
                }
                int ignored = (int) CLOSE.invokeExact(fd);
            }
            step.run();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        } finally {
            System.out.flush();
            System.err.flush();
            try {
                // The C library buffers stdout: what native code printed must reach the file now.
                int ignored = (int) FFLUSH.invokeExact(MemorySegment.NULL);
            } catch (Throwable t) {
                // nothing flushed; the rest still goes back
            }
            for (int i = 0; i < 2; i++) {
                if (saved[i] < 0) continue;
                try {
                    int ignored = (int) DUP2.invokeExact(saved[i], i + 1);
                    ignored = (int) CLOSE.invokeExact(saved[i]);
                } catch (Throwable t) {
                    // the descriptor stays where it is; nothing more to do
                }
            }
        }
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        } finally {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                // a temporary file left behind
            }
        }
    }
}
