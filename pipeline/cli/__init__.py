"""The ``dshift`` command line: a client of :mod:`pipeline.api`, like the review page.

:mod:`pipeline.cli.app` holds the group and what every command shares; each other module holds
the commands of one room and registers them on the group when imported here.
"""

from pipeline.cli import coders, coding, corpus, indices, review, serve, store  # noqa: F401
from pipeline.cli.app import cli, main

__all__ = ["cli", "main"]
