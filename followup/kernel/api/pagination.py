from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request


class StableCursorPagination(CursorPagination):
    """Cursor pages in creation order.

    Ids are time-ordered UUIDs, so ordering by id alone is unique and follows creation:
    a cursor never skips or repeats a row when others are inserted or updated meanwhile,
    which is what a CRM paging through ``updated_after`` needs.

    ``page_size`` is a positive integer; above the maximum it is capped (API.md). Anything
    else (``abc``, ``0``, ``-5``) is a 400 naming the parameter, not silently ignored.
    """

    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return settings.FOLLOWUP_MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or not raw.strip():  # empty means absent, as for the filters
            return self.page_size
        try:
            asked = int(raw.strip())
        except ValueError:
            asked = 0
        if asked < 1:
            raise ValidationError(
                {
                    self.page_size_query_param: [
                        _("Enter a whole number from 1 to %(max)d.") % {"max": self.max_page_size}
                    ]
                }
            )
        return min(asked, self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = (
                    f"Objects per page, 1 or more; above {self.max_page_size} it is capped."
                )
        return parameters
