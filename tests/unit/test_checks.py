"""The rules of `release check` (spec/distribution.md), one at a time: a clean, complete release
finds nothing, and each single change finds exactly its code, on the right field and track."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vwaza_cli.enums import ContributorRole, Explicit, Severity
from vwaza_cli.services.checks import RULES, Finding, check_release, has_errors, markdown

Record = dict[str, Any]
Change = Callable[[Record], None]

DOCS = Path(__file__).parents[2] / "docs/checks.md"

# The contract: spec/distribution.md's table, code by code.
SPEC_SEVERITIES = {
    "title-all-caps": Severity.WARNING,
    "title-promo-words": Severity.ERROR,
    "title-has-featuring": Severity.WARNING,
    "title-has-artist-name": Severity.WARNING,
    "duplicate-track-title": Severity.WARNING,
    "missing-upc": Severity.WARNING,
    "missing-release-date": Severity.ERROR,
    "missing-p-line": Severity.ERROR,
    "missing-c-line": Severity.ERROR,
    "missing-explicit": Severity.ERROR,
    "missing-composer": Severity.WARNING,
    "isrc-reused": Severity.ERROR,
    "audio-reused": Severity.WARNING,
    "cover-below-3000": Severity.WARNING,
    "track-under-30s": Severity.WARNING,
    "lossy-master": Severity.WARNING,
    "low-sample-rate": Severity.WARNING,
    "true-peak-over": Severity.WARNING,
    "clipping": Severity.WARNING,
    "long-silence": Severity.WARNING,
    "mono-as-stereo": Severity.INFO,
    "fake-bit-depth": Severity.WARNING,
    "not-measured": Severity.INFO,
}
AUDIO_CODES = {"true-peak-over", "clipping", "long-silence", "mono-as-stereo", "fake-bit-depth"}

SHA_1, SHA_2, OTHER_SHA = "a" * 64, "b" * 64, "c" * 64


def clean_analysis() -> Record:
    return {
        "integrated_lufs": -14.0,
        "loudness_range_lu": 6.0,
        "true_peak_dbtp": -1.5,
        "sample_peak_dbfs": -1.8,
        "clipped_samples": 0,
        "leading_silence": 0.2,
        "trailing_silence": 1.9,
        "channels": 2,
        "sample_rate": 48000,
        "bit_depth": 24,
        "effective_bit_depth": 24,
        "mono_as_stereo": False,
    }


def clean_track(order: int, title: str, isrc: str, sha: str, role: ContributorRole) -> Record:
    return {
        "id": f"trk-{order}",
        "order": order,
        "title": title,
        "duration": 215.4,
        "isrc": isrc,
        "format": "flac",
        "sample_rate": 48000,
        "lossy": False,
        "audio_sha256": sha,
        "explicit": Explicit.NOT_EXPLICIT,
        "featured_artists": [],
        "contributors": [{"name": "Ama Lune", "role": role}],
        "analysis": clean_analysis(),
    }


def clean_release() -> Record:
    return {
        "id": "rel-1",
        "title": "Night Drive",
        "genre": "Afrobeats",
        "artist_name": "Ama Lune",
        "status": "DRAFT",
        "cover_art": "covers/rel-1.jpg",
        "upc": "0123456789012",
        "release_date": "2026-03-01",
        "original_release_date": None,
        "label": "Night Owl Records",
        "p_line": "2026 Night Owl Records",
        "c_line": "2026 Night Owl Records",
        "language": "en",
        "cover_width": 3000,
        "cover_height": 3000,
        "cover_sha256": "d" * 64,
        "tracks": [
            clean_track(1, "Highway", "USRC17607839", SHA_1, ContributorRole.COMPOSER),
            clean_track(2, "Slow Lane", "USRC17607840", SHA_2, ContributorRole.LYRICIST),
        ],
    }


# ------------------------------------------------------------------------ changes


def release_with(**fields: Any) -> Change:
    return lambda release: release.update(fields)


def track_with(order: int, **fields: Any) -> Change:
    return lambda release: release["tracks"][order - 1].update(fields)


def analysis_with(order: int, **fields: Any) -> Change:
    return lambda release: release["tracks"][order - 1]["analysis"].update(fields)


def changed(*changes: Change) -> Record:
    release = clean_release()
    for change in changes:
        change(release)
    return release


def elsewhere_track(isrc: str | None, sha: str | None, release_id: str = "rel-0") -> Record:
    return {"release_id": release_id, "isrc": isrc, "audio_sha256": sha}


def check(release: Record, elsewhere: list[Record] | None = None) -> list[Finding]:
    return check_release(copy.deepcopy(release), elsewhere or [])


def codes(release: Record, elsewhere: list[Record] | None = None) -> list[str]:
    return [finding.code for finding in check(release, elsewhere)]


# ------------------------------------------------------------------------ the contract


def test_every_code_of_the_spec_is_a_rule_with_its_severity() -> None:
    ours = {rule.code: rule.severity for rule in RULES}
    assert {code: ours.get(code) for code in SPEC_SEVERITIES} == SPEC_SEVERITIES


def test_codes_are_unique() -> None:
    assert len({rule.code for rule in RULES}) == len(RULES)


def test_the_audio_codes_are_the_measured_rules() -> None:
    assert {rule.code for rule in RULES if rule.measured} == AUDIO_CODES


def test_the_docs_are_generated_from_the_rules() -> None:
    written = "vwaza_cli.services.checks.markdown() written to docs/checks.md"
    assert DOCS.read_text(encoding="utf-8") == markdown(), f"stale docs/checks.md: {written}"


def test_the_docs_name_every_rule_once_with_no_placeholder_left() -> None:
    text = markdown()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == [rule.code for rule in RULES]
    assert "{" not in "".join(rows)


# ------------------------------------------------------------------------ one code at a time


def test_a_clean_release_finds_nothing() -> None:
    assert check(clean_release()) == []


ONE_CHANGE = [
    # (change, elsewhere, code, field, track)
    (release_with(title="NIGHT DRIVE"), [], "title-all-caps", "title", None),
    (track_with(2, title="SLOW LANE"), [], "title-all-caps", "title", 2),
    (release_with(title="Night Drive (Official Audio)"), [], "title-promo-words", "title", None),
    (track_with(1, title="Highway [HD]"), [], "title-promo-words", "title", 1),
    (track_with(1, title="Highway (feat. Kofi)"), [], "title-has-featuring", "title", 1),
    (release_with(title="Night Drive by Ama Lune"), [], "title-has-artist-name", "title", None),
    (track_with(2, title="Slow Lane (AMA LUNE Edit)"), [], "title-has-artist-name", "title", 2),
    (track_with(2, title="  highway "), [], "duplicate-track-title", "title", 2),
    (release_with(upc=None), [], "missing-upc", "upc", None),
    (release_with(release_date=None), [], "missing-release-date", "release_date", None),
    (release_with(p_line=None), [], "missing-p-line", "p_line", None),
    (release_with(c_line=None), [], "missing-c-line", "c_line", None),
    (track_with(1, explicit=None), [], "missing-explicit", "explicit", 1),
    (
        track_with(2, contributors=[{"name": "Kofi", "role": ContributorRole.PRODUCER}]),
        [],
        "missing-composer",
        "contributors",
        2,
    ),
    (track_with(2, contributors=[]), [], "missing-composer", "contributors", 2),
    (
        lambda release: None,
        [elsewhere_track("USRC17607839", OTHER_SHA)],
        "isrc-reused",
        "isrc",
        1,
    ),
    (
        lambda release: None,
        [elsewhere_track("GBAYE0000001", SHA_2)],
        "audio-reused",
        "audio_sha256",
        2,
    ),
    (release_with(cover_width=1400, cover_height=1400), [], "cover-below-3000", "cover_art", None),
    (release_with(cover_height=2999), [], "cover-below-3000", "cover_art", None),
    (track_with(1, duration=29.9), [], "track-under-30s", "duration", 1),
    (track_with(1, format="mp3", lossy=True), [], "lossy-master", "format", 1),
    (track_with(2, sample_rate=22050), [], "low-sample-rate", "sample_rate", 2),
    (analysis_with(1, true_peak_dbtp=-0.3), [], "true-peak-over", "audio", 1),
    (analysis_with(1, clipped_samples=12), [], "clipping", "audio", 1),
    (analysis_with(2, leading_silence=2.5), [], "long-silence", "audio", 2),
    (analysis_with(2, trailing_silence=4.0), [], "long-silence", "audio", 2),
    (analysis_with(1, mono_as_stereo=True), [], "mono-as-stereo", "audio", 1),
    (analysis_with(1, effective_bit_depth=16), [], "fake-bit-depth", "audio", 1),
    (track_with(2, analysis=None), [], "not-measured", "analysis", 2),
]


@pytest.mark.parametrize(
    ("change", "elsewhere", "code", "field", "track"),
    ONE_CHANGE,
    ids=[f"{case[2]}-{n}" for n, case in enumerate(ONE_CHANGE)],
)
def test_one_change_finds_exactly_its_code(
    change: Change, elsewhere: list[Record], code: str, field: str, track: int | None
) -> None:
    findings = check(changed(change), elsewhere)
    assert [f.code for f in findings] == [code]
    (finding,) = findings
    assert (finding.severity, finding.field, finding.track) == (SPEC_SEVERITIES[code], field, track)
    assert finding.message
    assert finding.fix
    assert "{" not in finding.fix


def test_every_code_is_covered_by_a_one_change_case() -> None:
    assert {case[2] for case in ONE_CHANGE} == {rule.code for rule in RULES}


# ------------------------------------------------------------------------ what people read


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (analysis_with(1, true_peak_dbtp=-0.3), "true peak -0.3 dBTP is above -1.0 dBTP"),
        (analysis_with(1, true_peak_dbtp=0.96), "true peak 0.96 dBTP is above -1.0 dBTP"),
        (analysis_with(1, clipped_samples=1), "1 clipped sample (runs at full scale)"),
        (
            analysis_with(1, leading_silence=2.5, trailing_silence=3.0),
            "2.5 s of silence at the start and 3.0 s of silence at the end (more than 2.0 s)",
        ),
        (release_with(cover_width=1400, cover_height=1200), "cover is 1400 x 1200 px"),
        (track_with(2, sample_rate=22050), "sample rate 22050 Hz is below 44100 Hz"),
        (track_with(1, duration=12.5), "duration 12.5 s is under 30 s"),
        (track_with(1, format="mp3", lossy=True), "the master is MP3, a lossy format"),
        (analysis_with(1, effective_bit_depth=16), "effective bit depth 16 is below the file's 24"),
        (release_with(title="NIGHT DRIVE"), 'title "NIGHT DRIVE" is in all capitals'),
        (track_with(1, title="Highway (HD) Official"), "promotional words: HD, Official"),
        (track_with(2, title="Highway"), 'title "Highway" is also the title of track 1'),
    ],
)
def test_the_message_names_the_value(change: Change, message: str) -> None:
    (finding,) = check(changed(change))
    assert message in finding.message


@pytest.mark.parametrize(
    ("change", "fix"),
    [
        (release_with(p_line=None), 'vwaza release edit rel-1 --p-line "2026 Label"'),
        (release_with(c_line=""), 'vwaza release edit rel-1 --c-line "2026 Label"'),
        (release_with(upc=None), "vwaza release edit rel-1 --upc"),
        (release_with(release_date=None), "vwaza release edit rel-1 --release-date YYYY-MM-DD"),
        (track_with(1, explicit=None), "vwaza track edit trk-1 --explicit"),
        (track_with(2, contributors=[]), "vwaza track edit trk-2 --composer NAME"),
        (track_with(1, title="Highway ft. Kofi"), "vwaza track edit trk-1 --title"),
        (track_with(1, title="Highway ft. Kofi"), "--featuring NAME"),
        (release_with(title="NIGHT DRIVE"), "vwaza release edit rel-1 --title 'Night Drive'"),
        (track_with(2, title="DON'T STOP"), "vwaza track edit trk-2 --title 'Don'\"'\"'t Stop'"),
        (track_with(2, sample_rate=22050), "vwaza track add rel-1 FILE --order 2"),
        (release_with(cover_width=1000), "vwaza release cover rel-1 FILE"),
    ],
)
def test_the_fix_names_the_command_with_the_real_ids(change: Change, fix: str) -> None:
    (finding,) = check(changed(change))
    assert fix in finding.fix


# ------------------------------------------------------------------------ boundaries


@pytest.mark.parametrize(
    "change",
    [
        analysis_with(1, true_peak_dbtp=-1.0),
        analysis_with(1, leading_silence=2.0, trailing_silence=2.0),
        track_with(1, duration=30.0),
        track_with(1, sample_rate=44100),
        track_with(1, sample_rate=None),
        release_with(cover_width=3000, cover_height=3000),
        release_with(cover_width=None, cover_height=None),
        release_with(artist_name=None, title="Night Drive by Ama Lune"),
        analysis_with(1, clipped_samples=0),
        analysis_with(1, effective_bit_depth=24, bit_depth=24),
        analysis_with(1, mono_as_stereo=None),
        track_with(1, format="flac", lossy=None),
        track_with(1, format="mp3", lossy=False),  # what the file says wins
        track_with(1, featured_artists=["Kofi"]),
    ],
)
def test_at_the_limit_nothing_is_found(change: Change) -> None:
    assert codes(changed(change)) == []


@pytest.mark.parametrize(
    ("title", "flagged"),
    [
        ("NIGHT DRIVE", True),
        ("DJ OK", True),  # two words, four letters
        ("DON'T STOP", True),
        ("NIGHT DRIVE 2", True),
        ("HIGHWAY", False),  # one word
        ("ABBA", False),
        ("DJ", False),
        ("A B", False),  # fewer than four letters
        ("DJ Night", False),
        ("Night Drive", False),
        ("夜 ドライブ", False),  # no letter case at all
    ],
)
def test_all_caps_is_more_than_one_word_of_capitals(title: str, flagged: bool) -> None:
    found = codes(changed(track_with(1, title=title)))
    assert found == (["title-all-caps"] if flagged else [])


@pytest.mark.parametrize(
    ("title", "flagged"),
    [
        ("Highway (Official Video)", True),
        ("Highway - EXCLUSIVE", True),
        ("Highway free download", True),
        ("Highway (Free  Download)", True),
        ("Now Streaming: Highway", True),
        ("Highway HD", True),
        ("Highway (Explicit)", True),
        ("Highway [Clean]", True),
        ("Cleaning Day", False),
        ("Healthy", False),
        ("Officially Yours", False),
        ("Exclusively Yours", False),
        ("HDMI Blues", False),
        ("Free Downloads", False),
        ("Clean-Cut", False),
        ("Free Spirit", False),
    ],
)
def test_promo_words_are_whole_words_in_any_case(title: str, flagged: bool) -> None:
    found = codes(changed(track_with(1, title=title)))
    assert found == (["title-promo-words"] if flagged else [])


@pytest.mark.parametrize(
    ("title", "flagged"),
    [
        ("Highway (feat. Kofi)", True),
        ("Highway Feat. Kofi", True),
        ("Highway ft. Kofi", True),
        ("Highway featuring Kofi", True),
        ("Highway (with Kofi)", True),
        ("Highway [With Kofi]", True),
        ("Highway (feat Kofi)", True),
        ("Feather", False),
        ("Without You", False),
        ("Drift.", False),
        ("Highway with Kofi", False),  # "with" credits only in brackets
        ("Highway (Withered Mix)", False),
    ],
)
def test_featuring_credits_in_track_titles(title: str, flagged: bool) -> None:
    found = codes(changed(track_with(1, title=title)))
    assert found == (["title-has-featuring"] if flagged else [])


def test_featuring_is_not_checked_on_the_release_title() -> None:
    assert codes(changed(release_with(title="Night Drive (feat. Kofi)"))) == []


@pytest.mark.parametrize(
    ("artist", "title", "flagged"),
    [
        ("Ama", "Ama's Highway", True),
        ("Ama", "Amazing", False),
        ("Ama", "Drama", False),
        ("Ama Lune", "ama   lune forever", True),
        ("Ke$ha", "Ke$ha Nights", True),
        ("   ", "Highway", False),
    ],
)
def test_artist_name_is_a_whole_word_or_phrase(artist: str, title: str, flagged: bool) -> None:
    release = changed(release_with(artist_name=artist), track_with(1, title=title))
    assert codes(release) == (["title-has-artist-name"] if flagged else [])


def test_a_bracketed_version_tells_duplicate_titles_apart() -> None:
    assert codes(changed(track_with(2, title="Highway (Remix)"))) == []


def test_each_duplicate_after_the_first_is_found_once() -> None:
    release = changed(track_with(2, title="Highway"))
    third = clean_track(3, "HIGHWAY ", "USRC17607841", OTHER_SHA, ContributorRole.COMPOSER)
    release["tracks"].append(third)
    found = [(f.code, f.track) for f in check(release)]
    assert found == [("duplicate-track-title", 2), ("duplicate-track-title", 3)]


@pytest.mark.parametrize("empty", [None, "", "   "])
def test_an_empty_release_field_is_missing(empty: str | None) -> None:
    assert codes(changed(release_with(p_line=empty))) == ["missing-p-line"]


# ------------------------------------------------------------------------ other releases


def test_an_isrc_on_the_same_audio_elsewhere_is_only_reused_audio() -> None:
    elsewhere = [elsewhere_track("USRC17607839", SHA_1)]
    assert codes(clean_release(), elsewhere) == ["audio-reused"]


def test_an_isrc_elsewhere_with_unknown_audio_is_not_a_clash() -> None:
    assert codes(clean_release(), [elsewhere_track("USRC17607839", None)]) == []


def test_an_isrc_is_not_compared_before_this_track_is_hashed() -> None:
    release = changed(track_with(1, audio_sha256=None))
    assert codes(release, [elsewhere_track("USRC17607839", OTHER_SHA)]) == []


def test_the_release_own_tracks_are_not_elsewhere() -> None:
    elsewhere = [elsewhere_track("USRC17607839", OTHER_SHA, release_id="rel-1")]
    assert codes(clean_release(), elsewhere) == []


def test_the_clash_names_the_other_releases_once() -> None:
    elsewhere = [
        elsewhere_track("USRC17607839", OTHER_SHA, "rel-7"),
        elsewhere_track("USRC17607839", "e" * 64, "rel-7"),
        elsewhere_track("USRC17607839", "f" * 64, "rel-9"),
    ]
    (finding,) = check(clean_release(), elsewhere)
    assert finding.message.endswith("(on release rel-7, release rel-9)")


# ------------------------------------------------------------------------ before measurement


def test_an_unmeasured_track_skips_the_audio_checks_and_says_so_once() -> None:
    release = changed(track_with(1, analysis=None))
    findings = check(release)
    assert [(f.code, f.severity, f.track) for f in findings] == [("not-measured", Severity.INFO, 1)]
    assert all(code in findings[0].message for code in AUDIO_CODES)


def test_the_staging_checks_apply_before_measurement() -> None:
    release = changed(
        track_with(1, analysis=None, duration=12.0, format="mp3", lossy=True, sample_rate=22050)
    )
    assert codes(release) == ["track-under-30s", "lossy-master", "low-sample-rate", "not-measured"]


def test_a_measured_track_reports_no_not_measured() -> None:
    assert "not-measured" not in codes(changed(analysis_with(1, clipped_samples=3)))


# ------------------------------------------------------------------------ order and shape


def test_release_findings_come_first_then_tracks_in_order_then_rule_order() -> None:
    release = changed(
        track_with(2, explicit=None, title="SLOW LANE"),
        analysis_with(1, true_peak_dbtp=0.1, clipped_samples=4),
        release_with(title="NIGHT DRIVE", upc=None),
    )
    release["tracks"].reverse()  # the list's order is not the track order
    found = [(f.track, f.code) for f in check(release)]
    assert found == [
        (None, "title-all-caps"),
        (None, "missing-upc"),
        (1, "true-peak-over"),
        (1, "clipping"),
        (2, "title-all-caps"),
        (2, "missing-explicit"),
    ]


def test_as_json_has_exactly_the_spec_keys() -> None:
    (finding,) = check(changed(track_with(1, explicit=None)))
    shown = finding.as_json()
    assert set(shown) == {"code", "severity", "field", "track", "message", "fix"}
    assert shown["severity"] == "error"
    assert type(shown["severity"]) is str
    assert shown["track"] == 1
    assert json.loads(json.dumps(shown)) == shown


def test_a_release_finding_has_a_null_track_in_json() -> None:
    (finding,) = check(changed(release_with(upc=None)))
    assert finding.as_json()["track"] is None


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        (lambda release: None, False),
        (release_with(upc=None), False),  # a warning
        (analysis_with(1, mono_as_stereo=True), False),  # an info
        (release_with(release_date=None), True),
        (track_with(1, title="Highway (Official)"), True),
    ],
)
def test_has_errors_only_for_an_error(change: Change, errors: bool) -> None:
    assert has_errors(check(changed(change))) is errors
