"""The CLI documents itself, refuses a second concurrent run, and survives a kill."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.cli.reference import END, START, _commands, cli_reference, help_text
from pipeline.workspace import Workspace
from tests.conftest import ROOT, SAMPLE, SHARED, needs_shared


@pytest.mark.parametrize("path", [p for p, _ in _commands(cli, [])], ids=" ".join)
def test_every_command_has_help_with_an_example(path: list[str]) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output


def test_readme_cli_reference_is_current() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    current = readme.split(START, 1)[1].split(END, 1)[0].strip()
    assert current == cli_reference().strip(), "run: python -m pipeline.cli.reference README.md"


@pytest.mark.parametrize("path", [p for p, _ in _commands(cli, [])], ids=" ".join)
def test_the_reference_shows_what_help_shows_in_a_terminal(path: list[str]) -> None:
    """Each section is the live ``--help`` (the usage line names the command path, as typed:
    ``dshift doc show [OPTIONS] REF``, never an argument of the command in the path)."""
    command = dict((tuple(p), c) for p, c in _commands(cli, []))[tuple(path)]
    live = CliRunner().invoke(cli, [*path, "--help"], prog_name="dshift", terminal_width=100)
    expected_usage = " ".join(["Usage: dshift", *path, "[OPTIONS]"])
    assert live.output.splitlines()[0].startswith(expected_usage)
    assert help_text(path, command).splitlines()[0] == live.output.splitlines()[0]


def test_outside_a_workspace_the_error_says_how_to_fix(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--workspace", str(tmp_path), "status"])
    assert result.exit_code == 2
    assert "dshift init" in result.output


def dshift(workspace: Workspace, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", "--workspace", str(workspace.root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def test_second_concurrent_run_is_refused(workspace: Workspace) -> None:
    with workspace.lock("dshift ingest (pid 1)"):
        process = dshift(workspace, "ingest", str(SAMPLE))
        _, err = process.communicate(timeout=60)
    assert process.returncode == 3
    assert "busy" in err and "wait for that run" in err


def test_kill_mid_run_leaves_whole_documents_and_rerun_completes(
    workspace: Workspace, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    pdfs = sorted(p for p in SAMPLE.glob("*.pdf") if p.stat().st_size > 20_000)[:12]
    for i in range(4):  # 48 files, distinct bytes: enough work to be caught in the middle
        for pdf in pdfs:
            data = pdf.read_bytes() + f"\n% copy {i}\n".encode()
            (drop / f"{i}-{pdf.name}").write_bytes(data)
    process = dshift(workspace, "ingest", str(drop), "--jobs", "1")
    store = workspace.store_path
    deadline = time.time() + 60
    stored = 0
    while time.time() < deadline and process.poll() is None:
        if store.exists():
            with sqlite3.connect(store) as db:
                stored = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            if stored >= 3:
                break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    with sqlite3.connect(store) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        count = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        orphans = db.execute(
            "SELECT COUNT(*) FROM documents d WHERE NOT EXISTS "
            "(SELECT 1 FROM pages p WHERE p.document_id = d.id) OR NOT EXISTS "
            "(SELECT 1 FROM document_files f WHERE f.document_id = d.id)"
        ).fetchone()[0]
    assert 0 < count < 48 and orphans == 0
    again = dshift(workspace, "ingest", str(drop))
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    with sqlite3.connect(store) as db:
        assert db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 48
        statuses = [r[0] for r in db.execute("SELECT status FROM runs ORDER BY started_at")]
    assert statuses[0] == "interrupted" and statuses[1].startswith("completed")


@needs_shared
def test_every_wild_pdf_is_ingested_or_reported(workspace: Workspace) -> None:
    wild = SHARED / "data" / "pdfs-wild"
    process = dshift(workspace, "ingest", str(wild), "--timeout", "60")
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err
    with sqlite3.connect(workspace.store_path) as db:
        seen = {Path(r[0]).name for r in db.execute("SELECT path FROM document_files")}
        failed = {
            Path(r[0]).name
            for r in db.execute("SELECT path FROM problems WHERE severity = 'error'")
        }
    names = {p.name for p in wild.glob("*.pdf")}
    assert len(names) == 52
    assert names == seen | failed
    assert "password-example.pdf" in failed and "empty.pdf" in failed


@needs_shared
def test_un_speeches_are_read_as_dated_speeches(workspace: Workspace, tmp_path: Path) -> None:
    drop = tmp_path / "ungdc"
    drop.mkdir()
    for name in ("PAK_56_2001.txt", "PAK_70_2015.txt"):
        shutil.copy(SHARED / "data" / "ungdc" / "PAK" / name, drop / name)
    result = CliRunner().invoke(cli, ["--workspace", str(workspace.root), "ingest", str(drop)])
    assert result.exit_code == 0, result.output
    from pipeline.workspace import find_workspace

    with find_workspace(workspace.root).open_store() as store:
        documents = store.current_documents()
        assert sorted(d.year for d in documents) == [2001, 2015]
        assert {d.source_type for d in documents} == {"speech"}
        text = store.document_text(documents[0].id)
        assert "\ufeff" not in text and "\n\n" in text


def test_run_prints_summary_writes_problems_csv_and_strict_fails(
    workspace: Workspace, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "ok.txt").write_text("Islamabad, 3 May 2016\n\nA statement.\n", "utf-8")
    (drop / "empty.pdf").write_bytes(b"")
    runner = CliRunner()
    args = ["--workspace", str(workspace.root)]
    result = runner.invoke(cli, [*args, "run", str(drop), "--jobs", "1"])
    assert result.exit_code == 0, result.output
    assert "new 1" in result.output and "empty.pdf: the file is empty" in result.output
    assert f"outputs: {workspace.outputs}" in result.output
    problems_csv = (workspace.outputs / "problems.csv").read_text("utf-8")
    assert "empty-file" in problems_csv and "re-download" in problems_csv
    strict = runner.invoke(cli, [*args, "ingest", str(drop), "--strict"])
    assert strict.exit_code == 5  # the known-bad file is skipped but still counts
    status = runner.invoke(cli, [*args, "status"])
    assert "2016" in status.output and "open problems: 1 error(s)" in status.output
    shown = runner.invoke(cli, [*args, "doc", "show", "ok.txt"])
    assert "dateline 'Islamabad, 3 May 2016'" in shown.output
    assert runner.invoke(cli, [*args, "doc", "set-date", "ok.txt", "3 May"]).exit_code == 1


@needs_shared
def test_text_is_read_the_way_it_runs_not_the_way_the_page_is_flagged() -> None:
    from pipeline.ingest.read import ReadOptions, read_file

    wild = SHARED / "data" / "pdfs-wild"
    upright = read_file(wild / "nics-background-checks-2015-11.pdf", ReadOptions()).text
    flagged = read_file(wild / "nics-background-checks-2015-11-rotated.pdf", ReadOptions()).text
    assert upright.split() == flagged.split()


def test_problems_can_be_dismissed_and_init_keeps_user_files(
    workspace: Workspace, tmp_path: Path
) -> None:
    from pipeline.workspace import init_workspace

    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "empty.pdf").write_bytes(b"")
    args = ["--workspace", str(workspace.root)]
    runner = CliRunner()
    runner.invoke(cli, [*args, "ingest", str(drop), "--jobs", "1"])
    listing = runner.invoke(cli, [*args, "problems"]).output
    problem_id = listing.split()[0].lstrip("#")
    result = runner.invoke(cli, [*args, "problems", "--dismiss", problem_id])
    assert "dismissed 1 of 1" in result.output
    assert runner.invoke(cli, [*args, "problems"]).output.strip() == "no open problems"
    codebook = workspace.codebook / "codebook.yaml"
    codebook.write_text("# edited by a coder\n", "utf-8")
    init_workspace(workspace.root)
    assert codebook.read_text("utf-8") == "# edited by a coder\n"


def _children(pid: int) -> list[int]:
    """The child processes of ``pid``, from /proc (every thread's list)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _drop_of_copies(folder: Path, copies: int = 4) -> Path:
    folder.mkdir()
    pdfs = sorted(p for p in SAMPLE.glob("*.pdf") if p.stat().st_size > 20_000)[:12]
    for i in range(copies):  # distinct bytes: enough work to be caught in the middle
        for pdf in pdfs:
            (folder / f"{i}-{pdf.name}").write_bytes(pdf.read_bytes() + f"\n% copy {i}\n".encode())
    return folder


def test_sigterm_mid_run_is_an_interrupt_and_takes_the_workers_with_it(
    workspace: Workspace, tmp_path: Path
) -> None:
    import psutil

    drop = _drop_of_copies(tmp_path / "drop")
    process = dshift(workspace, "ingest", str(drop), "--jobs", "2")
    deadline = time.time() + 120
    stored = 0
    while time.time() < deadline and process.poll() is None and stored < 3:
        if workspace.store_path.exists():
            with sqlite3.connect(workspace.store_path) as db:
                stored = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        time.sleep(0.05)
    assert process.poll() is None and stored >= 3, "the run ended before it could be stopped"
    workers = [psutil.Process(pid) for pid in _children(process.pid)]
    assert workers, "no worker processes to watch"
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    # The parent waited for its workers: none is left, not even for a moment.
    assert not [w.pid for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    with sqlite3.connect(workspace.store_path) as db:
        assert db.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    again = dshift(workspace, "ingest", str(drop))
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    with sqlite3.connect(workspace.store_path) as db:
        assert db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == 48


# -- no traceback reaches a user -----------------------------------------------------------

_FAULT = """
import sys
import pipeline.status
from pipeline.cli import main

def broken(store, runs=5):
    raise ValueError("an unforeseen state")

pipeline.status.format_status = broken  # fault injection: a bug in a command
sys.argv = ["dshift", "--workspace", sys.argv[1], "status"]
main()
"""


def test_a_bug_is_a_short_message_with_the_traceback_in_a_file(workspace: Workspace) -> None:
    process = subprocess.run(
        [sys.executable, "-c", _FAULT, str(workspace.root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 70
    assert "Traceback" not in process.stderr
    assert "'dshift --workspace" in process.stderr and "status' failed" in process.stderr
    assert "ValueError: an unforeseen state" in process.stderr
    assert "bug" in process.stderr and "report it" in process.stderr
    written = Path(process.stderr.split("full traceback: ")[1].split()[0])
    try:
        text = written.read_text("utf-8")
        assert "Traceback (most recent call last)" in text and "an unforeseen state" in text
    finally:
        written.unlink()


def test_a_full_disk_says_so_with_where_and_the_fix(workspace: Workspace, tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "empty.pdf").write_bytes(b"")
    # The problems CSV is written through outputs/problems.tmp; /dev/full refuses every write
    # with ENOSPC, as a full disk does.
    (workspace.outputs / "problems.tmp").symlink_to("/dev/full")
    process = dshift(workspace, "ingest", str(drop), "--jobs", "1")
    _, err = process.communicate(timeout=120)
    assert process.returncode == 9, err
    assert "Traceback" not in err
    listing = workspace.outputs / "problems.csv"
    assert f"the disk holding {listing} is full" in err
    assert "fix: free space" in err and "run the same command again" in err


def _read_only(folder: Path) -> None:
    if os.geteuid() == 0:  # root passes permission bits; the immutable flag stops even root
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
            pytest.skip("this file system has no immutable flag (chattr)")
    else:
        folder.chmod(0o555)


def _writable(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    else:
        folder.chmod(0o755)


def test_permission_denied_names_the_path_and_the_fix(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    _read_only(locked)
    try:
        process = subprocess.run(
            [sys.executable, "-m", "pipeline", "init", str(locked / "ws")],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        _writable(locked)
    assert process.returncode == 9, process.stderr
    assert "Traceback" not in process.stderr
    assert f"could not create the workspace: {locked / 'ws'} cannot be made" in process.stderr
    assert f"fix: make it writable (e.g. chmod -R u+w {locked}" in process.stderr


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (OSError(errno.EROFS, "Read-only file system", "/mnt/ro/ws"), "read-only: /mnt/ro/ws"),
        (OSError(errno.ENOSPC, "No space left on device"), "disk is full: a write failed: a file"),
        (PermissionError(errno.EACCES, "Permission denied", "/srv/x"), "permission denied: /srv/x"),
        (sqlite3.OperationalError("database or disk is full"), "disk is full"),
        (sqlite3.OperationalError("attempt to write a readonly database"), "read-only"),
    ],
    ids=["erofs", "enospc-no-path", "eacces", "sqlite-full", "sqlite-readonly"],
)
def test_system_failures_are_named(error: Exception, says: str) -> None:
    from pipeline.errors import system_failure

    failure = system_failure(error, near="/home/me/ws")
    assert failure is not None and says in failure.message and failure.hint
    assert system_failure(OSError(errno.ECONNRESET, "reset")) is None
    assert system_failure(ValueError("x")) is None
