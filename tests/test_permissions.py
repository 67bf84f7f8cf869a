"""Permission errors on the workspace or a file in it give the path and the fix, no traceback.

Commands run as an unprivileged user (root ignores permissions) on a workspace that user owns,
with one part of it taken away: the store unreadable, outputs/ or corpus/ not writable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.workspace import Workspace, init_workspace
from tests.conftest import ROOT
from tests.test_readonly import MECHANISMS, _unprivileged_user

pytestmark = pytest.mark.skipif(bool(MECHANISMS["permissions"]), reason=MECHANISMS["permissions"])


@pytest.fixture
def owned() -> Iterator[Workspace]:
    """A workspace with a drop of two text files, owned by the user the commands run as."""
    folder = Path(tempfile.mkdtemp(prefix="dshift-perm-"))
    folder.chmod(0o755)
    workspace = init_workspace(folder / "ws")
    drop = folder / "drop"
    drop.mkdir()
    (drop / "2015-04-20_mofa_china.txt").write_text(
        "Pakistan and China reaffirmed their strategic partnership.\n", encoding="utf-8"
    )
    (drop / "2016-03-09_ispr_exercise.txt").write_text(
        "Troops cleared the area in an operation against terrorists.\n", encoding="utf-8"
    )
    user = _unprivileged_user() if os.geteuid() == 0 else None
    if user is not None:
        for path in [folder, *folder.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)
    yield workspace
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    shutil.rmtree(folder)


def as_user(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pipeline", *args]
    user = _unprivileged_user() if os.geteuid() == 0 else None
    if user is not None:
        setpriv = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
        command = [*setpriv, *command]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)


@pytest.mark.parametrize("mode", [0o000, 0o200], ids=["no-access", "write-only"])
def test_an_unreadable_store_says_who_must_give_access(owned: Workspace, mode: int) -> None:
    owned.store_path.chmod(mode)
    for args in (["status"], ["ingest", str(owned.root.parent / "drop")]):
        result = as_user("--workspace", str(owned.root), *args)
        assert result.returncode == 4, result.stderr
        assert "Traceback" not in result.stderr
        assert f"cannot read the corpus store {owned.store_path}: permission denied" in (
            result.stderr
        )
        assert "fix: ask its owner for read access" in result.stderr


def test_a_corpus_folder_the_user_may_not_enter_is_named(owned: Workspace) -> None:
    owned.corpus.chmod(0o600)  # no x: nothing inside can be reached
    result = as_user("--workspace", str(owned.root), "status")
    assert result.returncode == 4, result.stderr
    assert "Traceback" not in result.stderr
    assert f"cannot reach the corpus store {owned.store_path}: Permission denied" in result.stderr
    assert f"fix: ask the owner of {owned.corpus} for access" in result.stderr


def test_outputs_not_writable_keeps_the_ingest_and_names_the_file(owned: Workspace) -> None:
    owned.outputs.chmod(0o555)
    result = as_user("--workspace", str(owned.root), "ingest", str(owned.root.parent / "drop"))
    assert result.returncode == 9, result.stderr
    assert "Traceback" not in result.stderr
    listing = owned.outputs / "problems.csv"
    assert (
        f"could not write the list of open problems: {listing} cannot be made: {owned.outputs} "
        "is not writable by you"
    ) in result.stderr
    assert f"chmod -R u+w {owned.outputs}" in result.stderr
    assert "what was read is stored" in result.stderr
    assert not list(owned.outputs.glob("problems.*"))
    status = as_user("--workspace", str(owned.root), "status")
    assert "documents: 2 current" in status.stdout, status.stderr


def test_a_corpus_folder_not_writable_makes_the_store_read_only(owned: Workspace) -> None:
    (owned.corpus / ".dshift.lock").touch()  # the lock can be taken: the store refuses
    if os.geteuid() == 0:
        user = _unprivileged_user()
        assert user is not None
        os.chown(owned.corpus / ".dshift.lock", user.pw_uid, user.pw_gid)
    owned.corpus.chmod(0o555)
    status = as_user("--workspace", str(owned.root), "status")
    assert status.returncode == 0, status.stderr
    result = as_user("--workspace", str(owned.root), "doc", "set-date", "1", "2015-04-21")
    assert result.returncode in (1, 4), result.stderr
    assert "Traceback" not in result.stderr
    ingest = as_user("--workspace", str(owned.root), "ingest", str(owned.root.parent / "drop"))
    assert ingest.returncode == 4, ingest.stderr
    assert "Traceback" not in ingest.stderr
    assert f"the corpus store {owned.store_path} is read-only" in ingest.stderr
    assert "copy the whole workspace to a folder you can write" in ingest.stderr


def test_init_where_the_user_may_not_write_names_the_folder(owned: Workspace) -> None:
    parent = owned.root.parent / "locked"
    parent.mkdir(mode=0o555)
    result = as_user("init", str(parent / "new"))
    assert result.returncode == 9, result.stderr
    assert "Traceback" not in result.stderr
    assert f"could not create the workspace: {parent / 'new'} cannot be made: {parent} is not " in (
        result.stderr
    )
    assert f"fix: make it writable (e.g. chmod -R u+w {parent}," in result.stderr
