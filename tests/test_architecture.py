"""The shape of the package: one-way imports between rooms, thin clients, small modules.

Imports are read from the source (every ``import`` statement, inside functions and
``TYPE_CHECKING`` blocks too), so a cycle hidden by a function-level import still fails here.
See ARCHITECTURE.md for the rooms and the direction data flows through them.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pipeline"

# Modules allowed over the size limit, each with why it is one thing.
LONG_MODULES: dict[str, str] = {
    "pipeline.api": "the one door: one short method per command, the whole surface clients "
    "see in one place",
    "pipeline.store.protocols": "the store's contract: one protocol per role, every method "
    "documented; what a second backend implements, read in one place",
}
MAX_LINES = 500

# Rooms a client (the CLI) may import: the API and the vocabulary it speaks in.
CLIENT_MAY_IMPORT = {
    "pipeline",
    "pipeline.api",
    "pipeline.core",
    "pipeline.errors",
    "pipeline.registry",
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _resolve(name: str) -> str | None:
    """The module of the package that ``name`` (a module or a name in one) lives in."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str | None] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(_resolve(a.name) for a in node.names if a.name.startswith("pipeline"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            if not source.startswith("pipeline"):
                continue
            for alias in node.names:
                full = f"{source}.{alias.name}"
                found.add(full if full in MODULES else _resolve(source))
    found.discard(None)
    found.discard(module)
    return {m for m in found if m is not None}


GRAPH = {module: _imports(module, path) for module, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def _room(module: str) -> str:
    """The room of a module: its package under pipeline (pipeline.review.run -> review)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "pipeline"


def test_the_cycle_finder_finds_cycles() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules() -> None:
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles (function-level imports included): " + "; ".join(
        " <-> ".join(c) for c in cycles
    )


def test_no_import_cycle_between_rooms() -> None:
    # A room is a package under pipeline/ (review, learning...) or a top-level module (api).
    rooms: dict[str, set[str]] = defaultdict(set)
    for module, imported in GRAPH.items():
        for other in imported:
            if _room(other) != _room(module):
                rooms[_room(module)].add(_room(other))
    cycles = _cycles(dict(rooms))
    assert not cycles, "rooms that import each other: " + "; ".join(" <-> ".join(c) for c in cycles)


def test_core_imports_nothing_of_the_stages() -> None:
    allowed = {"core", "errors", "models"}
    for module, imported in GRAPH.items():
        if _room(module) == "core":
            assert {_room(m) for m in imported} <= allowed, (module, imported)


CLIENTS = ("cli", "web")


def test_clients_speak_only_to_the_api() -> None:
    # The CLI may also start the web page (``dshift serve``), a client like itself.
    for module, imported in GRAPH.items():
        room = _room(module)
        if room not in CLIENTS:
            continue
        allowed = CLIENT_MAY_IMPORT | ({"pipeline.web.app"} if room == "cli" else set())
        strays = {m for m in imported if _room(m) != room and m not in allowed}
        assert not strays, f"{module} reaches past pipeline.api into {sorted(strays)}"


def test_nothing_but_clients_imports_the_api_or_the_cli() -> None:
    for module, imported in GRAPH.items():
        if _room(module) in (*CLIENTS, "api", "__main__"):
            continue
        assert not {m for m in imported if _room(m) in ("api", *CLIENTS)}, module


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_small(module: str) -> None:
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    if module in LONG_MODULES:
        return
    assert lines <= MAX_LINES, (
        f"{module} has {lines} lines: split it by what its parts do, or add it to "
        "LONG_MODULES with why it is one thing"
    )


def test_starting_the_cli_loads_no_heavy_library() -> None:
    """``dshift --help`` and every command start fast: pandas, scikit-learn, spaCy and gensim
    are imported by the stages that use them, not by the API or the CLI."""
    import subprocess
    import sys

    heavy = ("pandas", "sklearn", "spacy", "gensim", "numpy")
    probe = (
        "import sys, pipeline.cli, pipeline.api; "
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
    ).stdout.strip()
    assert loaded == "", f"importing the CLI loads {loaded}"
