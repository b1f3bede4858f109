"""The cost import's request body parser and its job's representation (API.md, Projects):
apart from the views so that the project viewset can name them in its schema."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser

from engagements.imports import MAX_BYTES as MAX_IMPORT_BYTES
from followup.kernel.api.parsers import BoundedJSONParser


class CsvParser(BaseParser):
    """A ``text/csv`` body, handed over as bytes (decoded and checked like an upload)."""

    media_type = "text/csv"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        return {"csv": stream.read(MAX_IMPORT_BYTES + 1) if stream is not None else b""}


COST_IMPORT_PARSERS = [CsvParser, MultiPartParser, FormParser, BoundedJSONParser]


class CostImportErrorSerializer(serializers.Serializer):  # type: ignore[type-arg]
    row = serializers.IntegerField(allow_null=True, read_only=True)
    field = serializers.CharField(allow_blank=True, read_only=True)
    code = serializers.CharField(allow_blank=True, read_only=True)
    message = serializers.CharField(read_only=True)
    params = serializers.DictField(required=False, read_only=True)


class CostImportSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A cost file's import job: its progress, then what was imported or, by line and
    column, why nothing was (messages in the language of the request)."""

    id = serializers.UUIDField(read_only=True)
    project = serializers.UUIDField(source="target_id", read_only=True)
    filename = serializers.CharField(read_only=True)
    status = serializers.CharField(read_only=True)
    total_rows = serializers.IntegerField(read_only=True)
    processed_rows = serializers.IntegerField(read_only=True)
    percent = serializers.IntegerField(read_only=True)
    created_count = serializers.IntegerField(read_only=True)
    waiting_for_worker = serializers.BooleanField(read_only=True)
    errors = serializers.SerializerMethodField()  # type: ignore[assignment]  # stubs: Serializer.errors
    created_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(allow_null=True, read_only=True)

    def get_errors(self, job: Any) -> list[dict[str, Any]]:
        return [
            {
                "row": e.get("row"),
                "field": e.get("field") or "",
                "code": e.get("code") or "",
                "message": e.get("message") or "",
                "params": e.get("params") or {},
            }
            for e in job.shown_errors
        ]
