"""Coding stage: segment canonical texts and tag segments against the codebook."""
