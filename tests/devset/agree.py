"""Agreement between the two independent coders of each batch, and the items to adjudicate.

Reads ``raw/batch-NN.coder-A.jsonl`` and ``raw/batch-NN.coder-B.jsonl`` for every batch both
coders have answered (items only one of them reached are left out and counted), and prints per
track: items, positives by each coder, percent agreement and Krippendorff's alpha (nominal, two
coders). ``--disagreements FILE`` writes the items where the coders differ on any track, with
both answers, for a third coder to adjudicate.

    python tests/devset/agree.py [--batches 09-14] [--disagreements raw/adjudicate-09.jsonl]

``--batches`` limits both the figures and the disagreements to some batches (``01-08``: the UN
sentences; ``09-14``: the written releases; or a list such as ``09,10``). The disagreements file
holds each item as its coders saw it, with both answers.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import krippendorff
import numpy as np

HERE = Path(__file__).resolve().parent
RAW = HERE / "raw"
TRACKS = ("alignment", "securitization", "hedging")


def answers(path: Path) -> dict[str, dict[str, Any]]:
    """id -> answer, refusing malformed lines with their place."""
    found: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            codes = set(row["codes"])
        except (ValueError, KeyError, TypeError) as exc:
            raise SystemExit(f"{path.name}:{number}: not an answer ({exc})") from None
        if not codes <= set(TRACKS):
            raise SystemExit(f"{path.name}:{number}: unknown track in {sorted(codes)}")
        found[str(row["id"])] = row
    return found


def chosen(spec: str | None) -> set[str] | None:
    """Batch numbers from ``01-08`` or ``09,10`` (None: every batch)."""
    if not spec:
        return None
    numbers: set[str] = set()
    for part in spec.split(","):
        low, _, high = part.partition("-")
        numbers.update(f"{n:02d}" for n in range(int(low), int(high or low) + 1))
    return numbers


def pairs(batches: set[str] | None = None) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(id, A's answer, B's answer) for every item both coders answered."""
    both = []
    for a_path in sorted(RAW.glob("batch-*.coder-A.jsonl")):
        b_path = a_path.with_name(a_path.name.replace("coder-A", "coder-B"))
        if not b_path.exists():
            continue
        if batches is not None and a_path.name.split(".")[0][-2:] not in batches:
            continue
        a, b = answers(a_path), answers(b_path)
        both += [(item, a[item], b[item]) for item in a if item in b]
    return both


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--disagreements", type=Path, default=None)
    parser.add_argument("--batches", default=None, help="e.g. 01-08 or 09,10")
    args = parser.parse_args()
    batches = chosen(args.batches)
    both = pairs(batches)
    if not both:
        print("no batch has answers from both coders yet")
        return 1
    print(f"{len(both)} items answered by both coders")
    print(f"{'track':16} {'A yes':>6} {'B yes':>6} {'agree':>7} {'alpha':>7}")
    for track in TRACKS:
        a = np.array([track in x["codes"] for _, x, _ in both], dtype=float)
        b = np.array([track in y["codes"] for _, _, y in both], dtype=float)
        alpha = krippendorff.alpha(
            reliability_data=np.vstack([a, b]), level_of_measurement="nominal"
        )
        print(
            f"{track:16} {int(a.sum()):6} {int(b.sum()):6} {float((a == b).mean()):7.3f} "
            f"{alpha:7.3f}"
        )
    if args.disagreements:
        shown = {
            row["id"]: row
            for path in sorted(RAW.glob("batch-??.jsonl"))
            for row in map(json.loads, path.read_text(encoding="utf-8").splitlines())
        }
        strip = lambda answer: {k: v for k, v in answer.items() if k != "id"}  # noqa: E731
        with args.disagreements.open("w", encoding="utf-8") as out:
            for item, x, y in both:
                if set(x["codes"]) != set(y["codes"]):
                    row = {**shown.get(item, {"id": item}), "A": strip(x), "B": strip(y)}
                    out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
