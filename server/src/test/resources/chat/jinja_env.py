# Jinja2 set up as Hugging Face transformers sets it up for apply_chat_template
# (transformers/utils/chat_template_utils.py), shared by make_expected.py and
# make_expected_tools.py: an ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks and
# the loopcontrols extension; a tojson filter that is json.dumps(ensure_ascii=False,
# sort_keys=False) rather than Jinja's HTML-safe one; the globals raise_exception and
# strftime_now, which gives a fixed time (NOW) so that the output does not depend on the day.
import datetime, json
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.exceptions import TemplateError

NOW = datetime.datetime(2025, 3, 14, 9, 26, 53)

def raise_exception(message):
    raise TemplateError(message)

def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

def strftime_now(fmt):
    return NOW.strftime(fmt)

env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now
