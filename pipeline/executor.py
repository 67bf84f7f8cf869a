"""Spread per-file work over processes, with a time and memory limit for each file.

Stage code calls :meth:`Executor.map_unordered` and gets ``(item, Outcome)`` pairs as they finish;
it does not know whether work ran in this process, in a local pool or (later) on a Dask cluster.
A file that hangs or eats memory costs one worker, which is killed and replaced; the batch goes on.
"""

from __future__ import annotations

import ctypes
import faulthandler
import os
import resource
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Failure:
    """Why a task produced no value: 'timeout', 'memory', 'crashed' or 'error'."""

    kind: str
    detail: str
    error: BaseException | None = None


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """The value of a task, or why there is none."""

    value: R | None = None
    failure: Failure | None = None


class Executor(Protocol):
    """Runs one function over many items."""

    def map_unordered(
        self, fn: Callable[[T], R], items: Iterable[T]
    ) -> Iterator[tuple[T, Outcome[R]]]:
        """Yield each item with its outcome, in completion order."""
        ...

    def close(self) -> None:
        """Release workers."""
        ...


def _outcome_of(call: Callable[[], Any]) -> Outcome[Any]:
    try:
        return Outcome(value=call())
    except MemoryError as exc:
        return Outcome(failure=Failure("memory", "ran out of memory", exc))
    except Exception as exc:
        return Outcome(failure=Failure("error", f"{type(exc).__name__}: {exc}", exc))


class SerialExecutor:
    """Run tasks one after another in this process: no limits; for tests and benchmarks."""

    def map_unordered(
        self, fn: Callable[[T], R], items: Iterable[T]
    ) -> Iterator[tuple[T, Outcome[R]]]:
        for item in items:
            yield item, _outcome_of(lambda item=item: fn(item))  # type: ignore[misc]

    def close(self) -> None:
        pass


def _die_with_parent(parent: int) -> None:
    """Have Linux kill this worker when its parent dies, even by SIGKILL (no orphan readers).

    Without it a worker busy in a long file reads on until it tries to send its result. Linux
    ties the signal to the thread that forked the worker: a pool must live in a thread that
    outlives it (the main thread, or pebble's own manager thread for replacement workers).
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the call above took effect
        os._exit(1)


def _prepare_worker(
    max_memory_mb: int | None, warm_up: Callable[[], object] | None, parent: int | None = None
) -> None:
    # Runs first in each worker. Imports and tables come before the memory limit, so that the
    # limit bounds the work on one file (a decompression bomb fails there instead of swapping)
    # and not the loading of numerical libraries.
    # A worker dying on a bad file is reported as a problem; a fault dump would only be noise.
    faulthandler.disable()
    if parent is not None:
        _die_with_parent(parent)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    if warm_up is not None:
        warm_up()
    if max_memory_mb:
        limit = max_memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


class LocalExecutor:
    """A local process pool (pebble) with a per-task timeout and a per-worker memory limit.

    Args:
        jobs: number of worker processes (default: all cores).
        timeout: seconds one task may take before its worker is killed.
        max_memory_mb: address-space limit of each worker.
        max_tasks_per_worker: recycle workers after this many tasks (bounds leaks in C code).
        warm_up: called in each new worker before the memory limit applies (imports, tables).
    """

    def __init__(
        self,
        jobs: int | None = None,
        timeout: float | None = 120.0,
        max_memory_mb: int | None = 2048,
        max_tasks_per_worker: int = 200,
        warm_up: Callable[[], object] | None = None,
    ) -> None:
        from pebble import ProcessPool

        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.timeout = timeout
        self._pool = ProcessPool(
            max_workers=self.jobs,
            max_tasks=max_tasks_per_worker,
            initializer=_prepare_worker,
            initargs=(max_memory_mb, warm_up, os.getpid()),
        )

    def map_unordered(
        self, fn: Callable[[T], R], items: Iterable[T]
    ) -> Iterator[tuple[T, Outcome[R]]]:
        # A bounded window of tasks in flight keeps memory flat however many files there are.
        window = 2 * self.jobs + 2
        pending: dict[Future[R], T] = {}
        try:
            yield from self._run(fn, iter(items), window, pending)
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM (made an interrupt by the CLI): the workers end with the run.
            for future in pending:
                future.cancel()
            self.close()
            raise

    def _run(
        self,
        fn: Callable[[T], R],
        source: Iterator[T],
        window: int,
        pending: dict[Future[R], T],
    ) -> Iterator[tuple[T, Outcome[R]]]:
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < window:
                try:
                    item = next(source)
                except StopIteration:
                    exhausted = True
                    break
                pending[self._pool.schedule(fn, args=(item,), timeout=self.timeout)] = item
            if not pending:
                break
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                yield pending.pop(future), self._result(future)

    def _result(self, future: Future[R]) -> Outcome[R]:
        from pebble import ProcessExpired

        try:
            return Outcome(value=future.result())
        except FutureTimeout:
            return Outcome(failure=Failure("timeout", f"no result after {self.timeout:g} s"))
        except ProcessExpired as exc:
            return Outcome(
                failure=Failure(
                    "crashed",
                    f"worker exited with code {exc.exitcode} (killed by the memory limit "
                    "or a crash in the PDF library)",
                )
            )
        except MemoryError as exc:
            return Outcome(failure=Failure("memory", "ran out of memory", exc))
        except Exception as exc:
            return Outcome(failure=Failure("error", f"{type(exc).__name__}: {exc}", exc))

    def close(self) -> None:
        """Stop the workers (those still reading are terminated) and wait until they are gone."""
        self._pool.stop()
        self._pool.join(timeout=10)
