"""Reader worker processes never outlive the process that started them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import ROOT

_BUSY_POOL = """
import time
from pipeline.executor import LocalExecutor

pool = LocalExecutor(jobs=1, timeout=300, max_memory_mb=None)
for _ in pool.map_unordered(time.sleep, [120]):  # one worker, busy for two minutes
    pass
"""


def _state(pid: int) -> str | None:
    """The process's state letter ('R', 'S', 'Z'...), None if it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def test_a_busy_worker_dies_with_its_killed_parent() -> None:
    parent = subprocess.Popen([sys.executable, "-c", _BUSY_POOL], cwd=ROOT)
    workers: list[int] = []
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not workers:
            lists = Path(f"/proc/{parent.pid}/task").glob("*/children")
            workers = [int(pid) for path in lists for pid in path.read_text().split()]
            time.sleep(0.05)
        assert workers, "the pool started no worker"
        time.sleep(1.0)  # the worker has taken its task and sleeps in it
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        # Without the parent-death signal the worker would sleep on for two minutes.
        deadline = time.time() + 30
        while time.time() < deadline and any(_state(w) not in (None, "Z") for w in workers):
            time.sleep(0.05)
        assert all(_state(w) in (None, "Z") for w in workers)
    finally:
        if parent.poll() is None:
            parent.kill()
        for worker in workers:  # a failed run of this test leaves no orphan behind
            if _state(worker) not in (None, "Z"):
                os.kill(worker, signal.SIGKILL)
