"""The development set is intact, and the rule coder does not fall behind on it."""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.conftest import ROOT, needs_shared

sys.path.insert(0, str(ROOT / "bench"))
import coding_quality
from devset import CODES, load_devset

# Floors a little under the figures measured when the rules were last tuned (see the README of
# tests/devset): a change to the codebook or the coder that costs more than that fails here.
FLOORS_ALL = {"alignment": 0.78, "securitization": 0.78, "hedging": 0.85}
FLOORS_SAMPLE = {"alignment": 0.85, "securitization": 0.55, "hedging": 0.83}


@functools.cache
def _rules() -> Callable[[str], set[str]]:
    return coding_quality.rules_coder()


@needs_shared
def test_devset_rows_resolve_to_their_sentences() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "devset" / "check.py")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("code", CODES)
def test_rules_keep_their_agreement_with_the_labels(code: str) -> None:
    rows, skipped = load_devset()
    floors = FLOORS_SAMPLE if skipped else FLOORS_ALL
    if skipped:
        rows = [r for r in rows if r.source == "sample"]
    coder = _rules()
    predicted = [code in coder(r.text) for r in rows]
    score = coding_quality.scores([code in r.codes for r in rows], predicted)
    assert score["alpha"] >= floors[code], score
