"""Untrusted text (file names, emails, ISRCs, third parties' messages) made safe to show.

Standard library only: the CLI's output module imports it, and `vwaza --help` must stay light.
"""

from __future__ import annotations

import unicodedata

# Control, format (bidi overrides, zero-width characters), surrogate and line/paragraph
# separator characters: they could rewrite a terminal, break a line or disguise one name as
# another.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SHORT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: object) -> str:
    """``text`` on one line with every unsafe character shown as an escape (``\\n``,
    ``\\x1b``, ``\\u202e``); ``None`` is the empty string.

    Bytes that are not UTF-8 (kept by Python as lone surrogates) come out as ``\\xNN``, so the
    result can always be printed.
    """
    text = "" if text is None else str(text)
    if text.isprintable():  # false for every unsafe category: the common case, quickly
        return text
    return "".join(_escape_char(ch) for ch in text)


def _escape_char(ch: str) -> str:
    if unicodedata.category(ch) not in _UNSAFE_CATEGORIES:
        return ch
    if ch in _SHORT_ESCAPES:
        return _SHORT_ESCAPES[ch]
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
