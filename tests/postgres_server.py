"""A real PostgreSQL server for the tests, in a temporary folder, started and stopped here.

The server is Debian's (``initdb`` and ``pg_ctl`` on the PATH or under
``/usr/lib/postgresql/*/bin``; ``make test`` installs the ``postgresql`` package when it is
missing and it runs as root). PostgreSQL refuses to run as root, so as root the server runs as
the unprivileged ``postgres`` user (``setpriv``). It listens on 127.0.0.1 at a free port and on a
socket in its own folder, with trust authentication for the one role it creates: nothing outside
the test can reach it, and it goes with the folder.

:func:`start` returns why it cannot start (for ``pytest.skip``) instead of raising.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROLE = "dshift"


@dataclass
class Server:
    """A running server: its URL and how to stop it."""

    url: str
    folder: Path
    pg_ctl: str
    prefix: list[str]

    def stop(self) -> None:
        subprocess.run(
            [*self.prefix, self.pg_ctl, "-D", str(self.folder / "data"), "-m", "fast", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )


def _program(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(folder: Path, fsync: bool = False) -> Server | str:
    """Start a server with its data in ``folder``; a reason string when it cannot be done.
    ``fsync`` off (the tests' default) trades durability for speed; benchmarks turn it on."""
    initdb, pg_ctl = _program("initdb"), _program("pg_ctl")
    if initdb is None or pg_ctl is None:
        return (
            "PostgreSQL's initdb and pg_ctl are not installed (Debian: apt-get install postgresql)"
        )
    prefix: list[str] = []
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
        if shutil.which("setpriv") is None:
            return "running as root and setpriv (util-linux) is missing to drop privileges"
        prefix = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"]
        folder.mkdir(parents=True, exist_ok=True)
        os.chown(folder, user.pw_uid, user.pw_gid)
        for parent in [folder, *folder.parents]:  # the server must reach its folder
            if parent == Path("/"):
                break
            mode = parent.stat().st_mode
            if not mode & 0o001:
                os.chmod(parent, mode | 0o001)
    data = folder / "data"
    made = subprocess.run(
        [*prefix, initdb, "-D", str(data), "-U", ROLE, "-A", "trust", "-E", "UTF8", "--no-sync"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if made.returncode != 0:
        return f"initdb failed: {made.stderr.strip()[-300:]}"
    port = _free_port()
    options = (
        f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync={'on' if fsync else 'off'}"
    )
    started = subprocess.run(
        [*prefix, pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if started.returncode != 0:
        log = (folder / "log").read_text("utf-8", "replace") if (folder / "log").exists() else ""
        return f"pg_ctl start failed: {(started.stderr or log).strip()[-300:]}"
    return Server(f"postgresql://{ROLE}@127.0.0.1:{port}/postgres", folder, pg_ctl, prefix)
