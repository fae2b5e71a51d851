"""JSON Schema (what OpenAI clients send) -> the OpenAPI subset Gemini's `Schema` accepts.

Gemini refuses keys outside its subset (`additionalProperties`, `$schema`,
`$ref`...) with a 400, so unknown keys are dropped, local `$ref`s (pydantic
puts nested models under `$defs`) are inlined, `const` becomes a one-value
`enum`, and a `["string", "null"]` type becomes `nullable`.
"""

from __future__ import annotations

from typing import Any

from gateway.proxy.providers.base import JSON

KEPT = frozenset(
    {
        "type",
        "format",
        "title",
        "description",
        "nullable",
        "enum",
        "default",
        "example",
        "minimum",
        "maximum",
        "minLength",
        "maxLength",
        "pattern",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "required",
        "propertyOrdering",
    }
)
# A recursive schema (a tree of nodes) cannot be inlined forever: past this
# depth the node is left as an untyped object.
MAX_DEPTH = 12


def gemini_schema(schema: object) -> JSON:
    """Return a Gemini-acceptable copy of a JSON Schema."""
    if not isinstance(schema, dict):
        return {"type": "object"}
    defs = schema.get("$defs") or schema.get("definitions") or {}
    return _node(schema, defs if isinstance(defs, dict) else {}, 0)


def _node(schema: Any, defs: JSON, depth: int) -> JSON:
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return {"type": "object"}
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        return _node(defs.get(name), defs, depth + 1)
    out: JSON = {k: v for k, v in schema.items() if k in KEPT}
    kind = schema.get("type")
    if isinstance(kind, list):
        types = [t for t in kind if t != "null"]
        out["type"] = types[0] if types else "null"
        if "null" in kind:
            out["nullable"] = True
    if "const" in schema:
        out["enum"] = [schema["const"]]
    properties = schema.get("properties")
    if isinstance(properties, dict):
        out["properties"] = {k: _node(v, defs, depth + 1) for k, v in properties.items()}
    if "items" in schema:
        out["items"] = _node(schema["items"], defs, depth + 1)
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if isinstance(options, list):
            # Gemini knows anyOf only; oneOf is the closest it can honour.
            nodes = [_node(o, defs, depth + 1) for o in options]
            # pydantic writes Optional[X] as anyOf [X, null]: Gemini says nullable X.
            kept = [n for n in nodes if n.get("type") != "null"]
            if len(kept) < len(nodes):
                out["nullable"] = True
            if len(kept) == 1:
                out = {**kept[0], **out}
            elif kept:
                out["anyOf"] = kept
    return out
