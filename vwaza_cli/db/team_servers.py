"""Team servers over the store: written by `vwaza serve` as it starts and stops, read by
`vwaza doctor`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlmodel import col

from vwaza_cli.db.lookup import table_of
from vwaza_cli.db.models import TeamServer, column_values


def record_start(session: Session, row: TeamServer) -> None:
    """One row per machine: a server started again (or at another address) replaces it."""
    table = table_of(TeamServer)
    insert: postgresql.Insert | sqlite.Insert
    if session.connection().dialect.name == "postgresql":
        insert = postgresql.insert(table)
    else:
        insert = sqlite.insert(table)
    values = column_values(row)
    replaced = {name: insert.excluded[name] for name in values if name != "machine_id"}
    upsert = insert.on_conflict_do_update(index_elements=["machine_id"], set_=replaced)
    session.execute(upsert, values)


def record_stop(session: Session, machine_id: str, at: datetime) -> None:
    statement = (
        sa.update(TeamServer).where(col(TeamServer.machine_id) == machine_id).values(stopped_at=at)
    )
    session.execute(statement)


def running(session: Session) -> Sequence[TeamServer]:
    """Servers not stopped cleanly since they last started (a crash leaves one running),
    the last started first."""
    statement = (
        sa.select(TeamServer)
        .where(col(TeamServer.stopped_at).is_(None))
        .order_by(col(TeamServer.started_at).desc())
    )
    return session.scalars(statement).all()
