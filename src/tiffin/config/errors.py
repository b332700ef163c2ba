from __future__ import annotations

from typing import Any

from tiffin.infra.http.errors import TiffinError


class InvalidConfig(TiffinError):
    status, type, title = 422, "invalid-config", "The configuration does not match its schema"

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} problem(s)", errors=errors)


class VersionNotFound(TiffinError):
    status, type, title = 404, "config-version-not-found", "No such configuration version"


class NotADraft(TiffinError):
    status, type, title = 409, "config-not-a-draft", "Only a draft can be changed or published"


class NeverPublished(TiffinError):
    status, type, title = (
        409,
        "config-never-published",
        ("Only a version that was published can be rolled back to"),
    )


class NoPublishedConfig(TiffinError):
    status, type, title = 404, "no-published-config", "This brand has not published a config"
