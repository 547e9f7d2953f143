"""Markdown / plain text and DOCX files to one page of text, with headings and tables.

A text file is one "page": its decoded text with newlines normalised to "\\n"; chunk offsets
point into that text. A DOCX is one page too: paragraphs one per line and table rows as
"cell | cell" lines, in body order, so table cell texts are findable in the page text.
"""

from __future__ import annotations

import re
from pathlib import Path

from ingestion.model import PageText, ParsedDocument, Table, split_lines
from ingestion.patterns import MetadataPatterns
from ingestion.pdf_parser import ParseError, read_header

_MD_HEADING = re.compile(r"^(#{1,6})\s+\S")
_MD_TABLE_ROW = re.compile(r"^\s*\|.*\|\s*$")
_MD_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_FALLBACK_ENCODINGS = ("cp1252", "latin-1")


def decode_text(data: bytes) -> tuple[str, str | None]:
    """(text, note): UTF-8 (BOM allowed); otherwise cp1252, then latin-1, with a note that
    says so. Binary content (NUL bytes) is refused."""
    if b"\x00" in data[:8192]:
        raise ParseError("binary content (NUL bytes): not a text file")
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        position = exc.start
    for encoding in _FALLBACK_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, f"not valid UTF-8 (byte {position}); decoded as {encoding}"
    raise ParseError("undecodable text")  # unreachable: latin-1 decodes any bytes


def _markdown_tables(page: PageText) -> list[Table]:
    tables: list[Table] = []
    index = 0
    while index < len(page.lines):
        if not _MD_TABLE_ROW.match(page.line_text(index)):
            index += 1
            continue
        first = index
        while index < len(page.lines) and _MD_TABLE_ROW.match(page.line_text(index)):
            index += 1
        rows: list[list[str]] = []
        row_lines: list[frozenset[int]] = []
        header_rows = 0
        for line_index in range(first, index):
            text = page.line_text(line_index)
            if _MD_RULE.match(text):
                header_rows = len(rows)
                continue
            rows.append([cell.strip() for cell in text.strip().strip("|").split("|")])
            row_lines.append(frozenset({line_index}))
        if len(rows) >= 2:
            tables.append(
                Table(
                    page=page.number,
                    rows=rows,
                    header_rows=min(header_rows, 1),
                    char_start=page.lines[first].start,
                    char_end=page.lines[index - 1].end,
                    line_indexes=frozenset(range(first, index)),
                    row_lines=row_lines,
                )
            )
    return tables


def read_text_file(path: Path, patterns: MetadataPatterns) -> ParsedDocument:
    data = path.read_bytes()
    if not data:
        raise ParseError("empty file (0 bytes)")
    text, note = decode_text(data)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ParseError("file holds only whitespace")
    page = PageText(1, text, split_lines(text))
    if path.suffix.lower() in (".md", ".markdown"):
        page.headings = {
            i: len(m.group(1))
            for i in range(len(page.lines))
            if (m := _MD_HEADING.match(page.line_text(i)))
        }
        page.tables = _markdown_tables(page)
    parsed = ParsedDocument("text", [page], read_header(page, patterns))
    if note:
        parsed.notes.append(note)
    return parsed


def read_docx(path: Path, patterns: MetadataPatterns) -> ParsedDocument:
    import docx
    from docx.table import Table as DocxTable
    from docx.text.paragraph import Paragraph

    if path.stat().st_size == 0:
        raise ParseError("empty file (0 bytes)")
    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises zipfile / lxml / KeyError variants
        raise ParseError(f"not a readable DOCX: {type(exc).__name__}: {exc}") from exc
    lines: list[str] = []
    headings: dict[int, int] = {}
    table_specs: list[tuple[int, int, list[list[str]]]] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.replace("\n", " ")
            style = block.style.name if block.style is not None else ""
            match = re.match(r"Heading (\d)", style or "")
            if match and text.strip():
                headings[len(lines)] = int(match.group(1))
            elif style == "Title" and text.strip():
                headings[len(lines)] = 1
            lines.append(text)
        elif isinstance(block, DocxTable):
            rows = [[" ".join(cell.text.split()) for cell in row.cells] for row in block.rows]
            rows = [row for row in rows if any(row)]
            if not rows:
                continue
            first = len(lines)
            lines.extend(" | ".join(row) for row in rows)
            table_specs.append((first, len(lines), rows))
    text = "\n".join(lines)
    if not text.strip():
        raise ParseError("DOCX holds no text")
    page = PageText(1, text, split_lines(text), headings=headings)
    for first, end, rows in table_specs:
        page.tables.append(
            Table(
                page=1,
                rows=rows,
                header_rows=1 if len(rows) > 1 else 0,
                char_start=page.lines[first].start,
                char_end=page.lines[end - 1].end,
                line_indexes=frozenset(range(first, end)),
                row_lines=[frozenset({first + i}) for i in range(len(rows))],
            )
        )
    title = document.core_properties.title or ""
    return ParsedDocument("docx", [page], read_header(page, patterns), embedded_title=title)
