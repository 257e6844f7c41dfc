"""A team server (`vwaza serve`): each action is one request to its HTTP API, with this
machine's session token in the `Authorization` header only. Nothing here imports SQLAlchemy:
a client holds no store, no storage key and no mail settings.

Files (`track add`, `release cover`) go up as the request body, streamed from the disk a
piece at a time; the server checks, stages and queues them before it answers."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

import httpx

from vwaza_cli.client.base import Json, JsonList
from vwaza_cli.enums import Role
from vwaza_cli.errors import InvalidInput, Unavailable, VwazaError, error_of_kind
from vwaza_cli.file_progress import OnBytes, Progress
from vwaza_cli.media import AUDIO_MAX_BYTES, display_name
from vwaza_cli.services import session_file
from vwaza_cli.services.catalog_format import open_catalog, resolve_source
from vwaza_cli.services.spool import open_source, too_large, usable_path
from vwaza_cli.services.text import unsafe_reason
from vwaza_cli.settings import Settings
from vwaza_cli.watching import Look, UploadProgress, wait_for_review

API = "/api/v1"
CHUNK = 1024 * 1024  # what is read from a file and sent at a time
RESUMABLE_FROM = 8 * 1024 * 1024  # larger files go up as a resumable upload
MAX_RESUMES = 8  # drops in a row, each with less than a CHUNK gone through, before giving up
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
UNHURRIED = httpx.Timeout(None, connect=10.0)  # a whole catalog's import: minutes, not seconds
SENDERS = 4  # a catalog's files sent at once: small files are round trips, not bandwidth
MAX_NAME_BYTES = 200  # a file name sent longer than this goes as "file" and its suffix

if TYPE_CHECKING:
    from vwaza_cli.services.catalog import ImportProgress
    from vwaza_cli.services.metadata import ReleaseChange, TrackChange


class ServerUnreachable(Unavailable):
    """The request did not get an answer: no connection, or it dropped on the way."""


class RemoteBackend:
    def __init__(self, settings: Settings, server: str) -> None:
        self.settings = settings
        self.server = server.rstrip("/")
        self._client: httpx.Client | None = None

    # --- the wire

    @property
    def token(self) -> str | None:
        return session_file.resolve_token(self.settings)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(base_url=self.server + API, timeout=TIMEOUT)
        return self._client

    def _call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Any:
        """One request; the answer's JSON, or the error the server named, raised here."""
        bearer = token if token is not None else self.token
        headers = dict(headers or {})
        if bearer:
            headers["Authorization"] = f"Bearer {_as_ascii(bearer)}"
        for part in ("json", "params"):
            if isinstance(kwargs.get(part), dict):
                kwargs[part] = _checked(kwargs[part])
        try:
            response = self._http().request(method, path, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            raise ServerUnreachable(
                f"cannot reach the server at {self.server} ({_reason(exc)}): check "
                "VWAZA_SERVER (or `vwaza auth login --server URL`), retry later"
            ) from None
        if response.status_code == 204:
            return {}
        if not response.is_success:
            raise _error_of(response, self.server)
        return response.json()

    # --- accounts

    def register(self, email: str, artist_name: str, password: str) -> Json:
        body = {"email": email, "artist_name": artist_name, "password": password}
        return self._call("POST", "/auth/register", token="", json=body)

    def login(self, email: str, password: str) -> Json:
        """As on one machine: the session is saved here (0600, with the server's URL), and
        the session it replaces is revoked on the server."""
        session_file.private_folder(self.settings)  # refused before anything changes
        replaced = session_file.token_to_replace(self.settings)
        result: Json = self._call(
            "POST", "/auth/login", token="", json={"email": email, "password": password}
        )
        session_file.save_token(
            self.settings, result["token"], result["user"]["email"], self.server
        )
        if replaced and replaced != result["token"]:
            self._revoke_quietly(replaced)
        return result

    def _revoke_quietly(self, token: str) -> None:
        try:
            self._call("POST", "/auth/logout", token=token)
        except VwazaError:
            pass  # an expired or already revoked token: nothing is left to revoke

    def logout(self) -> Json:
        saved = session_file.token_to_replace(self.settings)
        token = self.token or saved
        result: Json = {"logged_out": True, "revoked": False}
        if token:
            answer = self._call("POST", "/auth/logout", token=token)
            result["revoked"] = bool(answer.get("revoked", False))
        if saved in (token, None):
            session_file.clear_token(self.settings)
        return result

    def whoami(self) -> Json:
        return self._call("GET", "/auth/whoami")

    def change_password(self, old_password: str, new_password: str) -> Json:
        body = {"old_password": old_password, "new_password": new_password}
        return self._call("POST", "/auth/password/change", json=body)

    def request_reset(self, email: str) -> Json:
        body = {"email": email}
        return self._call("POST", "/auth/password/reset-request", token="", json=body)

    def reset_password(self, token: str, password: str) -> Json:
        body = {"token": token, "password": password}
        return self._call("POST", "/auth/password/reset", token="", json=body)

    def require_admin(self) -> None:
        self._call("GET", "/admin/check")

    def create_user(self, email: str, role: str, artist_name: str | None, password: str) -> Json:
        body = {"email": email, "role": role, "artist_name": artist_name, "password": password}
        return self._call("POST", "/admin/users", json=body)

    def list_users(self) -> JsonList:
        return self._call("GET", "/admin/users")

    def delete_user(self, email: str) -> Json:
        return self._call("DELETE", f"/admin/users/{_segment(email)}")

    # --- releases

    def create_release(
        self, title: str, genre: str, cover: Path | None, change: ReleaseChange
    ) -> Json:
        """With a cover, as on one machine: a refused cover leaves no release behind."""
        if cover is not None:
            open_source(cover).close()  # a cover that cannot be read: no release made
        body = {"title": title, "genre": genre, **change.as_json()}
        release: Json = self._call("POST", "/releases", json=body)
        if cover is None:
            return release
        try:
            return self.set_cover(release["id"], cover)
        except BaseException:
            self._delete_quietly(release["id"])
            raise

    def _delete_quietly(self, release_id: str) -> None:
        try:
            self._call("DELETE", f"/releases/{_segment(release_id)}")
        except VwazaError:
            pass  # the error that matters is the cover's

    def list_releases(
        self, status: str | None, everyone: bool, limit: int, offset: int
    ) -> JsonList:
        params: dict[str, Any] = {"all": everyone, "limit": limit, "offset": offset}
        if status is not None:
            params["status"] = status
        return self._call("GET", "/releases", params=params)

    def may_list_all(self) -> bool:
        return bool(self.whoami().get("role") == Role.ADMIN.value)

    def show_release(self, release_id: str) -> Json:
        return self._call("GET", f"/releases/{_segment(release_id)}")

    def edit_release(
        self, release_id: str, title: str | None, genre: str | None, change: ReleaseChange
    ) -> Json:
        body = {"title": title, "genre": genre, **change.as_json()}
        return self._call("PATCH", f"/releases/{_segment(release_id)}", json=body)

    def set_cover(self, release_id: str, path: Path) -> Json:
        return self._send_file("PUT", f"/releases/{_segment(release_id)}/cover", path, {})

    def submit(self, release_id: str) -> Json:
        return self._call("POST", f"/releases/{_segment(release_id)}/submit")

    def wait_for_release(
        self,
        release_id: str,
        timeout: float,
        on_progress: Callable[[UploadProgress], None] | None,
    ) -> Json:
        path = f"/releases/{_segment(release_id)}/uploads"
        return wait_for_review(
            lambda: Look.from_json(self._call("GET", path)), timeout, on_progress
        )

    def delete_release(self, release_id: str) -> Json:
        return self._call("DELETE", f"/releases/{_segment(release_id)}")

    # --- tracks

    def add_track(
        self,
        release_id: str,
        path: Path,
        title: str | None,
        order: int | None,
        isrc: str | None,
        progress: Progress | None = None,
        change: TrackChange | None = None,
    ) -> Json:
        """The server copies and checks the file: ``progress`` is told the bytes sent."""
        fields = {"title": title, "order": order, "isrc": isrc}
        params = {k: v for k, v in fields.items() if v is not None}
        params.update(change.as_json() if change is not None else {})
        where = f"/releases/{_segment(release_id)}/tracks"
        return self._send_file("POST", where, path, params, progress)

    def list_tracks(self, release_id: str) -> JsonList:
        return self._call("GET", f"/releases/{_segment(release_id)}/tracks")

    def show_track(self, track_id: str) -> Json:
        return self._call("GET", f"/tracks/{_segment(track_id)}")

    def edit_track(
        self,
        track_id: str,
        title: str | None,
        isrc: str | None,
        preview_start: float | None = None,
        change: TrackChange | None = None,
    ) -> Json:
        body = {"title": title, "isrc": isrc, "preview_start": preview_start}
        body.update(change.as_json() if change is not None else {})
        return self._call("PATCH", f"/tracks/{_segment(track_id)}", json=body)

    def move_track(self, track_id: str, to: int) -> JsonList:
        return self._call("POST", f"/tracks/{_segment(track_id)}/move", json={"to": to})

    def remove_track(self, track_id: str) -> Json:
        return self._call("DELETE", f"/tracks/{_segment(track_id)}")

    # --- review

    def pending_review(self, limit: int, offset: int) -> JsonList:
        return self._call("GET", "/review", params={"limit": limit, "offset": offset})

    def review_show(self, release_id: str) -> Json:
        return self._call("GET", f"/review/{_segment(release_id)}")

    def approve(self, release_id: str) -> Json:
        return self._call("POST", f"/review/{_segment(release_id)}/approve")

    def reject(self, release_id: str, reason: str) -> Json:
        path = f"/review/{_segment(release_id)}/reject"
        return self._call("POST", path, json={"reason": reason})

    # --- jobs, daemon, catalog

    def list_jobs(self, status: str | None) -> JsonList:
        params = {"status": status} if status is not None else {}
        return self._call("GET", "/jobs", params=params)

    def retry_jobs(self, job_id: str | None) -> Json:
        path = "/jobs/retry-failed" if job_id is None else f"/jobs/{_segment(job_id)}/retry"
        return self._call("POST", path)

    def daemon_status(self) -> Json:
        return self._call("GET", "/daemon/status")

    def export_catalog(self) -> Json:
        return self._call("GET", "/catalog/export")

    def import_catalog(
        self, path: Path, dry_run: bool, submit_all: bool, progress: ImportProgress | None
    ) -> Json:
        """As on one machine, the files being on this one: the catalog goes up; the server
        answers the catalog's own problems, or which files the releases to create need; each
        distinct file goes up once; then the server imports from those copies. Uploads the
        import never got to are cancelled."""
        sent: list[str] = []
        shown = display_name(path)
        try:
            with open_catalog(path) as handle:
                size = os.fstat(handle.fileno()).st_size
                catalog = self._upload(handle, _sendable(path), size, None)
            sent.append(catalog)
            body: Json = {"catalog": catalog, "shown": shown, "submit": submit_all}
            wanted: list[str] = self._call("POST", "/catalog/plan", json=body)["files"]
            files = self._send_files(path, wanted, progress, sent)
        except BaseException:
            self._cancel_quietly(sent)
            raise
        body.update(files=files, dry_run=dry_run)
        try:
            return self._call("POST", "/catalog/import", json=body, timeout=UNHURRIED)
        except ServerUnreachable:
            raise  # the server may be importing from them still: it removes them when done
        except VwazaError:
            self._cancel_quietly(sent)  # used and removed already, unless refused unread
            raise

    def _send_files(
        self,
        catalog: Path,
        references: list[str],
        progress: ImportProgress | None,
        sent: list[str],
    ) -> dict[str, Json]:
        """Each reference's upload (one per distinct file, by device and inode), or why its
        file could not be sent: the problem the import then reports for it."""
        found = [_LocalFile.of(catalog, reference) for reference in references]
        distinct: dict[tuple[int, int], _LocalFile] = {}
        for file in found:
            if file.error is None:
                distinct.setdefault(file.identity, file)  # sent under its first name
        if progress is not None:
            progress.sending(len(distinct), sum(f.size for f in distinct.values()))
        on_bytes = _serialised(progress.sent) if progress is not None else None

        def send(file: _LocalFile) -> str:
            with open_source(file.path) as handle:
                upload = self._upload(handle, _sendable(file.path), file.size, on_bytes)
            sent.append(upload)
            return upload

        self._http()  # one connection pool, made before the threads share it
        pool = ThreadPoolExecutor(max_workers=SENDERS)
        try:
            ids = list(pool.map(send, distinct.values()))
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        uploads = dict(zip(distinct, ids, strict=True))
        return {f.reference: f.as_sent(uploads) for f in found}

    def _cancel_quietly(self, uploads: list[str]) -> None:
        for upload in uploads:
            try:
                self._call("DELETE", f"/uploads/{upload}")
            except VwazaError:
                pass  # gone already, or the server is away: it removes them after a day

    # --- files

    def _send_file(
        self,
        method: str,
        path: str,
        file: Path,
        params: dict[str, Any],
        progress: Progress | None = None,
    ) -> Any:
        """The file as the request body, read a piece at a time (memory flat); its name
        (without folders) goes along, for the default title and the server's messages. A
        large file goes up as a resumable upload first, which the request then names.
        ``progress`` is told the bytes sent, then that the server is checking the file."""
        on_bytes = progress.copied if progress is not None else None
        on_sent = progress.checked_elsewhere if progress is not None else None
        with open_source(file) as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < RESUMABLE_FROM:
                return self._call(
                    method,
                    path,
                    params={**params, "filename": file.name},
                    content=_Sent(handle, size, on_bytes, on_sent),
                )
            upload = self._upload(handle, file.name, size, on_bytes)
        if on_sent is not None:
            on_sent()
        return self._call(method, f"{path}/from-upload", json={**params, "upload": upload})

    def _upload(self, handle: BinaryIO, name: str, size: int, on_bytes: OnBytes | None) -> str:
        """Send the file as a resumable upload: after a dropped connection, ask the server
        how much it holds and go on from there (MAX_RESUMES times in a row at most)."""
        upload: str = self._call("POST", "/uploads", json={"filename": name, "size": size})["id"]
        where, offset, failures = f"/uploads/{upload}", 0, 0
        while offset < size:
            handle.seek(offset)
            body = _Sent(handle, size - offset, on_bytes)
            try:
                answer = self._call(
                    "PATCH", where, headers={"Upload-Offset": str(offset)}, content=body
                )
                offset, failures = int(answer["offset"]), 0
            except ServerUnreachable:
                failures += 1
                if failures > MAX_RESUMES:
                    raise
                pause(min(0.25 * 2**failures, 10.0))
                held = self._held(where, offset)
                body.give_back(offset + body.sent - held)  # sent, but never arrived
                if held - offset >= CHUNK:
                    failures = 0  # it got somewhere: only drops without progress add up
                offset = held
        return upload

    def _held(self, where: str, fallback: int) -> int:
        try:
            return int(self._call("GET", where)["offset"])
        except ServerUnreachable:
            return fallback  # still unreachable: try sending from the same place again


@dataclass(frozen=True)
class _LocalFile:
    """A file reference of the catalog, looked up on this machine."""

    reference: str
    path: Path
    identity: tuple[int, int] = (0, 0)
    size: int = 0
    error: str | None = None

    @classmethod
    def of(cls, catalog: Path, reference: str) -> _LocalFile:
        path = Path(resolve_source(catalog, reference))  # the server sent no https URL
        try:
            with open_source(usable_path(path)) as handle:
                info = os.fstat(handle.fileno())
        except VwazaError as exc:
            return cls(reference, path, error=exc.message)
        if info.st_size > AUDIO_MAX_BYTES:  # more than the server takes in an upload
            return cls(
                reference, path, error=too_large(display_name(path), AUDIO_MAX_BYTES).message
            )
        return cls(reference, path, (info.st_dev, info.st_ino), info.st_size)

    def as_sent(self, uploads: dict[tuple[int, int], str]) -> Json:
        shown = display_name(self.path)
        if self.error is not None:
            return {"shown": shown, "error": self.error}
        return {"shown": shown, "upload": uploads[self.identity]}


def _serialised(on_bytes: OnBytes) -> OnBytes:
    """``on_bytes`` called by one sending thread at a time."""
    lock = threading.Lock()

    def told(count: int) -> None:
        with lock:
            on_bytes(count)

    return told


def _sendable(path: Path) -> str:
    """The file's name for the server (its messages name the file as this machine does)."""
    name = path.name
    try:
        fits = len(name.encode("utf-8")) <= MAX_NAME_BYTES
    except UnicodeEncodeError:  # a name that is not UTF-8 on this machine
        fits = False
    return name if fits else "file" + "".join(path.suffixes[-1:])[:16]


def pause(seconds: float) -> None:
    """The wait before resuming an upload (tests move it instead of sleeping)."""
    time.sleep(seconds)


class _Sent:
    """A request body of ``length`` bytes read from ``handle`` a piece at a time, telling
    ``on_bytes`` what the connection took (and, on a resume, what never arrived)."""

    def __init__(
        self,
        handle: BinaryIO,
        length: int,
        on_bytes: OnBytes | None,
        on_end: Callable[[], None] | None = None,
    ) -> None:
        self.handle, self.left, self.on_bytes, self.sent = handle, length, on_bytes, 0
        self.on_end = on_end

    def __iter__(self) -> Iterator[bytes]:
        while self.left > 0 and (piece := self.handle.read(min(CHUNK, self.left))):
            self.left -= len(piece)
            yield piece
            self.sent += len(piece)
            if self.on_bytes is not None:
                self.on_bytes(len(piece))  # taken by the connection: sent
        if self.left == 0 and self.on_end is not None:
            self.on_end()  # all of it sent: the server's answer comes once it has checked it

    def give_back(self, count: int) -> None:
        if count > 0 and self.on_bytes is not None:
            self.on_bytes(-count)


def _as_ascii(token: str) -> str:
    """A token as a header can carry it. One that is not ASCII (a lone surrogate from bytes
    that are not UTF-8, say) cannot be a token the server made: its bytes go percent-escaped,
    so the server answers for it as for any unknown token."""
    if token.isascii():
        return token
    return quote(token.encode("utf-8", "surrogatepass"), safe="")


def _checked(fields: dict[str, Any]) -> dict[str, Any]:
    """The request's fields, refused here as the services refuse them when a value holds a
    lone surrogate (text that cannot be sent as UTF-8); a reset token goes escaped instead,
    for the server to say it is unknown."""
    for key, value in fields.items():
        if not isinstance(value, str):
            continue
        surrogate = next((ch for ch in value if 0xD800 <= ord(ch) <= 0xDFFF), None)
        if surrogate is None:
            continue
        if key == "token":
            fields = {**fields, key: _as_ascii(value)}
            continue
        raise InvalidInput(unsafe_reason(key, surrogate))
    return fields


def _segment(value: str) -> str:
    """An ID or email as one path segment, whatever it holds."""
    return quote(value, safe="@")


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _error_of(response: httpx.Response, server: str) -> VwazaError:
    try:
        body = response.json()["error"]
        kind, message = str(body["type"]), str(body["message"])
    except (ValueError, KeyError, TypeError):
        return Unavailable(
            f"the server at {server} answered HTTP {response.status_code} without an error "
            "this client understands: is VWAZA_SERVER a Vwaza server?"
        )
    details = {k: body[k] for k in ("problems", "lines") if body.get(k)}
    return error_of_kind(kind, message, **details)
