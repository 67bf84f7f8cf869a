"""The review page's queues (pipeline.review.desk), without a browser: claims, the double-coded
share, progress, and decisions written by another route meanwhile."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.api import Project
from pipeline.core.records import NewDecision
from pipeline.errors import DshiftError
from pipeline.review.desk import CLAIM_SECONDS


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def project(web_root: Path) -> Project:
    return Project.open(web_root)


def test_a_segment_shown_to_one_coder_is_kept_from_the_others_until_the_claim_lapses(
    project: Project,
) -> None:
    clock = Clock()
    with project.review_desk() as desk:
        desk.clock = clock
        first = desk.next_segment("a")
        assert first is not None
        assert desk.next_segment("a") == first  # a reload shows the same segment again
        other = desk.next_segment("b")
        assert other not in (None, first)
        with pytest.raises(DshiftError, match="not in your queue"):
            desk.decide("b", first, [], blind=False)
        clock.now += CLAIM_SECONDS + 1
        assert desk.next_segment("c") == first  # a's claim lapsed, nobody decided it


def test_the_double_share_goes_to_every_coder(project: Project) -> None:
    with project.review_desk(double=1.0) as desk:
        first = desk.next_segment("a")
        assert desk.next_segment("b") == first
        desk.decide("a", first, ["hedging"], blind=True)
        desk.decide("b", first, [], blind=True)
        assert [d.segment_id for d in desk.disagreements()] == [first]
    with project.review_desk(double=0.0) as desk:
        assert desk.next_segment("c") != first  # decided by others, outside any shared share


def test_progress_counts_what_is_done_and_what_is_left(project: Project) -> None:
    with project.review_desk() as desk:
        start = desk.progress("a")
        assert start.done == 0 and start.left > 10
        for _ in range(3):
            segment = desk.next_segment("a")
            assert segment is not None
            desk.decide("a", segment, ["alignment"], blind=False)
        assert desk.progress("a") == type(start)(3, start.left - 3)
        assert desk.progress("b").left == start.left - 3  # decided by a: not b's to code
        desk.undo("a")
        after = desk.progress("a")
        assert after.done == 2 and after.left == start.left - 2


def test_a_decision_recorded_by_another_route_meanwhile_takes_the_segment_out(
    project: Project,
) -> None:
    with project.review_desk() as desk:
        upcoming = desk.next_segment("a")
        assert upcoming is not None
        version = desk.codebook.version
        desk.store.add_decisions(  # a sheet imported while the page runs
            [NewDecision(upcoming, "a", "coder", "reject", [], [], "", version, "sheet row 2")],
            sha256="f" * 64,
            path="review-a.xlsx",
            kind="sheet",
            coder="a",
            run_id=desk.store.start_run("review import", {}),
        )
        assert desk.next_segment("a") != upcoming
        assert desk.next_segment("b") != upcoming
