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


class InsufficientFunds(TiffinError):
    status, type, title = 409, "insufficient-funds", "The wallet cannot pay this amount"


class WalletPaymentNotFound(TiffinError):
    status, type, title = 409, "wallet-payment-not-found", "The order holds no wallet payment"


class OrderAmountMismatch(TiffinError):
    status, type, title = 409, "order-amount-mismatch", "The order's total differs from its hold"


class CreditLineMismatch(TiffinError):
    status, type, title = 409, "credit-line-mismatch", "The account exists with another credit line"


class PromotionAlreadyExpired(TiffinError):
    status, type, title = 409, "promotion-already-expired", "The promotion expires in the past"


class SettlementNotDue(TiffinError):
    status, type, title = 409, "settlement-not-due", "The settlement's day has not ended yet"


class SettlementNotFound(TiffinError):
    status, type, title = 404, "settlement-not-found", "No such settlement"


class PayoutRefused(TiffinError):
    """The ledger refused a payout for a reason a retry cannot change."""

    status, type, title = 409, "payout-refused", "The ledger refused the payout"


class PayoutRaced(TiffinError):
    """The payable moved between reading what is owed and paying it: compute again."""

    status, type, title = 409, "payout-raced", "The payable changed while it was paid out"
