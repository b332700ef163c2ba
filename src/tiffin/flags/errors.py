from __future__ import annotations

from tiffin.infra.http.errors import TiffinError


class FlagNotFound(TiffinError):
    status, type, title = 404, "flag-not-found", "No such flag"


class SegmentNotFound(TiffinError):
    status, type, title = 404, "segment-not-found", "No such segment"


class InvalidFlag(TiffinError):
    status, type, title = 422, "invalid-flag", "The flag definition is not valid"
