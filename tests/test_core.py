"""The core layer: it imports no stage, and its rules behave (pure, no store)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np

from pipeline.codebook.load import load_codebook
from pipeline.core import DEFAULT_SEED, GATE_MIN_UNITS
from pipeline.core.agreement import gate, kappa, machine_against_human
from pipeline.core.codes import machine_codes, tag_codes, with_ancestors
from pipeline.core.decisions import current, final_codes, settle
from pipeline.store.review import DecisionRow
from tests.conftest import ROOT

CORE = ROOT / "pipeline" / "core"
BOOK = load_codebook(ROOT / "codebook" / "codebook.yaml")


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, *, typing_only: bool = False) -> list[tuple[int, str]]:
    """(line, module) of every import in ``tree``, at any depth (functions included).

    Imports under ``if TYPE_CHECKING:`` are left out, or (``typing_only``) the only ones kept.
    """
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, typing: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True)
            for child in node.orelse:
                visit(child, typing)
            return
        if typing == typing_only:
            if isinstance(node, ast.Import):
                found.extend((node.lineno, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:  # relative: inside pipeline.core by construction
                    found.append((node.lineno, "pipeline.core." + (node.module or "")))
                else:
                    found.append((node.lineno, node.module or ""))
        for child in ast.iter_child_nodes(node):
            visit(child, typing)

    visit(tree, False)
    return found


def _outside_core(module: str) -> bool:
    allowed = ("pipeline.core", "pipeline.errors", "pipeline.models")
    inside = any(module == a or module.startswith(a + ".") for a in allowed)
    return (module == "pipeline" or module.startswith("pipeline.")) and not inside


def test_core_imports_nothing_of_the_pipeline_outside_core() -> None:
    modules = sorted(CORE.rglob("*.py"))
    assert {p.name for p in modules} >= {"__init__.py", "decisions.py", "agreement.py", "codes.py"}
    bad = [
        f"{path.relative_to(ROOT)}:{line}: imports {module}"
        for path in modules
        for line, module in _imports(ast.parse(path.read_text("utf-8")))
        if _outside_core(module)
    ]
    assert bad == []


def test_core_names_nothing_outside_core_even_for_type_checking() -> None:
    """The store's rows live in core.records, so core needs nothing else even for types."""
    seen = {
        module
        for path in sorted(CORE.rglob("*.py"))
        for _, module in _imports(ast.parse(path.read_text("utf-8")), typing_only=True)
        if _outside_core(module)
    }
    assert seen == set()


def test_the_import_check_sees_imports_inside_functions() -> None:
    """The checker must not be blind to the imports it exists to catch."""
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pipeline.store import Store\n"
        "def f():\n    from pipeline.codebook.load import parse_codebook\n"
        "class C:\n    def g(self):\n        import pipeline.review.run\n"
    )
    outside = [m for _, m in _imports(tree) if _outside_core(m)]
    assert outside == ["pipeline.codebook.load", "pipeline.review.run"]
    assert [m for _, m in _imports(tree, typing_only=True)] == ["pipeline.store"]


def test_learning_imports_nothing_of_review_and_the_report_nothing_of_indices() -> None:
    """The two package circles issue 10 removed stay removed (imports in functions too)."""
    # The report *stage* computes index tables; what draws them (html, figures) must not.
    drawing = [
        "report/html.py",
        "report/figures.py",
        "report/sections.py",
        "report/tables.py",
    ]
    for paths, forbidden in (
        (sorted((ROOT / "pipeline" / "learning").rglob("*.py")), "pipeline.review"),
        ([ROOT / "pipeline" / p for p in drawing], "pipeline.indices"),
    ):
        bad = [
            f"{path.relative_to(ROOT)}:{line}: imports {module}"
            for path in paths
            for typing_only in (False, True)
            for line, module in _imports(
                ast.parse(path.read_text("utf-8")), typing_only=typing_only
            )
            if module == forbidden or module.startswith(forbidden + ".")
        ]
        assert bad == [], forbidden


def test_the_seed_is_the_default_of_every_seeded_function() -> None:
    import inspect

    from pipeline.core.agreement import between_coders
    from pipeline.indices.composite import composite_indices
    from pipeline.indices.compute import compute_indices
    from pipeline.indices.correlate import correlate
    from pipeline.learning.prevalence import corrected_share
    from pipeline.learning.topics import fit_topics, suggest_terms
    from pipeline.learning.views import run_expand, run_topics
    from pipeline.review.select import select

    for function in (
        between_coders,
        machine_against_human,
        composite_indices,
        compute_indices,
        correlate,
        corrected_share,
        fit_topics,
        suggest_terms,
        run_topics,
        run_expand,
        select,
    ):
        default = inspect.signature(function).parameters["seed"].default
        assert default == DEFAULT_SEED == 20011, function.__name__


def test_machine_codes_are_each_tag_and_its_top_level_code() -> None:
    tags = {
        "s1": [("hedging.china", "hedging", 0.9), ("alignment.aid", "alignment", 0.5)],
        "s2": [("securitization", "securitization", 0.7)],
    }
    assert machine_codes(tags) == {
        "s1": {"hedging", "hedging.china", "alignment", "alignment.aid"},
        "s2": {"securitization"},
    }
    assert tag_codes(tags["s1"], min_confidence=0.8) == {"hedging", "hedging.china"}
    assert tag_codes(tags["s2"], min_confidence=0.7) == {"securitization"}, "the bound is kept"
    assert tag_codes([]) == set()
    # The same codes the code tree gives: a tag's top code is its leaf's root.
    for found in tags.values():
        assert tag_codes(found) == with_ancestors([leaf for leaf, _, _ in found], BOOK)


def _row(n: int, coder: str, action: str, codes: list[str], role: str = "coder") -> DecisionRow:
    return DecisionRow(n, "s1", coder, role, action, codes, [], "", BOOK.version, "t", "", None)


def test_an_undo_takes_back_the_decision_before_it() -> None:
    events = [
        _row(1, "amina", "accept", ["hedging.china"]),
        _row(2, "amina", "relabel", ["alignment.aid"]),
        _row(3, "amina", "undo", []),
        _row(4, "bilal", "reject", []),
        _row(5, "bilal", "undo", []),
    ]
    assert {key: row.id for key, row in current(events).items()} == {("s1", "amina"): 1}
    assert final_codes(events, BOOK) == {"s1": {"hedging", "hedging.china"}}


def test_a_tie_between_coders_goes_to_the_latest_and_an_adjudicator_outranks_them() -> None:
    from pipeline.core.decisions import judgements

    events = [
        _row(1, "amina", "accept", ["hedging.china"]),
        _row(2, "bilal", "reject", []),
    ]
    verdicts = settle(judgements(events, BOOK)["s1"].values())
    assert verdicts["hedging.china"] is False, "a 1-1 tie: bilal judged last"
    events.append(_row(3, "amina", "reject", [], role="adjudicator"))
    events.append(_row(4, "chen", "accept", ["hedging.china"]))  # 2-1 for, but adjudicated
    assert "hedging.china" not in final_codes(events, BOOK)["s1"]


def test_the_gate_flags_weak_codes_with_enough_units_only() -> None:
    reference = {f"s{i}": ({"hedging"} if i % 2 else set()) for i in range(GATE_MIN_UNITS)}
    opposite = {s: ({"hedging"} if not codes else set()) for s, codes in reference.items()}
    table = machine_against_human(reference, opposite, ["hedging", "alignment"], n_boot=0)
    assert gate(table) == ["hedging"], "alignment: no unit varies, alpha is undefined"
    fewer = {s: reference[s] for s in list(reference)[: GATE_MIN_UNITS - 1]}
    assert gate(machine_against_human(fewer, opposite, ["hedging"], n_boot=0)) == []
    assert kappa(np.array([[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 0.0]])) == 1.0


def test_core_modules_are_small() -> None:
    for path in CORE.rglob("*.py"):
        assert len(Path(path).read_text("utf-8").splitlines()) <= 500, path.name
