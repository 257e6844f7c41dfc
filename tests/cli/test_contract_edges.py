"""Edges of the contract: answering no, Ctrl-C at a prompt, an export file name that names no
format, an admin's empty list, completion of status values."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import Cli, store_snapshot

pytestmark = pytest.mark.both_modes  # on one machine, and through a team server


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Prompts are asked as on a terminal (the runner's stdin is not one)."""
    from vwaza_cli.cli import options

    monkeypatch.setattr(options, "on_terminal", lambda: True)


def _ctrl_c(prompt: str = "") -> str:
    raise KeyboardInterrupt


class CtrlCRunner(CliRunner):
    """A runner at whose prompts Ctrl-C is pressed (its own prompt readers are replaced)."""

    @contextmanager
    def isolation(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        from typer._click import termui

        with super().isolation(*args, **kwargs) as streams:  # restores the readers after
            termui.hidden_prompt_func = termui.visible_prompt_func = _ctrl_c
            yield streams


def _pressing_ctrl_c(cli: Cli) -> Cli:
    return Cli(CtrlCRunner(), cli.token)


# ------------------------------------------------------------------ declined prompts


@pytest.mark.usefixtures("terminal")
def test_declining_a_release_delete_deletes_nothing_and_exits_0(ada: Cli, store_url: str) -> None:
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    before = store_snapshot(store_url)
    outcome = ada("release", "delete", release["id"], input="n\n")
    assert outcome.exit_code == 0
    assert outcome.stderr.splitlines()[-1].endswith("nothing deleted")
    assert store_snapshot(store_url) == before


@pytest.mark.usefixtures("terminal")
def test_a_declined_delete_with_json_prints_that_nothing_was_deleted(
    admin: Cli, people: dict, store_url: str
) -> None:
    before = store_snapshot(store_url)
    outcome = admin("admin", "user", "delete", "bo@example.com", "--json", input="")  # no answer
    assert outcome.exit_code == 0
    assert json.loads(outcome.stdout) == {"deleted": False}
    assert store_snapshot(store_url) == before


@pytest.mark.usefixtures("terminal")
def test_answering_yes_deletes(ada: Cli) -> None:
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    assert ada("release", "delete", release["id"], input="y\n").exit_code == 0
    assert ada("release", "show", release["id"]).exit_code == 3


# ------------------------------------------------------------------------- Ctrl-C


@pytest.mark.usefixtures("terminal")
@pytest.mark.parametrize(
    "args",
    [
        ["auth", "register", "--email", "cy@example.com", "--artist-name", "Cy"],
        ["auth", "login", "--email", "ada@example.com"],
        ["auth", "password", "change"],
        ["init", "--admin-email", "root@example.com"],
    ],
)
def test_ctrl_c_at_a_password_prompt_exits_130_and_says_nothing_was_saved(
    ada: Cli, store_url: str, args: list[str]
) -> None:
    before = store_snapshot(store_url)
    outcome = _pressing_ctrl_c(ada)(*args)
    assert outcome.exit_code == 130
    assert outcome.stderr.splitlines()[-1] == "interrupted: nothing was saved"
    assert store_snapshot(store_url) == before


@pytest.mark.usefixtures("terminal")
def test_ctrl_c_at_a_delete_question_exits_130(ada: Cli, store_url: str) -> None:
    release = ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    before = store_snapshot(store_url)
    outcome = _pressing_ctrl_c(ada)("release", "delete", release["id"], "--json")
    assert outcome.exit_code == 130
    error = json.loads(outcome.stderr.splitlines()[-1])["error"]  # after the question
    assert error == {"type": "interrupted", "message": "interrupted: nothing was saved"}
    assert store_snapshot(store_url) == before


@pytest.mark.usefixtures("terminal")
def test_the_end_of_input_at_a_password_prompt_is_invalid_input(initialised: Cli) -> None:
    outcome = initialised("auth", "login", "--email", "ada@example.com", input="")
    assert outcome.exit_code == 6
    assert outcome.stderr.endswith("\nerror: no password given (end of input): nothing was saved\n")


# ---------------------------------------------------------------- catalog export


def test_an_export_file_name_without_a_format_is_refused(ada: Cli, tmp_path: Path) -> None:
    ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    before = sorted(tmp_path.iterdir())
    outcome = ada("catalog", "export", "--output", str(tmp_path / "catalog.txt"))
    assert outcome.exit_code == 6
    assert outcome.stderr == (
        "error: 'catalog.txt' names no catalog format: end the file name in .json or .csv\n"
    )
    assert sorted(tmp_path.iterdir()) == before  # not even a temporary file


@pytest.mark.parametrize(("name", "first"), [("out.CSV", "external_id"), ("out.json", "{")])
def test_the_export_format_follows_the_file_name(
    ada: Cli, tmp_path: Path, name: str, first: str
) -> None:
    ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    target = tmp_path / name
    assert ada.ok("catalog", "export", "--output", str(target))["releases"] == 1
    assert target.read_text(encoding="utf-8").startswith(first)


# ------------------------------------------------------------------ release list


HINT = "hint: no releases of your own; `vwaza release list --all` lists everyone's"


def test_an_admins_empty_release_list_hints_at_all(admin: Cli, ada: Cli) -> None:
    ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    outcome = admin("release", "list")
    assert outcome.exit_code == 0
    assert HINT in outcome.stderr.splitlines()
    assert admin("release", "list", "--json").stderr == ""  # data only with --json
    assert HINT not in admin("release", "list", "--all").stderr


def test_an_artists_empty_release_list_has_no_hint(ada: Cli) -> None:
    assert "hint:" not in ada("release", "list").stderr


# -------------------------------------------------------------- --status values


def _complete(home: Path, words: str) -> list[str]:
    from vwaza_cli.cli.main import app

    env = {"_VWAZA_COMPLETE": "complete_bash", "COMP_WORDS": words}
    env["COMP_CWORD"] = str(len(words.split()) - (0 if words.endswith(" ") else 1))
    result = CliRunner().invoke(app, [], env=env, prog_name="vwaza")
    return result.stdout.split()


def test_completion_offers_the_status_values(home: Path) -> None:
    assert _complete(home, "vwaza release list --status ") == [
        "DRAFT",
        "PROCESSING",
        "PENDING_REVIEW",
        "PUBLISHED",
        "REJECTED",
    ]
    assert _complete(home, "vwaza jobs list --status F") == ["FAILED"]
    assert _complete(home, "vwaza jobs list --status u") == ["uploading"]  # as it is typed
    assert _complete(home, "vwaza admin user create --role A") == ["ARTIST", "ADMIN"]


def test_status_values_are_still_taken_in_any_case(ada: Cli) -> None:
    ada.ok("release", "create", "Night Drive", "--genre", "Electronic")
    assert len(ada.ok("release", "list", "--status", "draft")) == 1
    assert ada.ok("jobs", "list", "--status", "failed") == []


def test_a_wrong_status_value_keeps_its_message(ada: Cli) -> None:
    outcome = ada("release", "list", "--status", "nope")
    assert outcome.exit_code == 6
    assert outcome.stderr == (
        "error: unknown status 'NOPE': use one of DRAFT, PROCESSING, PENDING_REVIEW, "
        "PUBLISHED, REJECTED\n"
    )
    outcome = ada("jobs", "list", "--status", "nope")
    assert outcome.exit_code == 6
    assert outcome.stderr == (
        "error: unknown job status 'NOPE': use one of PENDING, UPLOADING, COMPLETED, FAILED\n"
    )
