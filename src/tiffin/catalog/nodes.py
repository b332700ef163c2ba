"""Editing the menu tree one node at a time: menus, categories, items, variants, modifier
groups and options share how they are created, updated, moved and deleted, audited, and
announced (`catalog.menu_changed`, keyed by the node's menu).

The service has taken the brand's catalog revision (its write lock) before calling these.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import InstrumentedAttribute

from tiffin.catalog.errors import (
    CategoryNotFound,
    MenuItemNotFound,
    MenuNotFound,
    ModifierGroupNotFound,
    ModifierOptionNotFound,
    VariantNotFound,
)
from tiffin.catalog.events import Action, MenuChanged
from tiffin.catalog.models import (
    ItemVariant,
    MenuCategory,
    ModifierGroup,
    ModifierOption,
    TreeNode,
)
from tiffin.catalog.models import Menu as MenuRow
from tiffin.catalog.models import MenuItem as MenuItemRow
from tiffin.catalog.repository import CatalogRepository
from tiffin.catalog.schemas import Category, Menu, MenuItem, Variant
from tiffin.catalog.schemas import ModifierGroup as ModifierGroupRead
from tiffin.catalog.schemas import ModifierOption as ModifierOptionRead
from tiffin.infra import audit
from tiffin.infra.bus import outbox
from tiffin.infra.http.errors import TiffinError

Node = TypeVar("Node", bound=TreeNode)
Read = TypeVar("Read", bound=BaseModel)


@dataclass(frozen=True)
class Kind(Generic[Node, Read]):
    """One entity of the menu tree: its table, how it reads, and the column that makes its
    siblings (None: all rows of the table, or, for groups, see `_scope`)."""

    entity: str  # as written to the audit log and events
    model: type[Node]
    read: type[Read]
    not_found: type[TiffinError]
    parent: InstrumentedAttribute[Any] | None


MENU = Kind("menu", MenuRow, Menu, MenuNotFound, None)
CATEGORY = Kind("menu_category", MenuCategory, Category, CategoryNotFound, MenuCategory.menu_id)
ITEM = Kind("menu_item", MenuItemRow, MenuItem, MenuItemNotFound, MenuItemRow.category_id)
VARIANT = Kind("item_variant", ItemVariant, Variant, VariantNotFound, ItemVariant.item_id)
GROUP = Kind("modifier_group", ModifierGroup, ModifierGroupRead, ModifierGroupNotFound, None)
OPTION = Kind(
    "modifier_option",
    ModifierOption,
    ModifierOptionRead,
    ModifierOptionNotFound,
    ModifierOption.group_id,
)


async def need(
    repo: CatalogRepository, kind: Kind[Node, Read], tenant_id: uuid.UUID, id: Any
) -> Node:
    """The node, or the kind's 404."""
    row = await repo.get(kind.model, tenant_id, id)
    if row is None:
        raise kind.not_found()
    return row


async def create(
    repo: CatalogRepository,
    tenant_id: uuid.UUID,
    revision: int,
    kind: Kind[Node, Read],
    values: dict[str, Any],
    *,
    actor: str,
) -> Read:
    """Adds a node (its parent already checked) after its last sibling."""
    row = kind.model()
    for name, value in {"tenant_id": tenant_id, **values}.items():
        setattr(row, name, value)
    parent, parent_id = _scope(kind, row)
    row.position = await repo.next_position(kind.model, parent, parent_id)
    await repo.add(row)
    created = kind.read.model_validate(row)
    await _record(
        repo,
        tenant_id,
        kind,
        row.id,
        await menu_of(repo, tenant_id, row),
        actor=actor,
        action="created",
        before=None,
        after=created,
        revision=revision,
    )
    return created


async def update(
    repo: CatalogRepository,
    tenant_id: uuid.UUID,
    revision: int,
    kind: Kind[Node, Read],
    id: uuid.UUID,
    data: BaseModel,
    *,
    actor: str,
    check: Callable[[Node], None] | None = None,
) -> Read:
    """Applies the fields `data` sets; `position` moves the node among its siblings, and a
    node given another parent goes after its new siblings."""
    row = await need(repo, kind, tenant_id, id)
    before = kind.read.model_validate(row)
    scope = _scope(kind, row)
    for name, value in data.model_dump(exclude_unset=True, exclude={"position"}).items():
        setattr(row, name, value)
    if check is not None:
        check(row)
    await repo.session.flush()
    position = getattr(data, "position", None)
    if position is not None or _scope(kind, row) != scope:
        await _place(repo, kind, row, position)
    after = kind.read.model_validate(row)
    await _record(
        repo,
        tenant_id,
        kind,
        row.id,
        await menu_of(repo, tenant_id, row),
        actor=actor,
        action="updated",
        before=before,
        after=after,
        revision=revision,
    )
    return after


async def delete(
    repo: CatalogRepository,
    tenant_id: uuid.UUID,
    revision: int,
    kind: Kind[Node, Read],
    id: uuid.UUID,
    *,
    actor: str,
) -> None:
    """Deletes a node and, by cascade, everything under it (outlet overrides included)."""
    row = await need(repo, kind, tenant_id, id)
    before = kind.read.model_validate(row)
    menu_id = await menu_of(repo, tenant_id, row)
    await repo.delete(row)
    await _record(
        repo,
        tenant_id,
        kind,
        id,
        menu_id,
        actor=actor,
        action="deleted",
        before=before,
        after=None,
        revision=revision,
    )


async def groups_above(
    repo: CatalogRepository, tenant_id: uuid.UUID, option: ModifierOption
) -> int:
    """How many modifier groups an option sits in, its own included."""
    depth, group = 1, await need(repo, GROUP, tenant_id, option.group_id)
    while group.parent_option_id is not None:
        parent = await need(repo, OPTION, tenant_id, group.parent_option_id)
        depth, group = depth + 1, await need(repo, GROUP, tenant_id, parent.group_id)
    return depth


async def menu_of(repo: CatalogRepository, tenant_id: uuid.UUID, row: TreeNode) -> uuid.UUID:
    """The menu a node belongs to, walking up its parents."""
    if isinstance(row, MenuRow):
        return row.id
    if isinstance(row, MenuCategory):
        return row.menu_id
    if isinstance(row, MenuItemRow):
        category = await need(repo, CATEGORY, tenant_id, row.category_id)
        return category.menu_id
    if isinstance(row, ItemVariant):
        item = await need(repo, ITEM, tenant_id, row.item_id)
        return await menu_of(repo, tenant_id, item)
    if isinstance(row, ModifierOption):
        group = await need(repo, GROUP, tenant_id, row.group_id)
        return await menu_of(repo, tenant_id, group)
    if isinstance(row, ModifierGroup) and row.item_id is not None:
        item = await need(repo, ITEM, tenant_id, row.item_id)
        return await menu_of(repo, tenant_id, item)
    if isinstance(row, ModifierGroup):
        option = await need(repo, OPTION, tenant_id, row.parent_option_id)
        return await menu_of(repo, tenant_id, option)
    raise TypeError(f"not a menu tree node: {row!r}")


def _scope(kind: Kind[Node, Read], row: Node) -> tuple[InstrumentedAttribute[Any] | None, Any]:
    """The column and value its siblings share: a group's are its item's or its option's."""
    if isinstance(row, ModifierGroup):
        parent = ModifierGroup.item_id if row.item_id else ModifierGroup.parent_option_id
        return parent, getattr(row, parent.key)
    if kind.parent is None:
        return None, None
    return kind.parent, getattr(row, kind.parent.key)


async def _place(
    repo: CatalogRepository, kind: Kind[Node, Read], row: Node, index: int | None
) -> None:
    """Moves a flushed `row` to `index` among its siblings (the end when None), renumbering
    them 0, 1, 2..."""
    parent, parent_id = _scope(kind, row)
    scope = None if parent is None else [parent_id]
    siblings = [s for s in await repo.nodes(kind.model, parent, scope) if s.id != row.id]
    siblings.insert(len(siblings) if index is None else index, row)
    for position, sibling in enumerate(siblings):
        sibling.position = position
    await repo.session.flush()


async def _record(
    repo: CatalogRepository,
    tenant_id: uuid.UUID,
    kind: Kind[Node, Read],
    entity_id: uuid.UUID,
    menu_id: uuid.UUID,
    *,
    actor: str,
    action: Action,
    before: BaseModel | None,
    after: BaseModel | None,
    revision: int,
) -> None:
    """The audit entry and the `catalog.menu_changed` event of one change."""
    await audit.record(
        repo.session,
        tenant_id,
        actor=actor,
        entity=kind.entity,
        entity_id=entity_id,
        action=action,
        before=before.model_dump(mode="json") if before else None,
        after=after.model_dump(mode="json") if after else None,
    )
    await outbox.append(
        repo.session,
        MenuChanged(
            menu_id=menu_id,
            entity=kind.entity,
            entity_id=entity_id,
            action=action,
            revision=revision,
        ),
        tenant_id=tenant_id,
        aggregate_id=menu_id,
    )
