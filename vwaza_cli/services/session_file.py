"""The saved login: one JSON file, mode 0600, in a 0700 folder of its own."""

from __future__ import annotations

import json
import os
from pathlib import Path

from vwaza_cli.settings import Settings, ensure_private_dir


def save_token(settings: Settings, token: str, email: str) -> Path:
    folder = ensure_private_dir(settings.state_dir)
    target = settings.session_file
    temp = folder / f".session.{os.getpid()}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"token": token, "email": email}, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temp, target)
    return target


def load_token(settings: Settings) -> str | None:
    try:
        data = json.loads(settings.session_file.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    token = data.get("token") if isinstance(data, dict) else None
    return token if isinstance(token, str) else None


def clear_token(settings: Settings) -> None:
    settings.session_file.unlink(missing_ok=True)


def resolve_token(settings: Settings) -> str | None:
    """VWAZA_TOKEN (for CI) wins over the saved session."""
    return os.environ.get("VWAZA_TOKEN") or load_token(settings)
