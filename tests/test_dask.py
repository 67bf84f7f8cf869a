"""The Dask executor, on a real ``distributed.LocalCluster`` bound to 127.0.0.1.

Per-task time and memory limits hold on the workers (a hanging task or a memory bomb costs one
task, the cluster goes on); a worker lost mid-task has its task run again, or reported when it
is lost twice; and a drop ingested and coded on Dask gives exactly the documents, segments and
tags of the local pool.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests import dask_tasks
from tests.conftest import SAMPLE, new_database

pytest.importorskip("distributed", reason="the 'distributed' package is not installed")

from pipeline.cli import cli
from pipeline.executor import DaskExecutor
from pipeline.store import connect


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskExecutor]:
    executor = DaskExecutor(workers=2, timeout=4, max_memory_mb=512)
    yield executor
    executor.close()


def test_tasks_run_on_the_workers_and_limits_hold_per_task(cluster: DaskExecutor) -> None:
    assert cluster.jobs == 2
    done = dict(cluster.map_unordered(dask_tasks.square, range(10)))
    assert {k: v.value for k, v in done.items()} == {k: k * k for k in range(10)}

    [(_, slow)] = list(cluster.map_unordered(dask_tasks.sleep_for, [30.0]))
    assert slow.failure is not None and slow.failure.kind == "timeout"
    [(_, bomb)] = list(cluster.map_unordered(dask_tasks.allocate, [2048]))
    assert bomb.failure is not None and bomb.failure.kind in ("memory", "crashed")
    # The cluster goes on: the same workers, every task served.
    again = dict(cluster.map_unordered(dask_tasks.square, range(20)))
    assert all(v.value == k * k for k, v in again.items()) and cluster.jobs == 2


def test_a_worker_lost_mid_task_has_the_task_run_again_or_reported(
    cluster: DaskExecutor, tmp_path: Path
) -> None:
    marker = str(tmp_path / "lost-once")
    [(_, rerun)] = list(cluster.map_unordered(dask_tasks.kill_my_dask_worker, [marker]))
    assert rerun.value == "ran again", rerun.failure
    [(_, lost)] = list(cluster.map_unordered(dask_tasks.always_kill_my_dask_worker, [0]))
    assert lost.failure is not None and lost.failure.kind == "crashed"
    assert "lost" in lost.failure.detail
    assert dict(cluster.map_unordered(dask_tasks.square, [3]))[3].value == 9


def _stored(store: Path | str) -> tuple[list[tuple[object, ...]], ...]:
    with connect(store) as opened:

        def rows(sql: str) -> list[tuple[object, ...]]:
            return sorted(tuple(r) for r in opened.db.execute(sql))

        return (
            rows("SELECT sha256, text, title, date FROM documents"),
            rows('SELECT id, start, "end", n_words FROM segments'),
            rows(
                "SELECT segment_id, code, confidence, evidence, coder, codebook_version FROM tags"
            ),
        )


def _drop(tmp_path: Path) -> Path:
    drop = tmp_path / "drop"
    drop.mkdir()
    for path in sorted(SAMPLE.iterdir())[:14]:
        if path.is_file():
            shutil.copy(path, drop / path.name)
    return drop


def test_a_drop_read_and_coded_on_dask_is_stored_as_the_local_pool_stores_it(
    tmp_path: Path,
) -> None:
    drop = _drop(tmp_path)
    runner = CliRunner()
    stored = []
    for where in ("local", "dask"):
        workspace = tmp_path / where
        assert runner.invoke(cli, ["init", str(workspace)]).exit_code == 0
        args = ["--workspace", str(workspace), "run", str(drop), "--jobs", "2"]
        result = runner.invoke(cli, [*args, "--executor", where])
        assert result.exit_code in (0, 5), result.output
        stored.append(_stored(workspace / "corpus" / "corpus.sqlite"))
    documents, segments, tags = stored[0]
    assert len(documents) >= 8 and len(segments) > 100 and len(tags) > 50
    assert stored[1] == stored[0]


def test_a_drop_run_on_dask_into_postgresql_is_stored_as_locally_into_sqlite(
    tmp_path: Path, postgres: str
) -> None:
    """The README's team set-up: the store on PostgreSQL, ``dshift run --executor dask``."""
    drop = _drop(tmp_path)
    runner = CliRunner()
    stored = []
    for where, store in (("local", None), ("dask", new_database(postgres))):
        workspace = tmp_path / where
        assert runner.invoke(cli, ["init", str(workspace)]).exit_code == 0
        chosen = ["--store", store] if store else []
        args = ["--workspace", str(workspace), *chosen, "run", str(drop), "--jobs", "2"]
        result = runner.invoke(cli, [*args, "--executor", where])
        assert result.exit_code in (0, 5), result.output
        stored.append(_stored(store or workspace / "corpus" / "corpus.sqlite"))
    assert len(stored[0][1]) > 100
    assert stored[1] == stored[0]


def test_an_executor_that_cannot_be_used_is_a_clear_error(tmp_path: Path) -> None:
    runner = CliRunner()
    workspace = tmp_path / "ws"
    assert runner.invoke(cli, ["init", str(workspace)]).exit_code == 0
    bad = runner.invoke(cli, ["--workspace", str(workspace), "code", "--executor", "sideways"])
    assert bad.exit_code == 2 and "tcp://HOST:PORT" in bad.output
    gone = runner.invoke(
        cli, ["--workspace", str(workspace), "code", "--executor", "tcp://127.0.0.1:9"]
    )
    assert gone.exit_code != 0 and "Traceback" not in gone.output
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in gone.output
