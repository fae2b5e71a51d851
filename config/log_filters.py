"""Logging filters of the web and worker processes (settings.LOGGING)."""

from __future__ import annotations

import logging


class OneLineClientErrors(logging.Filter):
    """Log an answer in the 4xx range (a 403, a 404) as one line, without a traceback.

    Django logs PermissionDenied and friends with the exception attached, so
    every refused click printed a whole traceback: it says nothing about the
    server, and buried what does. Errors of the server (5xx, and anything
    logged without a status) keep theirs.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True
