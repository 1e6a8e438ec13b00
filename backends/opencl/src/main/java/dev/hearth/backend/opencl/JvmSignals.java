package dev.hearth.backend.opencl;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Keeps the JVM's signal handlers in place around OpenCL drivers that replace them.
 *
 * <p>PoCL loads LLVM, which installs crash handlers for SIGSEGV, SIGBUS, SIGILL, SIGUSR2 and
 * others with {@code SA_RESETHAND}; PoCL adds its own SIGFPE handler. The JVM uses SIGSEGV for
 * safepoint polls and null checks, SIGUSR2 to suspend threads, SIGFPE for division by zero: with
 * LLVM's handler in place, two threads that fault at once (a safepoint while the CPU backend's
 * workers run) kill the process outright ("Segmentation fault", no error report). So this
 * records the handlers before the first OpenCL call and puts back any that a driver changed
 * after each call that can load driver code (platform discovery, program builds).
 *
 * <p>Where the JVM runs with {@code libjsig} preloaded, signal chaining already keeps the JVM's
 * handlers first and this does nothing; where the C library's {@code sigaction} cannot be found
 * (not Linux), it does nothing either.
 */
final class JvmSignals {
    private static final System.Logger LOG = System.getLogger(JvmSignals.class.getName());
    /** Linux numbers, the same on x86-64 and AArch64: HUP INT QUIT ILL FPE BUS SEGV USR2 PIPE TERM XFSZ. */
    static final int SIGHUP = 1, SIGINT = 2, SIGQUIT = 3, SIGILL = 4, SIGFPE = 8, SIGBUS = 7, SIGSEGV = 11,
            SIGUSR2 = 12, SIGPIPE = 13, SIGTERM = 15, SIGXFSZ = 25;
    private static final int[] GUARDED = {SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGFPE, SIGBUS, SIGSEGV, SIGUSR2, SIGPIPE, SIGTERM, SIGXFSZ};
    /** Room for the C library's {@code struct sigaction} (152 bytes in glibc), kept as opaque bytes. */
    private static final long ACTION_BYTES = 512;

    private static final MethodHandle SIGACTION = find();
    private static MemorySegment saved;

    private JvmSignals() {
    }

    private static MethodHandle find() {
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) return null;
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("sigaction")
                    .map(a -> linker.downcallHandle(a, FunctionDescriptor.of(ValueLayout.JAVA_INT,
                            ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS)))
                    .orElse(null);
        } catch (RuntimeException | Error e) {
            LOG.log(System.Logger.Level.DEBUG, "sigaction not reachable: " + e);
            return null;
        }
    }

    private static boolean jsigLoaded() {
        try {
            return Files.readString(Path.of("/proc/self/maps")).contains("libjsig");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Records the current handlers, once, before any driver code is loaded. */
    static synchronized void save() {
        if (saved != null || SIGACTION == null || jsigLoaded()) return;
        MemorySegment s = Arena.global().allocate(ACTION_BYTES * GUARDED.length, 16);
        for (int i = 0; i < GUARDED.length; i++) {
            if (call(GUARDED[i], MemorySegment.NULL, s.asSlice(i * ACTION_BYTES, ACTION_BYTES)) != 0) return;
        }
        saved = s;
    }

    /** Puts back every recorded handler that has been replaced since {@link #save()}; returns how many. */
    static synchronized int restore() {
        if (saved == null) return 0;
        int restored = 0;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment now = a.allocate(ACTION_BYTES, 16);
            for (int i = 0; i < GUARDED.length; i++) {
                MemorySegment was = saved.asSlice(i * ACTION_BYTES, ACTION_BYTES);
                if (call(GUARDED[i], MemorySegment.NULL, now) != 0) continue;
                if (handler(now) == handler(was)) continue;
                if (call(GUARDED[i], was, MemorySegment.NULL) == 0) restored++;
            }
        }
        if (restored > 0) LOG.log(System.Logger.Level.DEBUG, "put back " + restored + " JVM signal handlers replaced by the OpenCL driver");
        return restored;
    }

    /** The handler address of signal {@code sig} now (the first field of {@code struct sigaction}); 0 where unknown. */
    static long handler(int sig) {
        if (SIGACTION == null) return 0;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment now = a.allocate(ACTION_BYTES, 16);
            return call(sig, MemorySegment.NULL, now) == 0 ? handler(now) : 0;
        }
    }

    static boolean available() {
        return SIGACTION != null && !jsigLoaded();
    }

    private static long handler(MemorySegment action) {
        return action.get(ValueLayout.JAVA_LONG, 0);
    }

    private static int call(int sig, MemorySegment act, MemorySegment old) {
        try {
            return (int) SIGACTION.invokeExact(sig, act, old);
        } catch (Throwable t) {
            return -1;
        }
    }
}
