package dev.hearth.server;

import dev.hearth.server.http.Http1Server;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;

/**
 * The OpenAI-compatible server over a model: {@link #start} binds and serves until
 * {@link #close}. Requests run on the connection's own thread once they hold a slot; with one
 * slot they queue first come first served, with N slots N run at once.
 */
public final class HearthServer implements AutoCloseable {
    private final Http1Server http;
    private final SlotPool slots;
    private final OpenAiApi api;
    private final CountDownLatch closed = new CountDownLatch(1);

    private HearthServer(Http1Server http, SlotPool slots, OpenAiApi api) {
        this.http = http;
        this.slots = slots;
        this.api = api;
    }

    public static HearthServer start(ServerOptions options, ServedModel model) throws IOException {
        SlotPool slots = new SlotPool(model.engines(), options.maxQueue());
        OpenAiApi api = new OpenAiApi(model, options, slots);
        Http1Server http = Http1Server.start(options.host(), options.port(), options.limits(), api);
        return new HearthServer(http, slots, api);
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

    public int slots() {
        return slots.size();
    }

    /** How chat prompts are made now: "jinja", or the built-in format in use. */
    public String chatFormat() {
        return api.prompts().chatFormat();
    }

    /** Blocks until {@link #close}. */
    public void await() throws InterruptedException {
        closed.await();
    }

    @Override
    public void close() {
        http.close();
        closed.countDown();
    }
}
