"""Identifiers: UUIDv7, time-ordered so that B-tree inserts stay at the right edge."""

from __future__ import annotations

import uuid

from uuid_utils.compat import uuid7


def new_id() -> uuid.UUID:
    return uuid7()
