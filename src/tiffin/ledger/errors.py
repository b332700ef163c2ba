from __future__ import annotations

from typing import Any

from tiffin.infra.http.errors import TiffinError


class AccountNotFound(TiffinError):
    status, type, title = 404, "ledger-account-not-found", "No such ledger account"


class TransferNotFound(TiffinError):
    status, type, title = 404, "transfer-not-found", "No such transfer"


class TransferRefused(TiffinError):
    """A single money movement the ledger refused, with TigerBeetle-style reason codes."""

    status, type, title = 409, "transfer-refused", "The ledger refused the transfer"

    def __init__(self, results: list[dict[str, Any]]) -> None:
        super().__init__(", ".join(sorted({r["result"] for r in results})), results=results)


class InvalidCursor(TiffinError):
    status, type, title = 400, "invalid-cursor", "The cursor is not valid"
