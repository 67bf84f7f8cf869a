"""Every error a user can see has a stable code from the catalogue, and its exit status."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import pipeline.errors as errors
from pipeline.errors import ERRORS, DshiftError

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pipeline"


def _error_classes() -> set[str]:
    """Names of DshiftError and its subclasses defined anywhere in the package."""
    names = {"DshiftError"}
    changed = True
    trees = [ast.parse(p.read_text(encoding="utf-8")) for p in PACKAGE.rglob("*.py")]
    while changed:
        changed = False
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {b.id for b in node.bases if isinstance(b, ast.Name)}
                    if bases & names:
                        names.add(node.name)
                        changed = True
    return names


def _raises() -> list[tuple[str, int, str, str | None]]:
    """(file, line, class, code given) of every construction of one of our errors."""
    classes = _error_classes()
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                if node.func.id not in classes:
                    continue
                code = next((k.value for k in node.keywords if k.arg == "code"), None)
                given = code.value if isinstance(code, ast.Constant) else None
                if code is not None and given is None:
                    given = "<not a literal>"
                found.append((str(path.relative_to(ROOT)), node.lineno, node.func.id, given))
    return found


def test_every_plain_error_names_its_code_from_the_catalogue() -> None:
    missing = [
        f"{f}:{line}" for f, line, cls, code in _raises() if cls == "DshiftError" and not code
    ]
    assert not missing, "DshiftError(..., code=...) needed at: " + ", ".join(missing)
    unknown = [
        f"{f}:{line} {code}" for f, line, _, code in _raises() if code and code not in ERRORS
    ]
    assert not unknown, unknown


def test_every_error_class_has_a_catalogued_code() -> None:
    for name in _error_classes():
        cls = _find_class(name)
        assert cls.code in ERRORS, (name, cls.code)


def _find_class(name: str) -> type[DshiftError]:
    import importlib

    for path in PACKAGE.rglob("*.py"):
        if f"class {name}(" in path.read_text(encoding="utf-8"):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found = getattr(importlib.import_module(".".join(parts)), name)
            assert issubclass(found, DshiftError)
            return found
    raise AssertionError(name)


def test_the_exit_status_comes_from_the_code() -> None:
    assert DshiftError("x", code="locked").exit_code == 3
    assert errors.StoreError("x").exit_code == 4
    assert errors.RefiError("x").code == "refi"
    with pytest.raises(ValueError, match="not in the catalogue"):
        DshiftError("x", code="no-such-code")


def test_the_readme_lists_every_code_with_its_exit_status() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for kind in ERRORS.values():
        assert f"| `{kind.code}` | {kind.exit_code} |" in readme, kind.code


def test_the_catalogue_is_documented_where_it_is_defined() -> None:
    assert "stable" in (inspect.getdoc(DshiftError) or "")
