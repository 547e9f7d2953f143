"""Plain data types passed between the ingestion stages (parse -> chunk -> embed -> store)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from retrieval.index_contract import ChunkKind, DocType, RevisionStatus

NO_REVISION = "-"  # documents that print no revision (guidance texts, QMS records)
SHARED_SITE = "GLOBAL"  # site of documents that belong to no one site (e.g. ICH guidelines)


@dataclass(frozen=True)
class TextLine:
    """One line of a page's text: `page.text[start:end]` (no trailing newline)."""

    start: int
    end: int


@dataclass
class Table:
    """A table found on one page. Cell texts are the page's words joined by single spaces."""

    page: int  # 1-based
    rows: list[list[str]]
    header_rows: int  # leading rows that form the header (repeated when the table is split)
    char_start: int  # span of the table's lines in the page text
    char_end: int
    line_indexes: frozenset[int]  # page lines the table covers (kept out of text chunks)
    row_lines: list[frozenset[int]] = field(default_factory=list)  # page lines of each row
    caption: str = ""
    # Header of the previous page's table this one continues (not on this page's text).
    carried_header: list[list[str]] = field(default_factory=list)

    @property
    def header(self) -> list[list[str]]:
        return self.rows[: self.header_rows] or self.carried_header

    @property
    def body(self) -> list[list[str]]:
        return self.rows[self.header_rows :]


@dataclass
class PageText:
    number: int  # 1-based
    text: str  # exactly what the source gives for this page (PDF: page.get_text())
    lines: list[TextLine] = field(default_factory=list)
    boilerplate: frozenset[int] = frozenset()  # repeating header / footer line indexes
    tables: list[Table] = field(default_factory=list)
    headings: dict[int, int] = field(default_factory=dict)  # line index -> level, when known
    no_text_layer: bool = False  # has images or drawings but no text, and no OCR ran
    blank: bool = False  # nothing on the page at all
    ocr: bool = False  # text came from OCR

    def line_text(self, index: int) -> str:
        line = self.lines[index]
        return self.text[line.start : line.end]


def split_lines(text: str) -> list[TextLine]:
    lines: list[TextLine] = []
    start = 0
    for raw in text.split("\n"):
        lines.append(TextLine(start, start + len(raw)))
        start += len(raw) + 1
    if lines and lines[-1].start == lines[-1].end == len(text):
        lines.pop()  # the empty remainder after a final newline
    return lines


@dataclass
class ParsedDocument:
    """A document file read into pages (PDF pages; a DOCX / text file is one page)."""

    source_format: str  # "pdf" | "docx" | "text"
    pages: list[PageText]
    header: dict[str, str]  # "Label: value" header lines of page 1, label lower-cased
    embedded_title: str = ""  # title from the file's own metadata, if any
    notes: list[str] = field(default_factory=list)  # e.g. "decoded as cp1252"


@dataclass
class DocMetadata:
    doc_id: str
    doc_type: DocType
    title: str
    revision: str = NO_REVISION
    effective_date: str | None = None
    status: RevisionStatus = RevisionStatus.EFFECTIVE
    superseded_by: str | None = None
    supersedes: str | None = None
    site: str = SHARED_SITE
    products: list[str] = field(default_factory=list)
    equipment: list[str] = field(default_factory=list)
    batch_ids: list[str] = field(default_factory=list)
    capa_ids: list[str] = field(default_factory=list)
    event_date: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Chunk:
    text: str  # verbatim from the source (tables: markdown of verbatim cell texts)
    kind: ChunkKind
    page_start: int | None
    page_end: int | None
    char_start: int
    char_end: int
    section_path: list[str] = field(default_factory=list)
    section_id: str | None = None
    caption: str = ""  # table caption, or the field group name of a record chunk
    extra: dict[str, Any] = field(default_factory=dict)  # more payload fields
