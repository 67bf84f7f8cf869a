"""Domain types and rules shared by every stage; imports nothing of the pipeline outside core."""

DEFAULT_SEED = 20011
"""The seed of every random step (sampling, bootstrap, models), for reproducible results."""
