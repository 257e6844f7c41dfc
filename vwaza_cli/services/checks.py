"""The rules of `vwaza release check` (spec/distribution.md), as data.

Each rule is one row of ``RULES``: its stable code, how much it matters, the field it names,
where it looks (the release, each track, or every title), when it applies, what it says and how
to fix it. ``check_release`` runs the rows over a release as ``releases.describe()`` gives it,
and ``markdown`` writes docs/checks.md from the same rows, so the docs cannot drift from the code.

Pure: no store, no files. The caller gathers the release and the tracks of other releases that
share an ISRC or an audio hash with it.
"""

from __future__ import annotations

import enum
import re
import shlex
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from vwaza_cli.enums import ContributorRole, Severity
from vwaza_cli.services.measurements import SILENCE_LIMIT, TRUE_PEAK_LIMIT

MIN_DURATION = 30.0  # seconds: shorter plays do not count as streams on most services
MIN_SAMPLE_RATE = 44_100  # Hz
MIN_COVER_SIDE = 3000  # px, both sides
CAPS_MIN_LETTERS = 4  # "DJ" or "UK" in capitals is an acronym, not shouting
PROMO_WORDS = ("Official", "Exclusive", "Free Download", "Now Streaming", "HD", "Explicit", "Clean")
# Older rows may not say whether their master is lossy; these formats always are.
LOSSY_FORMATS = frozenset({"mp3", "aac", "opus"})
SONGWRITER_ROLES = frozenset({ContributorRole.COMPOSER, ContributorRole.LYRICIST})

Record = dict[str, Any]


class Scope(enum.StrEnum):
    """Where a rule looks."""

    RELEASE = "release"
    TRACK = "track"
    TITLES = "titles"  # the release's title and each track's


@dataclass(frozen=True)
class Subject:
    """What a rule looks at: the release, or one of its tracks within it."""

    release: Record
    elsewhere: list[Record]
    track_or_none: Record | None = None

    @property
    def track(self) -> Record:
        if self.track_or_none is None:
            raise ValueError("a release-level rule asked for a track")
        return self.track_or_none

    @property
    def title(self) -> str:
        return str((self.track_or_none or self.release).get("title") or "")

    @property
    def analysis(self) -> Record:
        return self.track.get("analysis") or {}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    field: str | None
    track: int | None  # the track's order; None for the release itself
    message: str
    fix: str

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "field": self.field,
            "track": self.track,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass(frozen=True)
class Rule:
    """One check. ``fix`` is a template over {release}, {track}, {order}, {edit} and
    {title_case}; ``when`` is its one line in docs/checks.md."""

    code: str
    severity: Severity
    field: str
    scope: Scope
    applies: Callable[[Subject], bool]
    says: Callable[[Subject], str]
    fix: str
    when: str
    measured: bool = False  # reads the track's analysis: skipped until the track is measured


# ------------------------------------------------------------------------ reading values


def _number(record: Record, key: str) -> float | None:
    value = record.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _integer(record: Record, key: str) -> int | None:
    value = record.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _amount(value: float) -> str:
    """A measure as people read it: one decimal at least, three at most (-0.3, -0.96)."""
    shown = f"{value:.3f}".rstrip("0")
    return shown + "0" if shown.endswith(".") else shown


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _in_order(tracks: Iterable[Record]) -> list[Record]:
    return sorted(tracks, key=lambda track: int(track.get("order") or 0))


# ------------------------------------------------------------------------ titles


def _whole_words(phrase: str) -> str:
    """A regex for ``phrase`` as whole words (not inside a longer or hyphenated word)."""
    words = r"\s+".join(re.escape(word) for word in phrase.split())
    return rf"(?<![\w-]){words}(?![\w-])"


_PROMO = re.compile("|".join(_whole_words(word) for word in PROMO_WORDS), re.IGNORECASE)
_FEATURING = re.compile(
    r"(?<!\w)(?:feat\.|ft\.|featuring(?!\w))[^)\]]*"  # anywhere, up to a bracket
    r"|[(\[]\s*(?:with|feat|ft)\s+[^)\]]+[)\]]",  # (with X), [feat X] in brackets
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]+(?:['\u2019][^\W\d_]+)*")  # letters, with inner apostrophes (Don't)


def _is_all_caps(title: str) -> bool:
    cased = [ch for ch in title if ch.isupper() or ch.islower()]
    return (
        len(title.split()) > 1 and len(cased) >= CAPS_MIN_LETTERS and all(map(str.isupper, cased))
    )


def _title_case(title: str) -> str:
    return _WORD.sub(lambda word: word[0].capitalize(), title)


def _promo_words(title: str) -> list[str]:
    return list(dict.fromkeys(" ".join(match.split()) for match in _PROMO.findall(title)))


def _featuring_credit(title: str) -> str | None:
    match = _FEATURING.search(title)
    return match[0].strip() if match else None


def _artist_name(subject: Subject) -> str | None:
    name = subject.release.get("artist_name")
    return None if _is_blank(name) else str(name).strip()


def _has_artist_name(subject: Subject) -> bool:
    name = _artist_name(subject)
    return name is not None and re.search(_whole_words(name), subject.title, re.I) is not None


def _title_key(title: str) -> str:
    return " ".join(title.casefold().split())


def _earlier_same_title(subject: Subject) -> Record | None:
    """The first earlier track with this track's title (a bracketed version tells apart)."""
    key, order = _title_key(subject.title), int(subject.track.get("order") or 0)
    tracks = _in_order(subject.release.get("tracks") or [])
    earlier = (track for track in tracks if int(track.get("order") or 0) < order)
    return next((t for t in earlier if key and _title_key(t.get("title") or "") == key), None)


def _quoted(subject: Subject) -> str:
    return f'title "{subject.title}"'


# ------------------------------------------------------------------------ credits and files


def _has_songwriter(track: Record) -> bool:
    return any(c.get("role") in SONGWRITER_ROLES for c in track.get("contributors") or [])


def _isrc(record: Record) -> str | None:
    value = record.get("isrc")
    return None if _is_blank(value) else str(value).replace("-", "").upper()


def _isrc_clashes(subject: Subject) -> list[str]:
    """The other releases holding this track's ISRC on different audio."""
    isrc, sha = _isrc(subject.track), subject.track.get("audio_sha256")
    if isrc is None or sha is None:
        return []  # audio not hashed yet: nothing to compare
    return _release_ids(
        other
        for other in subject.elsewhere
        if _isrc(other) == isrc and other.get("audio_sha256") not in (None, sha)
    )


def _audio_reuses(subject: Subject) -> list[str]:
    """The other releases holding this track's audio."""
    sha = subject.track.get("audio_sha256")
    if sha is None:
        return []
    return _release_ids(other for other in subject.elsewhere if other.get("audio_sha256") == sha)


def _release_ids(tracks: Iterable[Record]) -> list[str]:
    """How the other releases are named: their `shown` name when the caller gave one (a
    stranger's release is not named to an artist), else `release ID`."""
    return list(
        dict.fromkeys(
            str(track.get("shown") or f"release {track.get('release_id')}") for track in tracks
        )
    )


def _cover_size(release: Record) -> tuple[int, int] | None:
    width, height = _integer(release, "cover_width"), _integer(release, "cover_height")
    return None if width is None or height is None else (width, height)


def _cover_too_small(subject: Subject) -> bool:
    size = _cover_size(subject.release)
    return size is not None and min(size) < MIN_COVER_SIDE


def _is_lossy(track: Record) -> bool:
    lossy = track.get("lossy")
    if lossy is None:
        return str(track.get("format") or "").lower() in LOSSY_FORMATS
    return lossy is True


def _under_30s(subject: Subject) -> bool:
    duration = _number(subject.track, "duration")
    return duration is not None and duration < MIN_DURATION


def _low_sample_rate(subject: Subject) -> bool:
    rate = _integer(subject.track, "sample_rate")
    return rate is not None and rate < MIN_SAMPLE_RATE


# ------------------------------------------------------------------------ measurements


def _measure_above(key: str, limit: float) -> Callable[[Subject], bool]:
    return lambda subject: (value := _number(subject.analysis, key)) is not None and value > limit


def _silences(subject: Subject) -> list[str]:
    ends = (("leading_silence", "at the start"), ("trailing_silence", "at the end"))
    said = []
    for key, where in ends:
        seconds = _number(subject.analysis, key)
        if seconds is not None and seconds > SILENCE_LIMIT:
            said.append(f"{_amount(seconds)} s of silence {where}")
    return said


def _padded_bits(subject: Subject) -> bool:
    used = _integer(subject.analysis, "effective_bit_depth")
    stored = _integer(subject.analysis, "bit_depth")
    return used is not None and stored is not None and used < stored


def _not_measured(subject: Subject) -> bool:
    return subject.track.get("analysis") is None


def _measured_codes() -> str:
    return ", ".join(rule.code for rule in RULES if rule.measured)


# ------------------------------------------------------------------------ the rules

_REPLACE_MASTER = (
    "`vwaza track remove {track}`, then `vwaza track add {release} FILE --order {order}`"
)
_RETITLE = "`{edit} --title NEW_TITLE`"

RULES: tuple[Rule, ...] = (
    Rule(
        code="title-all-caps",
        severity=Severity.WARNING,
        field="title",
        scope=Scope.TITLES,
        applies=lambda s: _is_all_caps(s.title),
        says=lambda s: f"{_quoted(s)} is in all capitals",
        fix="write it in title case: `{edit} --title {title_case}`",
        when="a release or track title in all capitals (more than one word, 4+ letters)",
    ),
    Rule(
        code="title-promo-words",
        severity=Severity.ERROR,
        field="title",
        scope=Scope.TITLES,
        applies=lambda s: bool(_promo_words(s.title)),
        says=lambda s: (
            f"{_quoted(s)} contains promotional words: {', '.join(_promo_words(s.title))}"
        ),
        fix="remove them from the title: " + _RETITLE,
        when=(
            "a release or track title containing "
            + ", ".join(PROMO_WORDS)
            + " as whole words (any case)"
        ),
    ),
    Rule(
        code="title-has-featuring",
        severity=Severity.WARNING,
        field="title",
        scope=Scope.TRACK,
        applies=lambda s: _featuring_credit(s.title) is not None,
        says=lambda s: f'{_quoted(s)} credits an artist ("{_featuring_credit(s.title)}")',
        fix="move the credit to featured artists: `{edit} --title NEW_TITLE --featuring NAME`",
        when="a track title with feat., ft., featuring, or (with ...) / [with ...] in brackets",
    ),
    Rule(
        code="title-has-artist-name",
        severity=Severity.WARNING,
        field="title",
        scope=Scope.TITLES,
        applies=_has_artist_name,
        says=lambda s: f'{_quoted(s)} contains the artist\'s name "{_artist_name(s)}"',
        fix="the stores show the artist beside the title; remove it: " + _RETITLE,
        when="a release or track title containing the artist's name as words (any case)",
    ),
    Rule(
        code="duplicate-track-title",
        severity=Severity.WARNING,
        field="title",
        scope=Scope.TRACK,
        applies=lambda s: _earlier_same_title(s) is not None,
        says=lambda s: (
            f"{_quoted(s)} is also the title of track {(_earlier_same_title(s) or {}).get('order')}"
        ),
        fix='tell them apart with a version in brackets: `{edit} --title "TITLE (VERSION)"`',
        when="a track with the same title as an earlier track (bracketed versions tell apart)",
    ),
    Rule(
        code="missing-upc",
        severity=Severity.WARNING,
        field="upc",
        scope=Scope.RELEASE,
        applies=lambda s: _is_blank(s.release.get("upc")),
        says=lambda s: "the release has no UPC (barcode)",
        fix="`vwaza release edit {release} --upc UPC` (12 or 13 digits)",
        when="the release has no UPC",
    ),
    Rule(
        code="missing-release-date",
        severity=Severity.ERROR,
        field="release_date",
        scope=Scope.RELEASE,
        applies=lambda s: _is_blank(s.release.get("release_date")),
        says=lambda s: "the release has no release date",
        fix="`vwaza release edit {release} --release-date YYYY-MM-DD`",
        when="the release has no release date",
    ),
    Rule(
        code="missing-p-line",
        severity=Severity.ERROR,
        field="p_line",
        scope=Scope.RELEASE,
        applies=lambda s: _is_blank(s.release.get("p_line")),
        says=lambda s: "the release has no ℗ line (who owns the recordings)",
        fix='`vwaza release edit {release} --p-line "2026 Label"` (the ℗ is implied)',
        when="the release has no ℗ line",
    ),
    Rule(
        code="missing-c-line",
        severity=Severity.ERROR,
        field="c_line",
        scope=Scope.RELEASE,
        applies=lambda s: _is_blank(s.release.get("c_line")),
        says=lambda s: "the release has no © line (who owns the artwork and text)",
        fix='`vwaza release edit {release} --c-line "2026 Label"` (the © is implied)',
        when="the release has no © line",
    ),
    Rule(
        code="missing-explicit",
        severity=Severity.ERROR,
        field="explicit",
        scope=Scope.TRACK,
        applies=lambda s: s.track.get("explicit") is None,
        says=lambda s: "the explicit-content flag was never answered",
        fix="answer it: `vwaza track edit {track} --explicit` (or --clean, --not-explicit)",
        when="a track whose explicit flag was never answered",
    ),
    Rule(
        code="missing-composer",
        severity=Severity.WARNING,
        field="contributors",
        scope=Scope.TRACK,
        applies=lambda s: not _has_songwriter(s.track),
        says=lambda s: "no composer or lyricist is credited",
        fix="`vwaza track edit {track} --composer NAME` (or --lyricist NAME)",
        when="a track with no composer or lyricist credited",
    ),
    Rule(
        code="isrc-reused",
        severity=Severity.ERROR,
        field="isrc",
        scope=Scope.TRACK,
        applies=lambda s: bool(_isrc_clashes(s)),
        says=lambda s: (
            f"ISRC {_isrc(s.track)} is already on a track with different audio "
            f"(on {', '.join(_isrc_clashes(s))})"
        ),
        fix="an ISRC names one recording; give this one its own: "
        "`vwaza track edit {track} --isrc NEW_ISRC`",
        when="the track's ISRC is on another release's track with different audio (SHA-256)",
    ),
    Rule(
        code="audio-reused",
        severity=Severity.WARNING,
        field="audio_sha256",
        scope=Scope.TRACK,
        applies=lambda s: bool(_audio_reuses(s)),
        says=lambda s: (
            f"the same audio (SHA-256 {str(s.track.get('audio_sha256'))[:12]}...) is on a "
            f"track of {', '.join(_audio_reuses(s))}"
        ),
        fix="if it is the same recording released again, keep its first ISRC "
        "(`vwaza track edit {track} --isrc ISRC`); otherwise deliver this release's own master: "
        + _REPLACE_MASTER,
        when="the same audio (SHA-256) is on another release's track",
    ),
    Rule(
        code="cover-below-3000",
        severity=Severity.WARNING,
        field="cover_art",
        scope=Scope.RELEASE,
        applies=_cover_too_small,
        says=lambda s: "cover is {} x {} px, below {side} x {side} px".format(
            *(_cover_size(s.release) or (0, 0)), side=MIN_COVER_SIDE
        ),
        fix=f"stage a cover of at least {MIN_COVER_SIDE} x {MIN_COVER_SIDE} px: "
        "`vwaza release cover {release} FILE`",
        when=f"the cover is smaller than {MIN_COVER_SIDE} x {MIN_COVER_SIDE} px",
    ),
    Rule(
        code="track-under-30s",
        severity=Severity.WARNING,
        field="duration",
        scope=Scope.TRACK,
        applies=_under_30s,
        says=lambda s: (
            f"duration {_amount(_number(s.track, 'duration') or 0.0)} s is under "
            f"{MIN_DURATION:.0f} s (not counted as a stream on most services)"
        ),
        fix="fine for an intro or an interlude; otherwise deliver the full master: "
        + _REPLACE_MASTER,
        when=f"a track shorter than {MIN_DURATION:.0f} s",
    ),
    Rule(
        code="lossy-master",
        severity=Severity.WARNING,
        field="format",
        scope=Scope.TRACK,
        applies=lambda s: _is_lossy(s.track),
        says=lambda s: f"the master is {str(s.track.get('format') or '').upper()}, a lossy format",
        fix="deliver a lossless master (WAV, FLAC or AIFF): " + _REPLACE_MASTER,
        when="a track whose master is lossy (MP3, AAC, Vorbis or Opus)",
    ),
    Rule(
        code="low-sample-rate",
        severity=Severity.WARNING,
        field="sample_rate",
        scope=Scope.TRACK,
        applies=_low_sample_rate,
        says=lambda s: f"sample rate {s.track.get('sample_rate')} Hz is below {MIN_SAMPLE_RATE} Hz",
        fix=f"deliver a master at {MIN_SAMPLE_RATE} Hz or more: " + _REPLACE_MASTER,
        when=f"a master below {MIN_SAMPLE_RATE} Hz",
    ),
    Rule(
        code="true-peak-over",
        severity=Severity.WARNING,
        field="audio",
        scope=Scope.TRACK,
        applies=_measure_above("true_peak_dbtp", TRUE_PEAK_LIMIT),
        says=lambda s: (
            f"true peak {_amount(_number(s.analysis, 'true_peak_dbtp') or 0.0)} dBTP "
            f"is above {_amount(TRUE_PEAK_LIMIT)} dBTP"
        ),
        fix=f"limit the master to {_amount(TRUE_PEAK_LIMIT)} dBTP or below and deliver it again: "
        + _REPLACE_MASTER,
        when=f"the measured true peak is above {_amount(TRUE_PEAK_LIMIT)} dBTP",
        measured=True,
    ),
    Rule(
        code="clipping",
        severity=Severity.WARNING,
        field="audio",
        scope=Scope.TRACK,
        applies=_measure_above("clipped_samples", 0),
        says=lambda s: (
            f"{_plural(_integer(s.analysis, 'clipped_samples') or 0, 'clipped sample')} "
            "(runs at full scale)"
        ),
        fix="export the master again with headroom and deliver it: " + _REPLACE_MASTER,
        when="the measurements found clipped samples",
        measured=True,
    ),
    Rule(
        code="long-silence",
        severity=Severity.WARNING,
        field="audio",
        scope=Scope.TRACK,
        applies=lambda s: bool(_silences(s)),
        says=lambda s: f"{' and '.join(_silences(s))} (more than {_amount(SILENCE_LIMIT)} s)",
        fix=f"trim the silence to {_amount(SILENCE_LIMIT)} s or less at each end, and deliver it: "
        + _REPLACE_MASTER,
        when=f"more than {_amount(SILENCE_LIMIT)} s of leading or trailing silence",
        measured=True,
    ),
    Rule(
        code="mono-as-stereo",
        severity=Severity.INFO,
        field="audio",
        scope=Scope.TRACK,
        applies=lambda s: s.analysis.get("mono_as_stereo") is True,
        says=lambda s: "both channels carry the same signal (mono as stereo)",
        fix="nothing to do if the recording is mono; otherwise deliver the stereo mix: "
        + _REPLACE_MASTER,
        when="the two channels are identical",
        measured=True,
    ),
    Rule(
        code="fake-bit-depth",
        severity=Severity.WARNING,
        field="audio",
        scope=Scope.TRACK,
        applies=_padded_bits,
        says=lambda s: (
            f"effective bit depth {s.analysis.get('effective_bit_depth')} is below the "
            f"file's {s.analysis.get('bit_depth')} bits (padded)"
        ),
        fix="deliver the master at the bit depth it was made at: " + _REPLACE_MASTER,
        when="the measured effective_bit_depth is below the file's bit_depth",
        measured=True,
    ),
    Rule(
        code="not-measured",
        severity=Severity.INFO,
        field="analysis",
        scope=Scope.TRACK,
        applies=_not_measured,
        says=lambda s: f"not measured yet, so {_measured_codes()} were not checked",
        fix="wait for processing to finish, then `vwaza release check {release}` again",
        when="the track is not measured yet (the audio checks above were skipped)",
    ),
)

_RELEASE_SCOPES = frozenset({Scope.RELEASE, Scope.TITLES})
_TRACK_SCOPES = frozenset({Scope.TRACK, Scope.TITLES})


# ------------------------------------------------------------------------ running them


def check_release(release: Record, elsewhere: list[Record]) -> list[Finding]:
    """Every finding on ``release``: the release's own first, then each track's in order.

    ``elsewhere`` holds other releases' tracks sharing an ISRC or an audio SHA-256 with this
    release's tracks, each ``{"release_id", "isrc", "audio_sha256"}``.
    """
    others = [track for track in elsewhere if track.get("release_id") != release.get("id")]
    found = list(_findings(Subject(release, others), _RELEASE_SCOPES))
    for track in _in_order(release.get("tracks") or []):
        found.extend(_findings(Subject(release, others, track), _TRACK_SCOPES))
    return found


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(finding.severity is Severity.ERROR for finding in findings)


def _findings(subject: Subject, scopes: frozenset[Scope]) -> Iterator[Finding]:
    for rule in RULES:
        if rule.scope in scopes and _can_run(rule, subject) and rule.applies(subject):
            yield _finding(rule, subject)


def _can_run(rule: Rule, subject: Subject) -> bool:
    return not rule.measured or subject.track.get("analysis") is not None


def _finding(rule: Rule, subject: Subject) -> Finding:
    track = subject.track_or_none
    return Finding(
        code=rule.code,
        severity=rule.severity,
        field=rule.field,
        track=None if track is None else int(track["order"]),
        message=rule.says(subject),
        fix=rule.fix.format(**_places(subject)),
    )


def _places(subject: Subject) -> dict[str, str]:
    """The real values of a fix's placeholders, ready to copy and paste."""
    release_id = str(subject.release.get("id"))
    track = subject.track_or_none
    edit = f"vwaza release edit {release_id}"
    places = {"release": release_id, "track": "TRACK_ID", "order": "N"}
    if track is not None:
        places.update(track=str(track.get("id")), order=str(track.get("order")))
        edit = f"vwaza track edit {places['track']}"
    return {**places, "edit": edit, "title_case": shlex.quote(_title_case(subject.title))}


# ------------------------------------------------------------------------ docs/checks.md

_DOC_EDIT = {
    Scope.RELEASE: "vwaza release edit ID",
    Scope.TRACK: "vwaza track edit TRACK_ID",
    Scope.TITLES: "vwaza release edit ID",
}
_DOC_TITLES_NOTE = "; for a track's title, the same options on `vwaza track edit TRACK_ID`"
_DOC_INTRO = """\
`vwaza release check ID` looks at a release as a store's quality team would, offline, and prints
every finding, one line each: `<severity> <code> <where>: <message> (fix: ...)`. With `--json` it
prints a bare array of `{"code", "severity", "field", "track", "message", "fix"}` objects
(`track` is the track's order, or null for the release), whatever the exit code. It exits 0 when
no finding is an `error` and 5 when one is; `vwaza release submit` runs the same check, refuses
on any `error` and prints the warnings. Codes are stable, for scripts; messages are for people.
Until a track is measured its audio checks are skipped and `not-measured` is reported instead.
In a fix, `ID` and `TRACK_ID` stand for the release's and the track's ids, which the real
output names."""


def markdown() -> str:
    """The full text of docs/checks.md, from ``RULES``."""
    lines = [
        "# Release checks",
        "",
        "<!-- generated from vwaza_cli/services/checks.py (RULES): do not edit by hand -->",
        "",
        _DOC_INTRO,
        "",
        "| code | severity | field | when | fix |",
        "| --- | --- | --- | --- | --- |",
        *(_doc_row(rule) for rule in RULES),
    ]
    return "\n".join(lines) + "\n"


def _doc_row(rule: Rule) -> str:
    fix = rule.fix.format(
        release="ID",
        track="TRACK_ID",
        order="N",
        edit=_DOC_EDIT[rule.scope],
        title_case='"Title In Title Case"',
    )
    if rule.scope is Scope.TITLES and "{edit}" in rule.fix:
        fix += _DOC_TITLES_NOTE
    cells = (f"`{rule.code}`", rule.severity.value, f"`{rule.field}`", rule.when, fix)
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
