"""PDF files to pages: text (exactly `page.get_text()`), words, repeating headers and footers,
tables, and pages without a text layer (OCR through Tesseract when it is installed)."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pymupdf

from ingestion.model import PageText, ParsedDocument, Table, split_lines
from ingestion.patterns import MetadataPatterns
from ingestion.pdf_tables import (
    LineGeom,
    Rule,
    Word,
    could_hold_table,
    find_tables,
    horizontal_rules,
)
from ingestion.pdf_tables import link_continued as link_continued_table

EDGE_ZONE = 0.12  # top / bottom fraction of the page where headers and footers live
EDGE_LINES = 3  # how many lines from each edge may be a header / footer
_PAGE_OF = re.compile(r"\bpage\s+\d+\s*(of|/)\s*\d+\b", re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
OCR_DPI = 300


class ParseError(Exception):
    """The file cannot be read as what its name says (the reason is user-facing)."""


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def _map_words(page: PageText, words: list[Any]) -> dict[int, LineGeom]:
    """Attach pymupdf words to the page-text lines they were printed from.

    Both come from one text page, in the same order; a sequential match of each word line's
    text against the page lines is exact and linear. `words`: `TextPage.extractWORDS()`
    tuples (x0, y0, x1, y1, text, block, line, word), floats and str already."""
    text_of = page.text
    normalized = [" ".join(text_of[line.start : line.end].split()) for line in page.lines]
    groups: list[list[Any]] = []
    key: tuple[int, ...] | None = None
    for word in words:
        word_key = word[5:7]  # (block, line)
        if word_key != key:
            groups.append([])
            key = word_key
        groups[-1].append(word)
    out: dict[int, LineGeom] = {}
    cursor = 0
    for group in groups:
        text = " ".join([w[4] for w in group])
        for i in range(cursor, min(len(normalized), cursor + 40)):
            if normalized[i] == text or (text and text in normalized[i]):
                geom = out.get(i)
                entries: list[Word] = [w[:5] for w in group]  # (x0, y0, x1, y1, text)
                if geom is None:
                    out[i] = LineGeom(i, entries)
                else:
                    geom.words.extend(entries)
                cursor = i if normalized[i] != text else i + 1
                break
    return out


def _edge_candidates(
    page: PageText, geometry: dict[int, LineGeom], height: float
) -> list[tuple[int, str, str]]:
    """(line index, side, normalized text) of lines that could be a header or footer: among
    the first and last lines of the text, those printed in the top or bottom zone."""
    non_empty = [i for i in range(len(page.lines)) if page.line_text(i).strip()]
    picks = set(non_empty[:EDGE_LINES]) | set(non_empty[-EDGE_LINES:])
    out: list[tuple[int, str, str]] = []
    for index in sorted(picks):
        geom = geometry.get(index)
        if geom is None:
            continue
        if geom.y1 <= EDGE_ZONE * height:
            side = "top"
        elif geom.y0 >= (1 - EDGE_ZONE) * height:
            side = "bottom"
        else:
            continue
        text = _DIGITS.sub("#", " ".join(page.line_text(index).split()))
        out.append((index, side, text))
    return out


def _mark_boilerplate(pages: list[PageText], candidates: list[list[tuple[int, str, str]]]) -> None:
    counts: Counter[tuple[str, str]] = Counter()
    for page_candidates in candidates:
        counts.update({(side, text) for _, side, text in page_candidates})
    threshold = max(2, min(3, len(pages)), len(pages) // 8)  # running headers may skip pages
    for page, page_candidates in zip(pages, candidates, strict=True):
        marked = {
            index
            for index, side, text in page_candidates
            if counts[(side, text)] >= threshold
            or _PAGE_OF.search(text.replace("#", "1"))
            or (text == "#" and counts[(side, text)] >= 2)
        }
        page.boilerplate = frozenset(marked)


def read_pdf(path: Path, patterns: MetadataPatterns, *, ocr: bool = True) -> ParsedDocument:
    if path.stat().st_size == 0:
        raise ParseError("empty file (0 bytes)")
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except (pymupdf.FileDataError, RuntimeError, ValueError) as exc:
        raise ParseError(f"not a readable PDF: {exc}") from exc
    with doc:
        if doc.needs_pass and not doc.authenticate(""):
            raise ParseError("encrypted PDF: a password is required to open it")
        if doc.page_count == 0:
            raise ParseError("PDF has no pages")
        use_ocr = ocr and tesseract_available()
        pages: list[PageText] = []
        geometries: list[dict[int, LineGeom]] = []
        candidates: list[list[tuple[int, str, str]]] = []
        try:
            for pdf_page in doc:
                page, geometry = _read_page(pdf_page, use_ocr)
                pages.append(page)
                geometries.append(geometry)
                candidates.append(_edge_candidates(page, geometry, pdf_page.rect.height))
            _mark_boilerplate(pages, candidates)
            previous_table: Table | None = None
            for page_index, (page, geometry) in enumerate(zip(pages, geometries, strict=True)):
                body = [g for i, g in sorted(geometry.items()) if i not in page.boilerplate]
                if not could_hold_table(body):
                    previous_table = None if page.text.strip() else previous_table
                    continue
                page.tables = find_tables(page, body, partial(_page_rules, doc, page_index))
                if page.tables:
                    first_body = min((g.index for g in body), default=0)
                    link_continued_table(previous_table, page.tables[0], first_body)
                    previous_table = page.tables[-1]
                else:
                    previous_table = None
        except RuntimeError as exc:  # MuPDF errors on damaged page content
            raise ParseError(f"damaged PDF content: {exc}") from exc
        title = str((doc.metadata or {}).get("title") or "")
        header = read_header(pages[0], patterns) if pages else {}
    return ParsedDocument("pdf", pages, header, embedded_title=title)


def _page_rules(doc: pymupdf.Document, page_index: int) -> Sequence[Rule]:
    """The page's horizontal ruling lines (loads the page again: only a few pages need them)."""
    return horizontal_rules(doc[page_index].get_cdrawings())


def _read_page(pdf_page: pymupdf.Page, use_ocr: bool) -> tuple[PageText, dict[int, LineGeom]]:
    textpage = pdf_page.get_textpage()
    text = textpage.extractText()
    number = pdf_page.number + 1 if pdf_page.number is not None else 0
    ocr_done = False
    if not text.strip():
        has_content = bool(pdf_page.get_images()) or bool(pdf_page.get_cdrawings())
        if not has_content:
            return PageText(number, text, split_lines(text), blank=True), {}
        if not use_ocr:
            return PageText(number, text, split_lines(text), no_text_layer=True), {}
        textpage = pdf_page.get_textpage_ocr(dpi=OCR_DPI, full=True)
        text = textpage.extractText()
        ocr_done = True
        if not text.strip():
            return PageText(number, text, split_lines(text), no_text_layer=True, ocr=True), {}
    page = PageText(number, text, split_lines(text), ocr=ocr_done)
    return page, _map_words(page, textpage.extractWORDS())


def read_header(page: PageText, patterns: MetadataPatterns) -> dict[str, str]:
    """The leading "Label: value" lines of the first page, label lower-cased."""
    header_line = patterns.compiled("header_line")
    header: dict[str, str] = {}
    misses = 0
    for index in range(min(len(page.lines), 40)):
        if index in page.boilerplate:
            continue
        line = page.line_text(index)
        if not line.strip():
            continue
        match = header_line.match(line)
        if match and match.group(1).strip().lower() in patterns.labels:
            header.setdefault(match.group(1).strip().lower(), match.group(2).strip())
            misses = 0
        elif header:
            misses += 1
            if misses > 1:
                break
        elif index > 8:
            break
    return header
