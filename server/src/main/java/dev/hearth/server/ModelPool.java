package dev.hearth.server;

import dev.hearth.runtime.HearthException;
import dev.hearth.server.http.ApiError;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The models a server answers with, by name, each with its slots. Either one model, loaded for
 * good (any name reaches it on the OpenAI routes), or a folder: every {@code *.gguf} in it is a
 * model named after its file (without .gguf), loaded by the {@link Loader} when a request first
 * names it. At most {@code maxLoaded} are loaded at once; to load another, the least recently
 * used one that no request is using is unloaded first (a request waits while every loaded model
 * is busy). Where the memory is short (the loader says the model would fit better, or its load
 * fails, while idle models are loaded) the least recently used idle one is unloaded and the load
 * tried again. Requests for a model that is loading wait for it.
 */
public final class ModelPool implements AutoCloseable {
    /**
     * Loads a model file: its engines (one per slot) and what to close when it is unloaded. With
     * {@code canMakeRoom}, idle models are loaded that could be unloaded: a loader that finds the
     * model would fit its devices less well than it could (layers left on the CPU for want of GPU
     * memory) throws {@link NeedsRoom} before it takes any memory, and the pool unloads the least
     * recently used idle model and asks again. Without it, the loader places what fits.
     */
    public interface Loader {
        Loaded load(Path file, boolean canMakeRoom);
    }

    /** Thrown by a {@link Loader}: the model would fit better with another model unloaded. */
    public static final class NeedsRoom extends RuntimeException {
        public NeedsRoom(String why) {
            super(why);
        }
    }

    /** A loaded model and what frees it. */
    public record Loaded(ServedModel model, AutoCloseable resources) {
    }

    /** One request's hold on a loaded model: the model is not unloaded until {@link #close}. */
    public final class Lease implements AutoCloseable {
        private final Entry entry;
        private final long loadNanos;
        private boolean closed;

        private Lease(Entry entry, long loadNanos) {
            this.entry = entry;
            this.loadNanos = loadNanos;
        }

        public ServedModel model() {
            return entry.loaded.model();
        }

        /** The name the request used to find it (the file's name without .gguf, or the single model's id). */
        public String name() {
            return entry.name;
        }

        public SlotPool slots() {
            return entry.slots;
        }

        Prompts prompts() {
            return entry.prompts;
        }

        /** Nanoseconds this request spent loading the model (0 where it was loaded already). */
        public long loadNanos() {
            return loadNanos;
        }

        @Override
        public void close() {
            synchronized (ModelPool.this) {
                if (closed) return;
                closed = true;
                entry.active--;
                entry.lastUsed = System.nanoTime();
                ModelPool.this.notifyAll();
            }
        }
    }

    private static final class Entry {
        final String name;
        Path file;
        volatile ModelInfo info;
        volatile String unreadable; // why the file's header cannot be read, where it cannot
        Loaded loaded;
        SlotPool slots;
        Prompts prompts;
        boolean loading;
        int active;
        long lastUsed;
        Instant loadedAt;

        Entry(String name, Path file) {
            this.name = name;
            this.file = file;
        }
    }

    private final Path folder;
    private final Loader loader;
    private final int maxLoaded;
    private final ServerOptions options;
    private final Map<String, Entry> entries = new LinkedHashMap<>();
    private boolean closed;
    private String pullEndpoint = "https://huggingface.co";
    private String pullToken;

    private ModelPool(Path folder, Loader loader, int maxLoaded, ServerOptions options) {
        this.folder = folder;
        this.loader = loader;
        this.maxLoaded = maxLoaded;
        this.options = options;
    }

    /** One model, loaded for good; {@code file} (null: the file its weights come from) describes it in the model lists. */
    public static ModelPool single(ServedModel model, Path file, ServerOptions options) {
        ModelPool p = new ModelPool(null, null, 1, options);
        Entry e = new Entry(model.id(), file != null ? file : model.engines().getFirst().weights().file().path());
        e.loaded = new Loaded(model, () -> { });
        e.slots = new SlotPool(model.engines(), options.maxQueue());
        e.prompts = prompts(model, options);
        e.loadedAt = Instant.now();
        p.entries.put(e.name, e);
        return p;
    }

    /** Every *.gguf in {@code folder}, loaded on demand by {@code loader}, at most {@code maxLoaded} at once. */
    public static ModelPool folder(Path folder, Loader loader, int maxLoaded, ServerOptions options) {
        if (maxLoaded < 1) throw new IllegalArgumentException("maxLoaded must be at least 1, not " + maxLoaded);
        if (!Files.isDirectory(folder)) throw new HearthException(folder + ": not a folder (give a folder of GGUF files with --models)");
        ModelPool p = new ModelPool(folder, loader, maxLoaded, options);
        synchronized (p) {
            p.rescan();
        }
        return p;
    }

    private static Prompts prompts(ServedModel m, ServerOptions options) {
        return new Prompts(m.tokenizer(), m.chatTemplate(), m.engines().getFirst().config().arch(), options.log());
    }

    /**
     * Where POST /api/pull fetches HF_REPO/FILE names from (default https://huggingface.co) and
     * the token sent there (null: none).
     */
    public synchronized ModelPool pullFrom(String endpoint, String token) {
        this.pullEndpoint = endpoint;
        this.pullToken = token;
        return this;
    }

    synchronized String pullEndpoint() {
        return pullEndpoint;
    }

    synchronized String pullToken() {
        return pullToken;
    }

    /** Whether this pool serves a folder (else one model). */
    public boolean isFolder() {
        return folder != null;
    }

    /** The folder served, or null. */
    public Path folder() {
        return folder;
    }

    /** The largest number of models loaded at once. */
    public int maxLoaded() {
        return maxLoaded;
    }

    /** The model a file name gives: the name without .gguf. */
    public static String nameOf(Path file) {
        return file.getFileName().toString().replaceFirst("(?i)\\.gguf$", "");
    }

    /** Reads the folder again: new files become models, files gone (and not loaded) are dropped. */
    private void rescan() {
        if (folder == null) return;
        Map<String, Path> found = new LinkedHashMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(folder, "*.{gguf,GGUF}")) {
            List<Path> files = new ArrayList<>();
            for (Path f : ds) if (Files.isRegularFile(f)) files.add(f);
            files.sort(Comparator.comparing(f -> f.getFileName().toString()));
            for (Path f : files) found.put(nameOf(f), f);
        } catch (IOException e) {
            throw new ApiError(500, "server_error", null, null, "The models folder " + folder + " cannot be read: " + e.getMessage());
        }
        entries.values().removeIf(e -> !found.containsKey(e.name) && e.loaded == null && !e.loading);
        for (var f : found.entrySet()) {
            Entry e = entries.get(f.getKey());
            if (e == null) entries.put(f.getKey(), new Entry(f.getKey(), f.getValue()));
        }
    }

    /**
     * The entry {@code name} names: the exact name, or the name with Ollama's ":latest" tag. With
     * one model and {@code anyName}, every name (and none) reaches it.
     */
    private Entry find(String name, boolean anyName) {
        if (folder == null) {
            Entry only = entries.values().iterator().next();
            if (anyName || only.name.equals(name) || (only.name + ":latest").equals(name)) return only;
            return null;
        }
        if (name == null) return null;
        Entry e = entries.get(name);
        if (e == null && name.endsWith(":latest")) e = entries.get(name.substring(0, name.length() - ":latest".length()));
        return e;
    }

    /** The names of the models, for messages. */
    public synchronized List<String> names() {
        rescan();
        return List.copyOf(entries.keySet());
    }

    /** Whether {@code name} names a model here (strictly: a single model answers only to its own name). */
    public synchronized boolean has(String name) {
        rescan();
        return find(name, false) != null;
    }

    /**
     * Every model, loaded or not, with what its header says; files that cannot be read are left
     * out. Headers are read without holding the pool, so requests are not kept waiting meanwhile.
     */
    public List<ModelInfo> list() {
        List<Entry> all;
        synchronized (this) {
            rescan();
            all = new ArrayList<>(entries.values());
        }
        List<ModelInfo> out = new ArrayList<>();
        for (Entry e : all) {
            ModelInfo i = info(e);
            if (i != null) out.add(i);
        }
        return out;
    }

    /** The loaded models and their headers. */
    public List<Map.Entry<ModelInfo, ServedModel>> loaded() {
        Map<Entry, ServedModel> now = new LinkedHashMap<>();
        synchronized (this) {
            for (Entry e : entries.values()) if (e.loaded != null) now.put(e, e.loaded.model());
        }
        List<Map.Entry<ModelInfo, ServedModel>> out = new ArrayList<>();
        for (var l : now.entrySet()) {
            ModelInfo i = info(l.getKey());
            if (i != null) out.add(Map.entry(i, l.getValue()));
        }
        return out;
    }

    /** The header of model {@code name} (strictly named); null where there is no such model. */
    public ModelInfo info(String name) {
        Entry e;
        synchronized (this) {
            rescan();
            e = find(name, false);
        }
        return e == null ? null : info(e);
    }

    /** What the lists show of an entry: read from its file once per size and modification time. */
    private ModelInfo info(Entry e) {
        synchronized (e) {
            return readInfo(e);
        }
    }

    private ModelInfo readInfo(Entry e) {
        if (e.file == null) {
            if (e.info == null) {
                ServedModel m = e.loaded.model();
                e.info = new ModelInfo(e.name, null, 0, e.loadedAt, "", m.engines().getFirst().config().arch(), 0, "unknown", Map.of());
            }
            return e.info;
        }
        try {
            long size = Files.size(e.file);
            Instant modified = Files.getLastModifiedTime(e.file).toInstant();
            if (e.info == null || e.info.size() != size || !e.info.modified().equals(modified)) {
                e.info = null;
                e.info = ModelInfo.read(e.name, e.file, modified);
            }
            e.unreadable = null;
            return e.info;
        } catch (IOException | RuntimeException x) {
            if (options.log() != null && e.unreadable == null) options.log().println("hearth serve: " + e.file + " is left out of the model list: " + x.getMessage());
            e.unreadable = x.getMessage();
            return null;
        }
    }

    /** The slots of each loaded model, by name. */
    public synchronized Map<String, SlotPool> slotPools() {
        Map<String, SlotPool> out = new LinkedHashMap<>();
        for (Entry e : entries.values()) if (e.slots != null) out.put(e.name, e.slots);
        return out;
    }

    /** Slots of all loaded models: idle, all, and requests queued. */
    public synchronized int[] slotCounts() {
        int idle = 0, all = 0, queued = 0;
        for (Entry e : entries.values()) {
            if (e.slots == null) continue;
            idle += e.slots.idle();
            all += e.slots.size();
            queued += e.slots.queued();
        }
        return new int[] {idle, all, queued};
    }

    /** The single model's chat format, or the folder's note. */
    synchronized String chatFormat() {
        if (folder == null) return entries.values().iterator().next().prompts.chatFormat();
        return "each model's own";
    }

    /**
     * A hold on the model {@code name} names, loading it where needed (waiting for a load under
     * way, and for a loaded model to become idle when {@code maxLoaded} are loaded and all are
     * busy). With one model and {@code anyName}, every name reaches it. Null when
     * {@code cancelled} says the client went away while waiting.
     *
     * @throws ApiError 404 when no model has that name, 500 when it cannot be loaded
     */
    public Lease acquire(String name, boolean anyName, BooleanSupplier cancelled) {
        Entry e;
        synchronized (this) {
            e = find(name, anyName);
            if (e == null) {
                rescan();
                e = find(name, anyName);
            }
            if (e == null) throw notFound(name);
            if (e.loaded != null) return hold(e, 0);
        }
        if (folder != null && info(e) == null) {
            // not a model at all: no reason to unload others for it
            throw new ApiError(500, "server_error", "model", "model_load_failed", "model '" + e.name + "' could not be loaded: " + e.unreadable);
        }
        return load(e, cancelled);
    }

    /** Ollama's words for a model that is not here. */
    public ApiError notFound(String name) {
        String n = name == null ? "" : name;
        return new ApiError(404, "invalid_request_error", "model", "model_not_found", "model '" + n + "' not found"
                + (folder == null ? " (this server has '" + entries.keySet().iterator().next() + "')"
                : ", try pulling it first (this server has: " + String.join(", ", entries.keySet()) + ")"));
    }

    private Lease hold(Entry e, long loadNanos) {
        e.active++;
        e.lastUsed = System.nanoTime();
        return new Lease(e, loadNanos);
    }

    private Lease load(Entry e, BooleanSupplier cancelled) {
        while (true) {
            synchronized (this) {
                if (closed) throw new ApiError(503, "server_error", null, null, "The server is shutting down.");
                if (e.loaded != null) return hold(e, 0);
                if (!e.loading) {
                    if (loadedCount() >= maxLoaded && !unloadLeastRecentlyUsed()) {
                        // every loaded model is in use: wait for one to finish
                    } else {
                        e.loading = true;
                        break;
                    }
                }
                try {
                    wait(100);
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                    throw new ApiError(503, "server_error", null, null, "The server is shutting down.");
                }
            }
            if (cancelled.getAsBoolean()) return null;
        }
        long t0 = System.nanoTime();
        while (true) {
            boolean canMakeRoom;
            synchronized (this) {
                canMakeRoom = leastRecentlyUsedIdle() != null;
            }
            try {
                if (options.log() != null) options.log().println("hearth serve: loading " + e.name + " (" + e.file + ")");
                Loaded l = loader.load(e.file, canMakeRoom);
                synchronized (this) {
                    e.loaded = l;
                    e.slots = new SlotPool(l.model().engines(), options.maxQueue());
                    e.prompts = prompts(l.model(), options);
                    e.loadedAt = Instant.now();
                    e.loading = false;
                    notifyAll();
                    long took = System.nanoTime() - t0;
                    if (options.log() != null) {
                        options.log().printf("hearth serve: loaded %s in %.1f s, context %d, chat template: %s%n", e.name, took / 1e9,
                                l.model().contextLength(), e.prompts.chatFormat());
                    }
                    return hold(e, took);
                }
            } catch (NeedsRoom x) {
                synchronized (this) {
                    if (options.log() != null) options.log().println("hearth serve: " + e.name + ": " + x.getMessage() + "; making room");
                    // where the idle one became busy meanwhile, the next try is told there is no room to make
                    if (!unloadLeastRecentlyUsed() && !canMakeRoom) {
                        e.loading = false;
                        notifyAll();
                        throw new ApiError(500, "server_error", "model", "model_load_failed", "model '" + e.name + "' could not be loaded: " + x.getMessage());
                    }
                }
            } catch (RuntimeException | OutOfMemoryError x) {
                synchronized (this) {
                    if (unloadLeastRecentlyUsed()) {
                        if (options.log() != null) options.log().println("hearth serve: loading " + e.name + " failed (" + x.getMessage() + "); trying again with less loaded");
                        continue;
                    }
                    e.loading = false;
                    notifyAll();
                }
                throw new ApiError(500, "server_error", "model", "model_load_failed", "model '" + e.name + "' could not be loaded: " + x.getMessage());
            } catch (Throwable x) {
                synchronized (this) {
                    e.loading = false; // requests waiting for this load try it themselves
                    notifyAll();
                }
                throw x;
            }
        }
    }

    private int loadedCount() {
        int n = 0;
        for (Entry e : entries.values()) if (e.loaded != null || e.loading) n++;
        return n;
    }

    /** Unloads the least recently used loaded model that no request holds; false where there is none. */
    private boolean unloadLeastRecentlyUsed() {
        Entry lru = leastRecentlyUsedIdle();
        if (lru == null) return false;
        unload(lru);
        return true;
    }

    private Entry leastRecentlyUsedIdle() {
        if (folder == null) return null;
        Entry lru = null;
        for (Entry e : entries.values()) {
            if (e.loaded != null && e.active == 0 && (lru == null || e.lastUsed < lru.lastUsed)) lru = e;
        }
        return lru;
    }

    private void unload(Entry e) {
        if (options.log() != null) options.log().println("hearth serve: unloading " + e.name);
        Loaded l = e.loaded;
        e.loaded = null;
        e.slots = null;
        e.prompts = null;
        e.loadedAt = null;
        try {
            l.resources().close();
        } catch (Exception x) {
            if (options.log() != null) options.log().println("hearth serve: unloading " + e.name + ": " + x.getMessage());
        }
    }

    /** Unloads model {@code name} if it is loaded and idle; false where it is not loaded or in use. */
    public synchronized boolean unload(String name) {
        Entry e = find(name, false);
        if (folder == null || e == null || e.loaded == null || e.active > 0) return false;
        unload(e);
        return true;
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (folder == null) return;
        for (Entry e : entries.values()) if (e.loaded != null) unload(e);
        notifyAll();
    }

    PrintStream log() {
        return options.log();
    }
}
