"""The PostgreSQL server the store tests run against is real: started, reachable, ours.

(The store's own tests on it are tests/test_store_teams.py, tests/test_stages_on_postgres.py and
the ``store_url`` cases elsewhere; this checks the ground they stand on: that ``make test``
installs what is needed and the fixture starts a server as an unprivileged user, reachable only
on loopback.)
"""

from __future__ import annotations

import pytest


def test_a_real_server_starts_and_answers(postgres: str) -> None:
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")
    assert postgres.startswith("postgresql://dshift@127.0.0.1:")
    with psycopg.connect(postgres) as db:
        [(version,)] = db.execute("SHOW server_version").fetchall()
        assert int(version.split(".")[0]) >= 13
        [(user,)] = db.execute("SELECT current_user").fetchall()
        assert user == "dshift"
        [(listen,)] = db.execute("SHOW listen_addresses").fetchall()
        assert listen == "127.0.0.1"
        db.execute("CREATE TABLE probe (n integer)")
        db.execute("INSERT INTO probe VALUES (1), (2)")
        [(total,)] = db.execute("SELECT sum(n) FROM probe").fetchall()
        assert total == 3
