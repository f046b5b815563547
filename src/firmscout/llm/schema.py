"""Check a reply against the JSON-schema subset we send as `response_format` (pure).

Strict structured output is a request, not a guarantee: OpenAI enforces it, but many OpenAI-compatible
servers (older Ollama, llama.cpp without a grammar, proxies to other vendors) treat it as a hint. The
adapter checks every reply here so only conforming JSON leaves it or enters the cache. The subset is the
one OpenAI's strict mode accepts and our schemas use: type, properties, required, additionalProperties,
items, enum, minimum/maximum, minItems/maxItems. A full validator (jsonschema) would be one more
dependency for the same dozen lines.
"""

from __future__ import annotations

from typing import Any

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,), "array": (list,), "string": (str,), "boolean": (bool,),
    "integer": (int,), "number": (int, float), "null": (type(None),),
}


def violations(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Every way `value` breaks `schema`, as readable `path: problem` lines; empty when it conforms."""
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        # bool is an int subclass in Python, never in JSON.
        if not any(isinstance(value, _TYPES[n]) and not (isinstance(value, bool) and n in ("integer", "number"))
                   for n in names):
            return [f"{path}: expected {' or '.join(names)}, got {type(value).__name__}"]
    out: list[str] = []
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: {value!r} is not one of {schema['enum']!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            out.append(f"{path}: {value} is below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            out.append(f"{path}: {value} is above {schema['maximum']}")
    if isinstance(value, dict):
        properties: dict[str, Any] = schema.get("properties", {})
        out += [f"{path}: missing {key!r}" for key in schema.get("required", ()) if key not in value]
        if schema.get("additionalProperties") is False:
            out += [f"{path}: unexpected {key!r}" for key in value if key not in properties]
        for key, sub in properties.items():
            if key in value:
                out += violations(value[key], sub, f"{path}.{key}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            out.append(f"{path}: {len(value)} items, fewer than {schema['minItems']}")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            out.append(f"{path}: {len(value)} items, more than {schema['maxItems']}")
        if "items" in schema:
            for i, item in enumerate(value):
                out += violations(item, schema["items"], f"{path}[{i}]")
    return out
