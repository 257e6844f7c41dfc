"""The per-invocation context: settings, the store, and who is asking."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from vwaza_cli.settings import Settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@dataclass
class Context:
    settings: Settings
    token: str | None = None
    _schema_checked: bool = field(default=False, repr=False)

    @classmethod
    def from_environment(cls, token: str | None = None) -> Context:
        return cls(settings=load_settings(), token=token)

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """A transaction on a store whose schema is current (the store's code is loaded here,
        at the first transaction: a command refused before one never imports SQLAlchemy)."""
        from vwaza_cli.db.engine import transaction
        from vwaza_cli.db.schema import ensure_migrated

        if not self._schema_checked:
            ensure_migrated(self.settings.database_url)
            self._schema_checked = True
        with transaction(self.settings.database_url) as session:
            yield session
