package dev.hearth.runtime.sched;

import dev.hearth.runtime.HearthException;
import dev.hearth.runtime.backend.Buffer;
import dev.hearth.runtime.backend.BufferUsage;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.backend.Stream;
import dev.hearth.runtime.backend.Subgraph;
import dev.hearth.runtime.backend.TensorRef;
import dev.hearth.runtime.graph.Node;
import dev.hearth.runtime.graph.Op;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * A schedule bound to memory: compute buffers allocated once, a stream per device, a subgraph
 * per split. Each {@link #run()} copies the imports of each split in and computes it; inputs are
 * written with {@link #setInput}, results read with {@link #read}. Nothing is allocated per run.
 */
public final class Executor implements AutoCloseable {
    private final Schedule schedule;
    private final Map<Device, Buffer> compute = new LinkedHashMap<>();
    private final Map<Device, Stream> streams = new LinkedHashMap<>();
    private final List<Subgraph> subgraphs = new ArrayList<>();
    private final Map<Node, TensorRef> home = new IdentityHashMap<>();
    private final Map<String, List<TensorRef>> inputSlots = new LinkedHashMap<>();
    private final List<Copy> copies = new ArrayList<>();
    private final Arena arena = Arena.ofShared();
    private MemorySegment staging;
    private MemorySegment inputStaging;

    private record Copy(int split, TensorRef from, TensorRef to, Device fromDevice) {
    }

    Executor(Schedule schedule, Function<Node, TensorRef> leafRef) {
        this.schedule = schedule;
        try {
            schedule.computeBytes().forEach((d, bytes) -> compute.put(d, d.allocate(Math.max(bytes, Schedule.ALIGN), BufferUsage.COMPUTE)));
            for (Node n : schedule.graph().nodes()) {
                if (n.op() instanceof Op.Weight || n.op() instanceof Op.State) {
                    TensorRef r = leafRef.apply(n);
                    if (r == null) throw new HearthException("no tensor bound for " + n.name());
                    home.put(n, r);
                }
            }
            for (var e : compute.entrySet()) {
                schedule.ownOffsets(e.getKey()).forEach((n, off) -> home.put(n, new TensorRef(n.desc(), e.getValue(), off)));
            }
            for (Node n : schedule.graph().nodes()) {
                if (n.op() instanceof Op.KvStore k) home.put(n, home.get(k.cache()));
                if (n.op() instanceof Op.Reshape r) {
                    TensorRef viewed = home.get(r.x());
                    home.put(n, new TensorRef(n.desc(), viewed.buffer(), viewed.offset()));
                }
            }
            List<Split> splits = schedule.splits();
            for (int si = 0; si < splits.size(); si++) {
                Split s = splits.get(si);
                Buffer buf = compute.get(s.device());
                Map<Node, TensorRef> refs = new IdentityHashMap<>();
                Map<Node, Long> statics = schedule.staticOffsets(s.device());
                Map<Node, Long> imports = schedule.importOffsets(si);
                for (Node n : s.nodes()) {
                    for (Node in : n.inputs()) {
                        if (refs.containsKey(in)) continue;
                        TensorRef r;
                        if (statics.containsKey(in)) {
                            r = new TensorRef(in.desc(), buf, statics.get(in));
                        } else if (imports.containsKey(in)) {
                            r = new TensorRef(in.desc(), buf, imports.get(in));
                            copies.add(new Copy(si, home.get(in), r, schedule.deviceOf(in)));
                        } else {
                            r = home.get(in);
                        }
                        refs.put(in, r);
                    }
                    refs.put(n, home.get(n));
                }
                subgraphs.add(new Subgraph(s.device(), s.nodes(), refs));
            }
            for (var e : compute.entrySet()) {
                Buffer buf = e.getValue();
                schedule.staticOffsets(e.getKey()).forEach((n, off) -> {
                    TensorRef slot = new TensorRef(n.desc(), buf, off);
                    if (n.op() instanceof Op.Input in) {
                        inputSlots.computeIfAbsent(in.name(), k -> new ArrayList<>()).add(slot);
                    } else {
                        copy(home.get(n), slot); // a weight another device holds: copied once
                    }
                });
            }
            for (Device d : compute.keySet()) streams.put(d, d.openStream());
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    public Schedule schedule() {
        return schedule;
    }

    /** Writes the bytes of input {@code name} (e.g. I32 token ids) for the next run. */
    public void setInput(String name, MemorySegment data) {
        List<TensorRef> slots = inputSlots.get(name);
        if (slots == null) return; // the graph does not read it
        for (TensorRef r : slots) {
            if (data.byteSize() != r.bytes()) throw new IllegalArgumentException(name + ": " + data.byteSize() + " bytes given, " + r.bytes() + " expected");
            r.buffer().write(r.offset(), data);
        }
    }

    public void setInput(String name, int[] values) {
        setInput(name, values, 0, values.length);
    }

    /** Writes {@code count} I32 values from {@code values[from..]} as input {@code name}; nothing is allocated. */
    public void setInput(String name, int[] values, int from, int count) {
        MemorySegment s = inputStaging(4L * count);
        MemorySegment.copy(values, from, s, ValueLayout.JAVA_INT_UNALIGNED, 0, count);
        setInput(name, s);
    }

    public void setInput(String name, float[] values) {
        MemorySegment s = inputStaging(4L * values.length);
        MemorySegment.copy(values, 0, s, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, values.length);
        setInput(name, s);
    }

    private MemorySegment inputStaging(long bytes) {
        if (inputStaging == null || inputStaging.byteSize() < bytes) inputStaging = arena.allocate(Math.max(bytes, 4096), 64);
        return inputStaging.asSlice(0, bytes);
    }

    /** Computes the graph: every split in order, after copying its imports in. */
    public void run() {
        int c = 0;
        List<Split> splits = schedule.splits();
        Device previous = null;
        for (int si = 0; si < splits.size(); si++) {
            if (previous != null && previous != splits.get(si).device()) streams.get(previous).synchronize();
            while (c < copies.size() && copies.get(c).split() == si) {
                Copy cp = copies.get(c++);
                if (cp.fromDevice() != null && streams.containsKey(cp.fromDevice())) streams.get(cp.fromDevice()).synchronize();
                copy(cp.from(), cp.to());
            }
            Subgraph sg = subgraphs.get(si);
            streams.get(sg.device()).compute(sg);
            previous = sg.device();
        }
        for (Stream s : streams.values()) s.synchronize();
    }

    /** The tensor that holds {@code n}'s value after a run. */
    public TensorRef ref(Node n) {
        TensorRef r = home.get(n);
        if (r == null) throw new IllegalArgumentException(n + " has no stored value");
        return r;
    }

    /** Copies {@code n}'s value (F32) into {@code dst}. */
    public void read(Node n, float[] dst) {
        TensorRef r = ref(n);
        MemorySegment host = r.buffer().hostSegment();
        if (host != null) {
            MemorySegment.copy(host, ValueLayout.JAVA_FLOAT_UNALIGNED, r.offset(), dst, 0, (int) (r.bytes() / 4));
        } else {
            MemorySegment tmp = staging(r.bytes());
            r.buffer().read(r.offset(), tmp);
            MemorySegment.copy(tmp, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, dst, 0, (int) (r.bytes() / 4));
        }
    }

    /** Reads {@code n}'s raw bytes into {@code dst}. */
    public void read(Node n, MemorySegment dst) {
        TensorRef r = ref(n);
        r.buffer().read(r.offset(), dst);
    }

    private void copy(TensorRef from, TensorRef to) {
        long bytes = from.bytes();
        MemorySegment src = from.buffer().hostSegment();
        MemorySegment dst = to.buffer().hostSegment();
        if (src != null) {
            to.buffer().write(to.offset(), src.asSlice(from.offset(), bytes));
        } else if (dst != null) {
            from.buffer().read(from.offset(), dst.asSlice(to.offset(), bytes));
        } else {
            MemorySegment tmp = staging(bytes);
            from.buffer().read(from.offset(), tmp);
            to.buffer().write(to.offset(), tmp);
        }
    }

    private MemorySegment staging(long bytes) {
        if (staging == null || staging.byteSize() < bytes) staging = arena.allocate(Math.max(bytes, 1 << 16), 64);
        return staging.asSlice(0, bytes);
    }

    @Override
    public void close() {
        for (Stream s : streams.values()) {
            try {
                s.close();
            } catch (Exception ignored) {
                // closing is best effort
            }
        }
        for (Buffer b : compute.values()) b.close();
        streams.clear();
        compute.clear();
        if (arena.scope().isAlive()) arena.close();
    }
}
