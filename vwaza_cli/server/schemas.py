"""The request bodies: the command line's options as JSON fields, under the same names.

Only the shape is checked here (a field missing, mistyped or unknown is a usage error, 400,
as a bad command line is exit 2); every value is checked by the services, in their words.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from vwaza_cli.enums import Role


def _encodable(value: str) -> str:
    """JSON may carry lone surrogates (``"\\ud800"``), which no text of ours can hold."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text (a lone surrogate)") from None
    return value


Text = Annotated[str, AfterValidator(_encodable)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Register(Body):
    email: Text
    artist_name: Text
    password: Text


class Login(Body):
    email: Text
    password: Text


class PasswordChange(Body):
    old_password: Text
    new_password: Text


class ResetRequest(Body):
    email: Text


class Reset(Body):
    token: Text
    password: Text


class UserCreate(Body):
    email: Text
    role: Text = Role.ARTIST.value
    artist_name: Text | None = None
    password: Text


class StoreFields(Body):
    """A release's store metadata (spec/distribution.md), as typed: the service checks it."""

    upc: Text | None = None
    release_date: Text | None = None
    original_release_date: Text | None = None
    label: Text | None = None
    p_line: Text | None = None
    c_line: Text | None = None
    language: Text | None = None


class ReleaseCreate(StoreFields):
    title: Text
    genre: Text


class ReleaseEdit(StoreFields):
    title: Text | None = None
    genre: Text | None = None


class TrackStoreFields(Body):
    """A track's store metadata, as typed; a list given replaces that list."""

    explicit: Text | None = None
    featured_artists: list[Text] | None = None
    composers: list[Text] | None = None
    lyricists: list[Text] | None = None
    producers: list[Text] | None = None


class TrackEdit(TrackStoreFields):
    title: Text | None = None
    isrc: Text | None = None
    preview_start: float | None = None


class TrackMove(Body):
    to: int


class Reject(Body):
    reason: Text


class ErrorDetail(BaseModel):
    type: str = Field(description="The exit code's name: not_found, permission, conflict, ...")
    message: str
    problems: list[dict[str, Any]] | None = None
    lines: list[str] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


class Health(BaseModel):
    status: str


class UploadBegin(Body):
    filename: Text
    size: int = Field(ge=0)


SHOWN_LENGTH = 4096  # a path as a client shows it: PATH_MAX


class CatalogPlan(Body):
    catalog: Text  # the upload holding the catalog file
    shown: Text = Field(max_length=SHOWN_LENGTH)  # the catalog's name as the client shows it
    submit: bool = False


class SentFile(Body):
    """One file reference of the catalog: the upload sent for it, or why the client could
    not send it (the problem it gets, as on one machine)."""

    shown: Text = Field(max_length=SHOWN_LENGTH)  # the file's name as the client shows it
    upload: Text | None = None
    error: Text | None = Field(default=None, max_length=2000)


class CatalogImport(CatalogPlan):
    files: dict[str, SentFile] = Field(default_factory=dict)  # by reference, as written
    dry_run: bool = False


class TrackFromUpload(TrackStoreFields):
    upload: Text
    title: Text | None = None
    order: int | None = None
    isrc: Text | None = None


class CoverFromUpload(Body):
    upload: Text
