"""Helpers the query modules share: finding a row by a full ID or a unique prefix of at
least 8 characters, a model's table, and the number of rows a write touched."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Mapped, Session
from sqlmodel import SQLModel

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
    session: Session,
    statement: sa.Select[Row],
    id_column: Mapped[str] | sa.ColumnElement[str],
    prefix: str,
    noun: str,
) -> Row | None:
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


def table_of(model: type[SQLModel]) -> sa.Table:
    """A table model's Core table (SQLModel sets ``__table__`` without declaring it)."""
    table = sa.inspect(model).local_table
    if not isinstance(table, sa.Table):
        raise TypeError(f"{model.__name__} is not a table model")
    return table


def rowcount(result: Result[*tuple[Any, ...]]) -> int:
    """The rows an UPDATE or DELETE matched. The session hands back the cursor's result for
    a plain (non-RETURNING) write, but its signature promises only a ``Result``."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"no row count on a {type(result).__name__}")
    return result.rowcount
