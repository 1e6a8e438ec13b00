package dev.hearth.server;

import dev.hearth.llama.Engine;
import dev.hearth.llama.ModelConfig;
import dev.hearth.llama.ModelWeights;
import dev.hearth.llama.Placement;
import dev.hearth.llama.tokenizer.Tokenizer;
import dev.hearth.runtime.backend.Backends;
import dev.hearth.runtime.backend.Device;
import dev.hearth.runtime.dtype.DType;
import dev.hearth.runtime.gguf.GgufFile;
import dev.hearth.runtime.json.Json;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaModel;
import dev.langchain4j.model.ollama.OllamaModels;
import dev.langchain4j.model.ollama.RunningOllamaModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A folder of models (stories260K in F32 and Q8_0): both listed by Ollama's and OpenAI's routes,
 * each loaded when first named, the least recently used unloaded with --max-loaded 1 (or when
 * the loader says the model would fit better alone), a model in use kept until its request
 * ends, one load for requests that arrive while it loads, and a file that cannot be loaded
 * answered with a clear error.
 */
class ModelFolderTest {
    @TempDir
    Path dir;
    HearthServer server;
    String base;
    final AtomicInteger loads = new AtomicInteger();
    final AtomicInteger unloads = new AtomicInteger();
    volatile long loadDelayMs;
    /** Whether the loader wants a device to itself (as a GPU model that would not fit whole beside another). */
    volatile boolean wantsRoom;
    final List<Boolean> canMakeRoom = new java.util.concurrent.CopyOnWriteArrayList<>();
    ModelPool pool;

    @BeforeEach
    void start() throws Exception {
        Files.copy(TestModel.models().resolve("stories260K-f32.gguf"), dir.resolve("stories-f32.gguf"));
        Files.copy(TestModel.models().resolve("stories260K-q8_0.gguf"), dir.resolve("stories-q8.gguf"));
        Files.writeString(dir.resolve("notes.txt"), "not a model");
        ServerOptions o = TestModel.options().withPort(0);
        pool = ModelPool.folder(dir, this::load, 1, o);
        server = HearthServer.start(o, pool);
        base = "http://127.0.0.1:" + server.port();
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    /** A model on the reference device with one slot, as the command line's loader does it. */
    ModelPool.Loaded load(Path file, boolean room) {
        canMakeRoom.add(room);
        if (room && wantsRoom) throw new ModelPool.NeedsRoom("not all layers fit");
        loads.incrementAndGet();
        if (loadDelayMs > 0) {
            try {
                Thread.sleep(loadDelayMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        GgufFile f = GgufFile.open(file);
        try {
            ModelConfig c = ModelConfig.fromGguf(f);
            ModelWeights w = new ModelWeights(f, c);
            Device ref = Backends.provider("reference").devices().getFirst();
            Engine e = new Engine(w, Placement.single(ref, c.layers(), List.of(ref)), 128, 64, DType.F32, null);
            ServedModel m = new ServedModel(ModelPool.nameOf(file), List.of(e), Tokenizer.fromGguf(f), f.getString("tokenizer.chat_template", null));
            return new ModelPool.Loaded(m, () -> {
                unloads.incrementAndGet();
                e.close();
                f.close();
            });
        } catch (RuntimeException x) {
            f.close();
            throw x;
        }
    }

    OllamaChatModel chat(String name) {
        return OllamaChatModel.builder().baseUrl(base).modelName(name).temperature(0.0).numPredict(8).timeout(Duration.ofSeconds(60)).maxRetries(0).build();
    }

    List<String> running() {
        return OllamaModels.builder().baseUrl(base).build().runningModels().content().stream().map(RunningOllamaModel::getName).toList();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> json(String s) {
        return (Map<String, Object>) Json.parse(s);
    }

    RawHttp.Response get(String path) throws Exception {
        return RawHttp.exchange(server.port(), ("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII), 10_000);
    }

    @Test
    void listsEveryGgufAndLoadsOnlyWhatIsAskedFor() throws Exception {
        List<OllamaModel> models = OllamaModels.builder().baseUrl(base).build().availableModels().content();
        assertEquals(List.of("stories-f32", "stories-q8"), models.stream().map(OllamaModel::getName).toList());
        assertEquals("F32", models.get(0).getDetails().getQuantizationLevel());
        assertEquals("Q8_0", models.get(1).getDetails().getQuantizationLevel());
        assertEquals("llama", models.get(1).getDetails().getFamily());
        assertTrue(models.get(0).getSize() > models.get(1).getSize(), "F32 is the larger file");
        assertFalse(models.get(0).getDigest().equals(models.get(1).getDigest()));
        assertNotNull(models.get(0).getModifiedAt());
        assertEquals(0, loads.get(), "listing loads nothing");
        assertEquals(List.of(), running());

        List<?> openAi = (List<?>) json(get("/v1/models").body()).get("data");
        assertEquals(List.of("stories-f32", "stories-q8"), openAi.stream().map(m -> ((Map<?, ?>) m).get("id")).toList());
        assertEquals(200, get("/v1/models/stories-q8").status());
        assertEquals(404, get("/v1/models/stories").status());
    }

    @Test
    void theLeastRecentlyUsedIsUnloadedWithMaxLoadedOne() throws Exception {
        String a = chat("stories-f32").chat("Once upon a time");
        assertEquals(1, loads.get());
        assertEquals(List.of("stories-f32"), running());
        String b = chat("stories-q8:latest").chat("Once upon a time");
        assertEquals(2, loads.get());
        assertEquals(1, unloads.get(), "the F32 model made room");
        assertEquals(List.of("stories-q8"), running());
        assertEquals(a, chat("stories-f32").chat("Once upon a time"), "loaded again, the same greedy answer");
        assertEquals(3, loads.get());
        assertEquals(List.of("stories-f32"), running());
        assertFalse(a.isEmpty() || b.isEmpty());

        // the OpenAI route names models the same way, and loads them the same way
        assertEquals(b, OllamaClientTest.openAiChat(base, "stories-q8", "Once upon a time", 8));
        assertEquals(List.of("stories-q8"), running());
        RawHttp.Response unknown = RawHttp.exchange(server.port(), RawHttp.post("/v1/chat/completions",
                "{\"model\":\"gpt-4\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"), 10_000);
        assertEquals(404, unknown.status());
        assertTrue(unknown.body().contains("model_not_found") && unknown.body().contains("stories-f32, stories-q8"), unknown.body());
        RawHttp.Response none = RawHttp.exchange(server.port(), RawHttp.post("/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"), 10_000);
        assertEquals(400, none.status());
        assertTrue(none.body().contains("'model'"), none.body());
    }

    @Test
    void keepAliveZeroUnloadsAndAnEmptyPromptLoads() throws Exception {
        Map<String, Object> load = json(RawHttp.exchange(server.port(), RawHttp.post("/api/generate", "{\"model\":\"stories-q8\"}"), 10_000).body());
        assertEquals("load", load.get("done_reason"));
        assertEquals(List.of("stories-q8"), running());
        Map<String, Object> unload = json(RawHttp.exchange(server.port(), RawHttp.post("/api/chat",
                "{\"model\":\"stories-q8\",\"messages\":[],\"keep_alive\":0}"), 10_000).body());
        assertEquals("unload", unload.get("done_reason"));
        assertEquals(List.of(), running());
        assertEquals(1, unloads.get());
    }

    @Test
    void aModelInUseIsNotUnloaded() throws Exception {
        ModelPool pool = server.models();
        ModelPool.Lease held = pool.acquire("stories-f32", false, () -> false);
        CompletableFuture<String> other = CompletableFuture.supplyAsync(() -> chat("stories-q8").chat("Once upon a time"));
        Thread.sleep(500);
        assertFalse(other.isDone(), "waits while the only loaded model is in use");
        assertEquals(List.of("stories-f32"), running());
        assertEquals(0, unloads.get());
        held.close();
        assertFalse(other.get(60, TimeUnit.SECONDS).isEmpty());
        assertEquals(List.of("stories-q8"), running());
        assertEquals(1, unloads.get());
    }

    @Test
    void requestsForAModelThatIsLoadingWaitForOneLoad() throws Exception {
        loadDelayMs = 300;
        List<CompletableFuture<String>> all = new ArrayList<>();
        for (int i = 0; i < 3; i++) all.add(CompletableFuture.supplyAsync(() -> chat("stories-q8").chat("Once upon a time")));
        String first = all.getFirst().get(60, TimeUnit.SECONDS);
        for (CompletableFuture<String> f : all) assertEquals(first, f.get(60, TimeUnit.SECONDS));
        assertEquals(1, loads.get(), "one load for all three");
    }

    @Test
    void aModelThatWouldFitBetterAloneMakesRoom() throws Exception {
        server.close();
        ServerOptions o = TestModel.options().withPort(0);
        pool = ModelPool.folder(dir, this::load, 2, o);
        server = HearthServer.start(o, pool);
        base = "http://127.0.0.1:" + server.port();
        chat("stories-f32").chat("Once upon a time");
        chat("stories-q8").chat("Once upon a time");
        assertEquals(List.of("stories-f32", "stories-q8"), running(), "two fit with --max-loaded 2");
        assertEquals(List.of(false, true), canMakeRoom);
        wantsRoom = true;
        pool.unload("stories-q8");
        chat("stories-q8").chat("Once upon a time");
        assertEquals(List.of(false, true, true, false), canMakeRoom, "refused once beside an idle model, then loaded alone");
        assertEquals(List.of("stories-q8"), running());
        assertEquals(2, unloads.get());
    }

    @Test
    void aFileThatIsNotAModelIsAClearError() throws Exception {
        Files.writeString(dir.resolve("broken.gguf"), "<html>not found</html>");
        RawHttp.Response r = RawHttp.exchange(server.port(), RawHttp.post("/api/generate", "{\"model\":\"broken\",\"prompt\":\"hi\"}"), 10_000);
        assertEquals(500, r.status(), r.body());
        String error = (String) json(r.body()).get("error");
        assertTrue(error.startsWith("model 'broken' could not be loaded: "), error);
        List<?> tags = (List<?>) json(get("/api/tags").body()).get("models");
        assertEquals(2, tags.size(), "left out of the list: " + tags);
        assertNull(server.models().info("broken"));
        assertEquals(200, RawHttp.exchange(server.port(), RawHttp.post("/api/generate",
                "{\"model\":\"stories-q8\",\"prompt\":\"Once\",\"stream\":false,\"options\":{\"num_predict\":2}}"), 60_000).status(), "the others still serve");
    }
}
