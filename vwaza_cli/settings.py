"""Where things live and how the tool is configured.

Order of precedence: environment variables, then ``config.toml`` in the config dir, then
defaults. Nothing here touches the disk until a path is asked to exist (``ensure_dirs``).
"""

from __future__ import annotations

import os
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from vwaza_cli.errors import InvalidInput

APP_NAME = "vwaza"
DEFAULT_BUCKET = "vwaza-uploads"
DEFAULT_BCRYPT_ROUNDS = 12
DEFAULT_SESSION_DAYS = 30
# (lowest, highest) of each whole-number setting: bcrypt's own cost range; a login that
# lasts at least a day and at most a year; a TCP port.
BCRYPT_ROUNDS_RANGE = (4, 31)
SESSION_DAYS_RANGE = (1, 365)
PORT_RANGE = (1, 65535)
_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}

# config.toml key -> environment variable
_ENV_KEYS = {
    "database_url": "VWAZA_DATABASE_URL",
    "storage": "VWAZA_STORAGE",
    "supabase_url": "SUPABASE_URL",
    "supabase_key": "SUPABASE_KEY",
    "bucket": "VWAZA_BUCKET",
    "smtp_host": "VWAZA_SMTP_HOST",
    "smtp_port": "VWAZA_SMTP_PORT",
    "smtp_user": "VWAZA_SMTP_USER",
    "smtp_password": "VWAZA_SMTP_PASSWORD",
    "smtp_from": "VWAZA_SMTP_FROM",
    "smtp_security": "VWAZA_SMTP_SECURITY",
    "bcrypt_rounds": "VWAZA_BCRYPT_ROUNDS",
    "session_days": "VWAZA_SESSION_DAYS",
    "machine_id": "VWAZA_MACHINE_ID",
    "allow_private_urls": "VWAZA_ALLOW_PRIVATE_URLS",
    "server": "VWAZA_SERVER",
}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str | None
    password: str | None
    sender: str
    security: str  # starttls | ssl | none


@dataclass(frozen=True)
class Settings:
    config_dir: Path
    data_dir: Path
    state_dir: Path
    database_url: str
    storage: str
    supabase_url: str | None
    supabase_key: str | None
    bucket: str
    smtp: SmtpSettings | None
    bcrypt_rounds: int
    session_days: int
    machine_id: str
    config_file: Path
    config_found: bool
    allow_private_urls: bool = False  # catalog downloads may reach loopback/private addresses
    server: str | None = None  # team mode: the `vwaza serve` this machine is a client of
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @property
    def local_storage_dir(self) -> Path:
        return self.data_dir / "storage"

    @property
    def session_file(self) -> Path:
        return self.state_dir / "session.json"

    @property
    def heartbeat_dir(self) -> Path:
        return self.data_dir / "daemon"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _base_dirs(env: dict[str, str]) -> tuple[Path, Path, Path]:
    home = env.get("VWAZA_HOME")
    if home:
        root = Path(home).expanduser().resolve()
        return root, root / "data", root / "auth"
    return (
        Path(platformdirs.user_config_dir(APP_NAME)),
        Path(platformdirs.user_data_dir(APP_NAME)),
        Path(platformdirs.user_state_dir(APP_NAME)) / "auth",
    )


def _read_config(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, OSError) as exc:
        raise InvalidInput(f"config file {path} is not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(_ENV_KEYS))
    if unknown:
        raise InvalidInput(f"config file {path}: unknown setting(s) {', '.join(unknown)}")
    return data


def _whole(value: Any, name: str, bounds: tuple[int, int]) -> int:
    """A whole number within ``bounds`` (``"30"`` or ``30``; never ``true`` or ``2.5``): out of
    range is refused, not clamped (0 session days would be logins expired when they begin)."""
    low, high = bounds
    number = _as_int(value)
    if number is None or not low <= number <= high:
        raise InvalidInput(
            f"setting {_ENV_KEYS[name]} ({name} in config.toml) must be a whole number "
            f"from {low} to {high}, got {value!r}"
        )
    return number


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


def _flag(value: Any, name: str) -> bool:
    """``1``/``0`` (also ``true``/``false``, or a TOML boolean); unset is false."""
    if value is None or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise InvalidInput(
        f"setting {_ENV_KEYS[name]} ({name} in config.toml) must be 1 or 0, got {value!r}"
    )


def _smtp(values: dict[str, Any]) -> SmtpSettings | None:
    host = values.get("smtp_host")
    if not host:
        return None
    security = str(values.get("smtp_security") or "starttls").lower()
    if security not in {"starttls", "ssl", "none"}:
        raise InvalidInput("setting smtp_security must be starttls, ssl or none")
    default_port = {"starttls": 587, "ssl": 465, "none": 25}[security]
    return SmtpSettings(
        host=str(host),
        port=_whole(values.get("smtp_port") or default_port, "smtp_port", PORT_RANGE),
        user=values.get("smtp_user") or None,
        password=values.get("smtp_password") or None,
        sender=str(values.get("smtp_from") or "vwaza@localhost"),
        security=security,
    )


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from ``env`` (default: ``os.environ``) and ``config.toml``."""
    env = dict(os.environ if env is None else env)
    config_dir, data_dir, state_dir = _base_dirs(env)
    config_file = config_dir / "config.toml"
    values = _read_config(config_file)
    config_found = config_file.exists()
    for key, var in _ENV_KEYS.items():
        if env.get(var):
            values[key] = env[var]
    storage = str(values.get("storage") or ("supabase" if values.get("supabase_url") else "local"))
    if storage not in {"local", "supabase"}:
        raise InvalidInput("setting VWAZA_STORAGE must be `local` or `supabase`")
    return Settings(
        config_dir=config_dir,
        data_dir=data_dir,
        state_dir=state_dir,
        database_url=str(values.get("database_url") or f"sqlite:///{data_dir / 'vwaza.db'}"),
        storage=storage,
        supabase_url=values.get("supabase_url"),
        supabase_key=values.get("supabase_key"),
        bucket=str(values.get("bucket") or DEFAULT_BUCKET),
        smtp=_smtp(values),
        bcrypt_rounds=_whole(
            values.get("bcrypt_rounds", DEFAULT_BCRYPT_ROUNDS), "bcrypt_rounds", BCRYPT_ROUNDS_RANGE
        ),
        session_days=_whole(
            values.get("session_days", DEFAULT_SESSION_DAYS), "session_days", SESSION_DAYS_RANGE
        ),
        machine_id=str(values.get("machine_id") or _hostname()),
        config_file=config_file,
        config_found=config_found,
        allow_private_urls=_flag(values.get("allow_private_urls"), "allow_private_urls"),
        server=str(values["server"]).rstrip("/") if values.get("server") else None,
    )


def _hostname() -> str:
    return socket.gethostname()


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it private to the user (0700)."""
    path.mkdir(parents=True, exist_ok=True)
    if path.stat().st_mode & 0o777 != 0o700:  # a chmod is a journalled write: only if needed
        path.chmod(0o700)
    return path
