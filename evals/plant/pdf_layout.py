"""A small, deterministic PDF page-layout writer on top of pymupdf (base-14 fonts only).

Everything the demo corpus renders (SOPs, batch records, CAPA forms) goes through `PdfBuilder`:
"Label: value" header lines, numbered headings, wrapped paragraphs and ruled tables whose cell
borders are real vector lines, so `page.find_tables()` finds them. Output bytes depend only on
the content: fixed metadata dates, no fresh /ID, no timestamps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pymupdf

PAGE_WIDTH = 595.0  # A4 portrait, points
PAGE_HEIGHT = 842.0
MARGIN_X = 50.0
MARGIN_TOP = 50.0
MARGIN_BOTTOM = 60.0
FIXED_PDF_DATE = "D:20261101000000Z"

BODY_FONT = "helv"
BOLD_FONT = "hebo"
SCRIPT_FONT = "tiit"  # Times-Italic: stands in for handwritten operator comments

_CELL_PAD = 2.5


@dataclass(frozen=True)
class TableStyle:
    font_size: float = 7.5
    header_font: str = BOLD_FONT
    body_font: str = BODY_FONT


@cache
def _font(name: str) -> pymupdf.Font:
    return pymupdf.Font(name)


@cache
def _advance(font: str, char: str) -> float:
    return float(_font(font).glyph_advance(ord(char)))


def text_width(text: str, font: str, size: float) -> float:
    """Width in points (pymupdf's own measuring call is ~100x slower per string)."""
    return sum(_advance(font, c) for c in text) * size


def wrap_text(text: str, width: float, font: str, size: float) -> list[str]:
    """Greedy word wrap by measured glyph width; words longer than a line are hard-split."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        current = ""
        for word in paragraph.split(" "):
            candidate = word if not current else f"{current} {word}"
            if text_width(candidate, font, size) <= width:
                current = candidate
                continue
            if current:
                lines.append(current)
            while text_width(word, font, size) > width:
                cut = len(word) - 1
                while cut > 1 and text_width(word[:cut], font, size) > width:
                    cut -= 1
                lines.append(word[:cut])
                word = word[cut:]
            current = word
        lines.append(current)
    return lines


class PdfBuilder:
    """Flows content top to bottom over as many A4 pages as needed."""

    def __init__(self, footer_label: str) -> None:
        self._doc = pymupdf.open()
        self._footer_label = footer_label
        self._page: pymupdf.Page = self._doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
        self._shape = self._page.new_shape()  # one content stream per page: much faster
        self._y = MARGIN_TOP

    @property
    def content_width(self) -> float:
        return PAGE_WIDTH - 2 * MARGIN_X

    def _new_page(self) -> None:
        self._shape.commit()
        self._page = self._doc.new_page(width=PAGE_WIDTH, height=PAGE_HEIGHT)
        self._shape = self._page.new_shape()
        self._y = MARGIN_TOP

    def _ensure_room(self, height: float) -> None:
        if self._y + height > PAGE_HEIGHT - MARGIN_BOTTOM:
            self._new_page()

    def space(self, points: float) -> None:
        self._y += points

    def text_line(self, text: str, font: str = BODY_FONT, size: float = 10.0) -> None:
        self._ensure_room(size * 1.4)
        self._y += size
        self._shape.insert_text((MARGIN_X, self._y), text, fontname=font, fontsize=size)
        self._y += size * 0.45

    def title(self, text: str) -> None:
        self.text_line(text, font=BOLD_FONT, size=13.0)
        self.space(4)

    def header_block(self, fields: Sequence[tuple[str, str]]) -> None:
        """One `Label: value` line per field (the canonical header the parsers read)."""
        for label, value in fields:
            for line in wrap_text(f"{label}: {value}", self.content_width, BODY_FONT, 10.0):
                self.text_line(line, size=10.0)
        self.space(6)

    def heading(self, text: str, level: int = 1) -> None:
        size = {1: 11.5, 2: 10.0}.get(level, 9.5)
        self._ensure_room(size * 4)  # keep a heading with the first lines below it
        self.space(5 if level == 1 else 3)
        self.text_line(text, font=BOLD_FONT, size=size)

    def paragraph(
        self, text: str, font: str = BODY_FONT, size: float = 9.5, indent: float = 0.0
    ) -> None:
        for line in wrap_text(text, self.content_width - indent, font, size):
            self._ensure_room(size * 1.4)
            self._y += size
            self._shape.insert_text(
                (MARGIN_X + indent, self._y), line, fontname=font, fontsize=size
            )
            self._y += size * 0.4
        self.space(3)

    def table(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        col_fractions: Sequence[float],
        style: TableStyle | None = None,
    ) -> None:
        """Ruled table; the header row is repeated on every page the table spills onto."""
        style = style or TableStyle()
        total = sum(col_fractions)
        widths = [self.content_width * f / total for f in col_fractions]
        header_cells = self._layout_row(header, widths, style.header_font, style.font_size)
        self._ensure_room(
            header_cells[0] + self._layout_row(rows[0], widths, style.body_font, style.font_size)[0]
            if rows
            else header_cells[0]
        )
        self._draw_row(header_cells, widths, style.header_font, style.font_size)
        for row in rows:
            cells = self._layout_row(row, widths, style.body_font, style.font_size)
            if self._y + cells[0] > PAGE_HEIGHT - MARGIN_BOTTOM:
                self._new_page()
                self._draw_row(header_cells, widths, style.header_font, style.font_size)
            self._draw_row(cells, widths, style.body_font, style.font_size)
        self.space(8)

    @staticmethod
    def _layout_row(
        row: Sequence[str], widths: Sequence[float], font: str, size: float
    ) -> tuple[float, list[list[str]]]:
        wrapped = [
            wrap_text(str(cell), w - 2 * _CELL_PAD, font, size)
            for cell, w in zip(row, widths, strict=True)
        ]
        height = max(len(lines) for lines in wrapped) * size * 1.25 + 2 * _CELL_PAD + 1
        return height, wrapped

    def _draw_row(
        self, cells: tuple[float, list[list[str]]], widths: Sequence[float], font: str, size: float
    ) -> None:
        height, wrapped = cells
        x = MARGIN_X
        for lines, width in zip(wrapped, widths, strict=True):
            self._shape.draw_rect(pymupdf.Rect(x, self._y, x + width, self._y + height))
            self._shape.finish(color=(0, 0, 0), width=0.6)
            baseline = self._y + _CELL_PAD + size
            for line in lines:
                if line:
                    self._shape.insert_text(
                        (x + _CELL_PAD, baseline), line, fontname=font, fontsize=size
                    )
                baseline += size * 1.25
            x += width
        self._y += height

    def save(self, path: Path, title: str, subject: str) -> None:
        """Footer `<label> | Page N of M` on every page, fixed metadata, deterministic bytes."""
        self._shape.commit()
        count = self._doc.page_count
        for number, page in enumerate(self._doc, start=1):
            page.insert_text(
                (MARGIN_X, PAGE_HEIGHT - 30),
                f"{self._footer_label} | Page {number} of {count}",
                fontname=BODY_FONT,
                fontsize=8.0,
            )
        self._doc.set_metadata(
            {
                "title": title,
                "author": "Northfield Pharma Site A (fictional)",
                "subject": subject,
                "keywords": "devia demo plant",
                "creator": "devia demo plant generator",
                "producer": "devia demo plant generator",
                "creationDate": FIXED_PDF_DATE,
                "modDate": FIXED_PDF_DATE,
            }
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        data = self._doc.tobytes(garbage=4, deflate=True, no_new_id=True)
        self._doc.close()
        path.write_bytes(data)
