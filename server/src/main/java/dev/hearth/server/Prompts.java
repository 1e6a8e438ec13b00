package dev.hearth.server;

import dev.hearth.llama.chat.ChatTemplate;
import dev.hearth.llama.tokenizer.Tokenizer;
import dev.hearth.server.chat.BuiltinToolPrompt;
import dev.hearth.server.chat.JinjaChatTemplate;
import dev.hearth.server.http.ApiError;
import dev.hearth.server.tools.ToolFormat;

import java.io.PrintStream;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Requests to prompt tokens. Chat messages go through the model's own template
 * (tokenizer.chat_template, rendered with Jinja); where the model has none, or its template
 * cannot be rendered, through the built-in format detected from it (Llama 3, ChatML, ...; a
 * plain "User:/Assistant:" one otherwise), said once on the log.
 */
final class Prompts {
    private final Tokenizer tokenizer;
    private final JinjaChatTemplate jinja;
    private final ChatTemplate builtin;
    private final String bosText;
    private final PrintStream log;
    private final AtomicBoolean jinjaBroken = new AtomicBoolean();

    Prompts(Tokenizer tokenizer, String template, PrintStream log) {
        this(tokenizer, template, null, log);
    }

    /** With the model's architecture, which picks the built-in format where the file has no template (Gemma, Phi-3, Qwen). */
    Prompts(Tokenizer tokenizer, String template, String architecture, PrintStream log) {
        this.tokenizer = tokenizer;
        this.builtin = ChatTemplate.detect(template, architecture);
        this.bosText = tokenizer.bos() >= 0 ? tokenizer.piece(tokenizer.bos()) : "";
        String eosText = tokenizer.eos() >= 0 ? tokenizer.piece(tokenizer.eos()) : "";
        this.jinja = template == null || template.isBlank() ? null : new JinjaChatTemplate(template, bosText, eosText);
        this.log = log;
    }

    /** How chat prompts are made: "jinja" or the built-in format's name. */
    String chatFormat() {
        return jinja != null && !jinjaBroken.get() ? "jinja" : "built-in " + builtin.name().toLowerCase();
    }

    /** The chat prompt, BOS added where the model wants it (once, even if the template writes it). */
    int[] chat(List<Map<String, Object>> messages) {
        return chat(messages, null);
    }

    /** With {@code tools} (OpenAI function definitions; null: none) offered to the model. */
    int[] chat(List<Map<String, Object>> messages, List<Map<String, Object>> tools) {
        return tokenizer.encode(chatText(messages, tools), true, true);
    }

    String chatText(List<Map<String, Object>> messages) {
        return chatText(messages, null);
    }

    /** How the model writes tool calls: from its template, or from the built-in format in use. */
    ToolFormat toolFormat() {
        return jinja != null && !jinjaBroken.get() ? ToolFormat.detect(jinja.source(), builtin) : ToolFormat.forBuiltin(builtin);
    }

    String chatText(List<Map<String, Object>> messages, List<Map<String, Object>> tools) {
        if (jinja != null && !jinjaBroken.get()) {
            try {
                String text = tools == null ? jinja.render(messages, true) : BuiltinToolPrompt.renderJinja(jinja, messages, tools);
                if (tokenizer.addsBos() && !bosText.isEmpty() && text.startsWith(bosText)) text = text.substring(bosText.length());
                return text;
            } catch (JinjaChatTemplate.Rejected e) {
                throw ApiError.invalid("messages", "invalid_value", "The model's chat template refused these messages: " + e.getMessage());
            } catch (JinjaChatTemplate.Failed e) {
                if (jinjaBroken.compareAndSet(false, true) && log != null) {
                    log.println("hearth serve: the model's chat template could not be rendered (" + e.getMessage()
                            + "); using the built-in " + builtin.name().toLowerCase() + " format instead");
                }
            }
        }
        return builtin.render(BuiltinToolPrompt.messages(builtin, messages, tools));
    }

    /** Text that ends a chat reply besides the end-of-generation tokens (the built-in formats need some). */
    List<String> chatStops() {
        return jinja != null && !jinjaBroken.get() ? List.of() : builtin.stopStrings();
    }

    int[] completion(String prompt) {
        return tokenizer.encode(prompt, true, true);
    }
}
