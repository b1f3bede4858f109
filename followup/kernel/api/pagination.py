from __future__ import annotations

from django.conf import settings
from rest_framework.pagination import CursorPagination


class StableCursorPagination(CursorPagination):
    """Cursor pages in creation order.

    Ids are time-ordered UUIDs, so ordering by id alone is unique and follows creation:
    a cursor never skips or repeats a row when others are inserted or updated meanwhile,
    which is what a CRM paging through ``updated_after`` needs.
    """

    ordering = "id"
    page_size = 50
    page_size_query_param = "page_size"

    @property
    def max_page_size(self) -> int:  # type: ignore[override]
        return settings.FOLLOWUP_MAX_PAGE_SIZE
