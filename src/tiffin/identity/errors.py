from __future__ import annotations

from tiffin.infra.http.errors import TiffinError


class AccountExists(TiffinError):
    status, type, title = 409, "account-exists", "An account with this phone exists"
