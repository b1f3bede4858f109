"""OpenAPI post-processing (drf-spectacular ``POSTPROCESSING_HOOKS``): what every operation
shares by the conventions of docs/API.md and that the views do not declare one by one.

- a ``summary`` for every operation, from its path and method ("List follow-ups", "Complete
  a follow-up"), unless the view gave one;
- the ``Idempotency-Key`` header on every POST (a replay returns the first response);
- the ``If-Match`` header on every PUT, PATCH and DELETE of an item (412 when the ETag moved).
"""

from __future__ import annotations

import re
from typing import Any

IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Any 1 to 255 printable ASCII characters. Sending the same POST again with the same key "
        "returns the first response instead of doing it twice (kept 24 hours); the same key "
        "with a different body is a 422."
    ),
    "schema": {"type": "string", "maxLength": 255},
}
IF_MATCH = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": (
        "The ETag of the version you read. If the resource changed since, nothing is written "
        "and the answer is 412 with the current ETag."
    ),
    "schema": {"type": "string"},
}
_ITEM_VERBS = {"get": "Read", "put": "Replace", "patch": "Update", "delete": "Delete"}


def _words(segment: str) -> str:
    return segment.replace("-", " ").replace("_", " ")


def _singular(words: str) -> str:
    if words.endswith("ies"):
        return words[:-3] + "y"
    if words.endswith(("sses", "xes")):
        return words[:-2]
    if words.endswith("s") and not words.endswith("ss"):
        return words[:-1]
    return words


def summary_for(path: str, method: str) -> str:
    """A short summary from the route: ``/api/v1/followups/{id}/complete/`` + POST is
    "Complete a followup"."""
    parts = [p for p in path.strip("/").split("/") if p not in ("api", "v1")]
    names = [p for p in parts if not p.startswith("{")]
    if not names:
        return method.upper()
    resource = _words(names[0])
    thing = _singular(resource)
    is_item = len(parts) > 1 and parts[1].startswith("{")
    action = names[1] if len(names) > 1 else None
    if action is not None and not is_item and parts[-1].startswith("{"):
        # A lookup by another key: /customers/external/{external_id}/
        verb = _ITEM_VERBS.get(method, method.upper())
        return f"{verb} a {thing} by its {_words(action)} id"
    if action is not None:
        target = f"a {thing}" if is_item else resource
        verb = _words(action)
        if method == "get":
            return f"{verb.capitalize()} of {target}"
        return f"{verb.capitalize()} {target}"
    if is_item:
        return f"{_ITEM_VERBS.get(method, method.upper())} a {thing}"
    return f"List {resource}" if method == "get" else f"Create a {thing}"


def _add_parameter(operation: dict[str, Any], parameter: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("name") == parameter["name"] and p.get("in") == "header" for p in parameters):
        parameters.append(dict(parameter))


def add_conventions(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    for path, item in result.get("paths", {}).items():
        is_item = bool(re.search(r"/\{[^}]+\}/?$", path))
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            operation.setdefault("summary", summary_for(path, method))
            if method == "post":
                _add_parameter(operation, IDEMPOTENCY_KEY)
            if method in ("put", "patch", "delete") and is_item:
                _add_parameter(operation, IF_MATCH)
    return result
