"""Small helpers for the hostile-input tests: a one-release catalog next to real media, and
the shape of a refusal (one `error:` line, or a catalog's problem lines)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.media_factory import make_cover, make_wav


def label_folder(root: Path) -> Path:
    """A label's folder: one real track and one real cover next to the catalog."""
    path = root / "label"
    path.mkdir()
    make_wav(path / "01.wav", seconds=0.3, channels=1)
    make_cover(path / "cover.jpg", size=1000)
    return path


def catalog(folder: Path, *, name: str = "c.json", **fields: str) -> Path:
    """A one-release, one-track catalog; ``fields`` override the release's or (``file``,
    ``track_title``, ``isrc``) the track's values."""
    track = {"title": fields.pop("track_title", "Intro"), "file": fields.pop("file", "01.wav")}
    if "isrc" in fields:
        track["isrc"] = fields.pop("isrc")
    release = {"external_id": "LBL-1", "title": "Night", "genre": "Pop", **fields}
    path = folder / name
    path.write_text(json.dumps({"releases": [{**release, "tracks": [track]}]}), encoding="utf-8")
    return path


def problems(stderr: str) -> list[str]:
    """The problem lines of a refused catalog (after its one `error:` line)."""
    lines = stderr.splitlines()
    assert lines[0].startswith("error: ")
    assert all(line.startswith("  ") for line in lines[1:])
    return [line.strip() for line in lines[1:]]


def one_error_line(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    return lines[0]
