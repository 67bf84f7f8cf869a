"""Commands of the coding room: codebook, code, train, tag, kwic, show, topics, expand."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pipeline.api import CodeResult, diff_codebooks, load_codebook, tag_lines
from pipeline.api import codebook_tree as tree_of
from pipeline.api import is_executor as api_is_executor
from pipeline.cli.app import (
    cli,
    codebook_file,
    exit_with,
    friendly_errors,
    optional_project,
    project_of,
)
from pipeline.core import DEFAULT_SEED
from pipeline.errors import DshiftError
from pipeline.registry import DEFAULT_CODER, coders


def coder_option(default: str | None) -> Any:
    """The --coder option: a machine coder from the registry."""
    told = "the active one, see 'dshift coder'" if default is None else default
    return click.option(
        "--coder",
        "coder_name",
        type=click.Choice(coders.names()),
        default=default,
        help=f"The machine coder (default: {told}): "
        + "; ".join(f"{name}, {what}" for name, what in coders.descriptions().items())
        + ".",
    )


def print_coding(done: CodeResult, dry_run: bool) -> None:
    """The one-screen summary of a coding run (``dshift code`` and ``dshift run``)."""
    summary, codebook, coder, active = done.summary, done.codebook, done.coder, done.active
    rate = summary.words / summary.seconds if summary.seconds else 0.0
    verb = "would code" if dry_run else "coded"
    click.echo(
        f"{verb} {summary.documents} document(s), {summary.segments} segment(s), "
        f"{summary.words} words with {codebook.version} in {summary.seconds:.1f} s "
        f"({rate:,.0f} words/s): {summary.tags} tag(s)",
        err=True,
    )
    tops = [c.id for c in codebook.children(None)]
    if summary.per_code:
        click.echo(
            "  segments per code: " + ", ".join(f"{c} {summary.per_code.get(c, 0)}" for c in tops),
            err=True,
        )
    for note in summary.notes:
        click.echo(f"  note: {note}", err=True)
    if dry_run:
        if summary.compared_with is None:
            click.echo("  nothing coded before: no comparison", err=True)
        else:
            click.echo(f"  against {summary.compared_with} (gain / lose a tag):", err=True)
            for code in sorted(summary.gains):
                if summary.gains[code] or summary.losses[code]:
                    click.echo(
                        f"    {code:36} +{summary.gains[code]:<6} -{summary.losses[code]}", err=True
                    )
    elif coder != active:
        click.echo(
            f"  the indices, exports and review read {active}, the active coder; to read "
            f"these tags instead: dshift coder use {coder}",
            err=True,
        )


@cli.group()
def codebook() -> None:
    """Check, show and compare codebooks.

    \b
    Example:
        dshift codebook check
    """


@codebook.command("check")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.pass_context
@friendly_errors
def codebook_check(ctx: click.Context, path: str | None) -> None:
    """Validate a codebook (default: the workspace's) and report every problem.

    \b
    Example:
        dshift codebook check codebook/codebook.yaml
    """
    file = codebook_file(ctx, path)
    book = load_codebook(file).codebook
    click.echo(
        f"{file}: ok — {len(book.codes)} codes, {len(book.patterns())} patterns, "
        f"{len(book.partners)} partners; version {book.version}"
    )


@codebook.command("show")
@click.argument("path", required=False, type=click.Path(dir_okay=False))
@click.pass_context
@friendly_errors
def codebook_show(ctx: click.Context, path: str | None) -> None:
    """Print the code tree with definitions, rules and pattern counts.

    \b
    Example:
        dshift codebook show | less
    """
    click.echo(tree_of(codebook_file(ctx, path)))


@codebook.command("diff")
@click.argument("old", type=click.Path(dir_okay=False, exists=True))
@click.argument("new", type=click.Path(dir_okay=False, exists=True))
@click.option(
    "--impact/--no-impact",
    default=True,
    show_default=True,
    help="Code the workspace's documents with both and count gained and lost tags.",
)
@click.pass_context
@friendly_errors
def codebook_diff(ctx: click.Context, old: str, new: str, impact: bool) -> None:
    """Show what changed from codebook OLD to NEW, and how many segments per code would gain
    or lose a tag.

    \b
    Example:
        git show HEAD~1:codebook/codebook.yaml > /tmp/old.yaml
        dshift codebook diff /tmp/old.yaml codebook/codebook.yaml
    """
    project = optional_project(ctx) if impact else None
    found = diff_codebooks(Path(old), Path(new), project)
    click.echo(f"{found.before} -> {found.after}")
    for line in found.changes or ["(no change)"]:
        click.echo(f"  {line}")
    if project is None:
        return
    if found.impact is None:
        click.echo(found.why_not_measured, err=True)
        return
    gains, losses = found.impact
    click.echo("segments that would gain / lose a tag:")
    for code in sorted(gains):
        if gains[code] or losses[code]:
            click.echo(f"  {code:36} +{gains[code]:<6} -{losses[code]}")


@codebook.command("import")
@click.argument("qdc", type=click.Path(dir_okay=False, exists=True))
@click.pass_context
@friendly_errors
def codebook_import(ctx: click.Context, qdc: str) -> None:
    """Compare a REFI-QDA codebook (.qdc) with ours and list the proposed changes.

    Nothing is applied: edit codebook/codebook.yaml to accept a change (a new version).

    \b
    Example:
        dshift codebook import ~/Downloads/codebook.qdc
    """
    proposals = project_of(ctx).propose_codebook(Path(qdc))
    if not proposals:
        click.echo("no difference from the workspace's codebook")
        return
    click.echo("proposed changes (not applied; edit codebook/codebook.yaml to accept):")
    for line in proposals:
        click.echo(f"  {line}")


def _executor(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not api_is_executor(value):
        raise click.BadParameter(
            "use 'local', 'dask' (a Dask cluster on this machine) or the address of a running "
            "Dask scheduler, tcp://HOST:PORT"
        )
    return value


def executor_option(what: str) -> Any:
    """``--executor``: ``local``, ``dask`` or a running scheduler's address."""
    return click.option(
        "--executor",
        default="local",
        show_default=True,
        callback=_executor,
        metavar="local|dask|tcp://HOST:PORT",
        help=f"{what}: a local process pool, a Dask cluster started on this machine (--jobs "
        "workers), or a running Dask scheduler.",
    )


@cli.command()
@click.option(
    "--codebook",
    "codebook_file",
    type=click.Path(dir_okay=False),
    help="Codebook to use (default: the workspace's codebook/codebook.yaml).",
)
@click.option(
    "--unit",
    type=click.Choice(["sentence", "paragraph"]),
    default="sentence",
    show_default=True,
    help="What a segment is.",
)
@click.option(
    "--dry-run", is_flag=True, help="Code in memory only and compare with the last version coded."
)
@click.option(
    "--spacy-model",
    default=None,
    help="An installed trained spaCy pipeline to segment with (default: rules only).",
)
@coder_option(default=None)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Worker processes to code in (each builds the coder once; 1 codes in this process).",
)
@executor_option("Where documents are coded")
@click.pass_context
@friendly_errors
def code(
    ctx: click.Context,
    codebook_file: str | None,
    unit: str,
    dry_run: bool,
    spacy_model: str | None,
    coder_name: str | None,
    jobs: int,
    executor: str,
) -> None:
    """Segment and tag every document not yet coded under the current codebook version.

    A changed codebook is a new version: documents are coded again from their stored text
    and the old tags are kept for comparison.

    \b
    Example:
        dshift code --dry-run      # what would change with the edited codebook
        dshift code
        dshift code --coder ensemble.v1   # after 'dshift train'
    """
    project = project_of(ctx)
    path = Path(codebook_file) if codebook_file else None
    done = project.code(
        coder_name,
        unit=unit,
        spacy_model=spacy_model,
        dry_run=dry_run,
        codebook_path=path,
        jobs=jobs,
        executor=executor,
    )
    print_coding(done, dry_run)


@cli.command()
@click.option(
    "--coder",
    "coder_name",
    type=click.Choice(["learned.v1", "ml.v1"]),
    default="learned.v1",
    help="The model to train (default: learned.v1, from the development set shipped with "
    "dshift plus this workspace's decisions; ml.v1 learns from the decisions alone).",
)
@click.option(
    "--weak",
    is_flag=True,
    help="ml.v1: also learn from confident rule tags of undecided segments (weak labels; "
    "the evaluation uses coders' decisions only).",
)
@click.pass_context
@friendly_errors
def train(ctx: click.Context, coder_name: str, weak: bool) -> None:
    """Train a model for the workspace's codebook and report its cross-validated quality.

    learned.v1 learns from the development set dshift ships (5,550 double-coded sentences)
    plus every segment this workspace's coders decided, so an edited codebook or your own
    documents get their own model. Cross-validation is grouped by document (never the same
    document in training and test). The model is saved in corpus/models/ with the codebook
    version it belongs to; 'dshift code' uses it from then on.

    \b
    Example:
        dshift train && dshift code
    """
    trained = project_of(ctx).train(coder=coder_name, weak=weak)
    path, meta = trained.path, trained.meta
    if coder_name == "learned.v1":
        click.echo(
            f"trained learned.v1 on {meta['examples']} sentences ({meta['workspace_rows']} "
            f"decided by this workspace's coders) in {meta['seconds']} s -> {path}",
            err=True,
        )
        click.echo("cross-validated against coders (grouped by document, out of fold):")
        for track, alpha in meta["oof_alpha_grouped"].items():
            click.echo(
                f"  {track:16} alpha {alpha:.3f}  (tags from p >= {meta['thresholds'][track]:.3f})"
            )
        return
    click.echo(
        f"trained ml.v1 on {meta['examples']} segments ({meta['human_examples']} "
        f"decided by coders) in {meta['seconds']} s -> {path}",
        err=True,
    )
    click.echo("cross-validated against coders (grouped by document):")
    for row in meta["evaluation"]:
        if row["code"] in meta["codes"]:
            click.echo(
                f"  {row['code']:36} P {row['precision']:.2f}  R {row['recall']:.2f}  "
                f"F1 {row['f1']:.2f}  alpha {row['alpha']:.3f}"
            )
    if meta["skipped_codes"]:
        click.echo(f"  too few examples for: {', '.join(meta['skipped_codes'])}", err=True)


@cli.command()
@click.argument("input_file", required=False, default="-", type=click.File("r", encoding="utf-8"))
@click.option(
    "--codebook",
    "codebook_path",
    type=click.Path(dir_okay=False),
    help="Codebook to use (default: the workspace's).",
)
@click.option("--skip-bad", is_flag=True, help="Report bad lines on stderr and go on.")
@coder_option(default=DEFAULT_CODER)
@click.pass_context
@friendly_errors
def tag(
    ctx: click.Context,
    input_file: Any,
    codebook_path: str | None,
    skip_bad: bool,
    coder_name: str,
) -> None:
    """Code JSON Lines (stdin or INPUT_FILE) and write one JSON line per input to stdout.

    Input lines: {"id": ..., "text": "...", "year": 2015, "source_type": "mofa"} (year and
    source_type optional). Output lines: {"id", "codes", "subcodes", "partners", "evidence"}.

    \b
    Example:
        echo '{"id": 1, "text": "Troops cleared the area."}' | dshift tag
    """
    from pipeline.api import BadLine

    project = optional_project(ctx)
    bad = 0
    lines = tag_lines(
        input_file,
        codebook_file(ctx, codebook_path),
        coder=coder_name,
        models=project.models if project else None,
    )
    for result in lines:
        if isinstance(result, BadLine):
            bad += 1
            click.echo(f"line {result.line}: {result.reason}", err=True)
            if not skip_bad:
                click.echo(
                    "  fix: correct the line, or add --skip-bad to go on without it", err=True
                )
                exit_with("bad-input")
            continue
        click.echo(result)
    if bad:
        click.echo(f"skipped {bad} bad line(s)", err=True)


@cli.command()
@click.argument("term")
@click.option("--code", "code_id", default=None, help="Only segments tagged with this code.")
@click.option("--year", type=int, default=None, help="Only documents of this year.")
@click.option(
    "--width",
    type=click.IntRange(10, 200),
    default=50,
    show_default=True,
    help="Characters of context on each side.",
)
@click.option(
    "--limit",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="At most this many lines.",
)
@click.pass_context
@friendly_errors
def kwic(
    ctx: click.Context, term: str, code_id: str | None, year: int | None, width: int, limit: int
) -> None:
    """Show TERM in context across the coded corpus (keyword in context).

    TERM is matched as whole words, case-insensitively.

    \b
    Example:
        dshift kwic "strategic partnership" --code alignment --year 2006
    """
    for line in project_of(ctx).kwic(term, code=code_id, year=year, width=width, limit=limit):
        click.echo(line)


@cli.command()
@click.argument("segment_id")
@click.pass_context
@friendly_errors
def show(ctx: click.Context, segment_id: str) -> None:
    """Show a segment in its paragraph, its tags, and why each fired.

    \b
    Example:
        dshift show s3f2a9c1b7d0e
    """
    click.echo(project_of(ctx).explain_segment(segment_id))


@cli.command()
@click.option(
    "--k",
    "ks",
    default="6,10",
    show_default=True,
    help="Numbers of topics to try, comma-separated; the most coherent is kept.",
)
@click.option(
    "--seeded", is_flag=True, help="Start the first topics from the three tracks' pattern words."
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.pass_context
@friendly_errors
def topics(ctx: click.Context, ks: str, seeded: bool, seed: int) -> None:
    """Fit LDA topic models over the segments and show what the corpus talks about.

    Writes outputs/topics/: topics.csv (terms), topic_prevalence.csv (per year, each document
    counting once) and topic_segments.csv (the segments most about each topic).

    \b
    Example:
        dshift topics --k 6,8,12 --seeded
    """
    try:
        values = sorted({int(k) for k in ks.split(",") if k.strip()})
    except ValueError:
        raise DshiftError(
            f"--k '{ks}' is not a list of numbers", "write it as 6,10", code="usage"
        ) from None
    click.echo(project_of(ctx).topics(values, seeded=seeded, seed=seed))


@cli.command()
@click.argument("code")
@click.option(
    "--top", type=click.IntRange(1), default=20, show_default=True, help="How many suggestions."
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.pass_context
@friendly_errors
def expand(ctx: click.Context, code: str, top: int, seed: int) -> None:
    """Suggest terms close to a code's patterns (word vectors trained on the corpus).

    Each suggestion comes with its frequency, an example and how many segments it would newly
    tag. Nothing is added to the codebook: a coder does that (a new codebook version).

    \b
    Example:
        dshift expand hedging.connectivity
    """
    click.echo(project_of(ctx).expand(code, top=top, seed=seed))
