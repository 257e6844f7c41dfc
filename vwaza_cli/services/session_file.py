"""The saved login: one JSON file, mode 0600, in a 0700 folder of its own.

Like ssh with a private key, a saved session is used only when no one else could have read
or planted it: a regular file (not a symbolic link) of ours, open to no one else, in a folder
of ours (or root's) that no one else may write to. Otherwise commands that need a login are
refused with how to fix it (exit 4), and never fall back on it silently; logging in again
replaces it (and revokes the token it held), whatever its state.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path

from vwaza_cli.errors import NotLoggedIn, Unavailable, UnsafeSessionFile
from vwaza_cli.settings import Settings, ensure_private_dir

MAX_BYTES = 64 * 1024  # a token and an email: anything bigger is not ours


@dataclass(frozen=True)
class Saved:
    """What the session file holds (``token``), and why it must not be used (``problem``)."""

    token: str | None = None
    problem: str | None = None
    server: str | None = None  # the team server the session was opened on (`--server`)


def save_token(settings: Settings, token: str, email: str, server: str | None = None) -> Path:
    folder = private_folder(settings)
    temp = folder / f".session.{uuid.uuid4().hex}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    try:
        with os.fdopen(os.open(temp, flags, 0o600), "w", encoding="utf-8") as fh:
            saved = {"token": token, "email": email}
            if server is not None:
                saved["server"] = server
            json.dump(saved, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, settings.session_file)  # a symlink in its place is replaced, not followed
    except OSError as exc:
        raise Unavailable(
            f"cannot save the session in {folder} ({exc.strerror}): free space there or "
            "check its permissions, then log in again"
        ) from None
    finally:
        temp.unlink(missing_ok=True)
    return settings.session_file


def private_folder(settings: Settings) -> Path:
    """The session's folder, made 0700; refused if it belongs to someone else."""
    folder = settings.state_dir
    try:
        ensure_private_dir(folder)
    except PermissionError:
        raise UnsafeSessionFile(_foreign_folder(folder)) from None
    if os.stat(folder).st_uid != os.geteuid():
        raise UnsafeSessionFile(_foreign_folder(folder))
    _refuse_a_folder_in_place(settings.session_file)
    return folder


def _refuse_a_folder_in_place(path: Path) -> None:
    """A new session replaces whatever is in its place (a file, a symbolic link), but not a
    folder: removing one, and all it may hold, is for its owner to decide."""
    try:
        info = os.lstat(path)
    except OSError:
        return  # nothing there (or nothing we can see): the save says what went wrong
    if stat.S_ISDIR(info.st_mode):
        raise UnsafeSessionFile(f"the saved session {path} is not a regular file: {_redo(path)}")


def load_token(settings: Settings) -> str | None:
    """The saved token, when there is one and it is safe to use."""
    saved = read_saved(settings)
    return saved.token if saved.problem is None else None


def refuse_unsafe(settings: Settings) -> None:
    """Raise, saying how to fix it, when a saved session exists that may not be used."""
    problem = read_saved(settings).problem
    if problem is not None:
        raise UnsafeSessionFile(problem)


def require_token(settings: Settings, token: str | None) -> str:
    """The session token a command acts with; without one, the refusal (not logged in, or
    why the saved session may not be used), before anything touches the store."""
    if not token:
        refuse_unsafe(settings)
        raise NotLoggedIn()
    return token


def token_to_replace(settings: Settings) -> str | None:
    """The token in the session file whatever its modes, for a login or logout that is about
    to replace or remove it to revoke it (an exposed token above all). Never through a
    symbolic link: what it points to is not our session."""
    try:
        fd = os.open(settings.session_file, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return _token_in(_read_open(fd))


def read_saved(settings: Settings) -> Saved:
    """The session file, checked before it is read: folder first, then the file itself."""
    folder, path = settings.state_dir, settings.session_file
    try:
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except FileNotFoundError:
        return Saved()
    except OSError as exc:
        return Saved(problem=_unreadable(path, exc))
    try:
        problem = _folder_problem(folder, os.fstat(dir_fd))
        return Saved(problem=problem) if problem else _read_file(path, dir_fd)
    finally:
        os.close(dir_fd)


def _read_file(path: Path, dir_fd: int) -> Saved:
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        fd = os.open(path.name, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        return Saved()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Saved(problem=f"the saved session {path} is a symbolic link: {_redo(path)}")
        return Saved(problem=_unreadable(path, exc))
    # Checked on the raw descriptor: os.fdopen refuses a folder with IsADirectoryError.
    problem = _file_problem(path, os.fstat(fd))
    if problem:
        os.close(fd)
        return Saved(problem=problem)
    return _saved_in(_read_open(fd))


def _read_open(fd: int) -> bytes:
    """What a regular file open on ``fd`` holds (up to MAX_BYTES); closes ``fd``."""
    with os.fdopen(fd, "rb") as fh:
        return fh.read(MAX_BYTES)


def _folder_problem(folder: Path, info: os.stat_result) -> str | None:
    if info.st_uid not in (os.geteuid(), 0):
        return _foreign_folder(folder)
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o022:
        return (
            f"the folder of the saved session {folder} is writable by others (mode {mode:04o}): "
            f"fix with chmod 700 {folder}"
        )
    return None


def _file_problem(path: Path, info: os.stat_result) -> str | None:
    if not stat.S_ISREG(info.st_mode):
        return f"the saved session {path} is not a regular file: {_redo(path)}"
    if info.st_uid != os.geteuid():
        owner = f"another user (uid {info.st_uid})"
        return f"the saved session {path} belongs to {owner}: {_redo(path)}"
    mode = stat.S_IMODE(info.st_mode)
    if mode & 0o077:
        return (
            f"the saved session {path} is open to others (mode {mode:04o}): fix with chmod 600 "
            f"{path}, or log in again to replace it (that revokes the token it holds)"
        )
    return None


def _foreign_folder(folder: Path) -> str:
    return (
        f"the folder of the saved session {folder} belongs to another user: remove it, or set "
        "VWAZA_HOME to a folder of your own"
    )


def _unreadable(path: Path, exc: OSError) -> str:
    return f"cannot read the saved session {path} ({exc.strerror}): {_redo(path)}"


def _redo(path: Path) -> str:
    remove = "rm -r" if path.is_dir() and not path.is_symlink() else "rm"
    return f"remove it ({remove} {path}) and log in again"


def _token_in(content: bytes) -> str | None:
    return _saved_in(content).token


def _saved_in(content: bytes) -> Saved:
    """What a session file holds; anything but what save_token writes holds no token."""
    try:
        data = json.loads(content.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, or nested past the stack
        return Saved()
    if not isinstance(data, dict):
        return Saved()
    token, server = _text(data.get("token")), _text(data.get("server"))
    return Saved(token=token, server=server if token else None)


def _text(value: object) -> str | None:
    """A string that is valid text: JSON's escapes can spell lone surrogates ("\\udcff"),
    which no token or address of ours holds and which cannot be encoded."""
    if not isinstance(value, str):
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def saved_server(settings: Settings) -> str | None:
    """The server a safe saved session was opened on, if it was opened on one."""
    saved = read_saved(settings)
    return saved.server if saved.problem is None else None


def clear_token(settings: Settings) -> None:
    """Forget the saved session (a symbolic link there is removed, not what it points to)."""
    path = settings.session_file
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise UnsafeSessionFile(
            f"cannot remove the saved session {path} ({exc.strerror})"
        ) from None


def resolve_token(settings: Settings) -> str | None:
    """VWAZA_TOKEN (for CI) wins over the saved session, which is used only when safe.
    Spaces and newlines around it are not part of it: CI secrets often end with a newline."""
    return os.environ.get("VWAZA_TOKEN", "").strip() or load_token(settings)
