"""Turn the double coding into labelled rows: ``devset2.jsonl``.

Round 2's new sentences (``pool.jsonl``, batches 01-06), round 1's, coded again blind by two
coders (batch 07; the single-coder labels of round 1 are kept beside them as ``round_1``), the
uncertainty-sampled UN sentences (``pool-08.jsonl``, batch 08) and the sentences of the
press releases, briefings and joint statements written for the set (``pool-register.jsonl``,
batches 09 on). Each row keeps what its coders saw: speaker, year, the sentence before and after.

For every sentence of ``pool.jsonl`` that both coders answered: where they agree on the tracks,
their tracks (and the subcodes both gave); where they disagree, the adjudicator's answer from
``raw/adjudicate-NN.final.jsonl``. A disagreement not adjudicated yet keeps the row out (and is
counted). Rows keep their place in the speech and their text, both coders' answers and who
settled them. The split is by speech, as in round 1: a speech whose number is divisible by
three is ``test``.

    python tests/devset/merge.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RAW = HERE / "raw"
TRACKS = ("alignment", "securitization", "hedging")


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def split_of(path: str) -> str:
    """``test`` for a speech whose session number (or a written document whose number) is
    divisible by three, else ``tune``."""
    found = re.search(r"_(\d{2})_\d{4}\.txt$", path) or re.match(r"r(\d{3})-", path)
    number = int(found.group(1))  # type: ignore[union-attr]
    return "test" if number % 3 == 0 else "tune"


def merge() -> tuple[list[dict[str, Any]], dict[str, int]]:
    pool = {
        row["id"]: row
        for name in ("pool.jsonl", "pool-08.jsonl", "pool-register.jsonl")
        for row in _lines(HERE / name)
    }
    seen = {row["id"]: row for path in sorted(RAW.glob("batch-??.jsonl")) for row in _lines(path)}
    # Round 1's sentences, coded again blind (batch 07): their place and split stay round 1's.
    shown = {row["id"]: row for row in _lines(RAW / "batch-07.jsonl")}
    for row in _lines(HERE / "devset.jsonl"):
        if row["id"] in shown:
            pool[row["id"]] = {
                **row,
                "text": shown[row["id"]]["text"],
                "stratum": "round-1",
                "round_1": {"codes": row["codes"], "subcodes": row["subcodes"]},
            }
    counts = {"both": 0, "agreed": 0, "adjudicated": 0, "waiting": 0}
    rows = []
    for a_path in sorted(RAW.glob("batch-*.coder-A.jsonl")):
        batch = a_path.name.split(".")[0].split("-")[1]
        b_path = a_path.with_name(a_path.name.replace("coder-A", "coder-B"))
        a = {r["id"]: r for r in _lines(a_path)}
        b = {r["id"]: r for r in _lines(b_path)}
        final = {r["id"]: r for r in _lines(RAW / f"adjudicate-{batch}.final.jsonl")}
        for item in a:
            if item not in b or item not in pool:
                continue
            counts["both"] += 1
            x, y = a[item], b[item]
            if set(x["codes"]) == set(y["codes"]):
                codes = sorted(set(x["codes"]))
                subcodes = sorted(set(x["subcodes"]) & set(y["subcodes"]))
                settled = "agreed"
            elif item in final:
                codes = sorted(set(final[item]["codes"]))
                subcodes = sorted(set(final[item]["subcodes"]))
                settled = "adjudicated"
            else:
                counts["waiting"] += 1
                continue
            counts[settled] += 1
            source = pool[item]
            rows.append(
                {
                    "id": item,
                    "source": source.get("source", "ungdc"),
                    "path": source["path"],
                    "start": source["start"],
                    "end": source["end"],
                    "sha1": source["sha1"],
                    "text": source["text"],
                    "speaker": seen[item]["speaker"],
                    "year": seen[item]["year"],
                    "before": seen[item]["before"],
                    "after": seen[item]["after"],
                    **({"document": seen[item]["document"]} if "document" in seen[item] else {}),
                    "split": source.get("split") or split_of(source["path"]),
                    "codes": codes,
                    "subcodes": [s for s in subcodes if s.split(".")[0] in codes],
                    "settled": settled,
                    "coders": {
                        "A": {"codes": x["codes"], "subcodes": x["subcodes"]},
                        "B": {"codes": y["codes"], "subcodes": y["subcodes"]},
                    },
                    "stratum": source["stratum"],
                    **({"round_1": source["round_1"]} if "round_1" in source else {}),
                }
            )
    return sorted(rows, key=lambda r: r["id"]), counts


def main() -> int:
    rows, counts = merge()
    with (HERE / "devset2.jsonl").open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    positives = {t: sum(t in r["codes"] for r in rows) for t in TRACKS}
    print(f"{len(rows)} rows written to devset2.jsonl; {counts}; positives {positives}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
