"""Flag definitions as brands write them, validated before they are stored."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

Op = Literal[
    "eq", "neq", "in", "not_in", "contains",
    "gt", "gte", "lt", "lte",
    "semver_eq", "semver_gt", "semver_gte", "semver_lt", "semver_lte",
]  # fmt: skip
KEY = r"^[a-z][a-z0-9_.-]{0,63}$"


class Condition(BaseModel):
    """`attribute op value`, e.g. platform eq "android", app_version semver_gte "5.2.0"."""

    attribute: str = Field(max_length=64)
    op: Op
    value: Any


class Serve(BaseModel):
    """One variant, or a percentage rollout over variants (percentages summing to 100)."""

    variant: str | None = None
    rollout: dict[str, float] | None = None

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.variant is None) == (self.rollout is None):
            raise ValueError("serve either a variant or a rollout")
        if self.rollout is not None:
            if any(p < 0 for p in self.rollout.values()):
                raise ValueError("rollout percentages must be positive")
            if abs(sum(self.rollout.values()) - 100) > 1e-9:
                raise ValueError("rollout percentages must sum to 100")
        return self

    def variants(self) -> set[str]:
        return {self.variant} if self.variant else set(self.rollout or {})


class Rule(BaseModel):
    """Matches when every condition holds and the caller is in every named segment."""

    conditions: list[Condition] = Field(default_factory=list, max_length=50)
    segments: list[str] = Field(default_factory=list, max_length=20)
    serve: Serve


class Target(BaseModel):
    variant: str
    user_ids: list[str] = Field(max_length=10_000)


class Prerequisite(BaseModel):
    flag: str = Field(pattern=KEY)
    variant: str = "on"


class ScheduledChange(BaseModel):
    """From `at` on, replace `enabled` and/or the fallthrough (a ramp is several of these)."""

    at: datetime
    enabled: bool | None = None
    fallthrough: Serve | None = None


class Environment(BaseModel):
    enabled: bool = False
    off_variant: str = "off"
    prerequisites: list[Prerequisite] = Field(default_factory=list, max_length=10)
    targets: list[Target] = Field(default_factory=list, max_length=50)
    rules: list[Rule] = Field(default_factory=list, max_length=100)
    fallthrough: Serve = Field(default_factory=lambda: Serve(variant="on"))
    stickiness: str = Field(default="user_id", max_length=64)
    schedule: list[ScheduledChange] = Field(default_factory=list, max_length=20)


class Variant(BaseModel):
    key: str = Field(max_length=64)
    value: Any = None


class FlagDefinition(BaseModel):
    description: str = Field(default="", max_length=500)
    kind: Literal["boolean", "multivariate"] = "boolean"
    variants: list[Variant] = Field(default_factory=list, max_length=20)
    environments: dict[str, Environment] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _variants(self) -> Self:
        if self.kind == "boolean":
            if self.variants and {v.key for v in self.variants} != {"on", "off"}:
                raise ValueError("a boolean flag's variants are 'on' and 'off'")
            self.variants = [Variant(key="on", value=True), Variant(key="off", value=False)]
        elif len(self.variants) < 2:
            raise ValueError("a multivariate flag needs at least two variants")
        known = {v.key for v in self.variants}
        if len(known) != len(self.variants):
            raise ValueError("variant keys must be unique")
        for name, env in self.environments.items():
            used = {env.off_variant} | env.fallthrough.variants()
            used |= {t.variant for t in env.targets}
            for rule in env.rules:
                used |= rule.serve.variants()
            for change in env.schedule:
                if change.fallthrough:
                    used |= change.fallthrough.variants()
            if unknown := used - known:
                raise ValueError(f"environment {name!r} serves unknown variants {sorted(unknown)}")
        return self


class Flag(FlagDefinition):
    model_config = ConfigDict(from_attributes=True)

    key: str
    killed: bool
    revision: int
    updated_at: datetime


class SegmentDefinition(BaseModel):
    description: str = Field(default="", max_length=500)
    conditions: list[Condition] = Field(default_factory=list, max_length=50)
    user_ids: list[str] = Field(default_factory=list, max_length=100_000)


class Segment(SegmentDefinition):
    model_config = ConfigDict(from_attributes=True)

    key: str


class EvaluationContext(BaseModel):
    """Who is asking. Unknown attributes are kept and can be targeted too."""

    model_config = ConfigDict(extra="allow")

    user_id: str | None = None
    device_id: str | None = None
    platform: str | None = None
    app_version: str | None = None
    city: str | None = None
    segments: list[str] = Field(default_factory=list)


def context_from_request(
    headers: Mapping[str, str], query: Mapping[str, str], *, user_id: str | None
) -> EvaluationContext:
    """The caller as apps describe themselves: X-Platform, X-App-Version, X-Device-ID,
    X-City, X-Segments (or the same names as query parameters). The user id comes only from
    authentication, never from the caller's say-so."""

    def pick(name: str) -> str | None:
        return headers.get(f"x-{name.replace('_', '-')}") or query.get(name) or None

    segments = pick("segments")
    return EvaluationContext(
        user_id=user_id,
        device_id=pick("device_id"),
        platform=(pick("platform") or "").lower() or None,
        app_version=pick("app_version"),
        city=(pick("city") or "").lower() or None,
        segments=[s.strip() for s in segments.split(",") if s.strip()] if segments else [],
    )


class Evaluation(BaseModel):
    key: str
    variant: str
    value: Any
    reason: str
