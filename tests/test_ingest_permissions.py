"""A file or folder of the drop the user may not read is one problem; the rest is ingested.

The ingest runs as an unprivileged user (root reads everything) on a drop that user owns, with
one file or folder taken away (review findings 1 and 3).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.workspace import Workspace
from tests.conftest import ROOT
from tests.test_permissions import as_user, owned  # noqa: F401  (owned is a fixture)
from tests.test_readonly import MECHANISMS, _unprivileged_user

pytestmark = pytest.mark.skipif(bool(MECHANISMS["permissions"]), reason=MECHANISMS["permissions"])


def ingest_as_user(workspace: Workspace, drop: Path) -> str:
    result = as_user("--workspace", str(workspace.root), "ingest", str(drop))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def give(path: Path, text: str, like: Path) -> Path:
    """Write ``path`` owned by the owner of ``like`` (the user the ingest runs as)."""
    path.write_text(text, encoding="utf-8")
    os.chown(path, like.stat().st_uid, like.stat().st_gid)
    return path


def open_codes(workspace: Workspace) -> set[tuple[str, str]]:
    with workspace.open_store() as store:
        return {(p.code, p.path) for p in store.open_problems() if p.severity == "error"}


def test_an_unreadable_file_is_reported_and_the_others_ingested(owned: Workspace) -> None:  # noqa: F811
    drop = owned.root.parent / "drop"
    copy = (drop / "2015-04-20_mofa_china.txt").read_text(encoding="utf-8")
    locked = give(drop / "2015-04-20_mofa_china-copy.txt", copy, drop)
    locked.chmod(0o000)
    output = ingest_as_user(owned, drop)
    assert "new 2" in output
    assert f"{locked.name}: the file could not be read: Permission denied" in output
    assert ("unreadable", str(locked)) in open_codes(owned)
    locked.chmod(0o644)  # readable now: a copy of a stored file, its problem closes all the same
    output = ingest_as_user(owned, drop)
    assert "duplicate 1" in output
    assert not open_codes(owned)


def test_an_unreadable_subfolder_is_reported_not_skipped(owned: Workspace) -> None:  # noqa: F811
    drop = owned.root.parent / "drop"
    sub = drop / "2018"
    sub.mkdir()
    os.chown(sub, drop.stat().st_uid, drop.stat().st_gid)
    give(sub / "2018-02-01_mofa_hidden.txt", "A statement in a locked folder.\n", drop)
    sub.chmod(0o000)
    output = ingest_as_user(owned, drop)
    assert "new 2" in output
    listed = "2018: a folder of the drop could not be listed; none of its files were ingested"
    assert f"{listed}: Permission denied" in output
    assert "fix: give your user the right to list it" in output
    assert ("unreadable-folder", str(sub)) in open_codes(owned)
    sub.chmod(0o755)  # access given: the next run reads the folder and closes the problem
    output = ingest_as_user(owned, drop)
    assert "new 1" in output
    assert not {code for code, _ in open_codes(owned)} & {"unreadable-folder"}


_SCAN = """
import sys
from pathlib import Path
from pipeline.ingest.drop import scan
for problem in scan([Path(sys.argv[1])]).problems:
    print(problem.code, problem.path)
"""


def test_an_unreadable_drop_is_reported(owned: Workspace) -> None:  # noqa: F811
    drop = owned.root.parent / "drop"
    drop.chmod(0o000)
    # The CLI refuses such a drop before the ingest starts; the library reports it too.
    user = _unprivileged_user() if os.geteuid() == 0 else None
    command = [sys.executable, "-c", _SCAN, str(drop)]
    if user is not None:
        command = [f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups", *command]
        command = ["setpriv", *command]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"unreadable-folder {drop}"]
