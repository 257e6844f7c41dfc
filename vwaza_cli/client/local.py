"""The store on this machine: each action is the service function of the same name, called
in this process with the session of this machine (VWAZA_TOKEN or the saved one)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from vwaza_cli.client.base import Json, JsonList
from vwaza_cli.file_progress import Progress
from vwaza_cli.services.context import Context
from vwaza_cli.services.session_file import require_token, resolve_token
from vwaza_cli.settings import Settings
from vwaza_cli.watching import UploadProgress

if TYPE_CHECKING:
    from vwaza_cli.services.metadata import ReleaseChange, TrackChange

if TYPE_CHECKING:
    from vwaza_cli.services import (
        accounts,
        catalog,
        daemon_status,
        jobs,
        listings,
        password_reset,
        releases,
        review,
        tracks,
        upload_watch,
    )
else:  # loaded at the first call: a refusal before any (not logged in) imports no store
    from vwaza_cli.lazy import lazy_module

    accounts = lazy_module("vwaza_cli.services.accounts")
    catalog = lazy_module("vwaza_cli.services.catalog")
    daemon_status = lazy_module("vwaza_cli.services.daemon_status")
    jobs = lazy_module("vwaza_cli.services.jobs")
    listings = lazy_module("vwaza_cli.services.listings")
    password_reset = lazy_module("vwaza_cli.services.password_reset")
    releases = lazy_module("vwaza_cli.services.releases")
    review = lazy_module("vwaza_cli.services.review")
    tracks = lazy_module("vwaza_cli.services.tracks")
    upload_watch = lazy_module("vwaza_cli.services.upload_watch")


class LocalBackend:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def ctx(self) -> Context:
        """Built at the first action: a saved session is read only by commands that act."""
        return Context(settings=self.settings, token=resolve_token(self.settings))

    @property
    def acting(self) -> Context:
        """The context of an action that needs a session: without one, the refusal comes
        here, before the store is touched or the service's module loads (so each method
        takes it before naming the service function)."""
        require_token(self.settings, self.ctx.token)
        return self.ctx

    def close(self) -> None:
        """Nothing to close: the store's pool lives as long as the process."""

    def _warned(self, result: Json) -> Json:
        return upload_watch.with_daemon_warning(self.ctx, result)

    # --- accounts
    def register(self, email: str, artist_name: str, password: str) -> Json:
        return accounts.register(self.ctx, email, artist_name, password)

    def login(self, email: str, password: str) -> Json:
        return accounts.login(self.ctx, email, password)

    def logout(self) -> Json:
        return accounts.logout(self.ctx)

    def whoami(self) -> Json:
        ctx = self.acting
        return accounts.whoami(ctx)

    def change_password(self, old_password: str, new_password: str) -> Json:
        ctx = self.acting
        return accounts.change_password(ctx, old_password, new_password)

    def request_reset(self, email: str) -> Json:
        return password_reset.request_reset(self.ctx, email)

    def reset_password(self, token: str, password: str) -> Json:
        return password_reset.reset_password(self.ctx, token, password)

    def require_admin(self) -> None:
        ctx = self.acting
        accounts.require_admin(ctx)

    def create_user(self, email: str, role: str, artist_name: str | None, password: str) -> Json:
        ctx = self.acting
        return accounts.create_user(ctx, email, role, artist_name, password)

    def list_users(self) -> JsonList:
        ctx = self.acting
        return accounts.list_users(ctx)

    def delete_user(self, email: str) -> Json:
        ctx = self.acting
        return accounts.delete_user(ctx, email)

    # --- releases
    def create_release(
        self, title: str, genre: str, cover: Path | None, change: ReleaseChange
    ) -> Json:
        ctx = self.acting
        return releases.create_release(ctx, title, genre, cover, change)

    def list_releases(
        self, status: str | None, everyone: bool, limit: int, offset: int
    ) -> JsonList:
        ctx = self.acting
        return listings.list_releases(ctx, status, everyone, limit, offset)

    def may_list_all(self) -> bool:
        ctx = self.acting
        return listings.may_list_all(ctx)

    def show_release(self, release_id: str) -> Json:
        ctx = self.acting
        return releases.show_release(ctx, release_id)

    def edit_release(
        self, release_id: str, title: str | None, genre: str | None, change: ReleaseChange
    ) -> Json:
        ctx = self.acting
        return releases.edit_release(ctx, release_id, title, genre, change)

    def set_cover(self, release_id: str, path: Path) -> Json:
        ctx = self.acting
        return self._warned(releases.set_cover(ctx, release_id, path))

    def submit(self, release_id: str) -> Json:
        ctx = self.acting
        return self._warned(releases.submit(ctx, release_id))

    def wait_for_release(
        self,
        release_id: str,
        timeout: float,
        on_progress: Callable[[UploadProgress], None] | None,
    ) -> Json:
        ctx = self.acting
        return upload_watch.wait_for_release(ctx, release_id, timeout, on_progress)

    def delete_release(self, release_id: str) -> Json:
        ctx = self.acting
        return releases.delete_release(ctx, release_id)

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
        ctx = self.acting
        added = tracks.add_track(ctx, release_id, path, title, order, isrc, progress, change)
        return self._warned(added)

    def list_tracks(self, release_id: str) -> JsonList:
        ctx = self.acting
        return tracks.list_tracks(ctx, release_id)

    def show_track(self, track_id: str) -> Json:
        ctx = self.acting
        return tracks.show_track(ctx, track_id)

    def edit_track(
        self,
        track_id: str,
        title: str | None,
        isrc: str | None,
        preview_start: float | None = None,
        change: TrackChange | None = None,
    ) -> Json:
        ctx = self.acting
        return tracks.edit_track(ctx, track_id, title, isrc, preview_start, change)

    def move_track(self, track_id: str, to: int) -> JsonList:
        ctx = self.acting
        return tracks.move_track(ctx, track_id, to)

    def remove_track(self, track_id: str) -> Json:
        ctx = self.acting
        return tracks.remove_track(ctx, track_id)

    # --- review
    def pending_review(self, limit: int, offset: int) -> JsonList:
        ctx = self.acting
        return listings.pending(ctx, limit, offset)

    def review_show(self, release_id: str) -> Json:
        ctx = self.acting
        return review.show(ctx, release_id)

    def approve(self, release_id: str) -> Json:
        ctx = self.acting
        return review.approve(ctx, release_id)

    def reject(self, release_id: str, reason: str) -> Json:
        ctx = self.acting
        return review.reject(ctx, release_id, reason)

    # --- jobs, daemon, catalog
    def list_jobs(self, status: str | None) -> JsonList:
        ctx = self.acting
        return jobs.list_jobs(ctx, status)

    def retry_jobs(self, job_id: str | None) -> Json:
        ctx = self.acting
        return jobs.retry(ctx, job_id)

    def daemon_status(self) -> Json:
        ctx = self.acting
        return daemon_status.status(ctx)

    def export_catalog(self) -> Json:
        ctx = self.acting
        return catalog.export_catalog(ctx)

    def import_catalog(
        self, path: Path, dry_run: bool, submit_all: bool, progress: catalog.ImportProgress | None
    ) -> Json:
        ctx = self.acting
        return catalog.import_catalog(
            ctx, path, dry_run=dry_run, submit_all=submit_all, progress=progress
        )
