"""completions/ and docs/cli-reference.md are generated from the app and kept current here.

Completion is checked against the installed `vwaza` program, the way a shell drives it: the
committed bash script is sourced in a real bash, and the zsh and fish protocols (the environment
variables their scripts set) are replayed directly, since those shells may not be installed.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.test_startup import HEAVY  # one list of what start-up must never import
from vwaza_cli.cli import reference

WRITE = reference.WRITE_COMMAND
RELEASE_SUBCOMMANDS = {"create", "list", "show", "edit", "cover", "submit", "delete"}


def _vwaza_bin() -> Path:
    beside_python = Path(sys.executable).parent / "vwaza"
    found = beside_python if beside_python.is_file() else shutil.which("vwaza")
    if found is None:
        pytest.fail("the `vwaza` program is not installed: run `pip install -e .` first")
    return Path(found)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("_VWAZA", "_TYPER", "COMP_"))}
    bindir = str(_vwaza_bin().parent)
    env.update(
        PATH=f"{bindir}{os.pathsep}{env.get('PATH', '')}",
        VWAZA_HOME=str(tmp_path / "home"),
        HOME=str(tmp_path),
        **extra,
    )
    return env


def _complete(tmp_path: Path, shell: str, **protocol: str) -> str:
    env = _env(tmp_path, _VWAZA_COMPLETE=f"complete_{shell}", **protocol)
    done = subprocess.run(
        [str(_vwaza_bin())], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stderr == ""
    return done.stdout


# ------------------------------------------------------------------------ staleness


def test_committed_files_match_the_app() -> None:
    stale = reference.stale_files()
    assert stale == [], f"stale generated files {stale}: run `{WRITE}` and commit them"


def test_generation_ignores_terminal_width_colours_and_shell_detection() -> None:
    code = (
        "import json, sys\n"
        "from vwaza_cli.cli.reference import generated_files\n"
        "json.dump(generated_files(), sys.stdout)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(
        COLUMNS="37",
        LINES="10",
        TERM="xterm-256color",
        FORCE_COLOR="1",
        _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1",
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(done.stdout) == reference.generated_files()


def test_write_then_check_round_trip(tmp_path: Path) -> None:
    assert reference.main(["--check", "--root", str(tmp_path)]) == 1
    assert reference.main(["--write", "--root", str(tmp_path)]) == 0
    assert reference.main(["--check", "--root", str(tmp_path)]) == 0
    for relative in reference.generated_files():
        assert (tmp_path / relative).is_file()


# ------------------------------------------------------------------------ reference


def _section(markdown: str, path: str) -> str:
    start = markdown.index(f"\n## `{path}`\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end != -1 else None]


def test_every_command_has_a_summary_and_an_example() -> None:
    assert reference.missing_docs() == [], (
        "each command's docstring needs a first-line summary and an `Example: vwaza ...` line"
    )


def test_the_reference_shows_each_command_with_summary_usage_and_example() -> None:
    markdown = reference.cli_reference_markdown()
    commands = reference.iter_commands()
    assert {"vwaza auth password reset", "vwaza admin user create"} <= {c.path for c in commands}
    for command in commands:
        section = _section(markdown, command.path)
        assert reference.summary(command) in section, command.path
        assert f"\n{command.path} [OPTIONS]" in section, command.path
        for example in reference.examples(command):
            assert f"```bash\n{example}\n```" in section, command.path


def test_the_reference_lists_options_with_their_help() -> None:
    section = _section(reference.cli_reference_markdown(), "vwaza release list")
    assert "| `--limit` | `INTEGER` | Rows to show. [default: 100; 1<=x<=1000] |" in section
    assert "| `--json` |  | Print one JSON document" in section  # a flag: no value


def test_the_reference_has_no_ansi_escapes() -> None:
    assert "\x1b" not in reference.cli_reference_markdown()


# ------------------------------------------------------------------------ completion


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_vwaza_serves_the_same_script_as_the_generator(tmp_path: Path, shell: str) -> None:
    """The program's own `source` answer proves the prog name and _VWAZA_COMPLETE agree."""
    env = _env(tmp_path, _VWAZA_COMPLETE=f"source_{shell}")
    done = subprocess.run(
        [str(_vwaza_bin())], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    served = done.stdout.strip()
    assert served == reference.typer_completion_script(shell)
    if shell != "zsh":  # zsh's file is patched to also work when autoloaded
        assert served in reference.completion_script(shell)


def _bash_tab(tmp_path: Path, *words: str) -> list[str]:
    """Source completions/vwaza.bash in bash and press TAB after `words`."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("bash is not installed")
    script = reference.REPO_ROOT / reference.COMPLETION_FILES["bash"]
    program = (
        'source "$COMPLETION_FILE"\n'
        'COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))\n'
        "_vwaza_completion vwaza\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    done = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", program, "bash", *words],
        env=_env(tmp_path, COMPLETION_FILE=str(script)),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stderr == ""
    return [line for line in done.stdout.splitlines() if line]


def test_bash_completes_a_command_prefix(tmp_path: Path) -> None:
    assert _bash_tab(tmp_path, "vwaza", "rel") == ["release"]


def test_bash_completes_the_subcommands_of_a_group(tmp_path: Path) -> None:
    assert RELEASE_SUBCOMMANDS <= set(_bash_tab(tmp_path, "vwaza", "release", ""))


def test_bash_completes_options_of_a_command(tmp_path: Path) -> None:
    suggested = _bash_tab(tmp_path, "vwaza", "release", "list", "--")
    assert {"--json", "--status", "--all"} <= set(suggested)


def test_bash_completes_nested_groups(tmp_path: Path) -> None:
    assert _bash_tab(tmp_path, "vwaza", "auth", "password", "res") == ["reset-request", "reset"]


def test_bash_protocol_without_a_shell(tmp_path: Path) -> None:
    out = _complete(tmp_path, "bash", COMP_WORDS="vwaza release ", COMP_CWORD="2")
    assert RELEASE_SUBCOMMANDS <= set(out.split())


def test_zsh_protocol(tmp_path: Path) -> None:
    assert "_TYPER_COMPLETE_ARGS=" in reference.completion_script("zsh")
    out = _complete(tmp_path, "zsh", _TYPER_COMPLETE_ARGS="vwaza release ")
    assert out.startswith("_arguments '*: :((")
    assert '"create":"Create a release (status DRAFT)."' in out


def test_fish_protocol(tmp_path: Path) -> None:
    out = _complete(
        tmp_path,
        "fish",
        _TYPER_COMPLETE_FISH_ACTION="get-args",
        _TYPER_COMPLETE_ARGS="vwaza release list --js",
    )
    assert out.strip().split("\t")[0] == "--json"


PROBE = """
import json, sys
sys.argv = ["vwaza"]
from vwaza_cli.cli.main import run
try:
    run()
except SystemExit:
    pass
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
sys.stderr.write("LOADED=" + json.dumps(loaded) + "\\n")
"""


@pytest.mark.parametrize(
    ("shell", "protocol"),
    [
        ("bash", {"COMP_WORDS": "vwaza release ", "COMP_CWORD": "2"}),
        ("bash", {"COMP_WORDS": "vwaza release cover 1f2e3d4c --", "COMP_CWORD": "4"}),
        ("zsh", {"_TYPER_COMPLETE_ARGS": "vwaza track add "}),
        (
            "fish",
            {"_TYPER_COMPLETE_ARGS": "vwaza auth ", "_TYPER_COMPLETE_FISH_ACTION": "get-args"},
        ),
    ],
)
def test_completion_imports_no_heavy_library(
    tmp_path: Path, shell: str, protocol: dict[str, str]
) -> None:
    env = _env(tmp_path, _VWAZA_COMPLETE=f"complete_{shell}", **protocol)
    code = PROBE.replace("set(HEAVY)", repr(set(HEAVY)))
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip(), "the completion request answered nothing"
    line = next(x for x in done.stderr.splitlines() if x.startswith("LOADED="))
    assert json.loads(line.removeprefix("LOADED=")) == []


# ------------------------------------------------------------------ install-completion


def test_help_still_offers_install_completion(tmp_path: Path) -> None:
    env = _env(tmp_path, COLUMNS="200", NO_COLOR="1", TERM="dumb")
    done = subprocess.run(
        [str(_vwaza_bin()), "--help"], env=env, capture_output=True, text=True, check=True
    )
    assert "--install-completion" in done.stdout
    assert "--show-completion" in done.stdout


@pytest.mark.parametrize(
    ("shell", "installed"),
    [
        ("bash", ".bash_completions/vwaza.sh"),
        ("zsh", ".zfunc/_vwaza"),
        ("fish", ".config/fish/completions/vwaza.fish"),
    ],
)
def test_install_completion_writes_typers_script(
    tmp_path: Path, shell: str, installed: str
) -> None:
    # Typer's switch for naming the shell instead of detecting it; HOME is tmp_path.
    env = _env(tmp_path, _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    subprocess.run(
        [str(_vwaza_bin()), "--install-completion", shell],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    written = (tmp_path / installed).read_text(encoding="utf-8")
    assert written.strip() == reference.typer_completion_script(shell)
