"""Rebuild what the package ships for ``learned.v1``: its training data and its model.

    python -m pipeline.learning.ship [--devset tests/devset/devset2.jsonl] [--check]

Writes ``pipeline/resources/training/devset.jsonl.gz`` (the development set's rows: text, the
sentence either side, the adjudicated codes, where each came from) and, trained on it for the
codebook the project ships, ``pipeline/resources/models/learned.v1.json.gz``. Both are
deterministic: run it twice, get the same bytes. ``--check`` rebuilds into a temporary folder and
exits 1 if either differs from the shipped file (what the test of reproducibility runs).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from pipeline.codebook.load import load_codebook
from pipeline.coding.nlp import make_nlp
from pipeline.coding.rules import RuleCoder
from pipeline.learning import tracks_io
from pipeline.learning.training import read_devset, shipped_folder, train, write_gzip

REPO = Path(__file__).resolve().parents[2]
KEEP = (
    "id",
    "source",
    "path",
    "speaker",
    "year",
    "document",
    "split",
    "before",
    "text",
    "after",
    "codes",
    "subcodes",
)


def build(devset: Path, out: Path) -> tuple[Path, Path]:
    """Write the shipped training data and model under ``out`` (a ``resources`` folder)."""
    rows = [json.loads(line) for line in devset.read_text(encoding="utf-8").splitlines() if line]
    data = write_gzip(
        out / "training" / "devset.jsonl.gz",
        (
            json.dumps({k: row[k] for k in KEEP if k in row}, ensure_ascii=False, sort_keys=True)
            for row in sorted(rows, key=lambda r: r["id"])
        ),
    )
    codebook = load_codebook(shipped_folder() / "codebook.yaml")
    coder = RuleCoder(codebook, make_nlp())
    model, meta = train(coder, read_devset(data), extra={"trained_on": "development set"})
    path = tracks_io.save(model, meta, out / "models" / "learned.v1.json.gz")
    return data, path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devset", type=Path, default=REPO / "tests" / "devset" / "devset2.jsonl")
    parser.add_argument(
        "--check", action="store_true", help="compare a rebuild with the shipped files"
    )
    args = parser.parse_args()
    if not args.check:
        data, model = build(args.devset, shipped_folder())
        print(f"wrote {data} and {model}")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        built = build(args.devset, Path(tmp))
        differ = [
            str(p.relative_to(tmp))
            for p in built
            if p.read_bytes() != (shipped_folder() / p.relative_to(tmp)).read_bytes()
        ]
    if differ:
        print("differs from the shipped file: " + ", ".join(differ))
        return 1
    print("the shipped training data and model are reproduced byte for byte")
    return 0


if __name__ == "__main__":
    sys.exit(main())
