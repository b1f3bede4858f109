"""Logging filters for the site's LOGGING setting."""

from __future__ import annotations

import logging


class ClientErrorsOnOneLine(logging.Filter):
    """A 4xx is the client's mistake, not the server's: log its one line, without the
    traceback Django attaches to a PermissionDenied or a Http404 (issue 11: each 403 logged a
    full traceback, twice)."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and status < 500:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True
