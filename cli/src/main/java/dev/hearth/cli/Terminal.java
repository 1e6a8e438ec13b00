package dev.hearth.cli;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/** Whether stderr is a terminal: progress bars repaint a line there, and print a few plain lines elsewhere. */
final class Terminal {
    private static volatile Boolean stderr;

    private Terminal() {
    }

    /** True where descriptor 2 is a terminal (isatty); HEARTH_PROGRESS=plain or =bar decides instead. */
    static boolean stderr() {
        Boolean s = stderr;
        if (s == null) {
            String env = System.getenv("HEARTH_PROGRESS");
            if ("plain".equals(env)) s = false;
            else if ("bar".equals(env)) s = true;
            else s = isatty(2);
            stderr = s;
        }
        return s;
    }

    private static boolean isatty(int fd) {
        try {
            Linker l = Linker.nativeLinker();
            MethodHandle h = l.downcallHandle(l.defaultLookup().find("isatty").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            return (int) h.invokeExact(fd) == 1;
        } catch (Throwable t) {
            java.io.Console c = System.console();
            return c != null && c.isTerminal();
        }
    }
}
