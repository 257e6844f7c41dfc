"""One error family. Each error carries the exit code of shared/spec/cli.md.

Errors are raised deep (services, db, storage, media) and turned into a single
``error: ...`` line (or a JSON error object) in one place: ``vwaza_cli.cli.output``.
"""

from __future__ import annotations

from typing import Any, ClassVar

EXIT_CODES: dict[str, int] = {
    "ok": 0,
    "internal": 1,
    "usage": 2,
    "not_found": 3,
    "permission": 4,
    "conflict": 5,
    "invalid": 6,
    "unavailable": 7,
}


class VwazaError(Exception):
    """Base of every error a user may see. ``kind`` names the exit code."""

    kind: ClassVar[str] = "internal"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.kind]


class NotFound(VwazaError):
    kind = "not_found"


class PermissionDenied(VwazaError):
    kind = "permission"


class Conflict(VwazaError):
    kind = "conflict"


class InvalidInput(VwazaError):
    kind = "invalid"


class Unavailable(VwazaError):
    kind = "unavailable"


class BadUsage(VwazaError):
    """A setting or command line this tool cannot take (exit 2, as Click's own)."""

    kind = "usage"


# --- named conditions -------------------------------------------------------


class UserNotFound(NotFound):
    pass


class ReleaseNotFound(NotFound):
    pass


class TrackNotFound(NotFound):
    pass


class JobNotFound(NotFound):
    pass


class AmbiguousId(InvalidInput):
    pass


class NotLoggedIn(PermissionDenied):
    def __init__(self, message: str = "not logged in: run `vwaza auth login --email YOU`") -> None:
        super().__init__(message)


class WrongCredentials(PermissionDenied):
    pass


class RoleForbidden(PermissionDenied):
    pass


class InvalidResetToken(PermissionDenied):
    pass


class UnsafeSessionFile(PermissionDenied):
    """The saved session may have been read or planted by someone else: it is not used."""


class EmailTaken(Conflict):
    pass


class TrackOrderTaken(Conflict):
    pass


class StatusForbids(Conflict):
    pass


class IncompleteRelease(Conflict):
    pass


class InvalidPassword(InvalidInput):
    pass


class InvalidMedia(InvalidInput):
    pass


class InvalidIsrc(InvalidInput):
    pass


class InvalidCatalog(InvalidInput):
    def __init__(self, message: str, problems: list[dict[str, Any]]) -> None:
        super().__init__(message, problems=problems)
        self.problems = problems


class StoreUnavailable(Unavailable):
    pass


class UnsupportedStoreUrl(BadUsage):
    pass


class StoreDatabaseMissing(StoreUnavailable):
    """The PostgreSQL server answers but has no such database: create it (no retry helps)."""


class StoreNotMigrated(Unavailable):
    pass


class StoreFull(StoreUnavailable):
    """The store's disk (or the database server's) has no room left for a write."""


class SpoolFull(Unavailable):
    """The spool folder has no room left (no space, quota used up, file too big for it)."""


class MailUnavailable(Unavailable):
    """The mail was not handed over: SMTP server unreachable or refusing, outbox unwritable."""


class StorageError(Unavailable):
    """An object-store failure. ``transient`` says whether retrying may help."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class TransientStorageError(StorageError):
    def __init__(self, message: str) -> None:
        super().__init__(message, transient=True)


class PermanentStorageError(StorageError):
    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


class StagedCopyChanged(InvalidInput):
    """A staged file no longer holds the bytes that were accepted (its size or SHA-256 is
    not the job's): no retry can fix that, the file has to be added again."""


class StorageRefused(Unavailable):
    """Storage refuses the daemon itself (its key, its URL, a bucket it may not create):
    no upload can start until a setting is fixed, whichever file it is."""


_BY_KIND: dict[str, type[VwazaError]] = {
    cls.kind: cls
    for cls in (NotFound, PermissionDenied, Conflict, InvalidInput, Unavailable, BadUsage)
}


def error_of_kind(kind: str, message: str, **details: Any) -> VwazaError:
    """An error a server answered, rebuilt here with the exit code its type names (a client
    takes the exit code from the type, never from the HTTP status); an unknown type is a bug."""
    return _BY_KIND.get(kind, VwazaError)(message, **details)
