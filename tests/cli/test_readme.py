"""The README's first screen must stay true: CI runs exactly its test command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, flags=re.S)[:2]
    return [next(line for line in b.splitlines() if not line.startswith("#")) for b in blocks]


def test_first_screen_holds_a_demo_and_a_test_command() -> None:
    demo, tests = _readme_commands()
    assert "vwaza_cli.demo" in demo
    assert "pytest" in tests
    assert "[test]" in tests


def test_ci_runs_the_readme_test_command() -> None:
    _, tests = _readme_commands()
    assert tests in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_links_point_at_files_that_exist() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)#]+)\)", text)
    assert links
    missing = [link for link in links if not (ROOT / link).exists()]
    assert missing == []
