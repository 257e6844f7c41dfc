"""Helpers the query modules share: finding a row by a full ID or a unique prefix of at
least 8 characters, a model's table, and the number of rows a write touched."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Mapped, Session
from sqlmodel import SQLModel

from vwaza_cli.errors import AmbiguousId, InvalidInput

MIN_PREFIX = 8
SHOWN_CANDIDATES = 5  # an ambiguous prefix lists this many of the rows it matches
TITLE_SHOWN = 40
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
    rows = session.scalars(statement.order_by(id_column).limit(SHOWN_CANDIDATES + 1)).all()
    if len(rows) > 1:
        raise AmbiguousId(_ambiguous(prefix, noun, rows))
    return rows[0] if rows else None


def _ambiguous(prefix: str, noun: str, rows: Sequence[object]) -> str:
    """`1f2e3d4c is ambiguous: 1f2e3d4c-a… (release "Night Drive"), 1f2e3d4c-b… (…)`, as git
    lists the candidates of a short hash; at most SHOWN_CANDIDATES of them."""
    shown = rows[:SHOWN_CANDIDATES]
    ids = [str(getattr(row, "id", "")) for row in shown]
    width = _distinct_width(ids, len(prefix) + 1)
    listed = [
        f"{_shortened(id_, width)} ({_described(row, noun)})"
        for id_, row in zip(ids, shown, strict=True)
    ]
    more = ", and more" if len(rows) > SHOWN_CANDIDATES else ""
    return f"{prefix} is ambiguous: {', '.join(listed)}{more}: give more characters"


def _distinct_width(ids: list[str], at_least: int) -> int:
    """The shortest prefix length, from ``at_least``, at which the IDs all differ."""
    width = at_least
    while width < max(len(id_) for id_ in ids) and len({id_[:width] for id_ in ids}) < len(ids):
        width += 1
    return width


def _shortened(id_: str, width: int) -> str:
    return id_ if width >= len(id_) else id_[:width] + "\u2026"


def _described(row: object, noun: str) -> str:
    """What a candidate is: `release "Night Drive"`, `track "Intro"`, `job AUDIO FAILED`."""
    title = getattr(row, "title", None)
    if isinstance(title, str):
        short = title if len(title) <= TITLE_SHOWN else title[: TITLE_SHOWN - 1] + "\u2026"
        return f'{noun} "{short}"'
    kind, status = getattr(row, "type", ""), getattr(row, "status", "")
    return " ".join(str(part) for part in (noun, kind, status) if part)


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
