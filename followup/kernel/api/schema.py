"""The OpenAPI schema says what the API really answers (issue 12: schema drift).

- ``ProblemAutoSchema`` (``DEFAULT_SCHEMA_CLASS``) documents, on every operation, the
  problem+json errors the conventions can answer: 400, 401, 403, 404, 429 and 503 always;
  409 and 412 on writes to one object; 411, 413 and 415 where a body is sent; 405 and 406.
- ``postprocess`` (a ``POSTPROCESSING_HOOKS`` entry, after drf-spectacular's enum hook)
  fixes what field introspection cannot know: a time of day is ``HH:MM[:SS]`` without an
  offset (``format: time`` would demand one), bulk bodies hold 1 to 500 items, a snooze
  names exactly one of ``until`` and ``preset``, and webhook ``event_types`` are the
  registered event types.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

from accounts import inputs

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
TIME_OF_DAY = r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?$"
BULK_MAX = 500
# The input rules of accounts.inputs as JSON Schema patterns (ECMA 262), so a fuzzer (and a
# client generator) knows what text and which dates the API accepts.
SINGLE_LINE_PATTERN = r"^[^\u0000-\u001F\u007F-\u009F]*$"
MULTI_LINE_PATTERN = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
DATE_RANGE_PATTERN = r"^(19[0-9]{2}|2[0-9]{3})-"

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string", "nullable": True},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
        "retry_after": {"type": "integer"},
        "limit_bytes": {"type": "integer"},
        "current_etag": {"type": "string"},
    },
    "required": ["type", "title", "status"],
    "additionalProperties": True,
}

_DESCRIPTIONS = {
    "400": "Invalid input: `errors` names each field or parameter.",
    "401": "No API key, or an invalid or revoked one.",
    "403": "The key's role does not allow this.",
    "404": "No such object in this organization.",
    "405": "Method not allowed.",
    "406": "Not acceptable: the API answers JSON.",
    "409": "Conflicts with the object's current state, or a concurrent request.",
    "411": "A chunked body without Content-Length.",
    "412": "If-Match does not match the current ETag.",
    "413": "The body is larger than the limit (see the API description).",
    "415": "Unsupported media type: send application/json.",
    "422": "Idempotency-Key reused with a different request.",
    "429": "Too many requests (per key) or failed authentications (per address).",
    "503": "The database is temporarily unreachable; retry after Retry-After seconds.",
}


def _error(code: str) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _DESCRIPTIONS[code],
        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
    }
    if code in ("429", "503"):
        response["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
        }
    return response


class ProblemAutoSchema(AutoSchema):
    def _map_serializer_field(
        self, field: Any, direction: Any, bypass_extensions: bool = False
    ) -> dict[str, Any]:
        schema: dict[str, Any] = super()._map_serializer_field(  # type: ignore[no-untyped-call]
            field, direction, bypass_extensions
        )
        validators = getattr(field, "validators", ()) or ()
        if (
            direction != "request"
            or not isinstance(schema, dict)
            or schema.get("type") != "string"
            or "enum" in schema
        ):
            return schema
        if inputs.SINGLE_LINE in validators and "pattern" not in schema:
            schema["pattern"] = SINGLE_LINE_PATTERN
        elif inputs.MULTI_LINE in validators and "pattern" not in schema:
            schema["pattern"] = MULTI_LINE_PATTERN
        elif inputs.DATE_RANGE in validators and "pattern" not in schema:
            schema["pattern"] = DATE_RANGE_PATTERN
        return schema

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        codes = ["400", "401", "403", "404", "405", "406", "429", "503"]
        if self.method in ("POST", "PUT", "PATCH"):
            codes += ["409", "411", "413", "415"]
        if self.method in ("PUT", "PATCH", "DELETE"):
            codes += ["409", "412"]
        if self.method == "POST":
            codes += ["422"]
        for code in codes:
            responses.setdefault(code, _error(code))
        return responses


def _walk(node: Any) -> Any:
    """Every dict in the schema, depth first."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def postprocess(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict[str, Any]:
    from followup.kernel import events

    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA

    for node in _walk(result):
        if node.get("type") == "string" and node.get("format") == "time":
            del node["format"]
            node["pattern"] = TIME_OF_DAY

    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            responses = operation.get("responses", {})
            for code, response in responses.items():
                # Every error is problem+json, also where a view documents its own 4xx.
                content = response.get("content", {}) if isinstance(response, dict) else {}
                if str(code)[0] in "45" and "application/json" in content:
                    content.setdefault("application/problem+json", content.pop("application/json"))
            if method == "put" and "/external/" in path and "200" in responses:
                # An upsert by external id creates (201) or updates (200).
                responses.setdefault("201", {**responses["200"], "description": "Created"})

    for path, operations in result.get("paths", {}).items():
        if not path.rstrip("/").endswith("/bulk"):
            continue
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                schema = media.get("schema", {})
                if schema.get("type") == "array":
                    schema["minItems"] = 1
                    schema["maxItems"] = BULK_MAX
            operation.get("requestBody", {})["required"] = True

    snooze = schemas.get("SnoozeRequest")
    if snooze is not None:
        snooze["oneOf"] = [
            {"required": ["until"], "not": {"required": ["preset"]}},
            {"required": ["preset"], "not": {"required": ["until"]}},
        ]
        for path, operations in result.get("paths", {}).items():
            if path.rstrip("/").endswith("/snooze"):
                for operation in operations.values():
                    if isinstance(operation, dict) and "requestBody" in operation:
                        operation["requestBody"]["required"] = True

    event_types = sorted(events.EVENT_TYPES)
    for name, schema in schemas.items():
        if not name.startswith("WebhookEndpoint"):
            continue
        field = schema.get("properties", {}).get("event_types")
        if field is not None and event_types:
            field["items"] = {"type": "string", "enum": event_types}
            if not field.get("readOnly"):
                field["minItems"] = 1
    return result
