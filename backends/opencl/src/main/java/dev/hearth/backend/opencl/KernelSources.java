package dev.hearth.backend.opencl;

import dev.hearth.runtime.HearthException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The OpenCL kernel sources shipped by the kernels module as class-path resources
 * ({@code kernels/opencl/*.cl}). {@code #include "x"} lines are replaced by the text of
 * {@code kernels/opencl/x} or {@code kernels/x}, each file once, so a program is built from a
 * single string with no include path.
 */
final class KernelSources {
    private static final Pattern INCLUDE = Pattern.compile("(?m)^\\s*#\\s*include\\s+\"([^\"]+)\"\\s*$");
    private static final ConcurrentHashMap<String, String> CACHE = new ConcurrentHashMap<>();

    private KernelSources() {
    }

    /** The expanded source of {@code kernels/opencl/<file>}. */
    static String load(String file) {
        return CACHE.computeIfAbsent(file, f -> expand("kernels/opencl/" + f, new HashSet<>()));
    }

    private static String expand(String resource, Set<String> seen) {
        if (!seen.add(resource)) return "";
        String text = read(resource);
        Matcher m = INCLUDE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String found = exists("kernels/opencl/" + name) ? "kernels/opencl/" + name : "kernels/" + name;
            m.appendReplacement(out, Matcher.quoteReplacement("/* " + name + " */\n" + expand(found, seen)));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static boolean exists(String resource) {
        return KernelSources.class.getClassLoader().getResource(resource) != null;
    }

    private static String read(String resource) {
        try (InputStream in = KernelSources.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new HearthException("kernel source " + resource + " is missing from the class path: the hearth-kernels jar is incomplete; rebuild it");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new HearthException("cannot read kernel source " + resource + ": " + e.getMessage(), e);
        }
    }
}
