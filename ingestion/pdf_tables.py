"""Tables found from the geometry of a page's words, ruled or not.

pymupdf's `find_tables` needs ruling lines (the ICH Q3C solvent tables have none) and costs
about a second per page in pure Python here, which alone would blow the ingestion budget
(200 pages/s). This module finds tables from word positions, which the page's text layer
gives at no extra cost: rows of text lines that break into two or more aligned segments,
columns from the white gutters shared by those rows. Horizontal ruling lines, when a table
has one per row, decide the row bands (multi-line cells); they are read (`get_cdrawings`, the
dearest call of the parse) only when a page has a candidate table with two or more columns.

Cell texts are the page's own words joined by single spaces, so every cell is findable in
the page text (modulo whitespace), which `tests/ingestion` checks.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate, pairwise
from operator import itemgetter

from ingestion.model import PageText, Table

Word = tuple[float, float, float, float, str]  # x0, y0, x1, y1, text
Rule = tuple[float, float, float]  # y, x0, x1 of a horizontal ruling line
RulesSource = Sequence[Rule] | Callable[[], Sequence[Rule]]  # the rules, or how to read them
_X0, _Y0, _X1, _Y1 = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(3)

MIN_TABLE_ROWS = 3
MIN_RULED_ROWS = 2  # a two-row table is accepted only where ruling lines frame its rows
MAX_PROSE_CELL_CHARS = 40  # a two-column "table" whose cells are longer is prose in columns
_CAPTION = re.compile(r"^\s*(table|tab\.)\s*[\dA-Z]", re.IGNORECASE)
_NUMERIC = re.compile(r"^[\s\d.,%<>=≤≥+\-–/()*]+$")


@dataclass
class LineGeom:
    """A page-text line with the words that lie on it (from the same text page)."""

    index: int  # index into PageText.lines
    words: list[Word]

    @property
    def x0(self) -> float:
        return min(w[0] for w in self.words)

    @property
    def x1(self) -> float:
        return max(w[2] for w in self.words)

    @property
    def y0(self) -> float:
        return min(w[1] for w in self.words)

    @property
    def y1(self) -> float:
        return max(w[3] for w in self.words)


@dataclass
class _Segment:
    x0: float
    x1: float
    y0: float
    y1: float
    text: str
    line: int

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass
class _Row:
    segments: list[_Segment] = field(default_factory=list)

    @property
    def y0(self) -> float:
        return min(s.y0 for s in self.segments)

    @property
    def y1(self) -> float:
        return max(s.y1 for s in self.segments)

    @property
    def yc(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def x0(self) -> float:
        return min(s.x0 for s in self.segments)

    @property
    def x1(self) -> float:
        return max(s.x1 for s in self.segments)


def _is_cell_gap(previous: Word, word: Word) -> bool:
    """A gap wide enough to separate two table cells on one baseline."""
    return word[0] - previous[2] > max(7.0, 1.1 * max(1.0, word[3] - word[1]))


def _segments(line: LineGeom) -> list[_Segment]:
    """Split a text line at wide gaps: table cells that share a baseline."""
    words = sorted(line.words, key=_X0)
    out: list[_Segment] = []
    start = 0
    for i in range(1, len(words)):
        if _is_cell_gap(words[i - 1], words[i]):
            out.append(_segment_of(words[start:i], line.index))
            start = i
    if words:
        out.append(_segment_of(words[start:], line.index))
    return out


def _has_cell_gap(line: LineGeom) -> bool:
    """`len(_segments(line)) >= 2`, without building the segments. (Every line of every page
    goes through this; most word gaps are far below 7 pt, so that test comes first.)"""
    words = sorted(line.words, key=_X0)
    for previous, word in pairwise(words):
        if word[0] - previous[2] > 7.0 and _is_cell_gap(previous, word):
            return True
    return False


def _segment_of(words: list[Word], line: int) -> _Segment:
    return _Segment(
        x0=words[0][0],  # sorted by x0
        x1=max(map(_X1, words)),
        y0=min(map(_Y0, words)),
        y1=max(map(_Y1, words)),
        text=" ".join(w[4] for w in words),
        line=line,
    )


def _visual_rows(segments: list[_Segment]) -> list[_Row]:
    rows: list[_Row] = []
    for seg in sorted(segments, key=lambda s: (s.yc, s.x0)):
        if rows:
            row = rows[-1]
            tolerance = 0.45 * min(seg.y1 - seg.y0, row.y1 - row.y0)
            if abs(seg.yc - row.yc) <= max(tolerance, 1.0):
                row.segments.append(seg)
                continue
        rows.append(_Row([seg]))
    for row in rows:
        row.segments.sort(key=lambda s: s.x0)
    return rows


def _columns(rows: Sequence[_Row]) -> list[tuple[float, float]]:
    """Column spans: x ranges covered by text, separated by gutters that (nearly) no row
    crosses. A header cell spanning two columns in one row does not close the gutter."""
    left = int(min(r.x0 for r in rows))
    right = int(max(r.x1 for r in rows)) + 1
    steps = [0] * (right - left + 2)  # +1 where a segment starts, -1 after it ends
    for row in rows:
        for seg in row.segments:
            first, last = int(seg.x0) - left, int(seg.x1) - left
            if last >= first:
                steps[first] += 1
                steps[last + 1] -= 1
    coverage = list(accumulate(steps[:-1]))  # rows covering each x
    allowed = len(rows) // 8
    spans: list[tuple[float, float]] = []
    start: int | None = None
    gap = 0
    for x, covered in enumerate(coverage):
        if covered > allowed:
            if start is None:
                start = x
            elif gap >= 3:
                spans.append((start + left, x - gap + left))
                start = x
            gap = 0
        elif start is not None:
            gap += 1
    if start is not None:
        spans.append((start + left, len(coverage) - 1 - gap + left))
    return spans


def _column_of(seg: _Segment, columns: list[tuple[float, float]]) -> int:
    best, best_overlap = 0, -1.0
    for i, (c0, c1) in enumerate(columns):
        overlap = min(seg.x1, c1) - max(seg.x0, c0)
        if overlap > best_overlap:
            best, best_overlap = i, overlap
    return best


def _is_anchor(row: _Row) -> bool:
    return len(row.segments) >= 2


def _candidate_runs(rows: list[_Row], content_width: float) -> list[tuple[int, int]]:
    """Index ranges [first, last] of rows that look like one table."""
    heights = [r.y1 - r.y0 for r in rows]
    line_height = statistics.median(heights) if heights else 10.0
    runs: list[tuple[int, int]] = []
    i = 0
    while i < len(rows):
        if not _is_anchor(rows[i]):
            i += 1
            continue
        first = last = i
        anchors = 1
        j = i + 1
        while j < len(rows):
            row = rows[j]
            if row.y0 - rows[j - 1].y1 > 3.0 * line_height:
                break
            if _is_anchor(row):
                last = j
                anchors += 1
            elif row.x1 - row.x0 > 0.6 * content_width or j - last > 3:
                break
            j += 1
        if anchors >= MIN_RULED_ROWS:
            runs.append((first, last))
        i = last + 1
    return runs


def _cells(
    rows: Sequence[_Row], columns: list[tuple[float, float]]
) -> tuple[list[list[str]], list[frozenset[int]]]:
    table: list[list[str]] = []
    lines: list[set[int]] = []
    for row in rows:
        cells = [""] * len(columns)
        for seg in row.segments:
            col = _column_of(seg, columns)
            cells[col] = f"{cells[col]} {seg.text}".strip()
        row_lines = {seg.line for seg in row.segments}
        # A wrapped cell: its continuation line has nothing in the first column.
        if table and not cells[0] and (not _is_anchor(row) or _continues_row(cells, table[-1])):
            previous = table[-1]
            for col, text in enumerate(cells):
                if text:
                    previous[col] = f"{previous[col]} {text}".strip()
            lines[-1] |= row_lines
            continue
        table.append(cells)
        lines.append(row_lines)
    return table, [frozenset(x) for x in lines]


def _continues_row(cells: list[str], previous: list[str]) -> bool:
    """A multi-segment line with an empty first column continues the previous row when it
    only fills columns the previous row already has (wrapped cells of several columns)."""
    return all(not text or previous[col] for col, text in enumerate(cells))


def _band_rows(rows: list[_Row], rules: list[float]) -> list[_Row]:
    """Merge visual rows that fall between the same two ruling lines."""
    merged: list[_Row] = []
    band_of_last: int | None = None
    for row in rows:
        band = sum(1 for y in rules if y < row.yc)
        if merged and band == band_of_last:
            merged[-1].segments.extend(row.segments)
        else:
            merged.append(_Row(list(row.segments)))
        band_of_last = band
    return merged


def _looks_like_prose(cells: list[list[str]]) -> bool:
    columns = len(cells[0]) if cells else 0
    if columns > 2:
        return False
    for col in range(columns):
        lengths = [len(row[col]) for row in cells if row[col]]
        if lengths and statistics.median(lengths) > MAX_PROSE_CELL_CHARS:
            return True
    return False


def _header_rows(cells: list[list[str]]) -> int:
    first = [c for c in cells[0] if c]
    if not first or sum(1 for c in first if _NUMERIC.match(c)) * 2 >= len(first):
        return 0
    return 1


def horizontal_rules(drawings: Sequence[dict[str, object]]) -> list[Rule]:
    """(y, x0, x1) of horizontal lines and thin rectangles in pymupdf `get_cdrawings()`."""
    rules: list[Rule] = []
    for drawing in drawings:
        items = drawing.get("items")
        if not isinstance(items, list | tuple):
            continue
        for item in items:
            kind = item[0]
            if kind == "l":
                (ax, ay), (bx, by) = item[1], item[2]
                if abs(ay - by) < 1.0 and abs(ax - bx) > 5:
                    rules.append((ay, min(ax, bx), max(ax, bx)))
            elif kind == "re":
                x0, y0, x1, y1 = item[1]
                if abs(y1 - y0) < 3.0 and abs(x1 - x0) > 5:
                    rules.append(((y0 + y1) / 2, min(x0, x1), max(x0, x1)))
                elif abs(x1 - x0) > 5 and abs(y1 - y0) > 5:  # a cell box: top and bottom
                    rules.append((min(y0, y1), min(x0, x1), max(x0, x1)))
                    rules.append((max(y0, y1), min(x0, x1), max(x0, x1)))
    return rules


def _rules_for(rows: list[_Row], rules: Sequence[Rule]) -> list[float]:
    x0, x1 = min(r.x0 for r in rows), max(r.x1 for r in rows)
    top, bottom = rows[0].y0 - 2, rows[-1].y1 + 2
    ys: list[float] = []
    for y, r0, r1 in rules:
        spans_table = min(x1, r1) - max(x0, r0) > 0.5 * (x1 - x0)
        if top <= y <= bottom and spans_table and all(abs(y - other) > 1.5 for other in ys):
            ys.append(y)
    return sorted(ys)


def find_tables(
    page: PageText, geometry: list[LineGeom], rules: RulesSource | None = None
) -> list[Table]:
    """Tables on one page. `geometry`: its non-boilerplate lines with words. `rules`: its
    horizontal ruling lines, or a function that reads them (called at most once, and only
    when a candidate table has two or more columns), or None: no ruling lines."""
    segments = [seg for line in geometry for seg in _segments(line)]
    if not segments:
        return []
    read_rules: list[Sequence[Rule]] = []

    def page_rules() -> Sequence[Rule]:
        if not read_rules:
            read_rules.append((rules() if callable(rules) else rules) or [])
        return read_rules[0]

    rows = _visual_rows(segments)
    content_width = max(s.x1 for s in segments) - min(s.x0 for s in segments)
    tables: list[Table] = []
    for first, last in _candidate_runs(rows, content_width):
        run = rows[first : last + 1]
        anchors = [r for r in run if _is_anchor(r)]
        columns = _columns(anchors)
        if len(columns) < 2:
            continue
        found = page_rules() if rules is not None else []
        row_rules = _rules_for(run, found) if found else []
        if len(anchors) < MIN_TABLE_ROWS and len(row_rules) < len(anchors) + 1:
            continue
        if len(row_rules) >= len(anchors) // 2 + 2:
            run = _band_rows(run, row_rules)
        cells, row_lines = _cells(run, columns)
        if len(cells) < 2 or _looks_like_prose(cells):
            continue
        line_indexes = frozenset(seg.line for row in rows[first : last + 1] for seg in row.segments)
        spans = [page.lines[i] for i in line_indexes]
        caption = _caption(rows, first, page)
        tables.append(
            Table(
                page=page.number,
                rows=cells,
                header_rows=_header_rows(cells),
                char_start=min(s.start for s in spans),
                char_end=max(s.end for s in spans),
                line_indexes=line_indexes,
                row_lines=row_lines,
                caption=caption,
            )
        )
    return tables


def _caption(rows: list[_Row], first: int, page: PageText) -> str:
    for row in reversed(rows[max(0, first - 2) : first]):
        text = " ".join(s.text for s in row.segments)
        if _CAPTION.match(text):
            return text
    return ""


def could_hold_table(geometry: list[LineGeom]) -> bool:
    """Cheap pre-check: at least MIN_TABLE_ROWS lines break into separate cells."""
    split_lines = 0
    for line in geometry:
        if len(line.words) >= 2 and _has_cell_gap(line):
            split_lines += 1
            if split_lines >= MIN_RULED_ROWS:
                return True
    # Tables whose cells are separate text lines: several short lines sharing a baseline.
    baselines: dict[int, int] = {}
    for line in geometry:
        key = round(line.y1)
        baselines[key] = baselines.get(key, 0) + 1
    return sum(1 for n in baselines.values() if n >= 2) >= MIN_RULED_ROWS


def link_continued(previous: Table | None, table: Table, first_body_line: int) -> None:
    """A table at the top of a page continues the previous page's last table when the
    column counts agree: unless it repeats that header itself, it carries the header (and
    the caption) over."""
    if previous is None or min(table.line_indexes) > first_body_line + 2:
        return
    header = previous.header
    if not header or len(header[0]) != len(table.rows[0]):
        return
    table.caption = table.caption or previous.caption
    if table.rows[0] != header[0]:
        table.carried_header = [list(r) for r in header]
        table.header_rows = 0
