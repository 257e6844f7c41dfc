"""Finding a row by a full ID or a unique prefix of at least 8 characters."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from vwaza_cli.errors import AmbiguousId, InvalidInput

MIN_PREFIX = 8
_ID_CHARS = re.compile(r"^[0-9a-fA-F-]+$")
Row = TypeVar("Row")


def check_prefix(prefix: str, noun: str) -> str:
    prefix = prefix.strip().lower()
    if len(prefix) < MIN_PREFIX:
        raise InvalidInput(
            f"{noun} ID {prefix!r} is too short: give at least {MIN_PREFIX} characters"
        )
    return prefix


def by_prefix(
    session: Session, statement: sa.Select[Any], id_column: Any, prefix: str, noun: str
) -> Any | None:
    """The one row whose ID starts with ``prefix`` among ``statement``'s rows, or None."""
    prefix = check_prefix(prefix, noun)
    if not _ID_CHARS.match(prefix):
        return None  # cannot match any UUID; also keeps LIKE wildcards out
    if len(prefix) == 36:
        statement = statement.where(id_column == prefix)
    else:
        statement = statement.where(id_column.like(prefix + "%"))
    rows = session.scalars(statement.limit(2)).all()
    if len(rows) > 1:
        raise AmbiguousId(
            f"{noun} ID prefix {prefix!r} matches several {noun}s: give more characters"
        )
    return rows[0] if rows else None
