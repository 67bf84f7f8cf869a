"""``dshift coder``: which machine coder the workspace reads downstream of coding."""

from __future__ import annotations

import click

from pipeline.cli import cli, friendly_errors, workspace_codebook, workspace_of
from pipeline.coders import MACHINE_CODERS, check_coder


@cli.group()
def coder() -> None:
    """Choose the machine coder whose tags indices, exports, review and REFI read.

    \b
    Example:
        dshift coder show
        dshift coder use ensemble.v1
    """


@coder.command("show")
@click.pass_context
@friendly_errors
def coder_show(ctx: click.Context) -> None:
    """List the machine coders, which one is active, and what each has coded.

    \b
    Example:
        dshift coder show
    """
    workspace = workspace_of(ctx)
    book = workspace_codebook(workspace)
    with workspace.open_store() as store:
        active = store.active_coder()
        for name, what in MACHINE_CODERS.items():
            done = book.version in store.coded_versions(name)
            n_docs = store.coding_counts(name, book.version).documents if done else 0
            mark = "*" if name == active else " "
            state = f"{n_docs} document(s) coded under {book.version}" if done else "not coded"
            click.echo(f"{mark} {name:12} {what}; {state}")


@coder.command("use")
@click.argument("name")
@click.pass_context
@friendly_errors
def coder_use(ctx: click.Context, name: str) -> None:
    """Make NAME the active machine coder of the workspace.

    Its tags are what the indices, exports (and their manifest), review sheets, REFI-QDA
    projects and browsing read from then on; other coders' tags stay for comparison.

    \b
    Example:
        dshift coder use ensemble.v1
    """
    check_coder(name)
    workspace = workspace_of(ctx)
    book = workspace_codebook(workspace)
    with workspace.lock("dshift coder use"), workspace.open_store() as store:
        store.set_active_coder(name)
        coded = book.version in store.coded_versions(name)
    click.echo(f"active coder: {name}", err=True)
    if not coded:
        click.echo(
            f"nothing is coded by {name} under the current codebook yet: "
            f"run 'dshift code --coder {name}'",
            err=True,
        )
