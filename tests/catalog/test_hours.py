"""Opening hours and menu schedules, evaluated on an outlet's wall clock."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from tiffin.catalog.hours import describe, is_open, is_served, local_time
from tiffin.catalog.schemas import MenuSchedule, RestaurantCreate

WEEK = {"mon": [["07:00", "11:00"], ["12:00", "23:00"]], "fri": [["18:00", "02:00"]]}


def monday(hh_mm: str) -> datetime:
    hours, minutes = map(int, hh_mm.split(":"))
    return datetime(2026, 1, 5, hours, minutes)


class TestOpeningHours:
    @pytest.mark.parametrize(
        ("moment", "expected"),
        [
            ("06:59", False),
            ("07:00", True),
            ("10:59", True),
            ("11:00", False),
            ("11:30", False),
            ("12:00", True),
            ("22:59", True),
            ("23:00", False),
        ],
    )
    def test_several_intervals_a_day(self, moment: str, expected: bool) -> None:
        assert is_open(WEEK, {}, monday(moment)) is expected

    def test_a_day_left_out_is_closed(self) -> None:
        assert not is_open(WEEK, {}, datetime(2026, 1, 6, 12, 0))  # Tuesday

    def test_an_interval_crossing_midnight_spills_into_the_next_day(self) -> None:
        assert is_open(WEEK, {}, datetime(2026, 1, 9, 23, 59))  # Friday
        assert is_open(WEEK, {}, datetime(2026, 1, 10, 1, 59))  # Saturday
        assert not is_open(WEEK, {}, datetime(2026, 1, 10, 2, 0))
        assert not is_open(WEEK, {}, datetime(2026, 1, 9, 1, 0))  # Thursday ran no night

    def test_a_special_day_replaces_that_date_but_not_the_night_before(self) -> None:
        holiday: dict[date, list[list[str]]] = {date(2026, 1, 10): []}
        assert is_open(WEEK, holiday, datetime(2026, 1, 10, 1, 0))  # Friday's night
        special = {date(2026, 1, 5): [["15:00", "16:00"]]}
        assert not is_open(WEEK, special, monday("08:00"))
        assert is_open(WEEK, special, monday("15:30"))

    def test_an_hour_until_midnight_written_24_00(self) -> None:
        assert is_open({"mon": [["20:00", "24:00"]]}, {}, monday("23:59"))
        assert not is_open({"mon": [["20:00", "24:00"]]}, {}, datetime(2026, 1, 6, 0, 0))


class TestMenuSchedules:
    def test_no_hours_means_all_day_on_the_listed_days(self) -> None:
        weekdays = MenuSchedule(days=["mon", "tue", "wed", "thu", "fri"])
        assert is_served(weekdays, monday("00:00"))
        assert not is_served(weekdays, datetime(2026, 1, 11, 12, 0))  # Sunday

    def test_a_late_night_menu_runs_into_the_next_morning(self) -> None:
        late = MenuSchedule.model_validate({"days": ["fri"], "hours": [["22:00", "03:00"]]})
        assert is_served(late, datetime(2026, 1, 10, 2, 0))
        assert not is_served(late, datetime(2026, 1, 11, 2, 0))
        assert describe(late) == "fri, 22:00-03:00"


class TestLocalTime:
    def test_an_aware_moment_moves_to_the_outlets_zone_to_the_minute(self) -> None:
        local = local_time(datetime(2026, 1, 5, 2, 30, 45, tzinfo=UTC), "Asia/Kolkata")
        assert (local.hour, local.minute, local.second) == (8, 0, 0)

    def test_a_naive_moment_is_already_local(self) -> None:
        assert local_time(monday("08:00"), "Europe/London").hour == 8


class TestHoursPayloads:
    @pytest.mark.parametrize(
        "interval", [["07:00", "07:00"], ["24:00", "01:00"], ["7:00", "11:00"], ["10:60", "11:00"]]
    )
    def test_malformed_intervals_are_refused(self, interval: list[str]) -> None:
        with pytest.raises(ValueError):
            MenuSchedule.model_validate({"hours": [interval]})

    def test_weekly_hours_list_every_day_in_order(self) -> None:
        outlet = RestaurantCreate(
            slug="x",
            name="x",
            address="x",
            latitude=0,
            longitude=0,
            opening_hours={"sun": [("09:00", "12:00")], "mon": []},
        )
        assert list(outlet.opening_hours) == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        assert outlet.opening_hours["sun"] == [("09:00", "12:00")]
