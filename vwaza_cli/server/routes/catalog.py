"""`vwaza catalog` over HTTP. Export: the client writes the file on its own machine. Import:
the client sends the catalog file as an upload (`/uploads`), asks which of its files the
import needs (`/catalog/plan`: those of the releases to create, not https URLs: a re-run
sends nothing for what it imported before), sends each distinct file once as an upload,
then imports (`/catalog/import`) naming the upload of each file reference.

The import runs the same service as on one machine, on the received copies: a reference
the client sent no upload for is refused, unless it is an https URL (fetched by the server,
with its address checks), so that no catalog can make the server read its own files."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

from fastapi import APIRouter

from vwaza_cli.media import display_name
from vwaza_cli.server import resumable
from vwaza_cli.server.deps import Caller
from vwaza_cli.server.routes import ERRORS, Json
from vwaza_cli.server.routes.upload_sessions import owner_of, used
from vwaza_cli.server.schemas import CatalogImport, CatalogPlan, SentFile
from vwaza_cli.server.uploads import as_named
from vwaza_cli.services import catalog
from vwaza_cli.storage.download import is_url
from vwaza_cli.textsafe import printable

router = APIRouter(prefix="/catalog", tags=["catalog"], responses=ERRORS)
NOT_SENT = (
    "was not sent with the catalog: through a team server, a catalog names files on the "
    "client's machine (sent with it) or https URLs"
)


@router.get("/export")
def export(ctx: Caller) -> Json:
    """Your releases (an admin: everyone's) as a catalog document in the import format."""
    return catalog.export_catalog(ctx)


@router.post("/plan")
def plan(body: CatalogPlan, ctx: Caller) -> Json:
    """`{"files": [reference, ...]}`: the references whose files the import needs sent. A
    catalog that cannot be read at all is refused (422), and its upload removed."""
    upload = resumable.complete(ctx.settings, owner_of(ctx), body.catalog)
    names = {display_name(upload.path): body.shown}
    try:
        files = as_named(
            lambda: catalog.files_to_send(ctx, upload.path, submit_all=body.submit), names
        )
    except BaseException:
        resumable.remove(upload)
        raise
    return {"files": files}


@router.post("/import")
def import_(body: CatalogImport, ctx: Caller) -> Json:
    """The import's report, as `vwaza catalog import --json` prints it; every upload named
    is used (removed) whatever the outcome."""
    with ExitStack() as stack:
        sent_catalog = stack.enter_context(used(ctx, body.catalog))
        names = {display_name(sent_catalog.path): body.shown}
        received: dict[str, Path] = {}
        for sent in body.files.values():
            if sent.upload is not None and sent.upload not in received:
                upload = stack.enter_context(used(ctx, sent.upload))
                received[sent.upload] = upload.path
                names[display_name(upload.path)] = sent.shown
        resolve = _sent_files(body.files, received)
        return as_named(
            lambda: catalog.import_catalog(
                ctx,
                sent_catalog.path,
                dry_run=body.dry_run,
                submit_all=body.submit,
                resolve=resolve,
            ),
            names,
        )
    raise AssertionError("unreachable")  # mypy: ExitStack may swallow exceptions


def _sent_files(files: dict[str, SentFile], received: dict[str, Path]) -> catalog.Resolve:
    """Each reference: the copy the client sent, the client's reason it could not, or (an
    https URL only) the URL itself; anything else names no file of this machine's."""

    def resolve(_catalog: Path, reference: str) -> catalog.Source:
        sent = files.get(reference)
        if sent is None:
            if is_url(reference):
                return reference
            return catalog.Refused(f"{printable(reference[:300])} {NOT_SENT}")
        if sent.upload is not None:
            return received[sent.upload]
        return catalog.Refused(sent.error or f"{sent.shown}: could not be sent")

    return resolve
