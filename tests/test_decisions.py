"""Final decisions, pure: who judged what, in which role."""

from __future__ import annotations

from pipeline.codebook.load import load_codebook
from pipeline.core.agreement import coder_verdicts, disagreements
from pipeline.core.decisions import final_decisions
from pipeline.store.review import DecisionRow
from tests.conftest import ROOT

BOOK = load_codebook(ROOT / "codebook" / "codebook.yaml")
HEDGING = [c for c in BOOK.codes if c.split(".")[0] == "hedging"]
ALIGNMENT = [c for c in BOOK.codes if c.split(".")[0] == "alignment"]


def event(
    n: int, coder: str, codes: list[str], scope: list[str] | None, role: str = "coder"
) -> DecisionRow:
    action = "relabel" if codes else "reject"
    return DecisionRow(n, "s1", coder, role, action, codes, [], "", BOOK.version, "t", "", scope)


def test_an_adjudication_stays_final_when_the_adjudicator_codes_the_segment_later() -> None:
    events = [
        event(1, "amina", ["hedging.china"], HEDGING),
        event(2, "bilal", [], HEDGING),
        event(3, "senior", ["hedging.china"], HEDGING, role="adjudicator"),
        event(4, "senior", ["alignment.aid"], ALIGNMENT),  # later, as a coder, another track
    ]
    final = final_decisions(events, BOOK)["s1"]
    assert final.decided_by == "adjudicator"
    assert {"hedging.china", "alignment.aid"} <= final.codes
    assert disagreements(events, BOOK) == []
    assert set(coder_verdicts(events, BOOK)["s1"]) == {"amina", "bilal", "senior"}
    assert "hedging.china" not in coder_verdicts(events, BOOK)["s1"]["senior"]


def test_a_coder_who_adjudicates_keeps_their_verdicts_as_a_coder() -> None:
    events = [
        event(1, "amina", ["hedging.china", "alignment.aid"], None),
        event(2, "bilal", ["alignment.aid"], None),
        event(3, "amina", ["hedging.china"], HEDGING, role="adjudicator"),
    ]
    coders = coder_verdicts(events, BOOK)["s1"]
    assert coders["amina"]["alignment.aid"] is True, "her coder judgement still counts"
    assert coders["amina"]["hedging.china"] is True
    assert final_decisions(events, BOOK)["s1"].coders == ("amina", "bilal")


def test_an_old_decision_judged_the_codes_of_its_own_codebook_only() -> None:
    """A code added to the codebook later was never judged: the machine's verdict stands."""
    from dataclasses import replace

    from pipeline.core.decisions import with_scopes

    old = replace(event(1, "amina", ["hedging.china"], None), codebook_version="cb-old")
    before = frozenset(c for c in BOOK.codes if c != "alignment.aid")  # aid came later
    [resolved] = with_scopes([old], BOOK, {"cb-old": before}.get)
    assert resolved.scope is not None and "alignment.aid" not in resolved.scope
    machine = {"s1": {"alignment", "alignment.aid"}}
    final = final_decisions([resolved], BOOK, machine=machine)["s1"]
    assert {"alignment.aid", "hedging.china"} <= final.codes
    # Read as judging today's every code, it would have said "no" to a code it never saw.
    assert "alignment.aid" not in final_decisions([old], BOOK, machine=machine)["s1"].codes
    unknown = replace(old, codebook_version="cb-lost", machine_codes=["securitization.terrorism"])
    [guarded] = with_scopes([unknown], BOOK, {}.get)
    assert set(guarded.scope or ()) == {
        "hedging",
        "hedging.china",
        "securitization",
        "securitization.terrorism",
    }


def test_a_decision_under_the_current_codebook_keeps_judging_every_code() -> None:
    from pipeline.core.decisions import with_scopes

    now = event(1, "chen", [], None)
    assert with_scopes([now], BOOK, lambda version: None) == [now]
