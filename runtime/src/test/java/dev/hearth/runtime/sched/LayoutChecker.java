package dev.hearth.runtime.sched;

import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a schedule's compute-buffer layout by simulating the run: every value placed in a
 * compute buffer is live from the step that writes it (its node, or the copy at the start of the
 * split that imports it) to the last step that reads it (a node of the same device, or the copy
 * into another device); outputs, host inputs and copied weights live to the end. No two values
 * that are live at the same step may share a byte. Steps are numbered as the executor runs:
 * per split, one step for its copies, then one per node.
 */
final class LayoutChecker {
    record Interval(String what, long offset, long bytes, int from, int to) {
        boolean clashes(Interval o) {
            return offset < o.offset + o.bytes && o.offset < offset + bytes && from <= o.to && o.from <= to;
        }
    }

    private LayoutChecker() {
    }

    /** The live intervals of every device's compute buffer; fails if any two clash or one lies outside the buffer. */
    static Map<Device, List<Interval>> check(Schedule s) {
        List<Split> splits = s.splits();
        Map<Node, Integer> stepOf = new IdentityHashMap<>();
        int[] importStep = new int[splits.size()];
        int step = 0;
        for (int si = 0; si < splits.size(); si++) {
            importStep[si] = step++;
            for (Node n : splits.get(si).nodes()) stepOf.put(n, step++);
        }
        int end = step;
        Set<Node> outputs = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        outputs.addAll(s.graph().outputs());

        Map<Device, List<Interval>> all = new java.util.LinkedHashMap<>();
        for (int si = 0; si < splits.size(); si++) {
            Split sp = splits.get(si);
            List<Interval> list = all.computeIfAbsent(sp.device(), d -> new ArrayList<>());
            for (var e : s.importOffsets(si).entrySet()) {
                Node n = e.getKey();
                int to = importStep[si];
                for (Node r : sp.nodes()) if (r.inputs().contains(n)) to = Math.max(to, stepOf.get(r));
                list.add(new Interval("import of " + n.name() + " in split " + si, e.getValue(), n.desc().bytes(), importStep[si], to));
            }
        }
        for (Device d : all.keySet()) {
            List<Interval> list = all.get(d);
            s.staticOffsets(d).forEach((n, off) -> list.add(new Interval("static " + n.name(), off, n.desc().bytes(), 0, end)));
            s.ownOffsets(d).forEach((n, off) -> {
                int from = stepOf.get(n);
                int to = outputs.contains(n) ? end : from;
                for (int si = 0; si < splits.size(); si++) {
                    Split sp = splits.get(si);
                    if (sp.device() == d) {
                        for (Node r : sp.nodes()) if (r.inputs().contains(n)) to = Math.max(to, stepOf.get(r));
                    } else if (sp.imports().contains(n)) {
                        to = Math.max(to, importStep[si]);
                    }
                }
                list.add(new Interval("value " + n.name(), off, n.desc().bytes(), from, to));
            });
            long size = s.computeBytes().get(d);
            for (int i = 0; i < list.size(); i++) {
                Interval a = list.get(i);
                if (a.offset % Schedule.ALIGN != 0) throw new AssertionError(a + " is not aligned");
                if (a.offset + a.bytes > size) throw new AssertionError(a + " ends past the buffer of " + size + " bytes on " + d.name());
                for (int j = i + 1; j < list.size(); j++) {
                    Interval b = list.get(j);
                    if (a.clashes(b)) throw new AssertionError("on " + d.name() + ": " + a + " overlaps " + b);
                }
            }
        }
        // Every computed value and every import has a place.
        for (int si = 0; si < splits.size(); si++) {
            Split sp = splits.get(si);
            for (Node n : sp.nodes()) {
                if (!(n.op() instanceof Op.KvStore) && !s.ownOffsets(sp.device()).containsKey(n)) throw new AssertionError(n + " has no offset");
            }
            for (Node i : sp.imports()) {
                boolean placed = s.importOffsets(si).containsKey(i) || s.staticOffsets(sp.device()).containsKey(i);
                if (!placed) throw new AssertionError("import " + i + " of split " + si + " has no slot");
            }
        }
        return all;
    }

    /** The sum of every computed value's aligned size on {@code d}: the buffer without reuse. */
    static long naiveBytes(Schedule s, Device d) {
        long sum = 0;
        for (Node n : s.ownOffsets(d).keySet()) sum += (n.desc().bytes() + Schedule.ALIGN - 1) / Schedule.ALIGN * Schedule.ALIGN;
        return sum;
    }
}
