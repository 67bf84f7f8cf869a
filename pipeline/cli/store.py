"""``dshift store``: move a workspace's corpus store between SQLite and PostgreSQL."""

from __future__ import annotations

import click

from pipeline import api
from pipeline.cli.app import cli, friendly_errors


@cli.group()
def store() -> None:
    """Manage the corpus store itself (where it lives).

    \b
    Example:
        dshift store copy corpus/corpus.sqlite postgresql://coder@db:5432/pakfp
    """


@store.command("copy")
@click.argument("source", metavar="SRC_URL")
@click.argument("target", metavar="DST_URL")
@friendly_errors
def copy(source: str, target: str) -> None:
    """Copy a whole store into a new, empty one, and verify the copy.

    SRC_URL and DST_URL are SQLite files (corpus/corpus.sqlite) or PostgreSQL URLs
    (postgresql://USER@HOST:5432/DATABASE; keep the password in PGPASSWORD or ~/.pgpass).
    Everything is copied in one transaction, with its ids, the workspace id and the sheet key,
    then compared table by table (rows and a content checksum); if anything differs nothing is
    kept. The source is not changed. Then point the workspace at the copy: add to its
    dshift.toml the lines '[store]' and 'url = "DST_URL"', or use --store / $DSHIFT_STORE.

    \b
    Example:
        createdb -h db.example.org pakfp
        dshift store copy corpus/corpus.sqlite postgresql://coder@db.example.org/pakfp
    """
    report = api.copy_store(source, target)
    click.echo(f"copied {report.source} -> {report.target}: {report.rows:,} rows")
    click.echo(f"  {'table':18} {'rows':>9}  checksum (source = copy)")
    for table in report.tables:
        mark = "ok" if table.verified else "DIFFERS"
        click.echo(f"  {table.table:18} {table.rows:9,}  {table.source_checksum[:16]} {mark}")
    click.echo(
        "verified: every table's rows and content match; the source is unchanged.\n"
        f"next: use it with --store {report.target} (or [store] url in dshift.toml)"
    )
