"""Share of ICH Q3C(R8) table questions whose answer-holding table chunk is in the top k.

A chunk holds the answer when it is a table chunk of the Q3C document with a row that names
the solvent and (for value questions) shows the answer value; for "Is X listed as a Class 3
solvent" the row must be in a chunk of Table 3. Negative controls are left out.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from retrieval.embedding import Embedder
from retrieval.index_contract import Payload
from retrieval.sparse import query_vector
from retrieval.store.base import Filter, IndexStore

QA_PATH = Path(__file__).resolve().parents[3] / "shared" / "data" / "qa" / "ich_q3c_table_qa.jsonl"
_LISTED = re.compile(r"^Is (.+?) listed as a Class")
_VALUE_OF = re.compile(r".*\b(?:solvent|for) (.+?)\?$")


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _holds(payload: Any, subject: str, answer: str, table: str) -> bool:
    if payload.get(Payload.DOC_ID) != "ICH-Q3C" or payload.get(Payload.CHUNK_KIND) != "table":
        return False
    rows = [_norm(r) for r in str(payload.get(Payload.TEXT, "")).splitlines()]
    cells_of = [[c.strip() for c in r.strip("|").split("|")] for r in rows]
    name = _norm(subject)
    if table == "Table 3":  # a two-column list of names: the name in any cell of Table 3
        named = any(c.startswith(name) for cells in cells_of for c in cells)
        return named and "table 3" in _norm(str(payload.get("table_caption", "")))
    return any(
        cells[0].startswith(name) and _norm(answer) in cells[1:] for cells in cells_of if cells
    )


def q3c_hit_rate(
    store: IndexStore, embedder: Embedder, sites: list[str], k: int = 5
) -> tuple[float, int, list[str]]:
    items = [json.loads(line) for line in QA_PATH.read_text().splitlines() if line.strip()]
    positives = [i for i in items if "negative" not in i["table"]]
    misses: list[str] = []
    for item in positives:
        match = _LISTED.search(item["question"]) or _VALUE_OF.search(item["question"])
        assert match, item["question"]
        subject = match.group(1).strip()
        dense = embedder.embed([item["question"]])[0].tolist()
        hits = store.search(
            dense, query_vector(item["question"]), Filter(must={Payload.SITE: sites}), limit=k
        )
        if not any(_holds(h.payload, subject, item["answer"], item["table"]) for h in hits):
            misses.append(item["qid"])
    return 1 - len(misses) / len(positives), len(positives), misses
