"""Metadata inference from text and file names, and how candidates are resolved."""

from __future__ import annotations

import pytest

from pipeline.ingest.metadata import date_conflict, from_filename, from_text, resolve
from pipeline.models import MetaValue


def one(values: list[MetaValue], field: str) -> MetaValue:
    [value] = [v for v in values if v.field == field]
    return value


@pytest.mark.parametrize(
    ("text", "expected", "evidence"),
    [
        (
            "Press Release\n\nIslamabad, 15 April 2013\n\nThe Foreign Office ...",
            "2013-04-15",
            "dateline",
        ),
        ("ISPR\n\nRawalpindi, May 3, 2016\n\nTroops ...", "2016-05-03", "dateline"),
        ("No PR-45/2016-ISPR\n\nThe Chief of Army Staff ...", "2016", "ISPR release number"),
        (
            "Article 9\n\nDone at Beijing on 20 April 2015 in two originals.",
            "2015-04-20",
            "signature clause",
        ),
        ("Done at Islamabad on this 20th day of April, 2005.", "2005-04-20", "signature clause"),
        (
            "Record of the Weekly Press Briefing\n\nIslamabad, Thursday, 24 August 2017\n\n...",
            "2017-08-24",
            "dateline",
        ),
        (
            "Issue Brief No. 14 — Islamabad, 6 September 2010\n\nPrepared by ...",
            "2010-09-06",
            "dateline",
        ),
    ],
)
def test_dates_in_text(text: str, expected: str, evidence: str) -> None:
    value = one(from_text(text), "date")
    assert (value.value, value.source) == (expected, "text")
    assert evidence in value.detail


def test_source_type_from_the_earliest_cue() -> None:
    briefing = "Transcript of the weekly press briefing\n\nSpokesperson: the agreement between ..."
    assert one(from_text(briefing), "source_type").value == "mofa"
    ispr = "Inter Services Public Relations\n\nNo PR-12/2014-ISPR"
    assert one(from_text(ispr), "source_type").value == "ispr"
    treaty = "Joint Statement on Strategic Partnership\n\n... Done at Beijing on 5 July 2013."
    assert one(from_text(treaty), "source_type").value == "treaty"
    running_head = from_text("Troops secured the area.", furniture=["ISPR Press Release"])
    assert one(running_head, "source_type").value == "ispr"


def test_file_names() -> None:
    speech = from_filename("PAK_56_2001.txt")
    assert (one(speech, "date").value, one(speech, "source_type").value) == ("2001", "speech")
    dated = from_filename("2013-04-15_mofa_press-release.pdf")
    assert (one(dated, "date").value, one(dated, "source_type").value) == ("2013-04-15", "mofa")
    assert from_filename("pr_0457.pdf") == []
    assert from_filename("2013-02-30_bad.pdf") == []


def test_human_input_wins_and_the_latest_human_input_wins() -> None:
    text = MetaValue("date", "2013-04-15", "text")
    name = MetaValue("date", "2013-04-14", "filename")
    sidecar = MetaValue("date", "2013-05-01", "sidecar")
    manual = MetaValue("date", "2013-06-01", "manual")
    assert resolve([(name, "1"), (text, "1")]).date == "2013-04-15"
    assert resolve([(text, "1"), (sidecar, "2")]).provenance["date"] == "sidecar"
    assert resolve([(sidecar, "2026-01-02"), (manual, "2026-01-01")]).date == "2013-05-01"
    assert resolve([(sidecar, "2026-01-01"), (manual, "2026-01-02")]).date == "2013-06-01"
    resolved = resolve([])
    assert (resolved.source_type, resolved.date, resolved.year) == ("other", None, None)
    assert resolved.provenance["source_type"] == "default"


def test_date_conflict_between_text_and_file_name() -> None:
    assert (
        date_conflict(
            [MetaValue("date", "2013-04-15", "text"), MetaValue("date", "2013", "filename")]
        )
        is None
    )
    assert "2014-01-01" in (
        date_conflict(
            [MetaValue("date", "2013-04-15", "text"), MetaValue("date", "2014-01-01", "filename")]
        )
        or ""
    )


def test_a_date_merely_mentioned_is_not_the_documents_date() -> None:
    speech = "Mr. President, since the attacks of 11 September 2001 the world has changed."
    assert [v for v in from_text(speech) if v.field == "date"] == []
    values = from_text(speech) + from_filename("PAK_58_2003.txt")
    assert resolve((v, "") for v in values).date == "2003"
