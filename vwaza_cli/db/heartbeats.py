"""Daemon heartbeats: written by each running daemon, read by `vwaza daemon status`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlmodel import col

from vwaza_cli.db.models import DaemonHeartbeat


def beat(session: Session, row: DaemonHeartbeat) -> None:
    existing = session.get(DaemonHeartbeat, row.id)
    if existing is None:
        session.add(row)
    else:
        existing.last_seen = row.last_seen
        existing.in_flight = row.in_flight
        existing.stopped_at = row.stopped_at
    session.flush()


def recent(session: Session, since: datetime) -> Sequence[DaemonHeartbeat]:
    statement = (
        sa.select(DaemonHeartbeat)
        .where(col(DaemonHeartbeat.last_seen) > since)
        .order_by(col(DaemonHeartbeat.last_seen).desc())
    )
    return session.scalars(statement).all()


def forget_before(session: Session, before: datetime) -> None:
    session.execute(sa.delete(DaemonHeartbeat).where(col(DaemonHeartbeat.last_seen) < before))
