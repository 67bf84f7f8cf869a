"""A workspace is a folder holding ``corpus/``, ``codebook/`` and ``outputs/``.

``corpus/`` holds the store (``corpus.sqlite``: documents, human decisions) and must be backed up;
``outputs/`` is regenerable and safe to delete. The repository itself is a workspace; ``dshift
init DIR`` makes new ones so that users work outside the source tree.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import DshiftError, LockedError, SystemFailure, WorkspaceError

if TYPE_CHECKING:
    from pipeline.store import Store

ENV_VAR = "DSHIFT_WORKSPACE"
STORE_ENV_VAR = "DSHIFT_STORE"
STORE_NAME = "corpus.sqlite"
LOCK_NAME = ".dshift.lock"
CONFIG_NAME = "dshift.toml"


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace, and where its store is.

    Attributes:
        root: the workspace folder.
        store_url: the store given for this command (``--store`` or ``$DSHIFT_STORE``); None:
            the one ``dshift.toml`` names, else ``corpus/corpus.sqlite``.
    """

    root: Path
    store_url: str | None = None

    @property
    def corpus(self) -> Path:
        return self.root / "corpus"

    @property
    def codebook(self) -> Path:
        return self.root / "codebook"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    @property
    def models(self) -> Path:
        """Trained models: inputs of coding, so kept beside the store, not in outputs/."""
        return self.corpus / "models"

    @property
    def store_path(self) -> Path:
        return self.corpus / STORE_NAME

    @property
    def store(self) -> str:
        """Where the store is: the URL given for this command, else the one in the
        workspace's ``dshift.toml`` (``[store] url = "postgresql://..."``), else the SQLite
        file ``corpus/corpus.sqlite``."""
        return self.store_url or configured_store(self.root) or str(self.store_path)

    @property
    def store_on_server(self) -> bool:
        """Whether the store is on a database server (PostgreSQL), not in the workspace."""
        return self.store.startswith(("postgresql://", "postgres://"))

    def open_store(self, *, read_only: bool | None = None) -> Store:
        """Open the corpus store, creating it on first use.

        Args:
            read_only: see :func:`pipeline.store.connect`; by default a workspace that cannot be
                written is opened for reading only, so commands that only read work on it.
        """
        from pipeline.store import connect

        return connect(self.store, read_only=read_only)

    @contextmanager
    def lock(self, command: str) -> Iterator[None]:
        """Hold the workspace's write lock for the duration of a command.

        Raises:
            LockedError: if another dshift process holds it.
            SystemFailure: if the lock file cannot be made or written (a read-only workspace,
                a full disk).
        """
        path = self.corpus / LOCK_NAME
        try:
            self.corpus.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise file_error(exc, path, "take the workspace's write lock", self.root) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            raise LockedError(
                f"the workspace {self.root} is busy: {holder or 'another dshift process'}",
                "wait for that run to finish and try again (the lock is released automatically "
                "when the process ends, even if it is killed)",
            ) from None
        try:  # unbuffered: nothing is left to flush (and fail) when the file is closed
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"pid": os.getpid(), "command": command}).encode(), 0)
        except OSError as exc:
            os.close(fd)
            raise file_error(exc, path, "take the workspace's write lock", self.root) from exc
        try:
            yield
        finally:
            with suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # releases the lock


def file_error(
    exc: OSError, path: Path, doing: str, folder: Path | None = None, *, workspace: bool = True
) -> DshiftError:
    """Return the error to raise when ``doing`` (e.g. 'write the problems list') failed on
    ``path`` with ``exc``: what happened, where, and how to fix it (exit status 9, as every
    refused read or write).

    Args:
        exc: the error of the failed file operation.
        path: the file or folder it was about.
        doing: what dshift was doing, as a verb phrase.
        folder: the folder to make writable (default: the folder of ``path``).
        workspace: whether ``path`` is in an existing workspace (then the hint says that a
            copy of it can be used, and that reading works without writing).
    """
    reason = exc.strerror or str(exc)
    if exc.errno == errno.ENOSPC:
        folder = path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        try:
            free = f"{shutil.disk_usage(folder).free / 1024 / 1024:.1f} MB free now"
        except OSError:
            free = "free space unknown"
        return SystemFailure(
            f"could not {doing}: the disk holding {path} is full",
            f"free space on that disk ({free}), then run the same command again: it resumes "
            "where it stopped",
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        if exc.errno == errno.EROFS:
            where = f"{path} is on a read-only disk"
        elif path.exists():
            where = f"{path} is not writable by you"
        else:
            where = f"{path} cannot be made: {path.parent} is not writable by you"
        hint = (
            f"make it writable (e.g. chmod -R u+w {folder or path.parent}, or mount it read-write)"
        )
        if workspace:
            hint += (
                ", or copy the whole workspace to a folder you can write; commands that only "
                "read (status, problems, show, kwic, index) work as it is"
            )
        return SystemFailure(f"could not {doing}: {where} ({reason})", hint)
    return SystemFailure(
        f"could not {doing}: {path}: {reason}",
        "check that the disk is mounted and healthy, then run the same command again",
    )


def configured_store(root: Path) -> str | None:
    """The store URL in the workspace's ``dshift.toml`` (``[store] url``), or None.

    Raises:
        WorkspaceError: if the file is there but is not TOML or its ``url`` is not a string.
    """
    path = root / CONFIG_NAME
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkspaceError(
            f"cannot read the workspace settings {path}: {exc}",
            "make it a readable UTF-8 text file, or remove it to use corpus/corpus.sqlite",
        ) from exc
    try:
        settings = _toml(text)
    except ValueError as exc:
        raise WorkspaceError(
            f"{path} is not valid TOML: {exc}",
            'write it as:\n[store]\nurl = "postgresql://USER@HOST:5432/DATABASE"',
        ) from exc
    section = settings.get("store")
    url = section.get("url") if isinstance(section, dict) else None
    if url is not None and not isinstance(url, str):
        raise WorkspaceError(
            f"{path}: [store] url must be a string, not {type(url).__name__}",
            'write it as: url = "postgresql://USER@HOST:5432/DATABASE"',
        )
    return url or None


def _toml(text: str) -> dict[str, object]:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(text)


def find_workspace(
    option: str | os.PathLike[str] | None = None, store: str | None = None
) -> Workspace:
    """Return the workspace named by ``--workspace``, else $DSHIFT_WORKSPACE, else the cwd;
    its store is ``store`` (``--store``), else $DSHIFT_STORE, else its own (see
    :attr:`Workspace.store`).

    Raises:
        WorkspaceError: if the folder is not a workspace.
    """
    chosen = option or os.environ.get(ENV_VAR) or "."
    root = Path(chosen).expanduser().resolve()
    if not root.is_dir():
        raise WorkspaceError(
            f"workspace folder {root} does not exist", f"create it with: dshift init {chosen}"
        )
    if not (root / "corpus").is_dir():
        raise WorkspaceError(
            f"{root} is not a dshift workspace (it has no corpus/ folder)",
            f"create one with 'dshift init {chosen}', or point to one with --workspace DIR "
            f"or ${ENV_VAR}",
        )
    return Workspace(root, store or os.environ.get(STORE_ENV_VAR) or None)


README_TEXT = (
    "Everything in outputs/ is regenerated by dshift and safe to delete.\n"
    "The corpus store and all coders' decisions live in corpus/: back that up.\n"
)


def init_workspace(directory: str | os.PathLike[str], store: str | None = None) -> Workspace:
    """Create a workspace with the default codebook; leave existing files alone. With
    ``store`` (a PostgreSQL URL), the workspace's ``dshift.toml`` names it and the store is
    made there (its tables, migrated); else the SQLite file ``corpus/corpus.sqlite``.

    Each file is written whole or not at all (a temporary file in the same folder, then
    renamed), so a failure such as a full disk leaves no truncated file; running it again
    completes the workspace. A file that is a strict prefix of what init writes (a copy cut
    short by an older dshift) is completed too: nothing in it is lost, as all of it is in the
    new copy.

    Raises:
        SystemFailure: if a folder or file cannot be made (permissions, a full disk); the
            message names the file being written.
        StoreError: if the corpus store cannot be created or opened.
    """
    root = Path(directory).expanduser().resolve()
    workspace = Workspace(root)
    source = resources.files("pipeline") / "resources" / "codebook.yaml"
    files = {
        workspace.codebook / "codebook.yaml": source.read_bytes(),
        workspace.outputs / "README.txt": README_TEXT.encode("utf-8"),
    }
    if store is not None:
        configured = configured_store(root)
        if configured not in (None, store):
            raise WorkspaceError(
                f"{root / CONFIG_NAME} already names another store",
                f"edit [store] url in {root / CONFIG_NAME}, or give --store {configured}",
            )
        _refuse_to_hide_a_store(workspace, store)
        files[root / CONFIG_NAME] = f'[store]\nurl = "{_toml_string(store)}"\n'.encode()
    target, writing = root, False
    try:
        for folder in (workspace.corpus, workspace.codebook, workspace.outputs):
            target = folder
            folder.mkdir(parents=True, exist_ok=True)
        writing = True  # from here an error's own file name is a temporary file's
        for target, content in files.items():
            _remove_temporaries(target)
            if _needs_writing(target, content):
                _write_whole(target, content)
    except OSError as exc:
        failed = target if writing or not exc.filename else Path(exc.filename)
        folder = failed
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        raise file_error(exc, failed, "create the workspace", folder, workspace=False) from exc
    workspace = Workspace(root, store)
    with workspace.open_store():
        pass
    return workspace


def _refuse_to_hide_a_store(workspace: Workspace, store: str) -> None:
    """Refuse to point a workspace whose SQLite store holds documents at another store: its
    documents and decisions would no longer be seen (they are moved with ``store copy``)."""
    if not workspace.store_path.exists():
        return
    from pipeline.store import connect

    with connect(workspace.store_path, read_only=True) as local:
        held = int(local.db.execute("SELECT count(*) FROM documents").fetchone()[0])
    if held:
        raise WorkspaceError(
            f"the workspace {workspace.root} already holds {held} document(s) in "
            f"{workspace.store_path}: pointing it at another store would hide them",
            f"move them with: dshift store copy {workspace.store_path} URL, then write the "
            f'URL in {workspace.root / CONFIG_NAME} ([store] url = "URL")',
        )


def _toml_string(text: str) -> str:
    """``text`` inside a TOML basic string."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _needs_writing(path: Path, content: bytes) -> bool:
    """Whether ``path`` is missing, or holds only a leading part of ``content`` (a copy cut
    short): a file the user changed in any other way is left alone."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return True
    if size >= len(content):
        return False
    with path.open("rb") as handle:
        return content.startswith(handle.read(size + 1))


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}."


def _remove_temporaries(path: Path) -> None:
    """Remove what a write of ``path`` that was killed midway left beside it."""
    for stale in path.parent.glob(_temporary_prefix(path) + "*.tmp"):
        with suppress(FileNotFoundError):
            stale.unlink()


def _write_whole(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` all or nothing: a temporary file beside it, synced to
    disk, then renamed over it. On failure the temporary file is removed and ``path`` is as
    it was.

    Raises:
        OSError: if the temporary file cannot be made, written or renamed.
    """
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=_temporary_prefix(path), suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(name, 0o644)
        os.replace(name, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(name)
        raise
