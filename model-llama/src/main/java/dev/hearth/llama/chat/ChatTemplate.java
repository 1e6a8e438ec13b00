package dev.hearth.llama.chat;

import dev.hearth.runtime.gguf.GgufFile;

import java.util.List;

/**
 * Built-in chat formats, chosen from the model's {@code tokenizer.chat_template} by the markers
 * it uses: Llama 3, ChatML (Qwen, many fine-tunes), Llama 2 / Mistral [INST], Zephyr, Gemma;
 * a plain "User:/Assistant:" format where the model has none.
 */
public enum ChatTemplate {
    LLAMA3, CHATML, LLAMA2, ZEPHYR, GEMMA, PLAIN;

    /** One message of a conversation. */
    public record Message(String role, String content) {
    }

    public static ChatTemplate detect(GgufFile f) {
        return detect(f.getString("tokenizer.chat_template", null));
    }

    public static ChatTemplate detect(String template) {
        if (template == null) return PLAIN;
        if (template.contains("<|start_header_id|>")) return LLAMA3;
        if (template.contains("<|im_start|>")) return CHATML;
        if (template.contains("<start_of_turn>")) return GEMMA;
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
            default -> List.of();
        };
    }
}
