"""Flag evaluation, in-process and allocation-light: definitions are compiled once into
closures, so evaluating one flag for one caller costs about a microsecond.

Order for one flag: kill switch → environment on? (after scheduled changes) → prerequisites →
individual targets → rules in order → fallthrough. Percentage rollouts hash the stickiness
key with MurmurHash3 into 10,000 buckets, so the same key lands in the same bucket in every
process and every release.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

import mmh3

from tiffin.flags.schemas import Condition, Environment, FlagDefinition, SegmentDefinition, Serve

Context = Mapping[str, Any]
Predicate = Callable[[Context], bool]
BUCKETS = 10_000
_SEMVER = re.compile(r"^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z.-]+))?(?:\+.*)?$")

# What a feature is when a brand has not defined the flag: the platform's default.
PLATFORM_DEFAULTS: dict[str, bool] = {
    "ordering": True,
    "wallet": True,
    "rewards": True,
    "live_tracking": True,
    "otp_login": True,
    "social_login": True,
    "password_login": True,
    "cash_on_delivery": True,
    "scheduled_orders": False,
}


class Result(NamedTuple):
    variant: str
    value: Any
    reason: str


@lru_cache(maxsize=8192)
def semver(text: str) -> tuple[Any, ...] | None:
    """A sortable key for a semantic version; a pre-release sorts before its release."""
    match = _SEMVER.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    core = (int(major), int(minor or 0), int(patch or 0))
    if pre is None:
        return (*core, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (*core, 0, parts)


def _predicate(condition: Condition) -> Predicate:
    attr, op, value = condition.attribute, condition.op, condition.value
    if op == "eq":
        return lambda c: c.get(attr) == value
    if op == "neq":
        return lambda c: c.get(attr) != value
    if op in ("in", "not_in"):
        members = frozenset(value if isinstance(value, list) else [value])
        if op == "in":
            return lambda c: _hashable(c.get(attr)) in members
        return lambda c: _hashable(c.get(attr)) not in members
    if op == "contains":
        return lambda c: value in (c.get(attr) or ())
    if op.startswith("semver_"):
        bound = semver(str(value))
        if bound is None:
            raise ValueError(f"{value!r} is not a semantic version")
        compare = _COMPARE[op.removeprefix("semver_")]

        def by_semver(c: Context) -> bool:
            raw = c.get(attr)
            version = semver(raw) if isinstance(raw, str) else None
            return version is not None and compare(version, bound)

        return by_semver
    compare = _COMPARE[op]

    def by_number(c: Context) -> bool:
        raw = c.get(attr)
        return isinstance(raw, int | float) and compare(raw, value)

    return by_number


def _hashable(value: Any) -> Any:
    return value if not isinstance(value, list | dict) else None


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def compile_segment(definition: SegmentDefinition, key: str) -> Predicate:
    """In the segment if the caller says so (`segments` attribute), is listed, or matches."""
    predicates = [_predicate(c) for c in definition.conditions]
    listed = frozenset(definition.user_ids)

    def member(c: Context) -> bool:
        if key in (c.get("segments") or ()):
            return True
        if listed and c.get("user_id") in listed:
            return True
        return bool(predicates) and all(p(c) for p in predicates)

    return member


class _Server:
    """Serves a fixed variant, or one picked by the caller's bucket."""

    __slots__ = ("cumulative", "salt", "stickiness", "variant")

    def __init__(self, serve: Serve, salt: str, stickiness: str) -> None:
        self.variant = serve.variant
        self.salt = salt
        self.stickiness = stickiness
        self.cumulative: list[tuple[int, str]] = []
        total = 0.0
        for variant, percent in (serve.rollout or {}).items():
            total += percent
            self.cumulative.append((round(total * BUCKETS / 100), variant))

    def pick(self, c: Context) -> str | None:
        if self.variant is not None:
            return self.variant
        key = c.get(self.stickiness)
        if key is None:
            return None  # no stickiness key: the caller cannot be placed in a rollout
        bucket = mmh3.hash(f"{self.salt}:{key}", signed=False) % BUCKETS
        for bound, variant in self.cumulative:
            if bucket < bound:
                return variant
        return None


class _Rule(NamedTuple):
    predicates: tuple[Predicate, ...]
    server: _Server


class CompiledFlag:
    """One flag in one environment, ready to evaluate."""

    def __init__(
        self,
        key: str,
        definition: FlagDefinition,
        environment: str,
        *,
        killed: bool,
        segments: Mapping[str, Predicate],
        now: datetime,
    ) -> None:
        self.key = key
        self.killed = killed
        self.values = {v.key: v.value for v in definition.variants}
        env = definition.environments.get(environment) or Environment()
        self.base = env
        self.schedule = sorted(env.schedule, key=lambda s: s.at)
        self.segments = segments
        self.off = env.off_variant
        self.prerequisites = [(p.flag, p.variant) for p in env.prerequisites]
        self.targets = {uid: t.variant for t in env.targets for uid in t.user_ids}
        self.stickiness = env.stickiness
        self.rules = [
            _Rule(
                tuple(_predicate(c) for c in rule.conditions)
                + tuple(self._in_segment(s) for s in rule.segments),
                _Server(rule.serve, f"{key}.{i}", env.stickiness),
            )
            for i, rule in enumerate(env.rules)
        ]
        self._apply_schedule(now.timestamp())

    def _in_segment(self, key: str) -> Predicate:
        segment = self.segments.get(key)
        if segment is None:  # an unknown segment matches no one
            return lambda c: False
        return segment

    def _apply_schedule(self, now: float) -> None:
        enabled, fallthrough = self.base.enabled, self.base.fallthrough
        self.next_change = float("inf")
        for change in self.schedule:
            at = change.at.timestamp()
            if at > now:
                self.next_change = at
                break
            if change.enabled is not None:
                enabled = change.enabled
            if change.fallthrough is not None:
                fallthrough = change.fallthrough
        self.enabled = enabled
        self.fallthrough = _Server(fallthrough, self.key, self.stickiness)

    def evaluate(self, c: Context, flags: FlagSet, now: float, depth: int = 0) -> Result:
        if self.killed:
            return Result(self.off, self.values[self.off], "killed")
        if now >= self.next_change:
            self._apply_schedule(now)
        if not self.enabled:
            return Result(self.off, self.values[self.off], "disabled")
        for flag, variant in self.prerequisites:
            if depth > 8 or flags.evaluate(flag, c, now, depth + 1).variant != variant:
                return Result(self.off, self.values[self.off], "prerequisite_failed")
        if self.targets:
            user = c.get("user_id")
            if user is not None and (target := self.targets.get(user)) is not None:
                return Result(target, self.values[target], "target")
        for rule in self.rules:
            for predicate in rule.predicates:
                if not predicate(c):
                    break
            else:
                picked = rule.server.pick(c)
                if picked is not None:
                    return Result(picked, self.values[picked], "rule")
        picked = self.fallthrough.pick(c)
        if picked is None:
            return Result(self.off, self.values[self.off], "not_in_rollout")
        return Result(picked, self.values[picked], "fallthrough")


class FlagSet:
    """A tenant's compiled flags at one revision, over the platform defaults."""

    def __init__(self, revision: int, flags: dict[str, CompiledFlag]) -> None:
        self.revision = revision
        self.flags = flags

    def evaluate(self, key: str, c: Context, now: float, depth: int = 0) -> Result:
        flag = self.flags.get(key)
        if flag is not None:
            return flag.evaluate(c, self, now, depth)
        default = PLATFORM_DEFAULTS.get(key)
        if default is not None:
            return Result("on" if default else "off", default, "platform_default")
        return Result("off", None, "unknown_flag")

    def keys(self) -> set[str]:
        return set(self.flags) | set(PLATFORM_DEFAULTS)


def compile_flags(
    revision: int,
    flags: list[tuple[str, FlagDefinition, bool]],
    segments: list[tuple[str, SegmentDefinition]],
    environment: str,
    now: datetime,
) -> FlagSet:
    compiled_segments = {key: compile_segment(d, key) for key, d in segments}
    return FlagSet(
        revision,
        {
            key: CompiledFlag(
                key, d, environment, killed=killed, segments=compiled_segments, now=now
            )
            for key, d, killed in flags
        },
    )
