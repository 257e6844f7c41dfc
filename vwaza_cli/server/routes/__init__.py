"""One router per noun, as `cli/` has one sub-app per noun; each route calls the service
function its command calls and answers with the dict that service returns."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Query

from vwaza_cli.server.schemas import ErrorBody

_WHEN = {
    400: "usage: a request the API does not take (missing, mistyped or unknown field)",
    401: "permission: no live session (no, unknown, expired or revoked token)",
    403: "permission: your role may not do it",
    404: "not_found: no such thing, or not yours to see",
    409: "conflict: an integrity rule or the release lifecycle forbids it",
    413: "invalid: the request body is too large",
    422: "invalid: a value the services refuse",
    429: "permission: too many failed logins for the account",
    500: "internal: a bug",
    503: "unavailable: the store, storage or mail cannot be reached",
}
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": when} for status, when in _WHEN.items()
}
Json = dict[str, Any]
JsonList = list[dict[str, Any]]

PAGE_SIZE = 100
MAX_OFFSET = 1_000_000_000  # far past any catalog; keeps the offset a number every engine holds


class Paging:
    """`limit` rows from `offset` (or from page `page` of `limit` rows, as older clients ask)."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=1000)] = PAGE_SIZE,
        offset: Annotated[int | None, Query(ge=0, le=MAX_OFFSET)] = None,
        page: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    ) -> None:
        self.limit = limit
        self.offset = offset if offset is not None else ((page or 1) - 1) * limit


Page = Annotated[Paging, Depends()]
