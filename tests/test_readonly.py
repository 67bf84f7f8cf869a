"""A workspace that cannot be written: commands that read work, commands that write say why.

Tests run as root, for whom ``chmod`` does not stop writes, so a workspace is made unwritable for
real in two ways: a read-only bind mount in a private mount namespace (``unshare -m``), and
``chmod -R a-w`` with the command run as an unprivileged user (``setpriv``). A test skips, with
the reason, when this machine cannot do either.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.codebook.load import load_codebook
from pipeline.coding.run import code_corpus
from pipeline.errors import Problem, StoreError
from pipeline.executor import SerialExecutor
from pipeline.ingest.run import IngestSettings, ingest
from pipeline.store import connect
from pipeline.store.migrations import MIGRATIONS
from pipeline.workspace import Workspace, init_workspace
from tests.conftest import ROOT

TEXTS = {
    "2015-04-20_mofa_china.txt": "Islamabad, 20 April 2015\n\nPakistan and China reaffirmed "
    "their all-weather strategic partnership and signed the economic corridor agreements.\n",
    "2016-03-09_ispr_exercise.txt": "Rawalpindi, 9 March 2016\n\nTroops of the Pakistan Army "
    "cleared the area in an operation against terrorists, the ISPR said.\n",
}


def _unprivileged_user() -> pwd.struct_passwd | None:
    for name in ("nobody", "postgres"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    return None


def _mount_works() -> str:
    """Return '' if a read-only bind mount in a private namespace works here, else why not."""
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    with tempfile.TemporaryDirectory() as folder:
        probe = subprocess.run(
            ["unshare", "-m", "sh", "-c", 'mount --bind -o ro "$0" "$0" && ! touch "$0/x"', folder],
            capture_output=True,
            text=True,
        )
    if probe.returncode != 0:
        return f"cannot make a read-only bind mount here: {probe.stderr.strip() or 'touch worked'}"
    return ""


def _permissions_work() -> str:
    """Return '' if commands can run as a user who cannot write a chmod a-w folder, else why."""
    if os.geteuid() != 0:
        return ""  # chmod stops this very user
    if shutil.which("setpriv") is None or _unprivileged_user() is None:
        return "running as root without setpriv or an unprivileged user to run commands as"
    return ""


MECHANISMS = {"mount": _mount_works(), "permissions": _permissions_work()}


def read_only(workspace: Workspace, mechanism: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``dshift --workspace W ARGS`` on a workspace that cannot be written."""
    command = [sys.executable, "-m", "pipeline", "--workspace", str(workspace.root), *args]
    if mechanism == "mount":
        prefix = ["unshare", "-m", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"']
        command = [*prefix, str(workspace.root), *command]
    elif os.geteuid() == 0:
        user = _unprivileged_user()
        assert user is not None
        setpriv = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
        command = [*setpriv, *command]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` with the sha256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def set_writable(root: Path, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~bits)


@pytest.fixture(scope="module")
def coded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A coded workspace any user may read (outside root's private pytest folder)."""
    folder = Path(tempfile.mkdtemp(prefix="dshift-ro-"))
    folder.chmod(0o755)
    workspace = init_workspace(folder / "ws")
    drop = folder / "drop"
    drop.mkdir()
    for name, text in TEXTS.items():
        (drop / name).write_text(text, encoding="utf-8")
    codebook = workspace.codebook / "codebook.yaml"
    with workspace.open_store() as store:
        ingest(store, [drop], IngestSettings(), executor=SerialExecutor())
        code_corpus(store, load_codebook(codebook), codebook.read_text("utf-8"))  # the rules
        store.set_active_coder("rules.v1")
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if path.is_dir() else 0))
    yield workspace
    set_writable(folder, True)
    shutil.rmtree(folder)


@pytest.fixture(params=list(MECHANISMS))
def mechanism(request: pytest.FixtureRequest, coded: Workspace) -> Iterator[str]:
    why_not = MECHANISMS[request.param]
    if why_not:
        pytest.skip(why_not)
    set_writable(coded.root, False)
    yield request.param
    set_writable(coded.root, True)


def first_segment(workspace: Workspace) -> str:
    with connect(workspace.store_path) as store:  # root may write: closes without a journal
        return str(store.db.execute("SELECT id FROM segments ORDER BY id LIMIT 1").fetchone()[0])


def test_commands_that_read_work_and_write_nothing(coded: Workspace, mechanism: str) -> None:
    segment = first_segment(coded)
    before = snapshot(coded.root)
    commands = [
        (["status"], "(read-only here: commands that change it will refuse)\ndocuments: 2"),
        (["problems"], "no open problems"),
        (["problems", "--csv"], "id,severity,code"),
        (["doc", "show", "1"], "document #1"),
        (["doc", "text", "2015-04-20_mofa_china.txt"], "all-weather strategic partnership"),
        (["show", segment], f"segment {segment}"),
        (["kwic", "partnership"], "partnership"),
        (["codebook", "show"], "version cb-"),
        (["codebook", "check"], ": ok"),
        (["agreement"], "No coder has decided any segment yet"),
        (["index", "--boot", "20", "--baseline", "2015"], "2016"),
        (["explain", "--year", "2016", "--code", "securitization"], "securitization"),
    ]
    if mechanism == "permissions":  # the store is opened the same way: a few suffice
        commands = [c for c in commands if c[0][0] in ("status", "doc", "kwic", "index")]
    for args, expected in commands:
        result = read_only(coded, mechanism, *args)
        assert result.returncode == 0, f"dshift {' '.join(args)}: {result.stderr}"
        assert "Traceback" not in result.stderr
        assert expected in result.stdout, f"dshift {' '.join(args)}: {result.stdout}"
    assert snapshot(coded.root) == before
    assert not list(coded.corpus.glob("corpus.sqlite-*")), "no journal files were made"


def test_commands_that_write_say_the_workspace_is_read_only(
    coded: Workspace, mechanism: str
) -> None:
    before = snapshot(coded.root)
    drop = coded.root.parent / "drop"
    commands = [
        ["ingest", str(drop)],
        ["code"],
        ["doc", "set-date", "1", "2015-04-21"],
        ["problems", "--dismiss", "1"],
        ["review", "export", "--coder", "ann"],
    ]
    for args in commands[:2] if mechanism == "permissions" else commands:
        result = read_only(coded, mechanism, *args)
        assert result.returncode in (4, 9), f"dshift {' '.join(args)}: {result.stderr}"
        assert "Traceback" not in result.stderr
        assert str(coded.corpus) in result.stderr  # where
        assert "read-only" in result.stderr or "not writable" in result.stderr  # what
        assert "chmod -R u+w" in result.stderr  # how to fix
        assert "copy the whole workspace" in result.stderr
    assert snapshot(coded.root) == before


def test_a_store_opened_read_only_refuses_every_write(coded: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "corpus.sqlite"
    shutil.copyfile(coded.store_path, path)
    before = path.read_bytes()
    with connect(path, read_only=True) as store:
        assert store.read_only
        assert len(store.current_documents()) == 2
        with pytest.raises(StoreError, match="is read-only") as caught:
            store.start_run("test", {})
        assert str(path) in caught.value.message and "chmod" in caught.value.hint
        with pytest.raises(StoreError, match="is read-only"):
            store.add_problem("run", "ingest", Problem("empty-file", "/drop/a.txt"))
    assert path.read_bytes() == before


def test_a_read_only_store_of_an_older_schema_is_not_upgraded(tmp_path: Path) -> None:
    with connect(tmp_path / "c.sqlite"):
        pass
    db = sqlite3.connect(tmp_path / "c.sqlite")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
    db.close()
    with pytest.raises(StoreError, match="cannot be upgraded") as caught:
        connect(tmp_path / "c.sqlite", read_only=True)
    assert "run any dshift command once where the workspace can be written" in caught.value.hint
    db = sqlite3.connect(tmp_path / "c.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS) - 1
    db.close()


def test_a_missing_store_is_not_created_read_only(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="there is no corpus store"):
        connect(tmp_path / "none.sqlite", read_only=True)
    assert not (tmp_path / "none.sqlite").exists()


def _hot_copy(workspace: Workspace, target: Path, with_shm: bool) -> Workspace:
    """Copy ``workspace`` while a writer has a committed change only in the journal (-wal)."""
    shutil.copytree(workspace.root, target)
    writer = sqlite3.connect(target / "corpus" / "corpus.sqlite", isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute(
        "INSERT INTO runs (id, command, arguments, pipeline_version, started_at, status, pid) "
        "VALUES ('20991231T000000.000000Z-000000', 'journal-only', '{}', 'x', 'now', "
        "'completed', 1)"
    )
    copy = target.with_name(target.name + "-copy")
    shutil.copytree(target, copy)  # the -wal (and -shm) as a backup tool would see them
    writer.close()
    if not with_shm:
        (copy / "corpus" / "corpus.sqlite-shm").unlink()
    assert (copy / "corpus" / "corpus.sqlite-wal").stat().st_size > 0
    return Workspace(copy)


def test_a_journal_on_a_read_only_disk_is_read_or_refused_never_ignored(
    coded: Workspace, tmp_path: Path
) -> None:
    if MECHANISMS["mount"]:
        pytest.skip(MECHANISMS["mount"])
    readable = _hot_copy(coded, tmp_path / "a", with_shm=True)
    result = read_only(readable, "mount", "status")
    assert result.returncode == 0, result.stderr
    assert "journal-only" in result.stdout
    unreadable = _hot_copy(coded, tmp_path / "b", with_shm=False)
    result = read_only(unreadable, "mount", "status")
    assert result.returncode == 4
    assert "Traceback" not in result.stderr
    assert f"has changes in its journal {unreadable.corpus / 'corpus.sqlite-wal'}" in result.stderr
    assert "fix: run any dshift command once where the folder can be written" in result.stderr
