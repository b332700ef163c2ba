from __future__ import annotations

from tiffin.infra.http.errors import TiffinError


class RestaurantNotFound(TiffinError):
    status, type, title = 404, "restaurant-not-found", "No such restaurant"


class RestaurantSlugTaken(TiffinError):
    status, type, title = 409, "restaurant-slug-taken", "A restaurant with this slug exists"
