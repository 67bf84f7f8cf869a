"""Agreement between the two independent coders of each batch, and the items to adjudicate.

Reads ``raw/batch-NN.coder-A.jsonl`` and ``raw/batch-NN.coder-B.jsonl`` for every batch both
coders have answered (items only one of them reached are left out and counted), and prints per
track: items, positives by each coder, percent agreement and Krippendorff's alpha (nominal, two
coders). ``--disagreements FILE`` writes the items where the coders differ on any track, with
both answers, for a third coder to adjudicate.

    python tests/devset/agree.py [--disagreements raw/adjudicate.jsonl]
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


def pairs() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(id, A's answer, B's answer) for every item both coders answered."""
    both = []
    for a_path in sorted(RAW.glob("batch-*.coder-A.jsonl")):
        b_path = a_path.with_name(a_path.name.replace("coder-A", "coder-B"))
        if not b_path.exists():
            continue
        a, b = answers(a_path), answers(b_path)
        both += [(item, a[item], b[item]) for item in a if item in b]
    return both


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--disagreements", type=Path, default=None)
    args = parser.parse_args()
    both = pairs()
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
        with args.disagreements.open("w", encoding="utf-8") as out:
            for item, x, y in both:
                if set(x["codes"]) != set(y["codes"]):
                    out.write(json.dumps({"id": item, "A": x, "B": y}, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
