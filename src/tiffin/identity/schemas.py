from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Self

import phonenumbers
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

AccountKind = Literal["customer", "rider", "staff", "admin"]
SubscriptionStatus = Literal["trialing", "active", "past_due", "cancelled", "expired"]


def normalise_phone(value: str) -> str:
    """E.164, or ValueError. Numbers without a country code are read as Indian."""
    try:
        number = phonenumbers.parse(value, "IN")
    except phonenumbers.NumberParseException as e:
        raise ValueError("not a phone number") from e
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_identifier(value: str) -> str:
    """A login identifier: an email (lower-cased) or a phone (E.164)."""
    value = value.strip()
    if "@" in value:
        return normalise_email(value)
    try:
        return normalise_phone(value)
    except ValueError:
        return value.lower()


class _Contact(BaseModel):
    phone: str | None = None
    email: EmailStr | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return normalise_phone(value) if value else None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return normalise_email(value) if value else None


class _Reachable(_Contact):
    """An account needs a phone or an email to sign in and to be reached."""

    @model_validator(mode="after")
    def _reachable(self) -> Self:
        if not self.phone and not self.email:
            raise ValueError("a phone or an email is required")
        return self


class AccountCreate(_Reachable):
    kind: AccountKind
    name: str = Field(min_length=1, max_length=200)
    password: str | None = Field(default=None, min_length=10, max_length=256)
    restaurant_id: uuid.UUID | None = None


class Registration(_Reachable):
    """A customer signing up with a password."""

    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=10, max_length=256)


class Account(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    kind: AccountKind
    name: str
    phone: str | None
    email: str | None
    phone_verified: bool
    email_verified: bool
    status: str
    restaurant_id: uuid.UUID | None


class PasswordLogin(BaseModel):
    identifier: str = Field(min_length=1, max_length=320, description="email or phone")
    password: str = Field(min_length=1, max_length=256)


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=10, max_length=256)


class OtpRequest(BaseModel):
    phone: str

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return normalise_phone(value)


class OtpVerify(OtpRequest):
    code: str = Field(pattern=r"^\d{6}$")
    name: str = Field(default="", max_length=200, description="for a first login")


class OtpSent(BaseModel):
    expires_in: int
    resend_after: int


class OidcStart(BaseModel):
    redirect_uri: str = Field(max_length=2000)


class OidcStarted(BaseModel):
    authorization_url: str
    state: str


class OidcCallback(BaseModel):
    code: str = Field(max_length=4096)
    state: str = Field(max_length=256)


class OidcProviderCreate(BaseModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    issuer: str = Field(max_length=500)
    client_id: str = Field(max_length=255)
    client_secret: str = Field(max_length=2000)
    scopes: str = "openid email profile"


class OidcProviderInfo(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    issuer: str
    client_id: str
    scopes: str


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=512)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 (a scheme name, not a secret)
    expires_in: int
    session_id: uuid.UUID
    account_id: uuid.UUID


class Session(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    user_agent: str
    ip: str
    method: str
    created_at: datetime
    last_seen_at: datetime
    current: bool = False


class RoleCreate(BaseModel):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    permissions: list[str] = Field(max_length=200)


class Role(BaseModel):
    name: str
    permissions: list[str]
    built_in: bool


class RoleAssignment(BaseModel):
    roles: list[str] = Field(max_length=50)


class PlanCreate(BaseModel):
    code: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = Field(min_length=1, max_length=200)
    features: list[str] = Field(default_factory=list, max_length=200)
    max_sessions: int | None = Field(default=None, ge=1, le=1000)
    session_overflow: Literal["evict_oldest", "refuse"] = "evict_oldest"
    trial_days: int = Field(default=0, ge=0, le=365)


class Plan(PlanCreate):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID


class SubscriptionCreate(BaseModel):
    plan_code: str


class SubscriptionTransition(BaseModel):
    to: SubscriptionStatus


class Subscription(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    account_id: uuid.UUID
    plan_id: uuid.UUID
    status: SubscriptionStatus
    trial_ends_at: datetime | None
    current_period_end: datetime | None
    cancelled_at: datetime | None


class Entitlements(BaseModel):
    features: frozenset[str]
    max_sessions: int
    session_overflow: Literal["evict_oldest", "refuse"]


class SecurityEvent(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    account_id: uuid.UUID | None
    type: str
    ip: str
    user_agent: str
    detail: dict[str, Any]
    created_at: datetime


class SecurityEventPage(BaseModel):
    items: list[SecurityEvent]
    next_cursor: str | None


@dataclass(frozen=True)
class ClientInfo:
    ip: str
    user_agent: str


@dataclass(frozen=True)
class AccountPrincipal:
    """An authenticated account, as the API sees it. `scopes` are its permissions, so
    `tiffin.infra.http.auth.require_scope` works for accounts and API keys alike."""

    account_id: uuid.UUID
    tenant_id: uuid.UUID
    session_id: uuid.UUID
    roles: tuple[str, ...]
    scopes: frozenset[str]
    restaurant_id: uuid.UUID | None
    expires_at: int

    @property
    def actor(self) -> str:
        return f"account:{self.account_id}"
