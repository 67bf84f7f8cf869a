"""The review page over HTTP, served for real by uvicorn: safe defaults and append-only writes.

What a browser does (keyboard, two coders, undo, adjudication) is in test_web_browser.py.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.errors import DshiftError
from pipeline.store import connect
from pipeline.web.app import Options
from pipeline.web.security import HEADERS, check_binding
from pipeline.workspace import find_workspace
from tests.conftest import BACKENDS, on_backend
from tests.web_server import serving

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def store_of(web_root: Path):  # type: ignore[no-untyped-def]
    return connect(web_root / "corpus" / "corpus.sqlite")


def log_in(client: httpx.Client, base: str, *, name: str = "", token: str = "", blind=False) -> str:
    page = client.get(f"{base}/login")
    form = {"csrf": CSRF.search(page.text)[1], "name": name, "token": token}
    if blind:
        form["blind"] = "on"
    answer = client.post(f"{base}/login", data=form)
    assert answer.status_code == 303, answer.text
    return CSRF.search(client.get(f"{base}/code").text)[1]


def segment_with(web_root: Path, needle: str) -> str:
    with store_of(web_root) as store:
        for segment in store.segment_texts("sentences.v1"):
            if needle in segment.text:
                return segment.segment.id
    raise AssertionError(f"no segment holds {needle!r}")


def coded_segment(web_root: Path) -> tuple[str, list[str]]:
    with store_of(web_root) as store:
        tags = store.machine_tags(
            store.active_coder(), store.coded_versions(store.active_coder())[-1]
        )
        segment_id = sorted(s for s, found in tags.items() if found)[0]
        found = tags[segment_id]
        return segment_id, sorted({t.code for t in found} | {t.top_code for t in found})


def test_every_page_carries_a_strict_content_security_policy(web_root: Path) -> None:
    with serving(web_root) as base, httpx.Client() as client:
        log_in(client, base, name="Ayesha")
        for path in ("/login", "/code", "/codebook", "/agreement"):
            page = client.get(f"{base}{path}")
            assert page.status_code == 200, path
            policy = page.headers["content-security-policy"]
            assert policy == HEADERS["Content-Security-Policy"]
            assert "'unsafe-inline'" not in policy and "default-src 'none'" in policy
            assert page.headers["x-frame-options"] == "DENY"
            # nothing inline for the policy to forbid, nothing fetched from elsewhere
            assert "<script>" not in page.text and " style=" not in page.text
            assert "http://" not in page.text.replace(base, "") and "https://" not in page.text


def test_a_post_without_a_valid_csrf_token_is_refused_and_records_nothing(web_root: Path) -> None:
    segment = segment_with(web_root, "China")
    with serving(web_root) as base, httpx.Client() as client:
        csrf = log_in(client, base, name="Ayesha")
        for form in (
            {"segment": segment, "codes": "hedging"},
            {"segment": segment, "codes": "hedging", "csrf": "forged-" + csrf},
        ):
            answer = client.post(f"{base}/code", data=form)
            assert answer.status_code == 403 and "security token" in answer.text
        # the same request with the session's token goes through
        assert client.post(f"{base}/code", data={**form, "csrf": csrf}).status_code == 303
        # another session's token is no good either
        with httpx.Client() as other:
            log_in(other, base, name="Bilal")
            answer = other.post(f"{base}/code", data={"segment": segment, "csrf": csrf})
            assert answer.status_code == 403
    with store_of(web_root) as store:
        events = store.decisions()
    assert [(e.coder, e.segment_id, e.codes) for e in events] == [("Ayesha", segment, ["hedging"])]


def test_markup_in_the_corpus_renders_as_text(web_root: Path) -> None:
    segment = segment_with(web_root, "<script>")
    with serving(web_root) as base, httpx.Client() as client:
        log_in(client, base, name="Ayesha")
        page = client.get(f"{base}/code", params={"segment": segment}).text
        assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; left" in page
        assert "<script>alert" not in page
        document = re.search(r'href="(/document/\d+)#', page)[1]
        text = client.get(f"{base}{document}").text
        assert "&lt;script&gt;" in text and "<script>alert" not in text


def test_blind_mode_never_sends_the_machine_codes(web_root: Path) -> None:
    segment, codes = coded_segment(web_root)
    with serving(web_root) as base, httpx.Client() as seeing, httpx.Client() as blind:
        log_in(seeing, base, name="Ayesha")
        log_in(blind, base, name="Bilal", blind=True)
        shown = seeing.get(f"{base}/code", params={"segment": segment}).text
        hidden = blind.get(f"{base}/code", params={"segment": segment}).text
        # The page that may show them does (so this test can fail) ...
        assert "Machine:" in shown and " checked" in shown
        assert f'<span class="chip" title="{", ".join(codes)}">' in shown
        # ... and the blind one carries no trace of them: no chips, no ticks, no highlights.
        assert "Machine:" not in hidden and " checked" not in hidden and "<mark" not in hidden
        assert "chip" not in hidden and ", ".join(codes) not in hidden
        doc = re.search(r'href="(/document/\d+)#', hidden)[1]
        assert 'class="codes"' not in blind.get(f"{base}{doc}").text
        assert 'class="codes"' in seeing.get(f"{base}{doc}").text


def test_a_decision_is_a_web_event_appended_to_the_store(web_root: Path) -> None:
    segment, codes = coded_segment(web_root)
    with serving(web_root) as base, httpx.Client() as client:
        csrf = log_in(client, base, name="Ayesha")
        client.post(f"{base}/code", data={"csrf": csrf, "segment": segment, "codes": codes})
        client.post(f"{base}/code", data={"csrf": csrf, "segment": segment, "note": "no code"})
        client.post(f"{base}/undo", data={"csrf": csrf})
    with store_of(web_root) as store:
        events = store.decisions([segment])
        files = store.db.execute("SELECT count(*) FROM decisions WHERE file_id IS NOT NULL")
        assert files.fetchone()[0] == 0
    assert [(e.action, e.codes, e.source) for e in events] == [
        ("accept", sorted(codes), "web"),
        ("reject", [], "web"),
        ("undo", [], "web"),
    ]
    assert events[1].note == "no code" and events[0].machine_codes == codes


def test_serving_beyond_this_machine_needs_accounts(web_root: Path) -> None:
    with pytest.raises(DshiftError, match="no coder accounts"):
        check_binding("0.0.0.0", has_accounts=False)
    check_binding("127.0.0.1", has_accounts=False)
    check_binding("0.0.0.0", has_accounts=True)
    result = CliRunner().invoke(cli, ["--workspace", str(web_root), "serve", "--host", "0.0.0.0"])
    assert result.exit_code != 0 and "dshift coder add" in result.output
    assert "Traceback" not in result.output


def test_accounts_log_in_by_token_kept_only_as_a_hash(web_root: Path) -> None:
    run = CliRunner()
    made = run.invoke(cli, ["--workspace", str(web_root), "coder", "add", "Ayesha K."])
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    judge = run.invoke(
        cli, ["--workspace", str(web_root), "coder", "add", "Bilal", "--adjudicator"]
    )
    assert judge.exit_code == 0
    again = run.invoke(cli, ["--workspace", str(web_root), "coder", "add", "Bilal"])
    assert again.exit_code != 0 and "already" in again.output
    raw = (web_root / "corpus" / "corpus.sqlite").read_bytes()
    assert token.encode() not in raw
    with serving(web_root, Options()) as base, httpx.Client() as client:
        page = client.get(f"{base}/login")
        assert 'name="token"' in page.text and 'name="name"' not in page.text
        csrf = CSRF.search(page.text)[1]
        wrong = client.post(f"{base}/login", data={"csrf": csrf, "token": token[:-2] + "xx"})
        assert wrong.status_code == 401
        log_in(client, base, token=token)
        assert "Ayesha K." in client.get(f"{base}/code").text
        assert client.get(f"{base}/adjudicate").status_code == 403  # a coder, not a judge
        replaced = run.invoke(cli, ["--workspace", str(web_root), "coder", "token", "Ayesha K."])
        assert replaced.exit_code == 0
        with httpx.Client() as late:
            page = late.get(f"{base}/login")
            stale = late.post(
                f"{base}/login", data={"csrf": CSRF.search(page.text)[1], "token": token}
            )
            assert stale.status_code == 401
    listed = run.invoke(cli, ["--workspace", str(web_root), "coder", "accounts"])
    assert "Ayesha K." in listed.output and "adjudicator" in listed.output


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_coders_write_through_the_page_on_either_backend(
    web_root: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    moved = on_backend(find_workspace(str(web_root)), backend, request)
    with serving(web_root) as base, httpx.Client() as a, httpx.Client() as b:
        csrf = {}
        for client, name in ((a, "Ayesha"), (b, "Bilal")):
            csrf[name] = log_in(client, base, name=name)
        pages = {name: c.get(f"{base}/code").text for c, name in ((a, "Ayesha"), (b, "Bilal"))}
        shown = {name: re.search(r'data-segment="([^"]+)"', p)[1] for name, p in pages.items()}
        assert shown["Ayesha"] != shown["Bilal"]
        for client, name in ((a, "Ayesha"), (b, "Bilal")):
            data = {"csrf": csrf[name], "segment": shown[name], "codes": ["hedging"]}
            assert client.post(f"{base}/code", data=data).status_code == 303
        # Bilal may not write Ayesha's segment: a coder writes only their own queue
        taken = {"csrf": csrf["Bilal"], "segment": shown["Ayesha"], "codes": ["hedging"]}
        answer = b.post(f"{base}/code", data=taken)
        assert answer.status_code == 400 and "not in your queue" in answer.text
    with moved.open_store() as store:
        assert store.dialect == backend
        events = store.decisions()
    assert sorted((e.coder, e.segment_id, e.source) for e in events) == sorted(
        (name, shown[name], "web") for name in shown
    )
