"""Text people type (titles, names, genres, reasons, emails, catalog fields): one line,
printable, bounded, valid UTF-8. The one text rule: every such field goes through
``clean_text`` or, where a field has its own syntax (an email), ``has_unsafe_characters``.

Refused, by Unicode category: control characters (Cc: C0, C1, DEL), format characters (Cf:
bidi overrides, embeddings, isolates and marks, zero-width spaces, word joiner, BOM, soft
hyphen), line and paragraph separators (Zl, Zp) and lone surrogates (Cs: what Python keeps of
bytes that are not UTF-8). They could rewrite a reviewer's or an artist's terminal, break a
line, disguise one name as another, or fail later at the database. The zero-width joiner and
non-joiner stay: emoji sequences and Persian or Indic spellings need them.
"""

from __future__ import annotations

import unicodedata

from vwaza_cli.errors import InvalidInput

_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_ALLOWED_FORMAT = frozenset({"\u200c", "\u200d"})  # zero-width non-joiner, joiner
# Invisible, yet letters or marks by category: fillers that pass for a blank name.
_INVISIBLE = frozenset({"\u034f", "\u115f", "\u1160", "\u17b4", "\u17b5", "\u3164", "\uffa0"})


def _is_unsafe(ch: str) -> bool:
    if ch in _ALLOWED_FORMAT:
        return False
    return ch in _INVISIBLE or unicodedata.category(ch) in _REFUSED_CATEGORIES


def first_unsafe(value: str) -> str | None:
    """The first character the rule refuses, or None."""
    if value.isprintable() and not any(ch in _INVISIBLE for ch in value):
        return None  # the common case, quickly: isprintable is false for every category above
    return next((ch for ch in value if _is_unsafe(ch)), None)


def has_unsafe_characters(value: str) -> bool:
    return first_unsafe(value) is not None


def unsafe_reason(field: str, ch: str) -> str:
    """Why ``field`` is refused for containing ``ch``, in words a person can act on."""
    if unicodedata.category(ch) == "Cs":
        return f"{field} is not valid UTF-8 text: check the encoding of your terminal or file"
    name = unicodedata.name(ch, "a control character").lower()
    return f"{field} must be one line of visible text: it contains U+{ord(ch):04X} ({name})"


def clean_text(value: str, field: str, max_length: int) -> str:
    """Trimmed, non-empty, one line without control characters, at most ``max_length``."""
    value = value.strip()
    if not value.strip("".join(_ALLOWED_FORMAT)):  # joiners alone are an invisible name
        raise InvalidInput(f"{field} must not be empty")
    unsafe = first_unsafe(value)
    if unsafe is not None:
        raise InvalidInput(unsafe_reason(field, unsafe))
    if len(value) > max_length:
        raise InvalidInput(f"{field} is too long: at most {max_length} characters")
    return value
