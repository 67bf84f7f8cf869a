"""A run whose process was killed is shown as possibly killed by status, which writes nothing.

The runs are recorded by real processes: one is SIGKILLed, one is still alive, and one pid is
taken by a process that started after its run was recorded (a pid reused).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from pipeline.status import KILLED_HINT, format_status, process_alive
from pipeline.store import connect
from pipeline.workspace import Workspace
from tests.conftest import ROOT

RECORD_A_RUN_AND_WAIT = """
import sys, time
from pipeline.store import connect
store = connect(sys.argv[1])
print(store.start_run("ingest", {}), flush=True)
time.sleep(600)
"""


@pytest.fixture
def run_in_another_process(workspace: Workspace) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A process that recorded a run in the workspace's store and is still running."""
    process = subprocess.Popen(
        [sys.executable, "-c", RECORD_A_RUN_AND_WAIT, str(workspace.store_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        run_id = process.stdout.readline().strip()
        assert run_id, "the process recorded its run"
        yield process, run_id
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)


def shown(workspace: Workspace, run_id: str) -> str:
    with connect(workspace.store_path, read_only=True) as store:
        text = format_status(store)
    [line] = [line for line in text.splitlines() if run_id in line]
    return line


def stored_status(workspace: Workspace, run_id: str) -> str:
    with connect(workspace.store_path, read_only=True) as store:
        [status] = [run.status for run in store.recent_runs(50) if run.id == run_id]
    return status


def test_a_killed_run_is_shown_as_possibly_killed(
    workspace: Workspace, run_in_another_process: tuple[subprocess.Popen[str], str]
) -> None:
    process, run_id = run_in_another_process
    assert " running " in shown(workspace, run_id) and KILLED_HINT not in shown(workspace, run_id)

    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert not process_alive(process.pid)
    files = [workspace.store_path, workspace.store_path.with_name("corpus.sqlite-wal")]
    before = [f.read_bytes() if f.exists() else b"" for f in files]
    assert KILLED_HINT in shown(workspace, run_id)
    assert stored_status(workspace, run_id) == "running", "status marks nothing"
    after = [f.read_bytes() if f.exists() else b"" for f in files]
    assert after == before, "status writes nothing"


def test_a_pid_taken_by_a_later_process_is_not_taken_for_the_run(workspace: Workspace) -> None:
    later = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        with connect(workspace.store_path) as store:
            run_id = store.start_run("ingest", {})
            with store.transaction() as db:  # the run's process had this pid an hour ago
                db.execute(
                    "UPDATE runs SET pid = ?, started_at = "
                    "strftime('%Y-%m-%dT%H:%M:%S+00:00', started_at, '-1 hour') WHERE id = ?",
                    (later.pid, run_id),
                )
        assert process_alive(later.pid)
        assert KILLED_HINT in shown(workspace, run_id)
    finally:
        later.kill()
        later.wait(timeout=60)
