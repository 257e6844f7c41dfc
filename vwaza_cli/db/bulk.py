"""Plain rows into tables, for bulk writes (catalog import): each row a dict of column
values, each table one executemany on the driver, with the SQL and the value conversions
worked out once per table and engine instead of once per statement.

A plain row holds every column (the model's defaults fill what is not given), so what is
stored is what the ORM would store for an object built with the same values: each value
goes through its column type's own bind processor, as SQLAlchemy's execution would send it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from pydantic_core import PydanticUndefined
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from vwaza_cli.db.lookup import table_of

Row = dict[str, Any]  # a row's values, keyed by column name
Processor = Callable[[Any], Any]


@dataclass(frozen=True)
class _Field:
    attribute: str
    column: str
    default: Any
    factory: Callable[[], Any] | None


@functools.cache
def _fields(model: type[SQLModel]) -> tuple[_Field, ...]:
    mapper = sa.inspect(model)
    found = []
    for prop in mapper.column_attrs:
        info = model.model_fields[prop.key]
        default = None if info.default is PydanticUndefined else info.default
        factory = info.default_factory
        found.append(_Field(prop.key, prop.columns[0].name, default, factory))  # type: ignore[arg-type]
    return tuple(found)


def plain_row(model: type[SQLModel], **values: Any) -> Row:
    """The row ``model(**values)`` would insert, as plain values keyed by column name (an
    attribute the caller leaves out takes the model's default, as the constructor gives it),
    without building the ORM object. An unknown attribute is an error, as for the model."""
    row: Row = {}
    for field in _fields(model):
        if field.attribute in values:
            row[field.column] = values.pop(field.attribute)
        elif field.factory is not None:
            row[field.column] = field.factory()
        else:
            row[field.column] = field.default
    if values:
        raise TypeError(f"{model.__name__} has no attribute(s) {', '.join(sorted(values))}")
    return row


@dataclass(frozen=True)
class TableInsert:
    """An INSERT of every column of one table, in the driver's own parameter style."""

    table: str
    columns: tuple[str, ...]
    sql: str
    processors: tuple[Processor | None, ...]

    def values(self, rows: Iterable[Row]) -> list[tuple[Any, ...]]:
        """Each row as the driver takes it: in column order, converted by the column types."""
        pairs = tuple(zip(self.columns, self.processors, strict=True))
        return [
            tuple(row[c] if p is None or row[c] is None else p(row[c]) for c, p in pairs)
            for row in rows
        ]

    def copy_sql(self) -> str:
        """COPY of the same columns (PostgreSQL)."""
        return self.sql.split(" VALUES ", 1)[0].replace("INSERT INTO", "COPY", 1) + " FROM STDIN"


@functools.cache
def table_insert(model: type[SQLModel], dialect: Dialect) -> TableInsert:
    table = table_of(model)
    quote = dialect.identifier_preparer.quote
    columns = tuple(column.name for column in table.columns)
    processors = tuple(_processor(column, dialect) for column in table.columns)
    marker = "?" if dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(quote(c) for c in columns)
    markers = ", ".join([marker] * len(columns))
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({markers})"
    return TableInsert(table.name, columns, sql, processors)


def _processor(column: sa.Column[Any], dialect: Dialect) -> Processor | None:
    processor: Processor | None = column.type.dialect_impl(dialect).bind_processor(dialect)
    return processor


def dialect_of(session: Session) -> Dialect:
    return session.get_bind().dialect


def executemany(session: Session, model: type[SQLModel], rows: Sequence[Row]) -> None:
    """Every row into the model's table: one executemany on the driver's cursor (through
    SQLAlchemy's connection, so a driver's error is raised as SQLAlchemy's, as for any
    other statement)."""
    if rows:
        insert = table_insert(model, dialect_of(session))
        session.connection().exec_driver_sql(insert.sql, insert.values(rows))
