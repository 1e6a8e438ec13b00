# Writes expected_tools.json: every template in templates/ that takes tools rendered by Python's
# Jinja2 for tool conversations as a real client sends them (the OpenAI API's shape: tool call
# arguments as a JSON text, content null beside tool calls, tool results with tool_call_id),
# after the conversion Hearth's server makes before rendering (the same one llama.cpp and vLLM
# make): content null becomes "", "developer" becomes "system", each call's arguments text is
# parsed into an object where it is a JSON object; tool definitions are passed as given, less
# null fields. Jinja2 is set up by jinja_env.py (as transformers sets it up).
# A template that does not take tools (no "tools" in its text: Gemma 2, Phi-3.5, DeepSeek-R1-Distill)
# gets the conversation as Hearth rewrites it for such templates (polyfill() below: the tool list
# and how to call in the system message, calls as JSON text, results as user turns; the system
# text moved into the first user message where the template refuses a system message).
# RealToolTemplatesTest sends the same requests through Hearth's request reader and compares.
# Run: cd server/src/test/resources/chat && python3 make_expected_tools.py   (jinja2 3.1.6 wrote the file)
import json, os
import jinja2
from jinja2.exceptions import TemplateError
from jinja_env import NOW, env

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "expected.json"), encoding="utf-8") as f:
    TOKENS = {k: (v["bos_token"], v["eos_token"]) for k, v in json.load(f)["templates"].items()}

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city, in \u00b0C or \u00b0F.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "The city, e.g. \"Paris\" or \"S\u00e3o Paulo\""},
            "unit": {"type": "string", "description": "The unit", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"], "additionalProperties": False},
        "strict": True}},
    {"type": "function", "function": {
        "name": "search",
        "description": "Search the web for <query> & return the top results.",
        "parameters": {"type": "object", "properties": {
            "query": {"type": "string", "description": "What to look for"},
            "count": {"type": "integer", "description": "How many results", "minimum": 1, "maximum": 10, "default": 3},
            "filters": {"type": "array", "description": "Field filters", "items": {"type": "object", "properties": {
                "field": {"type": "string"}, "value": {"type": ["string", "number", "null"]}}}}},
            "required": ["query"]}}},
    {"type": "function", "function": {"name": "get_time", "description": "The time now.",
                                      "parameters": {"type": "object", "properties": {}}, "strict": None}},
]

def call(id, name, arguments):
    return {"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}

SYSTEM = {"role": "developer", "content": "You are a helpful assistant. Answer briefly."}
CONVERSATIONS = {
    "round_trip": [SYSTEM, {"role": "user", "content": "What's the weather in Paris?"},
                   {"role": "assistant", "content": None, "tool_calls": [call("call00001", "get_weather", "{\"city\":\"Paris\",\"unit\":\"celsius\"}")]},
                   {"role": "tool", "tool_call_id": "call00001", "content": "{\"temperature\": 18, \"sky\": \"clear\"}"}],
    "first_turn": [{"role": "user", "content": [{"type": "text", "text": "Search for jinja2,"}, {"type": "text", "text": "three results."}]}],
    "parallel_calls": [{"role": "user", "content": "Weather in Paris and S\u00e3o Paulo? And search umbrellas."},
                       {"role": "assistant", "content": "Let me check.", "tool_calls": [
                           call("call00002", "get_weather", "{\"city\": \"Paris\"}"),
                           call("call00003", "get_weather", "{\"city\": \"S\u00e3o Paulo\", \"unit\": \"celsius\"}"),
                           call("call00004", "search", "{\"query\": \"umbrellas\", \"count\": 2, \"filters\": [{\"field\": \"price\", \"value\": null}]}")]},
                       {"role": "tool", "tool_call_id": "call00002", "content": "18 \u00b0C, clear"},
                       {"role": "tool", "tool_call_id": "call00003", "content": "25 \u00b0C, rain"},
                       {"role": "tool", "tool_call_id": "call00004", "content": "[\"Umbrella A\", \"Umbrella B\"]"},
                       {"role": "assistant", "content": "Paris: 18 \u00b0C and clear; S\u00e3o Paulo: 25 \u00b0C with rain."},
                       {"role": "user", "content": "Thanks! What time is it?"}],
    "no_arguments": [SYSTEM, {"role": "user", "content": "What time is it?"},
                     {"role": "assistant", "content": None, "tool_calls": [call("call00005", "get_time", "{}")]},
                     {"role": "tool", "tool_call_id": "call00005", "content": "09:26"},
                     {"role": "assistant", "content": "It is 09:26."},
                     {"role": "user", "content": "Thanks."}],
}

def to_template(messages):
    out = []
    for m in messages:
        content = m.get("content")
        if content is None:
            content = ""
        elif isinstance(content, list):
            content = "\n".join(p["text"] for p in content)
        t = {"role": "system" if m["role"] == "developer" else m["role"], "content": content}
        if "name" in m:
            t["name"] = m["name"]
        if m["role"] == "tool":
            t["tool_call_id"] = m["tool_call_id"]
        if m["role"] == "assistant" and m.get("tool_calls"):
            calls = []
            for c in m["tool_calls"]:
                args = c["function"]["arguments"]
                try:
                    parsed = json.loads(args)
                    if isinstance(parsed, dict):
                        args = parsed
                except ValueError:
                    pass
                calls.append({"id": c["id"], "type": "function", "function": {"name": c["function"]["name"], "arguments": args}})
            t["tool_calls"] = calls
        out.append(t)
    return out

def polyfill(messages, tools):
    dumps = lambda x: json.dumps(x, ensure_ascii=False)
    tool_text = "You can call these tools:" + "".join("\n" + dumps(t) for t in tools) \
        + "\n\nTo call a tool, answer with only a JSON object: {\"name\": <tool name>, \"arguments\": <arguments object>}."
    out = []
    rest = messages
    if messages and messages[0]["role"] == "system":
        sys = messages[0]["content"]
        out.append({"role": "system", "content": tool_text if sys == "" else sys + "\n\n" + tool_text})
        rest = messages[1:]
    else:
        out.append({"role": "system", "content": tool_text})
    prev = messages[0] if rest is not messages else None
    for m in rest:
        if m["role"] == "assistant" and m.get("tool_calls"):
            calls = ['{"name": ' + dumps(c["function"]["name"]) + ', "arguments": '
                     + (c["function"]["arguments"] if isinstance(c["function"]["arguments"], str) else dumps(c["function"]["arguments"])) + "}"
                     for c in m["tool_calls"]]
            text = m["content"] + ("\n" if m["content"] else "")
            text += calls[0] if len(calls) == 1 else '{"tool_calls": [' + ", ".join(calls) + "]}"
            out.append({"role": "assistant", "content": text})
        elif m["role"] in ("tool", "function"):
            part = "Result of tool call " + m.get("name", m.get("tool_call_id")) + ":\n" + m["content"]
            if out[-1]["role"] == "user" and prev is not None and prev["role"] in ("tool", "function"):
                out[-1] = {"role": "user", "content": out[-1]["content"] + "\n\n" + part}
            else:
                out.append({"role": "user", "content": part})
        else:
            out.append({"role": m["role"], "content": m["content"]})
        prev = m
    return out

def render(tpl, source, messages, tools, bos, eos):
    kw = dict(add_generation_prompt=True, bos_token=bos, eos_token=eos, documents=None)
    if "tools" in source:
        return tpl.render(messages=messages, tools=tools, **kw)
    plain = polyfill(messages, tools)
    try:
        return tpl.render(messages=plain, tools=None, **kw)
    except TemplateError as e:
        if len(plain) < 2 or plain[0]["role"] != "system" or plain[1]["role"] != "user":
            raise
        merged = [{"role": "user", "content": plain[0]["content"] + "\n\n" + plain[1]["content"]}] + plain[2:]
        try:
            return tpl.render(messages=merged, tools=None, **kw)
        except TemplateError:
            raise e

def tools_for_template(tools):
    return [{"type": "function", "function": {k: v for k, v in t["function"].items() if v is not None}} for t in tools]

out = {"jinja2": jinja2.__version__, "now": NOW.isoformat(), "tools": TOOLS, "conversations": CONVERSATIONS, "templates": {}}
for file in sorted(os.listdir(os.path.join(here, "templates"))):
    if not file.endswith(".jinja"):
        continue
    name = file[:-len(".jinja")]
    with open(os.path.join(here, "templates", file), encoding="utf-8") as f:
        source = f.read()
    tpl = env.from_string(source)
    bos, eos = TOKENS[name]
    results = {}
    for cname, messages in CONVERSATIONS.items():
        try:
            text = render(tpl, source, to_template(messages), tools_for_template(TOOLS), bos, eos)
            results[cname] = {"output": text}
        except TemplateError as e:
            results[cname] = {"error": str(e)}
    out["templates"][name] = {"bos_token": bos, "eos_token": eos, "cases": results}
with open(os.path.join(here, "expected_tools.json"), "w", encoding="utf-8") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
