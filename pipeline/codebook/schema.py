"""What a codebook file may say: the keys of each section, and the words of token patterns.

Token attributes are those the default spaCy pipeline (blank English, sentencizer, lemmas) fills
in; attributes that need a trained pipeline are named so that a codebook using them is told why.
"""

from __future__ import annotations

import re

TOP_KEYS = {"name", "description", "version_label", "negation", "partners", "codes"}
CODE_KEYS = {
    "id",
    "label",
    "parent",
    "definition",
    "include",
    "exclude",
    "examples",
    "patterns",
    "exclusions",
    "note",
}
PATTERN_KEYS = {"id", "lemmas", "tokens", "near", "confidence", "negatable", "note"}
NEAR_KEYS = {"a", "b", "window"}
TERM_KEYS = {"lemmas", "partner", "partners"}
PARTNER_KEYS = {"id", "label", "aliases", "note"}
NEGATION_KEYS = {"cues", "scope", "exceptions"}
EXAMPLE_KEYS = {"positive", "negative"}
# Token attributes usable with the default pipeline (blank English, sentencizer, lemmas).
TOKEN_ATTRS = {
    "ORTH",
    "TEXT",
    "LOWER",
    "NORM",
    "LEMMA",
    "SHAPE",
    "PREFIX",
    "SUFFIX",
    "LENGTH",
    "IS_ALPHA",
    "IS_ASCII",
    "IS_DIGIT",
    "IS_LOWER",
    "IS_UPPER",
    "IS_TITLE",
    "IS_PUNCT",
    "IS_SPACE",
    "IS_STOP",
    "IS_SENT_START",
    "LIKE_NUM",
    "LIKE_URL",
    "LIKE_EMAIL",
    "OP",
}
NEEDS_TRAINED = {"POS", "TAG", "MORPH", "DEP", "ENT_TYPE", "ENT_IOB", "ENT_ID", "ENT_KB_ID"}
OPS = {"!", "?", "+", "*"}
RANGE_OP = re.compile(r"^\{\d*,?\d*\}$")  # {n}, {n,m}, {,m}, {n,}
PREDICATES = {
    "IN",
    "NOT_IN",
    "REGEX",
    "FUZZY",
    "==",
    "!=",
    ">=",
    "<=",
    ">",
    "<",
    "IS_SUBSET",
    "IS_SUPERSET",
    "INTERSECTS",
}
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*$")
