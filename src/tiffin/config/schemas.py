"""The brand configuration document: its JSON Schema is these models' schema, published at
`GET /v1/config/schema` so brand tools can validate before they send."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

HEX = r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$"
NAME = r"^[a-z][a-z0-9_]{0,47}$"
PageName = Literal[
    "home", "menu", "item", "cart", "checkout", "tracking", "orders", "wallet", "rewards",
    "profile", "search", "offers", "support",
]  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Typography(_Strict):
    font_family: str = Field(default="Inter", max_length=100)
    heading_font_family: str | None = Field(default=None, max_length=100)
    base_size: int = Field(default=16, ge=10, le=24)
    scale: float = Field(default=1.25, ge=1.0, le=2.0)


class Palette(_Strict):
    primary: str = Field(pattern=HEX)
    on_primary: str = Field(default="#FFFFFF", pattern=HEX)
    secondary: str = Field(default="#333333", pattern=HEX)
    background: str = Field(default="#FFFFFF", pattern=HEX)
    surface: str = Field(default="#F7F7F7", pattern=HEX)
    text: str = Field(default="#111111", pattern=HEX)
    error: str = Field(default="#D32F2F", pattern=HEX)
    extra: dict[str, str] = Field(default_factory=dict, description="more named colours")


class DarkMode(_Strict):
    enabled: bool = False
    palette: Palette | None = None


class Theme(_Strict):
    palette: Palette
    typography: Typography = Field(default_factory=Typography)
    logo_url: HttpUrl
    images: dict[str, HttpUrl] = Field(default_factory=dict, description="named asset URLs")
    corner_radius: int = Field(default=8, ge=0, le=32)
    dark_mode: DarkMode = Field(default_factory=DarkMode)


class Section(_Strict):
    """One block of a page, in display order. `feature` names the flag that gates it: the
    section is dropped for callers for whom that feature is off."""

    id: str = Field(pattern=NAME)
    type: str = Field(pattern=NAME, description="banner, carousel, menu_grid, wallet_card…")
    feature: str | None = Field(default=None, pattern=NAME)
    props: dict[str, Any] = Field(default_factory=dict)


class Page(_Strict):
    sections: list[Section] = Field(default_factory=list, max_length=50)
    features: dict[str, bool] = Field(default_factory=dict, description="page-wise switches")


class BrandConfig(_Strict):
    schema_version: Literal[1] = 1
    theme: Theme
    pages: dict[PageName, Page] = Field(default_factory=dict)
    features: dict[str, bool] = Field(
        default_factory=dict, description="brand-wide switches (a flag can still turn one off)"
    )


class ConfigVersion(BaseModel):
    version: int
    status: Literal["draft", "published"]
    document: dict[str, Any]
    note: str
    created_by: str
    created_at: datetime
    published_by: str | None
    published_at: datetime | None
    live: bool


class DraftCreate(BaseModel):
    document: dict[str, Any]
    note: str = Field(default="", max_length=500)


class Rollback(BaseModel):
    version: int = Field(ge=1)


class DiffOp(BaseModel):
    op: str
    path: str
    value: Any = None
    from_: str | None = Field(default=None, alias="from")


class AppConfig(BaseModel):
    """What an app renders: the published document, sections and switches resolved for this
    caller, and every flag's evaluation."""

    version: int
    theme: dict[str, Any]
    pages: dict[str, Any]
    features: dict[str, bool]
    flags: dict[str, Any]
