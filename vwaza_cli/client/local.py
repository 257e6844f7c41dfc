"""The store on this machine: each action is the service function of the same name, called
in this process with the session of this machine (VWAZA_TOKEN or the saved one)."""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from pathlib import Path

from vwaza_cli.client.base import Json, JsonList
from vwaza_cli.file_progress import Progress
from vwaza_cli.services import (
    accounts,
    catalog,
    daemon_status,
    jobs,
    password_reset,
    releases,
    review,
    tracks,
    upload_watch,
)
from vwaza_cli.services.context import Context
from vwaza_cli.services.session_file import resolve_token
from vwaza_cli.settings import Settings
from vwaza_cli.watching import UploadProgress


class LocalBackend:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @cached_property
    def ctx(self) -> Context:
        """Built at the first action: a saved session is read only by commands that act."""
        return Context(settings=self.settings, token=resolve_token(self.settings))

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
        return accounts.whoami(self.ctx)

    def change_password(self, old_password: str, new_password: str) -> Json:
        return accounts.change_password(self.ctx, old_password, new_password)

    def request_reset(self, email: str) -> Json:
        return password_reset.request_reset(self.ctx, email)

    def reset_password(self, token: str, password: str) -> Json:
        return password_reset.reset_password(self.ctx, token, password)

    def require_admin(self) -> None:
        accounts.require_admin(self.ctx)

    def create_user(self, email: str, role: str, artist_name: str | None, password: str) -> Json:
        return accounts.create_user(self.ctx, email, role, artist_name, password)

    def list_users(self) -> JsonList:
        return accounts.list_users(self.ctx)

    def delete_user(self, email: str) -> Json:
        return accounts.delete_user(self.ctx, email)

    # --- releases
    def create_release(self, title: str, genre: str, cover: Path | None) -> Json:
        return releases.create_release(self.ctx, title, genre, cover)

    def list_releases(
        self, status: str | None, everyone: bool, limit: int, offset: int
    ) -> JsonList:
        return releases.list_releases(self.ctx, status, everyone, limit, offset)

    def may_list_all(self) -> bool:
        return releases.may_list_all(self.ctx)

    def show_release(self, release_id: str) -> Json:
        return releases.show_release(self.ctx, release_id)

    def edit_release(self, release_id: str, title: str | None, genre: str | None) -> Json:
        return releases.edit_release(self.ctx, release_id, title, genre)

    def set_cover(self, release_id: str, path: Path) -> Json:
        return self._warned(releases.set_cover(self.ctx, release_id, path))

    def submit(self, release_id: str) -> Json:
        return self._warned(releases.submit(self.ctx, release_id))

    def wait_for_release(
        self,
        release_id: str,
        timeout: float,
        on_progress: Callable[[UploadProgress], None] | None,
    ) -> Json:
        return upload_watch.wait_for_release(self.ctx, release_id, timeout, on_progress)

    def delete_release(self, release_id: str) -> Json:
        return releases.delete_release(self.ctx, release_id)

    # --- tracks
    def add_track(
        self,
        release_id: str,
        path: Path,
        title: str | None,
        order: int | None,
        isrc: str | None,
        progress: Progress | None = None,
    ) -> Json:
        added = tracks.add_track(self.ctx, release_id, path, title, order, isrc, progress)
        return self._warned(added)

    def list_tracks(self, release_id: str) -> JsonList:
        return tracks.list_tracks(self.ctx, release_id)

    def show_track(self, track_id: str) -> Json:
        return tracks.show_track(self.ctx, track_id)

    def edit_track(
        self,
        track_id: str,
        title: str | None,
        isrc: str | None,
        preview_start: float | None = None,
    ) -> Json:
        return tracks.edit_track(self.ctx, track_id, title, isrc, preview_start)

    def move_track(self, track_id: str, to: int) -> JsonList:
        return tracks.move_track(self.ctx, track_id, to)

    def remove_track(self, track_id: str) -> Json:
        return tracks.remove_track(self.ctx, track_id)

    # --- review
    def pending_review(self) -> JsonList:
        return review.pending(self.ctx)

    def review_show(self, release_id: str) -> Json:
        return review.show(self.ctx, release_id)

    def approve(self, release_id: str) -> Json:
        return review.approve(self.ctx, release_id)

    def reject(self, release_id: str, reason: str) -> Json:
        return review.reject(self.ctx, release_id, reason)

    # --- jobs, daemon, catalog
    def list_jobs(self, status: str | None) -> JsonList:
        return jobs.list_jobs(self.ctx, status)

    def retry_jobs(self, job_id: str | None) -> Json:
        return jobs.retry(self.ctx, job_id)

    def daemon_status(self) -> Json:
        return daemon_status.status(self.ctx)

    def export_catalog(self) -> Json:
        return catalog.export_catalog(self.ctx)

    def import_catalog(
        self, path: Path, dry_run: bool, submit_all: bool, progress: catalog.ImportProgress | None
    ) -> Json:
        return catalog.import_catalog(
            self.ctx, path, dry_run=dry_run, submit_all=submit_all, progress=progress
        )
