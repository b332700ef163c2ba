"""Shared by the benchmarks: embedded engines in a temporary directory, migrated."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tiffin.infra.embedded import EmbeddedEngines
from tiffin.migrations import upgrade
from tiffin.settings import Settings


@contextmanager
def engines(**settings: object) -> Iterator[tuple[Settings, EmbeddedEngines]]:
    with tempfile.TemporaryDirectory(prefix="tiffin-bench-") as directory:
        embedded = EmbeddedEngines(Path(directory), ephemeral=True)
        try:
            app_url, admin_url = embedded.start_postgres()
            asyncio.run(upgrade(admin_url, app_url))
            yield (
                Settings(
                    env="test",
                    database_url=app_url,
                    database_admin_url=admin_url,
                    redis_url=embedded.start_redis(),
                    temporal_address=embedded.start_temporal(),
                    **settings,  # type: ignore[arg-type]
                ),
                embedded,
            )
        finally:
            embedded.stop()
