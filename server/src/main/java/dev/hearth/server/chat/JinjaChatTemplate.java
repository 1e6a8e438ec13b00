package dev.hearth.server.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;

import java.time.Clock;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model's {@code tokenizer.chat_template} (a Hugging Face Jinja template) rendered with
 * Jinjava, set up as transformers sets up Jinja2: trim_blocks and lstrip_blocks on, Python
 * operator precedence, and the variables templates expect: {@code messages},
 * {@code add_generation_prompt}, {@code bos_token}, {@code eos_token}, and the functions
 * {@code raise_exception(msg)} and {@code strftime_now(fmt)}; Python's string methods
 * (startswith, split, strip, ...) through {@link PyStringMethods}. Message text is data: it is never
 * interpreted as a template. Thread-safe.
 */
public final class JinjaChatTemplate {
    private static final ThreadLocal<String> RAISED = new ThreadLocal<>();
    private static final ThreadLocal<LocalDateTime> NOW = new ThreadLocal<>();

    private final String source;
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinjava;
    private final Clock clock;

    /** The template called raise_exception: the conversation is not one the template accepts. */
    public static final class Rejected extends RuntimeException {
        public Rejected(String message) {
            super(message);
        }
    }

    /** The template could not be rendered (a Jinja feature Jinjava lacks, or a template error). */
    public static final class Failed extends RuntimeException {
        public Failed(String message) {
            super(message);
        }
    }

    public JinjaChatTemplate(String source, String bosToken, String eosToken) {
        this(source, bosToken, eosToken, Clock.systemDefaultZone());
    }

    /** With {@code clock} for strftime_now (tests fix the date). */
    public JinjaChatTemplate(String source, String bosToken, String eosToken, Clock clock) {
        this.clock = clock;
        this.source = PyStringMethods.rewrite(Jinja2Compat.rewrite(source));
        this.bosToken = bosToken == null ? "" : bosToken;
        this.eosToken = eosToken == null ? "" : eosToken;
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(false) // Jinja2's lstrip_blocks is done by Jinja2Compat.rewrite

                .withNestedInterpretationEnabled(false)
                .withFailOnUnknownTokens(false)
                .withMaxOutputSize(64L << 20)
                .withMaxRenderDepth(10)
                // tool templates walk JSON schemas with macros that call themselves (nested items, properties)
                .withEnableRecursiveMacroCalls(true)
                .withMaxMacroRecursionDepth(32)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true)
                        .withIterateOverMapKeys(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withKeepNullableLoopValues(true)
                        .withUsePyishObjectMapper(true)
                        .withUseTrimmingForNotesAndExpressions(true)
                        .build())
                .build();
        this.jinjava = new Jinjava(config);
        jinjava.registerFunction(new ELFunctionDefinition("", "raise_exception", JinjaChatTemplate.class, "raiseException", Object.class));
        PyStringMethods.register(jinjava);
        Jinja2Compat.register(jinjava);
        jinjava.registerFunction(new ELFunctionDefinition("", "strftime_now", JinjaChatTemplate.class, "strftimeNow", String.class));
    }

    public String source() {
        return source;
    }

    /**
     * The prompt for {@code messages} (each a map with at least "role" and "content"), ending
     * with the opening of the assistant's turn when {@code addGenerationPrompt}.
     *
     * @throws Rejected when the template raises an exception about the conversation
     * @throws Failed   when the template cannot be rendered
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt) {
        return render(messages, addGenerationPrompt, Map.of());
    }

    /**
     * As {@link #render(List, boolean)}, with more variables for the template: {@code tools} (a
     * list of OpenAI-style function definitions, as maps), {@code documents}, or a template's own
     * options ({@code enable_thinking}, ...). Transformers passes {@code tools} and
     * {@code documents} always, as None where there are none: so does this.
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
        Map<String, Object> vars = new HashMap<>();
        // Jinja2's globals are variables too: templates ask "strftime_now is defined".
        vars.put("strftime_now", "strftime_now");
        vars.put("raise_exception", "raise_exception");
        vars.put("tools", null);
        vars.put("documents", null);
        vars.putAll(extra);
        List<Map<String, Object>> copy = new ArrayList<>();
        for (Map<String, Object> m : messages) copy.add(new LinkedHashMap<>(m));
        vars.put("messages", copy);
        vars.put("add_generation_prompt", addGenerationPrompt);
        vars.put("bos_token", bosToken);
        vars.put("eos_token", eosToken);
        RAISED.remove();
        NOW.set(LocalDateTime.now(clock));
        RenderResult r;
        try {
            r = jinjava.renderForResult(source, vars);
        } catch (RuntimeException e) {
            NOW.remove();
            String raised = RAISED.get();
            RAISED.remove();
            if (raised != null) throw new Rejected(raised);
            throw new Failed(String.valueOf(e.getMessage()));
        }
        NOW.remove();
        String raised = RAISED.get();
        RAISED.remove();
        if (raised != null) throw new Rejected(raised);
        for (TemplateError e : r.getErrors()) {
            if (e.getSeverity() == TemplateError.ErrorType.FATAL) {
                throw new Failed(e.getMessage() + (e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : ""));
            }
        }
        return r.getOutput();
    }

    /** Jinja's raise_exception as transformers defines it. */
    public static Object raiseException(Object message) {
        String m = String.valueOf(message);
        if (RAISED.get() == null) RAISED.set(m); // Jinjava renders on after an error: the first one counts
        throw new Rejected(m);
    }

    /** The current local time formatted with a Python strftime pattern (Llama 3.x templates use it for the date). */
    public static String strftimeNow(String format) {
        LocalDateTime now = NOW.get();
        return Strftime.format(format, now != null ? now : LocalDateTime.now());
    }
}
