"""Question-answering items over reference PDFs, their gold pages and answer scoring.

Two item formats (detected per row):
- data-integrity Q&A (`qa/fda_data_integrity_qa.jsonl`): `qid, question, answer, pdf_pages,
  source_file`: the official answer and the 1-based PDF pages that hold it.
- ICH Q3C table lookups (`qa/ich_q3c_table_qa.jsonl`): `qid, question, answer, table,
  source_file`; `table` containing "negative control" marks the 15 items whose solvent is NOT
  in the table asked about (answer "No (it is a Class 2 solvent, Table 2)").
  Gold pages are not given; they are derived from the PDF (see `q3c_gold_pages`).

Answer scoring (documented in evals/datasets/qa/PROVENANCE.md):
- q3c value items: every number of the expected answer appears among the numbers of the answer
  (compared as numbers: "6" matches "6.0"); text items: the normalised expected text is a
  substring; "Yes" items: the answer says yes (a "yes" word and no "not listed" / "no").
  Negative controls: right when the answer says no / not listed, or declines ("not found").
- data-integrity items: the official answers are long; an answer is right when its MiniLM
  cosine similarity to the official answer is at least `DI_COSINE_MIN` (and it is not a
  refusal). Content-word recall/precision against the official answer are reported beside.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.chat import NOT_FOUND, content_words

DATASET_DIR = Path(__file__).parent / "datasets"
DEFAULT_PDF_DIR = DATASET_DIR / "pdfs"
DI_ITEMS = DATASET_DIR / "qa" / "fda_data_integrity_qa.jsonl"
Q3C_ITEMS = DATASET_DIR / "qa" / "ich_q3c_table_qa.jsonl"
DI_COSINE_MIN = 0.6
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])")
_LISTED = re.compile(r"^Is (.+?) listed as a Class", re.IGNORECASE)
_VALUE_OF = re.compile(r".*\b(?:solvent|for) (.+?)\?$")
_TABLE_CAPTION = re.compile(r"^\s*table\s+(\d+)\b", re.IGNORECASE)
ROW_WINDOW = 6  # a table row's cells are extracted as consecutive lines


class DocQaDataError(ValueError):
    """An item file cannot be used (names the file and line)."""


@dataclass(frozen=True)
class QaItem:
    qid: str
    question: str
    answer: str
    source_file: str  # file name of the gold PDF in the corpus
    pages: tuple[int, ...]  # gold 1-based pages (empty for negative controls)
    negative: bool
    kind: str  # "di" | "q3c"
    table: str | None = None
    subject: str | None = None  # q3c: the solvent asked about


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("\u2010", "-").replace("\u2011", "-").replace("\u2013", "-")
    return " ".join(text.split())


def resolve_source(source_file: str, pdf_dir: Path) -> str:
    """The corpus file name of an item's `source_file` (its own name, or via MANIFEST.json's
    `source_path`, which records where the file came from)."""
    name = Path(source_file).name
    if (pdf_dir / name).exists():
        return name
    manifest = pdf_dir / "MANIFEST.json"
    if manifest.exists():
        for entry in json.loads(manifest.read_text(encoding="utf-8")):
            if str(entry.get("source_path", "")).endswith(source_file):
                return str(entry["file"])
    raise DocQaDataError(f"source file {source_file!r} is not in {pdf_dir}")


def load_items(path: Path, pdf_dir: Path = DEFAULT_PDF_DIR) -> list[QaItem]:
    if not path.exists():
        raise DocQaDataError(f"{path}: file not found")
    items: list[QaItem] = []
    gold_pages_cache: dict[str, dict[str, Any]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            qid, question, answer = str(row["qid"]), str(row["question"]), str(row["answer"])
            source = resolve_source(str(row["source_file"]), pdf_dir)
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise DocQaDataError(f"{path}:{number}: bad item ({exc!r})") from exc
        if "pdf_pages" in row:
            pages = tuple(int(p) for p in row["pdf_pages"])
            items.append(QaItem(qid, question, answer, source, pages, False, "di"))
            continue
        table = row.get("table")
        if not isinstance(table, str):
            raise DocQaDataError(f"{path}:{number}: needs pdf_pages or table")
        match = _LISTED.search(question) or _VALUE_OF.search(question)
        if not match:
            raise DocQaDataError(f"{path}:{number}: cannot find the solvent in {question!r}")
        subject = match.group(1).strip()
        negative = "negative" in table.lower()
        table_name = table.split("(")[0].strip()
        item = QaItem(qid, question, answer, source, (), negative, "q3c", table_name, subject)
        if not negative:
            if source not in gold_pages_cache:
                gold_pages_cache[source] = _page_lines(pdf_dir / source)
            text = gold_pages_cache[source]
            item = QaItem(**{**item.__dict__, "pages": q3c_gold_pages(text, item)})
        items.append(item)
    if not items:
        raise DocQaDataError(f"{path}: no items")
    return items


def _page_lines(pdf: Path) -> dict[str, Any]:
    import pymupdf

    with pymupdf.open(pdf) as document:
        pages = [
            [normalise(x) for x in page.get_text().splitlines() if x.strip()] for page in document
        ]
    return {"pages": pages}


def table_spans(pages: list[list[str]]) -> dict[str, tuple[int, int]]:
    """1-based page span of each "Table N" in the body: from the page with its caption line
    (after the table of contents) to the page before the next table's caption."""
    starts: dict[int, int] = {}
    for number, lines in enumerate(pages, start=1):
        if any("table of contents" in x for x in lines):
            continue
        for x in lines:
            caption = _TABLE_CAPTION.match(x)
            if caption and int(caption.group(1)) not in starts:
                starts[int(caption.group(1))] = number
    spans: dict[str, tuple[int, int]] = {}
    for n, start in starts.items():
        following = [p for m, p in starts.items() if m > n and p >= start]
        end = min(following) if following else start
        spans[f"table {n}"] = (start, max(start, end))
    return spans


def q3c_gold_pages(text: dict[str, Any], item: QaItem) -> tuple[int, ...]:
    """Pages of the item's table that show the solvent (and, for value items, the expected
    value within the few lines that follow the name: one table row)."""
    pages: list[list[str]] = text["pages"]
    span = table_spans(pages).get(normalise(item.table or ""))
    name = normalise(item.subject or "")
    expected = _numbers(item.answer)
    found: list[int] = []
    for number, lines in enumerate(pages, start=1):
        if span and not span[0] <= number <= span[1]:
            continue
        for i, x in enumerate(lines):
            if not x.startswith(name):
                continue
            window = " ".join(lines[i : i + ROW_WINDOW])
            if not expected or expected <= _numbers(window):
                found.append(number)
                break
    return tuple(found)


def _numbers(text: str) -> set[float]:
    return {float(n) for n in _NUMBER.findall(text.replace(",", ""))}


def is_refusal(text: str) -> bool:
    """The answer declines: the chat path's "Not found in the indexed documents." (or the
    model saying "not found ..." itself)."""
    said = normalise(text)
    return said.startswith(normalise(NOT_FOUND).rstrip(".")) or said.startswith("not found")


_YES = re.compile(r"\byes\b")
_NO = re.compile(r"\b(no|not listed|is not|isn't|not a class 3|not included)\b")


def q3c_correct(item: QaItem, answer: str) -> bool:
    said = normalise(answer)
    if item.negative:
        return bool(_NO.search(said)) or is_refusal(answer)
    if is_refusal(answer):
        return False
    expected = item.answer.strip()
    if expected.lower() == "yes":
        return bool(_YES.search(said)) and not _NO.search(said)
    numbers = _numbers(expected)
    if numbers and re.fullmatch(r"[\d.,\s]+", expected):
        return numbers <= _numbers(said)
    return normalise(expected) in said


def word_overlap(reference: str, answer: str) -> tuple[float, float]:
    """(recall, precision) of content words of the answer against the reference."""
    ref, got = content_words(reference), content_words(answer)
    if not ref or not got:
        return 0.0, 0.0
    shared = len(ref & got)
    return shared / len(ref), shared / len(got)
