package dev.hearth.server;

import dev.hearth.server.http.ApiError;
import dev.hearth.server.http.Exchange;
import dev.hearth.server.http.Http1Server;
import dev.hearth.server.http.Request;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;

/**
 * The OpenAI-compatible server, with Ollama's API under /api, over one model or a folder of
 * them: {@link #start} binds and serves until {@link #close}. Requests run on the connection's
 * own thread once they hold a slot; with one slot they queue first come first served, with N
 * slots N run at once.
 */
public final class HearthServer implements AutoCloseable {
    private final Http1Server http;
    private final ModelPool pool;
    private final CountDownLatch closed = new CountDownLatch(1);

    private HearthServer(Http1Server http, ModelPool pool) {
        this.http = http;
        this.pool = pool;
    }

    public static HearthServer start(ServerOptions options, ServedModel model) throws IOException {
        return start(options, ModelPool.single(model, null, options));
    }

    /** Serves the models of {@code pool}: paths under /api/ are Ollama's API, the rest OpenAI's. */
    public static HearthServer start(ServerOptions options, ModelPool pool) throws IOException {
        Gate gate = new Gate(options);
        Metrics metrics = new Metrics();
        OpenAiApi openAi = new OpenAiApi(pool, options, gate, metrics);
        OllamaApi ollama = new OllamaApi(pool, options, metrics);
        StaticPage page = new StaticPage((req, ex) -> {
            if (OllamaApi.serves(req.path())) {
                Gate.requireJsonFromPages(req);
                ollama.handle(req, ex);
            } else {
                openAi.handle(req, ex);
            }
        });
        // Every request passes the gate (Host, CORS) first; every answer is counted and every error logged.
        Http1Server.Handler front = new Http1Server.Handler() {
            @Override
            public void handle(Request req, Exchange ex) throws IOException {
                gate.checkHost(req);
                if (gate.cors(req, ex)) return;
                page.handle(req, ex);
            }

            @Override
            public void answered(Request request, String client, int status, ApiError error) {
                metrics.answered(request, status);
                gate.logError(request, client, status, error);
            }
        };
        Http1Server http = Http1Server.start(options.host(), options.port(), options.limits(), front);
        return new HearthServer(http, pool);
    }

    public int port() {
        return http.port();
    }

    public String host() {
        return http.address().getHostAddress();
    }

    /** HTTP connections open now. */
    public int connections() {
        return http.connections();
    }

    /** The slots of the loaded models. */
    public int slots() {
        return pool.slotCounts()[1];
    }

    public ModelPool models() {
        return pool;
    }

    /** How chat prompts are made now: "jinja", or the built-in format in use. */
    public String chatFormat() {
        return pool.chatFormat();
    }

    /** Blocks until {@link #close}. */
    public void await() throws InterruptedException {
        closed.await();
    }

    @Override
    public void close() {
        http.close();
        pool.close();
        closed.countDown();
    }
}
