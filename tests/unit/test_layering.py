"""The dependency graph of our own modules stays visible and acyclic.

Read statically with ``ast`` (nothing is imported): what a module imports when it is loaded
is its module-level imports, minus ``if TYPE_CHECKING:`` blocks, which never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("vwaza_cli", "daemon")
# Command bodies import the product lazily, so that `vwaza --help` loads none of it.
LAZY_BOUNDARY = ("vwaza_cli/cli/",)
# (importing file, imported module) pairs that stay inside a function, and why.
LAZY_ON_PURPOSE = {
    ("vwaza_cli/storage/__init__.py", "vwaza_cli.storage.supabase"): (
        "imports storage3 and httpx at its top; open_store loads it only for a Supabase store"
    ),
    ("vwaza_cli/client/__init__.py", "vwaza_cli.client.remote"): (
        "imports httpx at its top; connect loads it only on a client of a team server"
    ),
    ("vwaza_cli/processing/entry.py", "vwaza_cli.processing.render"): (
        "imports PyAV and NumPy at its top; only the worker processes run it (the forkserver "
        "they fork from preloads it), so the daemon, which names entry.work, loads neither"
    ),
    ("vwaza_cli/client/__init__.py", "vwaza_cli.client.local"): (
        "imports the services (SQLAlchemy) at its top; a client of a team server loads none"
    ),
    ("vwaza_cli/services/context.py", "vwaza_cli.db.engine"): (
        "SQLAlchemy: loaded by the first transaction, so a command that reads through "
        "db.reads (or needs no store) never loads it"
    ),
    ("vwaza_cli/services/context.py", "vwaza_cli.db.schema"): (
        "the ORM models: loaded by the first transaction, as db.engine"
    ),
    ("vwaza_cli/services/listings.py", "vwaza_cli.services.releases"): (
        "the ORM path: loaded only when db.reads cannot answer (an old schema, an expired "
        "session), so a listing that can be read plainly loads no SQLAlchemy"
    ),
    ("vwaza_cli/services/listings.py", "vwaza_cli.services.review"): (
        "the ORM path for review list, as services.releases"
    ),
}


@dataclass(frozen=True)
class Import:
    file: str
    line: int
    target: str  # the module the statement loads: one of ours or anything else


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(module: str, path: Path, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The modules an import statement loads: ``from a import b`` is ``a.b`` when that is a
    module of ours, else ``a``."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        package = package[: len(package) - (node.level - 1)]
        base = ".".join([*package, *([node.module] if node.module else [])])
    for alias in node.names:
        yield f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base


def _walk(module: str, path: Path) -> Iterator[tuple[bool, ast.Import | ast.ImportFrom]]:
    """Every import that runs, with whether it runs at load time (True) or in a function."""

    def visit(nodes: list[ast.stmt], in_function: bool) -> Iterator[tuple[bool, ast.AST]]:
        for node in nodes:
            if isinstance(node, ast.Import | ast.ImportFrom):
                yield in_function, node
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield from visit(node.body, True)
            elif isinstance(node, ast.If) and _is_type_checking(node):
                yield from visit(node.orelse, in_function)
            else:
                for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                    children = getattr(node, field, None)
                    if isinstance(children, list):
                        yield from visit(children, in_function)

    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for in_function, node in visit(tree.body, False):
        assert isinstance(node, ast.Import | ast.ImportFrom)
        yield not in_function, node


def _imports(at_load: bool) -> list[Import]:
    found: list[Import] = []
    for module, path in MODULES.items():
        for runs_at_load, node in _walk(module, path):
            if runs_at_load == at_load:
                file = path.relative_to(ROOT).as_posix()
                targets = dict.fromkeys(_targets(module, path, node))  # once each, in order
                found.extend(Import(file, node.lineno, t) for t in targets)
    return found


def _ours(target: str) -> bool:
    return target.split(".")[0] in PACKAGES


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that ends where it starts, or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            cycle = visit(nxt)
            if cycle:
                return cycle
        path.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        cycle = visit(node)
        if cycle:
            return cycle
    return None


def test_our_modules_import_each_other_without_a_cycle() -> None:
    module_of = {path.relative_to(ROOT).as_posix(): name for name, path in MODULES.items()}
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for found in _imports(at_load=True):
        if found.target in MODULES and found.target != module_of[found.file]:
            graph[module_of[found.file]].add(found.target)
    cycle = _find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_only_the_cli_imports_our_modules_inside_functions() -> None:
    violations = [
        f"{found.file}:{found.line}: {found.target}"
        for found in _imports(at_load=False)
        if _ours(found.target)
        and not found.file.startswith(LAZY_BOUNDARY)
        and (found.file, found.target) not in LAZY_ON_PURPOSE
    ]
    assert not violations, "imports of our modules inside functions (move them to the top):\n" + (
        "\n".join(violations)
    )


def _body_lines(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function's body, its docstring left out."""
    body = function.body
    first = body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        body = body[1:]
    if not body:
        return 0
    return (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1


def test_functions_stay_small() -> None:
    """Small functions with names that explain them: the median stays at 10 lines or less
    (migrations, which are frozen history, left out)."""
    lengths = sorted(
        _body_lines(node)
        for path in _modules().values()
        if "migrations" not in path.parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    )
    median = lengths[len(lengths) // 2]
    assert median <= 10, f"median function is {median} lines over {len(lengths)} functions"
