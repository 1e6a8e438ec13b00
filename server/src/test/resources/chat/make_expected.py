# Writes expected.json: every template in templates/ rendered by Python's Jinja2 for each
# conversation below, set up as Hugging Face transformers sets it up for apply_chat_template
# (transformers/utils/chat_template_utils.py): an ImmutableSandboxedEnvironment with
# trim_blocks, lstrip_blocks and the loopcontrols extension; a tojson filter that is
# json.dumps(ensure_ascii=False, sort_keys=False) rather than Jinja's HTML-safe one; the
# globals raise_exception and strftime_now; render(messages=..., tools=... or None,
# documents=None, add_generation_prompt=..., bos_token=..., eos_token=...).
# strftime_now gives a fixed time (NOW below) so that the output does not depend on the day.
# RealChatTemplatesTest and BuiltinChatFormatsTest compare Hearth's output with these.
# Run: cd server/src/test/resources/chat && python3 make_expected.py   (needs jinja2; 3.1.6 wrote the file)
import json, os
import jinja2
from jinja2.exceptions import TemplateError
from jinja_env import NOW, env

# The special tokens the models' GGUF files carry (tokenizer.ggml.bos_token_id / eos_token_id).
TOKENS = {
    "meta-llama-Llama-3.1-8B-Instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "meta-llama-Llama-3.2-3B-Instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "meta-llama-Llama-3.3-70B-Instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "Qwen-Qwen2.5-7B-Instruct": ("<|endoftext|>", "<|im_end|>"),
    "Qwen-Qwen3-0.6B": ("<|endoftext|>", "<|im_end|>"),
    "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B": ("<\uff5cbegin\u2581of\u2581sentence\uff5c>", "<\uff5cend\u2581of\u2581sentence\uff5c>"),
    "mistralai-Mistral-Nemo-Instruct-2407": ("<s>", "</s>"),
    "microsoft-Phi-3.5-mini-instruct": ("<s>", "<|endoftext|>"),
    "google-gemma-2-2b-it": ("<bos>", "<eos>"),
    "CohereForAI-c4ai-command-r-plus-tool_use": ("<BOS_TOKEN>", "<|END_OF_TURN_TOKEN|>"),
    "NousResearch-Hermes-2-Pro-Llama-3-8B-tool_use": ("<|begin_of_text|>", "<|im_end|>"),
    "openai-gpt-oss-120b": ("<|startoftext|>", "<|return|>"),
}

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city, in \u00b0C or \u00b0F. Don't guess: ask if it's unclear.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "The city, e.g. \"Paris\" or \"S\u00e3o Paulo\""},
            "unit": {"type": "string", "description": "The unit", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "search",
        "description": "Search the web for <query> & return the top results.",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string", "description": "What to look for"},
            "count": {"type": "integer", "description": "How many results", "minimum": 1, "maximum": 10, "default": 3},
            "safe": {"type": "boolean", "description": "Filter unsafe results", "default": True}},
            "required": ["query"]}}},
]

SYSTEM = {"role": "system", "content": "You are a helpful assistant. Answer briefly."}
CONVERSATIONS = {
    "system_user": {"messages": [SYSTEM, {"role": "user", "content": "Hello! What's 2+2?"}], "add_generation_prompt": True},
    "multi_turn": {"messages": [SYSTEM, {"role": "user", "content": "Hi there."},
                                {"role": "assistant", "content": "Hello! How can I help?"},
                                {"role": "user", "content": "  Tell me a <short> joke & \"quote\" it, caf\u00e9 \u2705 \U0001F600  "}],
                   "add_generation_prompt": True},
    "user_assistant_user": {"messages": [{"role": "user", "content": "Name a colour."},
                                         {"role": "assistant", "content": "Blue."},
                                         {"role": "user", "content": "Another one,\nplease."}], "add_generation_prompt": True},
    "no_generation_prompt": {"messages": [{"role": "user", "content": "Ping"}, {"role": "assistant", "content": "Pong"}],
                             "add_generation_prompt": False},
    "tools": {"messages": [SYSTEM, {"role": "user", "content": "What's the weather in Paris?"}], "tools": TOOLS,
              "add_generation_prompt": True},
    "tools_no_system": {"messages": [{"role": "user", "content": "Search for jinja2."}], "tools": TOOLS,
                        "add_generation_prompt": True},
    "thinking_history": {"messages": [{"role": "user", "content": "2+2?"},
                                      {"role": "assistant", "content": "<think>\nSimple sum.\n</think>\n\nFour."},
                                      {"role": "user", "content": "And 3+3?"}], "add_generation_prompt": True},
    "thinking_off": {"messages": [{"role": "user", "content": "2+2?"}], "add_generation_prompt": True,
                     "kwargs": {"enable_thinking": False}},
    "tool_call": {"messages": [SYSTEM, {"role": "user", "content": "What's the weather in Paris?"},
                               {"role": "assistant", "content": "", "tool_calls": [
                                   {"id": "call00001", "type": "function",
                                    "function": {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]},
                               {"role": "tool", "tool_call_id": "call00001", "name": "get_weather", "content": "{\"temperature\": 18, \"sky\": \"clear\"}"}],
                  "tools": TOOLS, "add_generation_prompt": True},
}

def takes(name, source, conversation):
    for k in conversation.get("kwargs", {}):
        if k not in source:
            return False
    # A "-tool_use" template is the one transformers picks when there are tools (a model's
    # second, named template): it is rendered only for those.
    if name.endswith("-tool_use") and "tools" not in conversation:
        return False
    if "tool_calls" in str(conversation["messages"]):
        return "tool_calls" in source
    if "tools" in conversation:
        return "tools" in source
    return True

here = os.path.dirname(os.path.abspath(__file__))
out = {"jinja2": jinja2.__version__, "now": NOW.isoformat(), "conversations": CONVERSATIONS, "templates": {}}
for file in sorted(os.listdir(os.path.join(here, "templates"))):
    if not file.endswith(".jinja"):
        continue
    name = file[:-len(".jinja")]
    with open(os.path.join(here, "templates", file), encoding="utf-8") as f:
        source = f.read()
    tpl = env.from_string(source)
    bos, eos = TOKENS[name]
    results = {}
    for cname, c in CONVERSATIONS.items():
        if not takes(name, source, c):
            continue
        try:
            text = tpl.render(messages=c["messages"], tools=c.get("tools"), documents=None,
                              add_generation_prompt=c["add_generation_prompt"], bos_token=bos, eos_token=eos,
                              **c.get("kwargs", {}))
            results[cname] = {"output": text}
        except TemplateError as e:
            results[cname] = {"error": str(e)}
    out["templates"][name] = {"bos_token": bos, "eos_token": eos, "cases": results}
with open(os.path.join(here, "expected.json"), "w", encoding="utf-8") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
