# Writes expected.json: each template here rendered by Python's Jinja2, set up as Hugging Face
# transformers sets it up for apply_chat_template (sandboxed, trim_blocks, lstrip_blocks,
# raise_exception). JinjaChatTemplateTest compares Jinjava's output with these.
# Run: python3 make_expected.py  (needs jinja2)
import json, os
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.exceptions import TemplateError

def raise_exception(message):
    raise TemplateError(message)

env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
env.globals["raise_exception"] = raise_exception

conversations = [
    ([{"role": "user", "content": "Hello there!"}], True),
    ([{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"},
      {"role": "assistant", "content": "Hello."}, {"role": "user", "content": " What is 2+2? "}], True),
    ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], False),
    ([{"role": "user", "content": "x"}, {"role": "user", "content": "y"}], True),
    ([{"role": "user", "content": "{{ 7*7 }} {% if true %}x{% endif %} {# c #}"}], True),
    ([{"role": "user", "content": "h\u00e9llo \u2705 \U0001F600\nline two"}], True),
    ([{"role": "user", "content": "# hello  world"}, {"role": "assistant", "content": "<think>\nhmm\n</think>\n\nThe  answer  "},
      {"role": "user", "content": "  Why?  "}, {"role": "assistant", "content": "   "}, {"role": "user", "content": "Plain  TEXT  "}], True),
]

here = os.path.dirname(os.path.abspath(__file__))
out = {}
for name in sorted(os.listdir(here)):
    if not name.endswith(".jinja"):
        continue
    with open(os.path.join(here, name), encoding="utf-8") as f:
        tpl = env.from_string(f.read())
    cases = []
    for messages, gen in conversations:
        case = {"messages": messages, "add_generation_prompt": gen}
        try:
            case["output"] = tpl.render(messages=messages, add_generation_prompt=gen, bos_token="<s>", eos_token="</s>")
        except TemplateError as e:
            case["error"] = str(e)
        cases.append(case)
    out[name[:-len(".jinja")]] = cases
with open(os.path.join(here, "expected.json"), "w", encoding="utf-8") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
    f.write("\n")
