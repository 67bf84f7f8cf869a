"""Human review: sheets out and back, decisions as events, agreement.

The rules (final codes, agreement, the reliability gate) live in :mod:`pipeline.core`; this
room holds what reads and writes sheets and projects, and the review stages.
"""
