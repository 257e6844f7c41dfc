"""The typed core: enums are the only spelling of the domain's values, and every release
status change goes through the one lifecycle table."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path
from types import SimpleNamespace

import pytest

from vwaza_cli.enums import JobStatus, JobType, ReleaseStatus, Role
from vwaza_cli.errors import StatusForbids
from vwaza_cli.services import lifecycle
from vwaza_cli.services.lifecycle import ADMIN, ARTIST, SYSTEM, TRANSITIONS, Mover

ROOT = Path(__file__).resolve().parents[2]
VALUES = {m.value for cls in (JobStatus, JobType, ReleaseStatus, Role) for m in cls}
# Where the values are spelled out: the enums themselves, and migrations (frozen history).
ALLOWED = {ROOT / "vwaza_cli" / "enums.py"}


def _sources() -> list[Path]:
    files = sorted((ROOT / "vwaza_cli").rglob("*.py")) + sorted((ROOT / "daemon").rglob("*.py"))
    return [f for f in files if f not in ALLOWED and "migrations" not in f.parts]


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_status_role_or_type_spelled_as_a_string_outside_the_enums() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {value!r}"
        for path in _sources()
        for line, value in _string_constants(path)
        if value in VALUES
    ]
    assert not found, "use the enum instead:\n" + "\n".join(found)


def test_only_the_lifecycle_assigns_a_status() -> None:
    lifecycle_file = ROOT / "vwaza_cli" / "services" / "lifecycle.py"
    found = []
    for path in _sources():
        if path == lifecycle_file:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "status":
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "move releases with lifecycle.move():\n" + "\n".join(found)


def _release(status: ReleaseStatus) -> SimpleNamespace:
    return SimpleNamespace(
        id="0123456789abcdef",
        status=status,
        rejection_reason="old reason",
        updated_at=None,
        submitted_at=None,
    )


EXPECTED = {
    (ReleaseStatus.DRAFT, ReleaseStatus.PROCESSING): {ARTIST, ADMIN},
    (ReleaseStatus.REJECTED, ReleaseStatus.PROCESSING): {ARTIST, ADMIN},
    (ReleaseStatus.PROCESSING, ReleaseStatus.PENDING_REVIEW): {SYSTEM},
    (ReleaseStatus.PROCESSING, ReleaseStatus.DRAFT): {SYSTEM},
    (ReleaseStatus.PENDING_REVIEW, ReleaseStatus.PUBLISHED): {ADMIN},
    (ReleaseStatus.PENDING_REVIEW, ReleaseStatus.REJECTED): {ADMIN},
}


def test_the_table_is_the_documented_lifecycle() -> None:
    assert {k: set(v) for k, v in TRANSITIONS.items()} == EXPECTED


@pytest.mark.parametrize(
    ("source", "target", "by"),
    list(itertools.product(ReleaseStatus, ReleaseStatus, Mover)),
    ids=lambda v: getattr(v, "name", str(v)),
)
def test_every_move_is_allowed_exactly_when_the_table_says(
    source: ReleaseStatus, target: ReleaseStatus, by: Mover
) -> None:
    release = _release(source)
    if by in EXPECTED.get((source, target), set()):
        lifecycle.move(release, target, by, reason="why")
        assert release.status == target
        assert release.updated_at is not None
    else:
        with pytest.raises(StatusForbids) as refused:
            lifecycle.move(release, target, by)
        assert release.status == source  # nothing changed
        assert f"is {source}" in refused.value.message
        assert refused.value.exit_code == 5


def test_entering_a_status_sets_what_belongs_to_it() -> None:
    release = _release(ReleaseStatus.REJECTED)
    lifecycle.move(release, ReleaseStatus.PROCESSING, ARTIST)
    assert release.submitted_at is not None
    assert release.rejection_reason is None  # a resubmission clears the old verdict
    release.status = ReleaseStatus.PENDING_REVIEW
    lifecycle.move(release, ReleaseStatus.REJECTED, ADMIN, reason="fix the mix")
    assert release.rejection_reason == "fix the mix"


def test_refusals_name_what_is_allowed() -> None:
    with pytest.raises(StatusForbids) as refused:
        lifecycle.move(_release(ReleaseStatus.PUBLISHED), ReleaseStatus.PROCESSING, ARTIST)
    assert refused.value.message == (
        "release 01234567 is PUBLISHED: only DRAFT or REJECTED releases can be submitted"
    )
    with pytest.raises(StatusForbids) as refused:
        lifecycle.move(_release(ReleaseStatus.DRAFT), ReleaseStatus.PUBLISHED, ADMIN)
    assert refused.value.message == (
        "release 01234567 is DRAFT: only PENDING_REVIEW releases can be approved or rejected"
    )


def test_system_moves_are_skipped_quietly_when_not_allowed() -> None:
    release = _release(ReleaseStatus.DRAFT)
    assert not lifecycle.move_if_allowed(release, ReleaseStatus.PENDING_REVIEW, SYSTEM)
    assert release.status == ReleaseStatus.DRAFT
    release.status = ReleaseStatus.PROCESSING
    assert lifecycle.move_if_allowed(release, ReleaseStatus.PENDING_REVIEW, SYSTEM)
    assert release.status == ReleaseStatus.PENDING_REVIEW


@pytest.mark.parametrize("status", list(ReleaseStatus))
def test_only_draft_and_rejected_releases_are_editable(status: ReleaseStatus) -> None:
    if status in (ReleaseStatus.DRAFT, ReleaseStatus.REJECTED):
        lifecycle.ensure_editable(_release(status))
    else:
        with pytest.raises(StatusForbids):
            lifecycle.ensure_editable(_release(status))
