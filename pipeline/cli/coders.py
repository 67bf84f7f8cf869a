"""``dshift coder``: which machine coder the workspace reads downstream of coding."""

from __future__ import annotations

import click

from pipeline.cli.app import cli, friendly_errors, project_of


@cli.group()
def coder() -> None:
    """Machine coders (show, use) and the people who code on the review page (add, token,
    accounts).

    'show' and 'use' choose the machine coder whose tags indices, exports, review and REFI
    read; 'add' makes a login for a person.

    \b
    Example:
        dshift coder show
        dshift coder use ensemble.v1
        dshift coder add "Ayesha K."
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
    project = project_of(ctx)
    version = project.codebook().codebook.version
    for state in project.coders():
        mark = "*" if state.active else " "
        done = state.documents_coded
        what = f"{done} document(s) coded under {version}" if done else "not coded"
        click.echo(f"{mark} {state.name:12} {state.what}; {what}")


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
    state = project_of(ctx).use_coder(name)
    click.echo(f"active coder: {state.name}", err=True)
    if not state.documents_coded:
        click.echo(
            f"nothing is coded by {state.name} under the current codebook yet: "
            f"run 'dshift code --coder {state.name}'",
            err=True,
        )
