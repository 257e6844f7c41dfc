"""Text people type (titles, names, reasons): one line, printable, bounded.

Control characters (C0, C1, DEL) and bidirectional overrides are refused: they could rewrite
a reviewer's or an artist's terminal, or disguise one name as another.
"""

from __future__ import annotations

import re

from vwaza_cli.errors import InvalidInput

_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def has_unsafe_characters(value: str) -> bool:
    return bool(_UNSAFE.search(value))


def clean_text(value: str, field: str, max_length: int) -> str:
    """Trimmed, non-empty, one line without control characters, at most ``max_length``."""
    value = value.strip()
    if not value:
        raise InvalidInput(f"{field} must not be empty")
    if has_unsafe_characters(value):
        raise InvalidInput(f"{field} must be one line of text without control characters")
    if len(value) > max_length:
        raise InvalidInput(f"{field} is too long: at most {max_length} characters")
    return value
