"""How JSON is asked of a Chat Completions server, and how its reply is read back (pure).

OpenAI-compatible servers support structured output to different degrees, so there are three ways to ask,
best first, and an adapter steps down when a server's error reply says it cannot do the current one:

- `json_schema`: `response_format: {type: json_schema}`; the server constrains decoding to the schema
  (OpenAI, vLLM, llama.cpp server, Ollama 0.5+).
- `json_object`: `response_format: {type: json_object}` and the schema in the prompt; the server only
  promises some JSON object (models without Structured Outputs, older servers).
- `prompt`: no `response_format` at all, the schema in the prompt.

Whatever the mode, a reply is read leniently (```json fences, text before or after the object, a
reasoning model's `<think>` block) and then checked against the schema, so only conforming JSON is used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Literal

from firmscout.llm.schema import violations

Mode = Literal["json_schema", "json_object", "prompt"]
MODES: tuple[Mode, ...] = ("json_schema", "json_object", "prompt")


def lower_mode(mode: Mode) -> Mode:
    """The next way down; `prompt` is the floor."""
    return MODES[min(MODES.index(mode) + 1, len(MODES) - 1)]


def response_format(mode: Mode, schema: dict[str, Any], name: str) -> dict[str, Any] | None:
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


def schema_instruction(schema: dict[str, Any], name: str) -> str:
    return ("Reply with only a JSON object, without code fences or any other text, conforming to the JSON "
            f"schema named `{name}`:\n{json.dumps(schema, ensure_ascii=False)}")


def request_messages(mode: Mode, messages: list[dict[str, str]], schema: dict[str, Any],
                     name: str) -> list[dict[str, str]]:
    """The messages to send: as given when the server enforces the schema, otherwise with the schema added
    to the system message. Appended to the first one rather than sent as a second: several chat templates
    (llama.cpp, Ollama) accept a system message only at the start."""
    if mode == "json_schema":
        return messages
    instruction = schema_instruction(schema, name)
    if messages and messages[0]["role"] == "system":
        return [{**messages[0], "content": f"{messages[0]['content']}\n\n{instruction}"}, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


# What servers say when they cannot do a response_format: OpenAI "Invalid parameter: 'response_format' of
# type 'json_schema' is not supported with this model"; vLLM (pydantic) "('body', 'response_format',
# 'type') ... Input should be 'text' or 'json_object'"; llama.cpp 'response_format type must be one of
# "text" or "json_object", but got: json_schema'; Ollama "invalid JSON schema in format".
_NAMES_FORMAT = re.compile(r"response[_ ]?format|json[_ ]?schema|json[_ ]?object", re.IGNORECASE)


def rejects_format(status: int, error_text: str) -> bool:
    """Whether an error reply refuses the `response_format` sent (so a lower mode may succeed).

    400 and 422 are how OpenAI, vLLM and llama.cpp refuse it. 500 is included because some servers throw
    instead: Ollama answers a schema it cannot turn into a grammar with 500 "invalid JSON schema in format",
    and llama.cpp builds that raise std::runtime_error answered 500 'response_format type must be one of
    "text" or "json_object"' (ik_llama.cpp issue #778). Retrying those would only fail again.
    """
    return status in (400, 422, 500) and _NAMES_FORMAT.search(error_text) is not None


_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)
# Bounds the scan of a long reply that has many braces and no valid object.
_MAX_OBJECT_STARTS = 200


def _embedded_objects(content: str) -> Iterator[Any]:
    """JSON values found inside a reply that is not JSON itself: fenced blocks first, then every object
    that starts at a `{`."""
    text = _THINK.sub("", content)
    for block in _FENCE.findall(text):
        try:
            value = json.loads(block)
        except ValueError:
            continue
        yield value
    decoder, pos = json.JSONDecoder(), 0
    for _ in range(_MAX_OBJECT_STARTS):
        start = text.find("{", pos)
        if start < 0:
            return
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            pos = start + 1
            continue
        yield value
        pos = end


def parse_reply(content: str, schema: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """Read and check one reply: (the object, "") or (None, what is wrong with it, for a repair turn).

    A reply that is JSON is taken as it is; otherwise the first object inside it that conforms wins, else
    the first object, so the repair turn names its problems."""
    try:
        candidates: list[Any] = [json.loads(content)]
    except ValueError as exc:
        candidates = [value for value in _embedded_objects(content) if isinstance(value, dict)]
        if not candidates:
            return None, f"That was not valid JSON ({exc})."
    objects = [value for value in candidates if isinstance(value, dict)]
    if not objects:
        return None, "That JSON is not an object."
    for value in objects:
        if not violations(value, schema):
            return value, ""
    found = violations(objects[0], schema)
    return None, "That JSON does not match the schema: " + "; ".join(found[:5]) + "."
