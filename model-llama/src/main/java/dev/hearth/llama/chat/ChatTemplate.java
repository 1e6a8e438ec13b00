package dev.hearth.llama.chat;

import dev.hearth.runtime.gguf.GgufFile;

import java.util.List;

/**
 * Built-in chat formats, chosen from the model's {@code tokenizer.chat_template} by the markers
 * it uses: Llama 3, ChatML (Qwen, many fine-tunes), Llama 2 / Mistral [INST], Zephyr, Gemma,
 * Phi-3; where the model has no template, from its architecture (qwen2/qwen3: ChatML, gemma*:
 * Gemma, phi3: Phi-3); a plain "User:/Assistant:" format otherwise.
 */
public enum ChatTemplate {
    LLAMA3, CHATML, LLAMA2, ZEPHYR, GEMMA, PHI3, PLAIN;

    /** One message of a conversation. */
    public record Message(String role, String content) {
    }

    public static ChatTemplate detect(GgufFile f) {
        return detect(f.getString("tokenizer.chat_template", null), f.getString("general.architecture", null));
    }

    /** From the template's markers; where there is no template (or none known), from the architecture. */
    public static ChatTemplate detect(String template, String architecture) {
        ChatTemplate t = detect(template);
        if (t != PLAIN || architecture == null) return t;
        return switch (architecture) {
            case "qwen2", "qwen2moe", "qwen3", "qwen3moe" -> CHATML;
            case "gemma", "gemma2", "gemma3" -> GEMMA;
            case "phi3" -> PHI3;
            default -> PLAIN;
        };
    }

    public static ChatTemplate detect(String template) {
        if (template == null) return PLAIN;
        if (template.contains("<|start_header_id|>")) return LLAMA3;
        if (template.contains("<|im_start|>")) return CHATML;
        if (template.contains("<start_of_turn>")) return GEMMA;
        if (template.contains("<|user|>") && template.contains("<|end|>")) return PHI3;
        if (template.contains("<|user|>")) return ZEPHYR;
        if (template.contains("[INST]")) return LLAMA2;
        return PLAIN;
    }

    /**
     * The text of a conversation, ending with the opening of the assistant's turn. BOS is not
     * included: the tokenizer adds it where the model wants one.
     */
    public String render(List<Message> messages) {
        StringBuilder sb = new StringBuilder();
        switch (this) {
            case LLAMA3 -> {
                for (Message m : messages) {
                    sb.append("<|start_header_id|>").append(m.role()).append("<|end_header_id|>\n\n").append(m.content().strip()).append("<|eot_id|>");
                }
                sb.append("<|start_header_id|>assistant<|end_header_id|>\n\n");
            }
            case CHATML -> {
                for (Message m : messages) sb.append("<|im_start|>").append(m.role()).append('\n').append(m.content()).append("<|im_end|>\n");
                sb.append("<|im_start|>assistant\n");
            }
            case GEMMA -> {
                // Gemma 3's template: the system text and a blank line open the first user turn
                // (Gemma 2's rejects a system message); turns trimmed; the assistant is "model".
                String system = "";
                for (Message m : messages) {
                    if (m.role().equals("system")) {
                        system = m.content() + "\n\n";
                        continue;
                    }
                    String role = m.role().equals("assistant") ? "model" : "user";
                    sb.append("<start_of_turn>").append(role).append('\n').append(role.equals("user") ? system : "")
                            .append(m.content().strip()).append("<end_of_turn>\n");
                    if (role.equals("user")) system = "";
                }
                sb.append("<start_of_turn>model\n");
            }
            case PHI3 -> {
                // Phi-3.5-mini-instruct's template: system, user and assistant turns only; an
                // empty system message is left out.
                for (Message m : messages) {
                    if (!(m.role().equals("user") || m.role().equals("assistant") || m.role().equals("system") && !m.content().isEmpty())) continue;
                    sb.append("<|").append(m.role()).append("|>\n").append(m.content()).append("<|end|>\n");
                }
                sb.append("<|assistant|>\n");
            }
            case ZEPHYR -> {
                for (Message m : messages) sb.append("<|").append(m.role()).append("|>\n").append(m.content()).append("</s>\n");
                sb.append("<|assistant|>\n");
            }
            case LLAMA2 -> {
                String system = null;
                for (Message m : messages) {
                    switch (m.role()) {
                        case "system" -> system = m.content();
                        case "user" -> {
                            sb.append("[INST] ");
                            if (system != null) {
                                sb.append("<<SYS>>\n").append(system).append("\n<</SYS>>\n\n");
                                system = null;
                            }
                            sb.append(m.content().strip()).append(" [/INST]");
                        }
                        default -> sb.append(' ').append(m.content().strip()).append(" </s><s>");
                    }
                }
            }
            case PLAIN -> {
                for (Message m : messages) {
                    String who = switch (m.role()) {
                        case "system" -> "System";
                        case "assistant" -> "Assistant";
                        default -> "User";
                    };
                    sb.append(who).append(": ").append(m.content().strip()).append('\n');
                }
                sb.append("Assistant:");
            }
        }
        return sb.toString();
    }

    /** Text that ends the assistant's turn in this format, besides the end-of-generation tokens. */
    public List<String> stopStrings() {
        return switch (this) {
            case PLAIN -> List.of("\nUser:");
            case ZEPHYR -> List.of("<|user|>");
            case GEMMA -> List.of("<end_of_turn>", "<start_of_turn>");
            case PHI3 -> List.of("<|end|>", "<|user|>", "<|endoftext|>");
            default -> List.of();
        };
    }
}
