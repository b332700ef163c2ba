"""What an outlet serves depends on the moment: its hours, special days, and menu schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.catalog.factories import (
    create_restaurant,
    find,
    item_names,
    menu_names,
    outlet_menu,
    price,
    problem_type,
)
from tests.fixtures.tenants import Brand
from tiffin.infra.clock import FrozenClock, clock

IST = ZoneInfo("Asia/Kolkata")


class TestMenuSchedules:
    async def test_the_breakfast_menu_is_served_at_eight_but_not_at_two(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        morning = await outlet_menu(client, brand, outlet["id"], "2026-01-05T08:00")
        afternoon = await outlet_menu(client, brand, outlet["id"], "2026-01-05T14:00")
        assert menu_names(morning) == ["All day", "Breakfast"]
        assert menu_names(afternoon) == ["All day", "Weekday lunch"]
        assert morning["open"] and afternoon["open"]

    async def test_breakfast_ends_at_eleven_sharp(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        last = await outlet_menu(client, brand, outlet["id"], "2026-01-05T10:59")
        over = await outlet_menu(client, brand, outlet["id"], "2026-01-05T11:00")
        assert "Breakfast" in menu_names(last)
        assert "Breakfast" not in menu_names(over)

    async def test_a_weekday_only_menu_is_not_served_on_sunday(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        monday = await outlet_menu(client, brand, outlet["id"], "2026-01-05T13:00")
        sunday = await outlet_menu(client, brand, outlet["id"], "2026-01-11T13:00")
        assert "Lunch Thali" in item_names(monday)
        assert "Lunch Thali" not in item_names(sunday)

    async def test_an_item_of_a_menu_not_served_then_cannot_be_added(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        dosa = find(menu, "Masala Dosa")
        refused = await price(
            client, brand, outlet["id"], {"item_id": dosa["id"]}, "2026-01-05T14:00"
        )
        assert refused.status_code == 409
        assert problem_type(refused) == "item-unavailable"
        assert "07:00-11:00" in refused.json()["detail"]
        served = await price(
            client, brand, outlet["id"], {"item_id": dosa["id"]}, "2026-01-05T08:00"
        )
        assert served.status_code == 200, served.text

    async def test_the_moment_defaults_to_the_shared_clock(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        with clock.use(FrozenClock(datetime(2026, 1, 5, 8, 30, tzinfo=IST))):
            early = await outlet_menu(client, brand, outlet["id"])
        with clock.use(FrozenClock(datetime(2026, 1, 5, 16, 0, tzinfo=IST))):
            late = await outlet_menu(client, brand, outlet["id"])
        assert "Breakfast" in menu_names(early)
        assert menu_names(late) == ["All day"]

    async def test_a_naive_moment_is_read_in_the_outlets_timezone(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        response = await client.get(
            f"/v1/restaurants/{outlet['id']}/menu",
            params={"at": "2026-01-05T08:00:00"},
            headers=brand.headers,
        )
        assert "Breakfast" in menu_names(response.json())


class TestOpeningHours:
    async def test_hours_crossing_midnight_keep_the_outlet_open_after_twelve(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        # Friday 2026-01-09 runs 18:00-02:00; Thursday closes at 23:00.
        moments = {
            "2026-01-09T14:00": False,  # between Friday's two intervals
            "2026-01-09T23:30": True,
            "2026-01-10T01:30": True,  # Saturday, still Friday's night
            "2026-01-10T02:00": False,
            "2026-01-09T01:30": False,  # Thursday did not run past midnight
        }
        for moment, expected in moments.items():
            body = await outlet_menu(client, brand, outlet["id"], moment)
            assert body["open"] is expected, moment

    async def test_a_closed_outlet_still_lists_its_menus_but_refuses_cart_lines(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        body = await outlet_menu(client, brand, outlet["id"], "2026-01-06T03:00")
        assert body["open"] is False and body["menus"]
        refused = await price(
            client,
            brand,
            outlet["id"],
            {"item_id": find(menu, "Masala Chaas")["id"]},
            "2026-01-06T03:00",
        )
        assert refused.status_code == 409
        assert problem_type(refused) == "restaurant-closed"

    async def test_a_holiday_override_closes_the_outlet_that_day_only(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        response = await client.put(
            f"/v1/restaurants/{outlet['id']}/special-days/2026-01-26",
            json={"closed": True, "note": "Republic Day"},
            headers=brand.writer,
        )
        assert response.status_code == 200, response.text
        assert response.json() == {
            "day": "2026-01-26",
            "closed": True,
            "hours": [],
            "note": "Republic Day",
        }
        holiday = await outlet_menu(client, brand, outlet["id"], "2026-01-26T12:00")
        next_day = await outlet_menu(client, brand, outlet["id"], "2026-01-27T12:00")
        assert holiday["open"] is False
        assert next_day["open"] is True
        chaas = {"item_id": find(menu, "Masala Chaas")["id"]}
        refused = await price(client, brand, outlet["id"], chaas, "2026-01-26T12:00")
        assert problem_type(refused) == "restaurant-closed"

    async def test_special_hours_replace_the_weekly_hours_and_can_be_cleared(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        path = f"/v1/restaurants/{outlet['id']}/special-days/2026-01-07"
        await client.put(path, json={"hours": [["10:00", "14:00"]]}, headers=brand.writer)
        assert (await outlet_menu(client, brand, outlet["id"], "2026-01-07T11:00"))["open"]
        assert not (await outlet_menu(client, brand, outlet["id"], "2026-01-07T15:00"))["open"]
        days = await client.get(
            f"/v1/restaurants/{outlet['id']}/special-days", headers=brand.headers
        )
        assert [d["day"] for d in days.json()] == ["2026-01-07"]
        assert (await client.delete(path, headers=brand.writer)).status_code == 204
        assert (await outlet_menu(client, brand, outlet["id"], "2026-01-07T15:00"))["open"]
        again = await client.delete(path, headers=brand.writer)
        assert problem_type(again) == "special-day-not-found"

    async def test_a_special_day_needs_either_closed_or_hours(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any]
    ) -> None:
        response = await client.put(
            f"/v1/restaurants/{outlet['id']}/special-days/2026-01-07",
            json={"closed": True, "hours": [["10:00", "14:00"]]},
            headers=brand.writer,
        )
        assert response.status_code == 422

    async def test_an_outlet_not_accepting_orders_is_closed(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        response = await client.patch(
            f"/v1/restaurants/{outlet['id']}",
            json={"accepting_orders": False},
            headers=brand.writer,
        )
        assert response.json()["accepting_orders"] is False
        body = await outlet_menu(client, brand, outlet["id"], "2026-01-05T12:00")
        assert body["open"] is False and body["accepting_orders"] is False
        chaas = {"item_id": find(menu, "Masala Chaas")["id"]}
        refused = await price(client, brand, outlet["id"], chaas, "2026-01-05T12:00")
        assert problem_type(refused) == "restaurant-closed"
        assert "not accepting orders" in refused.json()["detail"]

    async def test_new_weekly_hours_apply_at_once(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any], menu: dict[str, Any]
    ) -> None:
        assert (await outlet_menu(client, brand, outlet["id"], "2026-01-05T23:30"))["open"] is False
        response = await client.patch(
            f"/v1/restaurants/{outlet['id']}",
            json={"opening_hours": {"mon": [["18:00", "01:00"]]}},
            headers=brand.writer,
        )
        assert response.status_code == 200, response.text
        assert response.json()["opening_hours"]["tue"] == []
        assert (await outlet_menu(client, brand, outlet["id"], "2026-01-05T23:30"))["open"] is True
        assert (await outlet_menu(client, brand, outlet["id"], "2026-01-06T12:00"))["open"] is False
        stored = await client.get(f"/v1/restaurants/{outlet['id']}", headers=brand.headers)
        assert stored.json()["opening_hours"]["mon"] == [["18:00", "01:00"]]

    async def test_hours_are_read_in_the_outlets_own_timezone(
        self, client: httpx.AsyncClient, brand: Brand, menu: dict[str, Any]
    ) -> None:
        london = await create_restaurant(
            client,
            brand,
            slug="soho",
            timezone="Europe/London",
            opening_hours={"mon": [["09:00", "17:00"]]},
        )
        # 10:00 in London is 15:30 in India.
        body = await outlet_menu(client, brand, london["id"], "2026-01-05T15:30")
        assert body["open"] is True
        assert body["restaurant"]["timezone"] == "Europe/London"

    async def test_an_unknown_timezone_is_refused(
        self, client: httpx.AsyncClient, brand: Brand, outlet: dict[str, Any]
    ) -> None:
        response = await client.patch(
            f"/v1/restaurants/{outlet['id']}",
            json={"timezone": "Mars/Olympus"},
            headers=brand.writer,
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "timezone"]
