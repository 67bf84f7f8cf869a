"""Tasks for the Dask executor's tests: importable by the workers (not defined in a test)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def square(x: int) -> int:
    return x * x


def sleep_for(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def allocate(megabytes: int) -> int:
    block = bytearray(megabytes * 1024 * 1024)
    block[-1] = 1
    return len(block)


def kill_my_dask_worker(marker: str) -> str:
    """Kill the Dask worker this task runs under (the helper's parent) the first time, when
    ``marker`` does not exist yet; succeed when run again."""
    path = Path(marker)
    if not path.exists():
        path.write_text("killed once", "utf-8")
        os.kill(os.getppid(), signal.SIGKILL)
        time.sleep(30)
    return "ran again"


def always_kill_my_dask_worker(_: object) -> None:
    os.kill(os.getppid(), signal.SIGKILL)
    time.sleep(30)
