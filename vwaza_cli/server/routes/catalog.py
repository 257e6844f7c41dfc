"""`vwaza catalog` over HTTP: the export (the client writes the file on its own machine)."""

from __future__ import annotations

from fastapi import APIRouter

from vwaza_cli.server.deps import Caller
from vwaza_cli.server.routes import ERRORS, Json
from vwaza_cli.services import catalog

router = APIRouter(prefix="/catalog", tags=["catalog"], responses=ERRORS)


@router.get("/export")
def export(ctx: Caller) -> Json:
    """Your releases (an admin: everyone's) as a catalog document in the import format."""
    return catalog.export_catalog(ctx)
