"""The domain's types and rules, shared by every stage and importing none of them.

``core`` holds what the stages agree on: how a coder's decisions settle into final codes, how
agreement is measured, which codes a machine tag gives a segment, and the constants several
stages need. Its modules take plain data (decision rows, a codebook, mappings) and do no I/O;
reading the store is the caller's job. Nothing here imports a module of ``pipeline`` outside
``pipeline.core`` (``tests/test_core.py`` checks it), so any stage, the CLI or a web client can
use it without pulling in another stage.

This module itself stays light (constants only) so that the CLI can read the defaults without
importing numpy or scikit-learn.
"""

# Every random step of the pipeline (review sampling, bootstrap intervals, model training, topic
# models, correlation intervals) is seeded from this one number unless the user gives --seed, so
# that a run repeated on the same data gives the same numbers. The number itself is arbitrary
# (any fixed integer would do); it stays 20011 because changing it would change every sample,
# interval and model already produced with dshift (it is the default of every --seed option).
DEFAULT_SEED = 20011

# The segmentation every stage reads by default. Here, not in coding/nlp.py, so that stages
# which only read segments need not import spaCy.
DEFAULT_SEGMENTER = "sentences.v1"

# Krippendorff's lowest alpha for tentative conclusions, and the reviewed segments it needs
# before a code is judged against it (the reliability gate).
GATE_ALPHA = 0.667
GATE_MIN_UNITS = 30

# Commands that write without the workspace lock, so that coders import and export review sheets
# while a batch (ingest, code, run) holds it: their writes are decisions and review files, each
# one transaction after any other writer's. A run of theirs left 'running' may belong to a live
# process (on this machine or another), so the lock holder never marks it interrupted.
UNLOCKED_COMMANDS = ("review import", "review export", "review adjudicate")
