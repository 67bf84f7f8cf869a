"""The coders' review page (``dshift serve``): a client of :mod:`pipeline.api`, like the CLI."""
