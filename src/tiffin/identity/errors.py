from __future__ import annotations

from tiffin.infra.http.errors import TiffinError


class AccountExists(TiffinError):
    status, type, title = 409, "account-exists", "An account with this phone or email exists"


class AccountNotFound(TiffinError):
    status, type, title = 404, "account-not-found", "No such account"


class InvalidCredentials(TiffinError):
    """One answer for an unknown account, a wrong password and a disabled account."""

    status, type, title = 401, "invalid-credentials", "The credentials are not valid"


class TooManyAttempts(TiffinError):
    status, type, title = 429, "too-many-attempts", "Too many failed attempts; retry later"

    def __init__(self, retry_after: int) -> None:
        super().__init__()
        self.headers["Retry-After"] = str(retry_after)
        self.extra["retry_after"] = retry_after


class InvalidOtp(TiffinError):
    status, type, title = 401, "invalid-otp", "The code is wrong or has expired"


class OtpAttemptsExceeded(TiffinError):
    status, type, title = 401, "otp-attempts-exceeded", "Too many wrong codes; request a new one"


class InvalidToken(TiffinError):
    status, type, title = 401, "invalid-token", "The access token is not valid"
    headers_default = {"WWW-Authenticate": 'Bearer error="invalid_token"'}

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail)
        self.headers.update(self.headers_default)


class InvalidRefreshToken(TiffinError):
    status, type, title = 401, "invalid-refresh-token", "The refresh token is not valid"


class SessionRevoked(TiffinError):
    status, type, title = 401, "session-revoked", "This session has been signed out"


class SessionLimitReached(TiffinError):
    status, type, title = (
        409,
        "session-limit-reached",
        ("The plan allows no more signed-in devices"),
    )


class SessionNotFound(TiffinError):
    status, type, title = 404, "session-not-found", "No such session"


class Forbidden(TiffinError):
    status, type, title = 403, "forbidden", "This account may not do that"


class UnknownProvider(TiffinError):
    status, type, title = 404, "unknown-identity-provider", "No such sign-in provider"


class OidcFailed(TiffinError):
    status, type, title = 401, "social-login-failed", "The sign-in provider's answer was refused"


class UnknownRole(TiffinError):
    status, type, title = 422, "unknown-role", "No such role"


class RoleExists(TiffinError):
    status, type, title = 409, "role-exists", "A role with this name exists"


class PlanNotFound(TiffinError):
    status, type, title = 404, "plan-not-found", "No such plan"


class PlanExists(TiffinError):
    status, type, title = 409, "plan-exists", "A plan with this code exists"


class SubscriptionNotFound(TiffinError):
    status, type, title = 404, "subscription-not-found", "No subscription"


class InvalidTransition(TiffinError):
    status, type, title = (
        409,
        "invalid-subscription-transition",
        ("The subscription cannot move to that status"),
    )


class FeatureNotEntitled(TiffinError):
    status, type, title = 403, "not-entitled", "The account's plan does not include this"
