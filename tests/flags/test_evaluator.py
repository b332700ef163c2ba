"""The evaluator: rules, rollouts, prerequisites, schedules, kill switches, inheritance."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tiffin.flags.evaluator import FlagSet, compile_flags, semver
from tiffin.flags.schemas import FlagDefinition, SegmentDefinition

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def flag_set(
    flags: dict[str, dict[str, Any]],
    segments: dict[str, dict[str, Any]] | None = None,
    *,
    killed: set[str] | None = None,
    now: datetime = NOW,
) -> FlagSet:
    return compile_flags(
        1,
        [(k, FlagDefinition.model_validate(d), k in (killed or set())) for k, d in flags.items()],
        [(k, SegmentDefinition.model_validate(d)) for k, d in (segments or {}).items()],
        "production",
        now,
    )


def rollout(percent: float, **env: Any) -> dict[str, Any]:
    return {
        "environments": {
            "production": {
                "enabled": True,
                "fallthrough": {"rollout": {"on": percent, "off": 100 - percent}},
                **env,
            }
        }
    }


class TestRollouts:
    def test_ten_percent_of_100k_users_within_one_point_and_stable(self) -> None:
        flags = flag_set({"new_checkout": rollout(10)})
        now = time.time()
        first = [
            flags.evaluate("new_checkout", {"user_id": f"user-{i}"}, now).value
            for i in range(100_000)
        ]
        share = sum(first) / len(first)
        assert 0.09 <= share <= 0.11, share
        again = [
            flags.evaluate("new_checkout", {"user_id": f"user-{i}"}, now).value
            for i in range(100_000)
        ]
        assert again == first

    def test_a_wider_rollout_keeps_everyone_already_in(self) -> None:
        narrow, wide = flag_set({"f": rollout(10)}), flag_set({"f": rollout(50)})
        now = time.time()
        for i in range(20_000):
            ctx = {"user_id": str(i)}
            if narrow.evaluate("f", ctx, now).value:
                assert wide.evaluate("f", ctx, now).value

    def test_stickiness_can_be_the_device(self) -> None:
        flags = flag_set({"f": rollout(50, stickiness="device_id")})
        now = time.time()
        values = {
            flags.evaluate("f", {"device_id": "d-1", "user_id": str(u)}, now).value
            for u in range(50)
        }
        assert len(values) == 1
        assert flags.evaluate("f", {"user_id": "u"}, now).reason == "not_in_rollout"

    def test_multivariate_split_serves_payloads(self) -> None:
        flags = flag_set(
            {
                "banner": {
                    "kind": "multivariate",
                    "variants": [
                        {"key": "a", "value": {"color": "red"}},
                        {"key": "b", "value": {"color": "blue"}},
                    ],
                    "environments": {
                        "production": {
                            "enabled": True,
                            "off_variant": "a",
                            "fallthrough": {"rollout": {"a": 50, "b": 50}},
                        }
                    },
                }
            }
        )
        now = time.time()
        seen = {flags.evaluate("banner", {"user_id": str(i)}, now).variant for i in range(200)}
        assert seen == {"a", "b"}
        assert flags.evaluate("banner", {"user_id": "1"}, now).value in (
            {"color": "red"},
            {"color": "blue"},
        )


class TestTargeting:
    ANDROID_520 = {
        "environments": {
            "production": {
                "enabled": True,
                "rules": [
                    {
                        "conditions": [
                            {"attribute": "platform", "op": "eq", "value": "android"},
                            {"attribute": "app_version", "op": "semver_gte", "value": "5.2.0"},
                        ],
                        "serve": {"variant": "on"},
                    }
                ],
                "fallthrough": {"variant": "off"},
            }
        }
    }

    @pytest.mark.parametrize(
        ("platform", "version", "on"),
        [
            ("android", "5.2.0", True),
            ("android", "5.10.1", True),
            ("android", "5.2.0-beta.1", False),
            ("android", "5.1.9", False),
            ("ios", "6.0.0", False),
            ("android", None, False),
            ("android", "not-a-version", False),
        ],
    )
    def test_platform_and_semver_rules(self, platform: str, version: str | None, on: bool) -> None:
        flags = flag_set({"f": self.ANDROID_520})
        ctx = {"platform": platform, "app_version": version, "user_id": "u"}
        assert flags.evaluate("f", ctx, time.time()).value is on

    def test_user_lists_beat_rules(self) -> None:
        definition = {
            "environments": {
                "production": {
                    "enabled": True,
                    "targets": [{"variant": "on", "user_ids": ["vip"]}],
                    "fallthrough": {"variant": "off"},
                }
            }
        }
        flags = flag_set({"f": definition})
        assert flags.evaluate("f", {"user_id": "vip"}, time.time()).reason == "target"
        assert flags.evaluate("f", {"user_id": "other"}, time.time()).value is False

    def test_reusable_segments_by_condition_list_or_membership(self) -> None:
        definition = {
            "environments": {
                "production": {
                    "enabled": True,
                    "rules": [{"segments": ["blr_gold"], "serve": {"variant": "on"}}],
                    "fallthrough": {"variant": "off"},
                }
            }
        }
        segments = {
            "blr_gold": {
                "conditions": [
                    {"attribute": "city", "op": "eq", "value": "bengaluru"},
                    {"attribute": "segments", "op": "contains", "value": "gold"},
                ],
                "user_ids": ["listed"],
            }
        }
        flags = flag_set({"f": definition}, segments)
        now = time.time()
        assert flags.evaluate("f", {"city": "bengaluru", "segments": ["gold"]}, now).value
        assert not flags.evaluate("f", {"city": "mumbai", "segments": ["gold"]}, now).value
        assert flags.evaluate("f", {"user_id": "listed"}, now).value
        assert flags.evaluate("f", {"segments": ["blr_gold"]}, now).value


class TestControl:
    def test_kill_switch_beats_everything(self) -> None:
        flags = flag_set({"f": rollout(100)}, killed={"f"})
        result = flags.evaluate("f", {"user_id": "u"}, time.time())
        assert (result.value, result.reason) == (False, "killed")

    def test_prerequisites(self) -> None:
        flags = flag_set(
            {
                "wallet": rollout(100),
                "wallet_cashback": {
                    "environments": {
                        "production": {"enabled": True, "prerequisites": [{"flag": "wallet"}]}
                    }
                },
            },
            killed={"wallet"},
        )
        result = flags.evaluate("wallet_cashback", {"user_id": "u"}, time.time())
        assert result.reason == "prerequisite_failed"

    def test_a_scheduled_ramp_moves_10_50_100_percent(self) -> None:
        steps = [
            {
                "at": (NOW + timedelta(hours=h)).isoformat(),
                "fallthrough": {"rollout": {"on": p, "off": 100 - p}},
            }
            for h, p in ((1, 10), (2, 50), (3, 100))
        ]
        flags = flag_set(
            {
                "f": {
                    "environments": {
                        "production": {
                            "enabled": True,
                            "fallthrough": {"variant": "off"},
                            "schedule": steps,
                        }
                    }
                }
            }
        )
        users = [{"user_id": str(i)} for i in range(5000)]

        def share(at: datetime) -> float:
            return sum(flags.evaluate("f", u, at.timestamp()).value for u in users) / len(users)

        assert share(NOW) == 0
        assert 0.08 < share(NOW + timedelta(hours=1, minutes=1)) < 0.12
        assert 0.45 < share(NOW + timedelta(hours=2, minutes=1)) < 0.55
        assert share(NOW + timedelta(hours=3, minutes=1)) == 1

    def test_a_scheduled_turn_on(self) -> None:
        flags = flag_set(
            {
                "f": {
                    "environments": {
                        "production": {
                            "enabled": False,
                            "schedule": [
                                {"at": (NOW + timedelta(minutes=5)).isoformat(), "enabled": True}
                            ],
                        }
                    }
                }
            }
        )
        assert not flags.evaluate("f", {}, NOW.timestamp()).value
        assert flags.evaluate("f", {}, (NOW + timedelta(minutes=6)).timestamp()).value

    def test_platform_defaults_stand_when_a_brand_has_no_flag(self) -> None:
        flags = flag_set({})
        assert flags.evaluate("wallet", {}, time.time()).reason == "platform_default"
        assert flags.evaluate("wallet", {}, time.time()).value is True
        assert flags.evaluate("no_such_flag", {}, time.time()).reason == "unknown_flag"

    def test_another_environment_is_untouched(self) -> None:
        definition = {"environments": {"staging": {"enabled": True}}}
        flags = flag_set({"f": definition})
        assert flags.evaluate("f", {}, time.time()).reason == "disabled"


class TestDefinitions:
    def test_unknown_variants_are_refused(self) -> None:
        with pytest.raises(ValueError, match="unknown variants"):
            FlagDefinition.model_validate(
                {"environments": {"production": {"fallthrough": {"variant": "maybe"}}}}
            )

    def test_rollouts_must_sum_to_100(self) -> None:
        with pytest.raises(ValueError, match="sum to 100"):
            FlagDefinition.model_validate(
                {
                    "environments": {
                        "production": {"fallthrough": {"rollout": {"on": 10, "off": 10}}}
                    }
                }
            )


@given(
    st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99)),
    st.tuples(st.integers(0, 99), st.integers(0, 99), st.integers(0, 99)),
)
def test_semver_orders_like_tuples(a: tuple[int, int, int], b: tuple[int, int, int]) -> None:
    va, vb = semver(".".join(map(str, a))), semver(".".join(map(str, b)))
    assert va is not None and vb is not None
    assert (va < vb) == (a < b)
