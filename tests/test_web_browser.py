"""The review page in a real browser (Debian's Chromium, driven by Playwright): a coder's
keyboard loop, two coders at once, undo, and an adjudication that the agreement page sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.store import connect
from pipeline.web.app import Options
from tests.web_server import serving


def decisions(web_root: Path) -> list[Any]:
    with connect(web_root / "corpus" / "corpus.sqlite") as store:
        return store.decisions()


def log_in_by_keyboard(page: Any, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    # The name field takes the focus by itself (autofocus), a moment after the page loads:
    # typing before then would send the first keys to the page instead.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'name'")
    page.keyboard.type(name)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/code")


def log_in_with_token(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#token", token)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def shown_segment(page: Any) -> str:
    return str(page.get_attribute("#segment", "data-segment"))


def save_by_keyboard(page: Any, *keys: str) -> None:
    for key in keys:
        page.keyboard.press(key)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_a_coder_codes_ten_segments_by_keyboard_alone(web_root: Path, browser: Any) -> None:
    with serving(web_root) as base:
        page = browser.new_page()
        log_in_by_keyboard(page, base, "Ayesha")
        assert "Enter" in page.inner_text("#keys") and "undo" in page.inner_text("#keys")
        seen = []
        for n in range(10):
            seen.append(shown_segment(page))
            page.keyboard.press("d")  # the definitions, one key away ...
            assert page.is_visible("#definitions")
            page.keyboard.press("d")  # ... and away again
            keys = ["1", "3"] if n % 2 else ["2"]
            if n == 4:  # a note, typed after N; Escape leaves the field
                page.keyboard.press("n")
                page.keyboard.type("hedges, and says so")
                page.keyboard.press("Escape")
            save_by_keyboard(page, *keys)
        assert "Done <strong>10</strong>" in page.content()
        page.close()
    events = decisions(web_root)
    assert [e.segment_id for e in events] == seen and len(set(seen)) == 10
    assert all(e.coder == "Ayesha" and e.source == "web" for e in events)
    assert any(e.note == "hedges, and says so" for e in events)


def test_two_coders_at_once_get_disjoint_queues_and_both_writes_land(
    web_root: Path, browser: Any
) -> None:
    with serving(web_root) as base:
        first, second = browser.new_context(), browser.new_context()
        a, b = first.new_page(), second.new_page()
        log_in_by_keyboard(a, base, "Ayesha")
        log_in_by_keyboard(b, base, "Bilal")
        mine: dict[str, list[str]] = {"Ayesha": [], "Bilal": []}
        for _ in range(4):
            shown = {"Ayesha": shown_segment(a), "Bilal": shown_segment(b)}
            assert shown["Ayesha"] != shown["Bilal"]  # never the same segment at once
            for name, page in (("Ayesha", a), ("Bilal", b)):
                mine[name].append(shown[name])
                save_by_keyboard(page, "1")
        first.close()
        second.close()
    assert not set(mine["Ayesha"]) & set(mine["Bilal"])
    events = decisions(web_root)
    assert sorted((e.coder, e.segment_id) for e in events) == sorted(
        (coder, s) for coder, segments in mine.items() for s in segments
    )


def test_undo_appends_an_event_and_brings_the_segment_back(web_root: Path, browser: Any) -> None:
    with serving(web_root) as base:
        page = browser.new_page()
        log_in_by_keyboard(page, base, "Ayesha")
        first = shown_segment(page)
        save_by_keyboard(page, "1")
        assert shown_segment(page) != first
        with page.expect_navigation():
            page.keyboard.press("u")
        assert shown_segment(page) == first
        assert "You decided this segment before" not in page.content()
        page.close()
    events = decisions(web_root)
    assert [(e.segment_id, e.action) for e in events][-1] == (first, "undo")
    assert len(events) == 2  # the decision is kept; the undo is a new event


def test_an_adjudication_settles_the_disagreement_and_the_agreement_page_sees_it(
    web_root: Path, browser: Any
) -> None:
    run = CliRunner()
    tokens = {}
    for name, extra in (("Ayesha", []), ("Bilal", []), ("Sana", ["--adjudicator"])):
        made = run.invoke(cli, ["--workspace", str(web_root), "coder", "add", name, *extra])
        assert made.exit_code == 0, made.output
        tokens[name] = made.stdout.strip().splitlines()[-1]
    with serving(web_root, Options(double=1.0)) as base:
        a = browser.new_context().new_page()
        b = browser.new_context().new_page()
        log_in_with_token(a, base, tokens["Ayesha"])
        log_in_with_token(b, base, tokens["Bilal"])
        segment = shown_segment(a)
        assert shown_segment(b) == segment  # every coder codes it (--double 1)
        # Ayesha gives the first track, Bilal does not: they disagree on it.
        if not a.is_checked("input[data-key='1']"):
            a.keyboard.press("1")
        save_by_keyboard(a)
        if b.is_checked("input[data-key='1']"):
            b.keyboard.press("1")
        save_by_keyboard(b)
        judge = browser.new_context().new_page()
        log_in_with_token(judge, base, tokens["Sana"])
        judge.goto(f"{base}/agreement")
        assert "1 segment(s) coders disagree on" in judge.inner_text("#open-count")
        with judge.expect_navigation():
            judge.click(f"#disagreements a[href='/adjudicate/{segment}']")
        side = judge.inner_text("#side")
        assert "Ayesha" in side and "Bilal" in side and "machine" in side
        judge.click("button.take >> text=Take Ayesha's")
        judge.fill("#reason", "the statement names the partner outright")
        with judge.expect_navigation():
            judge.click("#settle button[type=submit]")
        assert "No disagreements left" in judge.inner_text("main")
        judge.goto(f"{base}/agreement")
        assert "No open disagreements" in judge.inner_text("#open-count")
    settled = [e for e in decisions(web_root) if e.role == "adjudicator"]
    assert [(e.coder, e.segment_id, e.note) for e in settled] == [
        ("Sana", segment, "the statement names the partner outright")
    ]


def test_a_segment_holding_a_script_tag_shows_it_as_text_and_runs_nothing(
    web_root: Path, browser: Any
) -> None:
    with connect(web_root / "corpus" / "corpus.sqlite") as store:
        hostile = next(
            s.segment.id for s in store.segment_texts("sentences.v1") if "<script>" in s.text
        )
    with serving(web_root) as base:
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        log_in_by_keyboard(page, base, "Ayesha")
        page.goto(f"{base}/code?segment={hostile}")
        assert "<script>alert('x')</script>" in page.inner_text("#segment")
        assert page.evaluate("document.querySelectorAll('#segment script').length") == 0
        page.click("#segment .meta a")  # its document, where the text is shown again
        page.wait_for_load_state()
        assert "<script>alert('x')</script>" in page.inner_text(".doctext")
        page.close()
    assert dialogs == []
