"""The demo seed: two brands with a restaurant, a small menu, a customer and a rider each."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tiffin.catalog.schemas import MenuItemCreate, RestaurantCreate
from tiffin.catalog.service import catalog
from tiffin.identity.schemas import AccountCreate
from tiffin.identity.service import identity
from tiffin.infra.db import tenant_transaction
from tiffin.tenancy.schemas import TenantCreate
from tiffin.tenancy.service import tenants


@dataclass(frozen=True)
class DemoBrand:
    tenant: TenantCreate
    restaurant: RestaurantCreate
    menu: list[MenuItemCreate]
    customer: AccountCreate
    rider: AccountCreate


BRANDS = [
    DemoBrand(
        tenant=TenantCreate(
            slug="spice-route", name="Spice Route", domains=["spice-route.localhost"]
        ),
        restaurant=RestaurantCreate(
            slug="indiranagar",
            name="Spice Route Indiranagar",
            address="100 Feet Rd, Indiranagar, Bengaluru",
            latitude=12.9719,
            longitude=77.6412,
            prep_minutes=18,
        ),
        menu=[
            MenuItemCreate(name="Paneer Tikka", price_minor=24900, currency="INR", veg=True),
            MenuItemCreate(name="Chicken Biryani", price_minor=32900, currency="INR"),
            MenuItemCreate(name="Masala Chaas", price_minor=7900, currency="INR", veg=True),
        ],
        customer=AccountCreate(
            kind="customer", name="Asha Rao", phone="+919800000001", email="asha@example.com"
        ),
        rider=AccountCreate(kind="rider", name="Ravi Kumar", phone="+919800000002"),
    ),
    DemoBrand(
        tenant=TenantCreate(slug="green-bowl", name="Green Bowl", domains=["green-bowl.localhost"]),
        restaurant=RestaurantCreate(
            slug="koramangala",
            name="Green Bowl Koramangala",
            address="80 Feet Rd, Koramangala, Bengaluru",
            latitude=12.9352,
            longitude=77.6245,
            prep_minutes=12,
        ),
        menu=[
            MenuItemCreate(name="Quinoa Power Bowl", price_minor=29900, currency="INR", veg=True),
            MenuItemCreate(name="Falafel Wrap", price_minor=19900, currency="INR", veg=True),
        ],
        customer=AccountCreate(
            kind="customer", name="Meera Iyer", phone="+919800000011", email="meera@example.com"
        ),
        rider=AccountCreate(kind="rider", name="Salim Khan", phone="+919800000012"),
    ),
]


async def seed(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    """Creates the demo brands that do not exist yet; returns new API keys by brand slug
    (shown once: only their hashes are kept)."""
    keys: dict[str, str] = {}
    for brand in BRANDS:
        async with tenant_transaction(sessionmaker, None) as session:
            if await tenants.get_by_slug(session, brand.tenant.slug):
                continue
            tenant = await tenants.create(session, brand.tenant)
            issued = await tenants.issue_api_key(session, tenant.id, name="demo", scopes=["*"])
        async with tenant_transaction(sessionmaker, tenant.id) as session:
            restaurant = await catalog.create_restaurant(session, tenant.id, data=brand.restaurant)
            for item in brand.menu:
                await catalog.add_item(session, tenant.id, restaurant_id=restaurant.id, data=item)
            await identity.create_account(session, tenant.id, data=brand.customer)
            await identity.create_account(session, tenant.id, data=brand.rider)
        keys[brand.tenant.slug] = issued.key
    return keys
