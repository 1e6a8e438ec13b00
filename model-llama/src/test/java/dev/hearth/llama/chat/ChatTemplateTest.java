package dev.hearth.llama.chat;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The built-in formats' detection, text and stop strings (their agreement with the real templates is BuiltinChatFormatsTest, in server). */
class ChatTemplateTest {
    static final List<ChatTemplate.Message> CONVERSATION = List.of(
            new ChatTemplate.Message("system", "Be brief."),
            new ChatTemplate.Message("user", " Hi "),
            new ChatTemplate.Message("assistant", "Hello."),
            new ChatTemplate.Message("user", "Why?"));

    @Test
    void detectsFromTheTemplate() {
        assertEquals(ChatTemplate.PHI3, ChatTemplate.detect("{{'<|user|>\n' + message['content'] + '<|end|>\n'}}"));
        assertEquals(ChatTemplate.ZEPHYR, ChatTemplate.detect("{{'<|user|>\n' + message['content'] + eos_token}}"));
        assertEquals(ChatTemplate.GEMMA, ChatTemplate.detect("{{ '<start_of_turn>' + role }}"));
        assertEquals(ChatTemplate.CHATML, ChatTemplate.detect("{{'<|im_start|>' + message['role']}}"));
        assertEquals(ChatTemplate.PLAIN, ChatTemplate.detect((String) null));
    }

    @Test
    void detectsFromTheArchitectureWhereThereIsNoTemplate() {
        assertEquals(ChatTemplate.PHI3, ChatTemplate.detect(null, "phi3"));
        assertEquals(ChatTemplate.GEMMA, ChatTemplate.detect(null, "gemma2"));
        assertEquals(ChatTemplate.GEMMA, ChatTemplate.detect(null, "gemma3"));
        assertEquals(ChatTemplate.CHATML, ChatTemplate.detect(null, "qwen2"));
        assertEquals(ChatTemplate.CHATML, ChatTemplate.detect(null, "qwen3"));
        assertEquals(ChatTemplate.PLAIN, ChatTemplate.detect(null, "llama"));
        assertEquals(ChatTemplate.PLAIN, ChatTemplate.detect(null, null));
        assertEquals(ChatTemplate.LLAMA3, ChatTemplate.detect("<|start_header_id|>", "gemma2"), "the template's markers come first");
    }

    @Test
    void gemmaPutsTheSystemTextInTheFirstUserTurn() {
        assertEquals("<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n"
                + "<start_of_turn>user\nWhy?<end_of_turn>\n<start_of_turn>model\n", ChatTemplate.GEMMA.render(CONVERSATION));
        assertTrue(ChatTemplate.GEMMA.stopStrings().contains("<end_of_turn>"));
    }

    @Test
    void phi3() {
        assertEquals("<|system|>\nBe brief.<|end|>\n<|user|>\n Hi <|end|>\n<|assistant|>\nHello.<|end|>\n<|user|>\nWhy?<|end|>\n<|assistant|>\n",
                ChatTemplate.PHI3.render(CONVERSATION));
        assertEquals("<|user|>\nx<|end|>\n<|assistant|>\n", ChatTemplate.PHI3.render(List.of(
                new ChatTemplate.Message("system", ""), new ChatTemplate.Message("user", "x"))), "an empty system message is left out");
        assertTrue(ChatTemplate.PHI3.stopStrings().contains("<|end|>"));
    }
}
