"""Spread per-file work over processes, with a time and memory limit for each file.

Stage code calls :meth:`Executor.map_unordered` and gets ``(item, Outcome)`` pairs as they finish;
it does not know whether work ran in this process, in a local pool or on a Dask cluster
(:func:`open_executor` gives the one a command names). A file that hangs or eats memory costs
one worker, which is killed and replaced; the batch goes on.
"""

from __future__ import annotations

import contextlib
import ctypes
import faulthandler
import logging
import multiprocessing
import os
import resource
import signal
import sys
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from pipeline.errors import DshiftError

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
        # On top of what the worker already maps: a worker forked from a big process (a
        # long-lived parent with models loaded and threads running) inherits its address
        # space, and a bare limit would leave it no room for the file at all.
        limit = _address_space() + max_memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _address_space() -> int:
    """Bytes of address space this process maps now (0 where /proc cannot tell)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as handle:
            pages = int(handle.read().split()[0])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


class LocalExecutor:
    """A local process pool (pebble) with a per-task timeout and a per-worker memory limit.

    Args:
        jobs: number of worker processes (default: all cores).
        timeout: seconds one task may take before its worker is killed.
        max_memory_mb: address-space limit of each worker.
        max_tasks_per_worker: recycle workers after this many tasks (bounds leaks in C code).
        warm_up: called in each new worker before the memory limit applies (imports, tables).
        start: how workers are started ("fork", "spawn"; default: the process's own method).
    """

    def __init__(
        self,
        jobs: int | None = None,
        timeout: float | None = 120.0,
        max_memory_mb: int | None = 2048,
        max_tasks_per_worker: int = 200,
        warm_up: Callable[[], object] | None = None,
        start: str | None = None,
    ) -> None:
        from pebble import ProcessPool

        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.timeout = timeout
        self._pool = ProcessPool(
            max_workers=self.jobs,
            max_tasks=max_tasks_per_worker,
            initializer=_prepare_worker,
            initargs=(max_memory_mb, warm_up, os.getpid()),
            context=multiprocessing.get_context(start) if start else multiprocessing,
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


# -- Dask ---------------------------------------------------------------------------------
# Run per-file work on a Dask cluster, with the same per-file limits as the local pool.
#
# ``DaskExecutor()`` starts a local cluster (``distributed.LocalCluster``, bound to 127.0.0.1);
# ``DaskExecutor("tcp://host:8786")`` uses a running scheduler. Either way, each Dask worker
# hands its tasks to a one-process :class:`~pipeline.executor.LocalExecutor` of its own, started
# on its first task and kept: the time and memory limits of the local pool hold per task (a
# decompression bomb or a hanging file costs that task and that helper process, never the Dask
# worker or the cluster), and the helper loads spaCy, the codebook and the model once, as a local
# worker does. A Dask worker lost mid-task (killed, its machine gone) has its task run again
# elsewhere by the scheduler; one lost twice is reported as crashed, never dropped. Results come
# back to the client, which writes them to the store: workers never touch it.
#
# Workers must be allowed to start processes of their own: a local cluster is started so, and
# workers of a running cluster must be started with ``DASK_DISTRIBUTED__WORKER__DAEMON=False``
# (checked when the executor starts).

# Per Dask worker process: its helper pool, by the limits it was made with.
_helpers: dict[tuple[float | None, int | None, Any], LocalExecutor] = {}


def _guarded(
    fn: Callable[[Any], Any],
    item: Any,
    timeout: float | None,
    max_memory_mb: int | None,
    warm_up: Callable[[], object] | None,
) -> Outcome[Any]:
    """Run ``fn(item)`` in this Dask worker's helper process, under the limits (in a worker)."""
    key = (timeout, max_memory_mb, warm_up)
    helper = _helpers.get(key)
    if helper is None:
        for old in _helpers.values():
            old.close()
        _helpers.clear()
        # Forked: a Dask worker spawns by default, and a helper spawned to replace one killed
        # for its time would read the pool's state after a closing pool had removed it.
        helper = _helpers[key] = LocalExecutor(
            jobs=1, timeout=timeout, max_memory_mb=max_memory_mb, warm_up=warm_up, start="fork"
        )
    [(_, outcome)] = list(helper.map_unordered(fn, [item]))
    return outcome


def _close_helpers() -> None:
    for helper in _helpers.values():
        helper.close()
    _helpers.clear()


def _may_start_processes() -> bool:
    return not multiprocessing.current_process().daemon


class DaskExecutor:
    """Tasks on a Dask cluster (see the module docstring).

    Args:
        address: a running scheduler (``tcp://host:port``), or None to start a local cluster.
        workers: worker processes of a local cluster.
        timeout: seconds one task may take before its helper process is killed.
        max_memory_mb: address-space limit of each helper process.
        warm_up: called in each new helper process before the memory limit applies.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        workers: int | None = None,
        timeout: float | None = 120.0,
        max_memory_mb: int | None = 2048,
        warm_up: Callable[[], object] | None = None,
    ) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise DshiftError(
                "the Dask executor needs the 'distributed' package, which is not installed",
                "install it with: pip install 'dshift[dask]' (or run without --executor dask)",
                code="usage",
            ) from None
        self.limits = (timeout, max_memory_mb, warm_up)
        self._cluster: Any = None
        dask.config.set(
            {"distributed.worker.daemon": False, "distributed.scheduler.allowed-failures": 1}
        )
        try:
            if address is None:
                self._cluster = LocalCluster(
                    n_workers=max(1, workers or os.cpu_count() or 1),
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address="127.0.0.1:0",  # local only, a free port
                    silence_logs=logging.ERROR,
                    memory_limit=0,  # the helper processes carry the limit, per task
                )
                self._client = Client(self._cluster)
            else:
                self._client = Client(address, timeout=20)
        except (OSError, TimeoutError) as exc:
            self.close()
            raise DshiftError(
                f"cannot reach the Dask scheduler at {address or 'a new local cluster'}: {exc}",
                "check the address (tcp://HOST:PORT) and that the scheduler is running",
                code="usage",
            ) from None
        refused = [w for w, ok in self._client.run(_may_start_processes).items() if not ok]
        if refused:
            self.close()
            raise DshiftError(
                f"{len(refused)} Dask worker(s) may not start processes ({refused[0]}...), so "
                "the per-file time and memory limits cannot hold there",
                "start the workers with DASK_DISTRIBUTED__WORKER__DAEMON=False set",
                code="usage",
            )
        self.jobs = max(1, len(self._client.scheduler_info().get("workers", {})))

    def map_unordered(
        self, fn: Callable[[T], R], items: Iterable[T]
    ) -> Iterator[tuple[T, Outcome[R]]]:
        """Yield each item with its outcome as tasks finish; a bounded number in flight."""
        from distributed import as_completed

        window = 2 * self.jobs + 2
        source = iter(items)
        pending: dict[Any, T] = {}
        done = as_completed()

        def submit() -> bool:
            try:
                item = next(source)
            except StopIteration:
                return False
            future = self._client.submit(_guarded, fn, item, *self.limits, pure=False, retries=1)
            pending[future] = item
            done.add(future)
            return True

        while len(pending) < window and submit():
            pass
        try:
            for future in done:
                item = pending.pop(future)
                yield item, self._outcome(future)
                submit()
        except KeyboardInterrupt:
            for future in pending:
                future.cancel()
            raise

    @staticmethod
    def _outcome(future: Any) -> Outcome[Any]:
        from distributed import KilledWorker

        try:
            outcome = future.result()
        except KilledWorker as exc:
            return Outcome(failure=Failure("crashed", f"the Dask worker was lost twice ({exc})"))
        except Exception as exc:
            return Outcome(failure=Failure("error", f"{type(exc).__name__}: {exc}", exc))
        assert isinstance(outcome, Outcome)
        return outcome

    def close(self) -> None:
        """Disconnect; a local cluster is shut down with its workers."""
        client = getattr(self, "_client", None)
        if client is not None:
            # The helper processes end with their workers (a worker already gone took its own).
            with contextlib.suppress(Exception):
                client.run(_close_helpers)
            client.close()
        if self._cluster is not None:
            self._cluster.close()


def is_executor(where: str) -> bool:
    """Whether ``where`` names an executor: ``local``, ``dask`` or a scheduler's address."""
    return where in ("local", "dask") or where.startswith(("tcp://", "tls://"))


def open_executor(
    where: str,
    *,
    jobs: int | None = None,
    timeout: float | None = 120.0,
    max_memory_mb: int | None = 2048,
    warm_up: Callable[[], object] | None = None,
) -> Executor:
    """The executor ``where`` names: ``local`` (a process pool of ``jobs`` workers), ``dask``
    (a local Dask cluster of ``jobs`` workers) or ``tcp://HOST:PORT`` (a running Dask
    scheduler), each with the same per-task limits."""
    if where == "local":
        return LocalExecutor(jobs, timeout, max_memory_mb, warm_up=warm_up)
    if not is_executor(where):
        raise DshiftError(
            f"unknown executor {where!r}",
            "use 'local', 'dask' (a Dask cluster on this machine) or the address of a running "
            "Dask scheduler, tcp://HOST:PORT",
            code="usage",
        )
    address = None if where == "dask" else where
    return DaskExecutor(
        address, workers=jobs, timeout=timeout, max_memory_mb=max_memory_mb, warm_up=warm_up
    )
