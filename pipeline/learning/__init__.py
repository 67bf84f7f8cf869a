"""Learned coders: models trained on coders' decisions, and their evaluation."""
