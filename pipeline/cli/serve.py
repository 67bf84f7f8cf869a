"""``dshift serve``, the coders' review page, and ``dshift coder add|token|accounts``, the
accounts people log in to it with."""

from __future__ import annotations

import click

from pipeline.cli.app import cli, friendly_errors, project_of
from pipeline.cli.coders import coder
from pipeline.registry import strategies


@cli.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Anything but this machine (127.0.0.1) needs coder accounts.",
)
@click.option("--port", default=8421, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--strategy",
    type=click.Choice(list(strategies.names())),
    default="stratified",
    show_default=True,
    help="Order of the coders' queues (the strategies of review sheets).",
)
@click.option(
    "--double",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Share of segments every coder codes, blind of each other, for agreement.",
)
@click.option("--seed", type=int, default=None, help="Seed of the queues' order.")
@click.pass_context
@friendly_errors
def serve(
    ctx: click.Context, host: str, port: int, strategy: str, double: float, seed: int | None
) -> None:
    """Serve the review page: coders code segments by keyboard, adjudicators settle
    disagreements, everyone sees agreement.

    It listens on this machine only (127.0.0.1) unless --host says otherwise, and then only
    when the workspace has coder accounts (dshift coder add NAME). Decisions go to the store
    as they are made, beside sheet imports; stop the page with Ctrl-C.

    \b
    Example:
        dshift serve
        dshift serve --host 0.0.0.0 --double 0.1
    """
    import uvicorn

    from pipeline.web.app import Options, build_app, check_binding

    project = project_of(ctx)
    app = build_app(project, Options(strategy=strategy, seed=seed, double=double))
    try:
        check_binding(host, app.state.site.run(lambda desk: desk.has_accounts()))
    except BaseException:
        app.state.site.close()  # the store, on the thread that opened it
        raise
    where = "this machine only" if host in ("127.0.0.1", "localhost", "::1") else "the network"
    click.echo(f"review page: http://{host}:{port}/  (open to {where}; Ctrl-C stops it)", err=True)
    if where == "this machine only":
        click.echo(
            "  it listens on 127.0.0.1 so that nobody else can write decisions; to let "
            "coders on other machines in, make accounts (dshift coder add NAME) and give "
            "--host 0.0.0.0",
            err=True,
        )
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@coder.command("add")
@click.argument("name")
@click.option("--adjudicator", is_flag=True, help="May settle disagreements between coders.")
@click.pass_context
@friendly_errors
def coder_add(ctx: click.Context, name: str, adjudicator: bool) -> None:
    """Make a review-page account for the person NAME and print their login token once.

    Only a hash of the token is kept: give it to NAME now (a lost token is replaced with
    'dshift coder token NAME').

    \b
    Example:
        dshift coder add "Ayesha K."
        dshift coder add Bilal --adjudicator
    """
    account, token = project_of(ctx).add_coder_account(name, adjudicator=adjudicator)
    click.echo(f"account {account.name} ({account.role}); login token (shown once):", err=True)
    click.echo(token)


@coder.command("token")
@click.argument("name")
@click.pass_context
@friendly_errors
def coder_token(ctx: click.Context, name: str) -> None:
    """Give NAME a new login token (the old one stops working) and print it once.

    \b
    Example:
        dshift coder token "Ayesha K."
    """
    account, token = project_of(ctx).new_coder_token(name)
    click.echo(f"new login token for {account.name} (shown once):", err=True)
    click.echo(token)


@coder.command("accounts")
@click.pass_context
@friendly_errors
def coder_accounts(ctx: click.Context) -> None:
    """List the review-page accounts and their roles.

    \b
    Example:
        dshift coder accounts
    """
    accounts = project_of(ctx).coder_accounts()
    if not accounts:
        click.echo("no accounts: the review page serves this machine only (dshift coder add)")
    for account in accounts:
        click.echo(f"{account.name:24} {account.role:12} since {account.created_at}")
