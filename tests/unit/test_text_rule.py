"""The one text rule (services/text.py), character by character: what a title, name, genre,
reason or catalog field may hold."""

from __future__ import annotations

import pytest

from vwaza_cli.errors import InvalidInput
from vwaza_cli.services.text import clean_text, has_unsafe_characters

REFUSED = [
    "\udcff",  # what Python keeps of the byte 0xff in an argument that is not UTF-8
    "\ud800",
    "\x00",
    "\t",
    "\x1b",
    "\x7f",
    "\x85",  # C1 next line
    "\x9b",  # C1 control sequence introducer
    "\u2028",
    "\u2029",
    "\u202a",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u061c",  # Arabic letter mark
    "\u200b",  # zero-width space
    "\u200e",  # left-to-right mark
    "\u200f",
    "\u2060",  # word joiner
    "\u2064",  # invisible plus
    "\ufeff",
    "\u180e",  # Mongolian vowel separator
    "\u00ad",  # soft hyphen
    "\u034f",  # combining grapheme joiner
    "\u3164",  # Hangul filler: a blank that passes for a letter
    "\U000e0041",  # a tag character: invisible text
]
ALLOWED = [
    "Night Drive",
    "Ni\u200dght",  # zero-width joiner
    "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian, with a non-joiner
    "\U0001f468\u200d\U0001f3a4",  # an emoji sequence
    "\u2764\ufe0f",  # a variation selector
    "Caf\u00e9\u00a0Bleu",  # a no-break space is visible as a space
    "\u05e9\u05dc\u05d5\u05dd",  # right-to-left script, without overrides
]


@pytest.mark.parametrize("bad", REFUSED, ids=[f"U+{ord(c):04X}" for c in REFUSED])
def test_a_refused_character_anywhere_is_invalid(bad: str) -> None:
    assert has_unsafe_characters(f"Night{bad}Drive")
    with pytest.raises(InvalidInput) as caught:
        clean_text(f"Night{bad}Drive", "title", 200)
    assert caught.value.message.startswith("title ")
    assert bad not in caught.value.message


@pytest.mark.parametrize("good", ALLOWED)
def test_joiners_scripts_and_emoji_are_allowed(good: str) -> None:
    assert clean_text(f" {good} ", "title", 200) == good


def test_the_message_names_the_character() -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_text("abc\u202edcba", "title", 200)
    assert caught.value.message == (
        "title must be one line of visible text: it contains U+202E (right-to-left override)"
    )


def test_a_lone_surrogate_is_an_encoding_problem() -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_text("Night\udcff", "genre", 100)
    assert caught.value.message == (
        "genre is not valid UTF-8 text: check the encoding of your terminal or file"
    )


@pytest.mark.parametrize("blank", ["", "   ", "\u200d", " \u200c\u200d "])
def test_blank_or_joiners_alone_are_empty(blank: str) -> None:
    with pytest.raises(InvalidInput, match="title must not be empty"):
        clean_text(blank, "title", 200)
