"""Structure-aware chunks of a parsed document.

- Numbered sections ("5 PROCEDURE", "5.3 Drying end point", or the number and the title on
  two lines as in ICH texts) give every chunk its heading path (`section_path`,
  `section_id`). A heading is accepted only where its number can follow the previous one
  (5.3 after 5.2 or 5, not "10 ppm" in running text).
- Text chunks never cross a page, so `text == page.text[char_start:char_end]` holds for every
  one of them (quotes are located exactly). A section longer than the token budget is split
  with llama-index's `SentenceSplitter`; a heading alone is merged into the text after it.
- Tables are their own chunks (markdown, header row repeated when a table is split);
  batch-record step tables give one chunk per step (rows of one step id grouped).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ingestion.model import Chunk, PageText, ParsedDocument, Table
from ingestion.patterns import MetadataPatterns
from retrieval.index_contract import ChunkKind

if TYPE_CHECKING:
    from llama_index.core.node_parser import SentenceSplitter

TokenCounter = Callable[[str], int]
_SENTENCE_END = re.compile(r"[.!?;:](?:[\"')\]]*)\s+")
_TITLE_START = re.compile(r"^[A-Z(\"']")
_NOT_A_TITLE = re.compile(
    r"\.{4,}|…|^(January|February|March|April|May|June|July|August|September|October|November"
    r"|December)\b"
)


@dataclass(frozen=True)
class ChunkingConfig:
    """Token budgets are in the embedder's word pieces (MiniLM reads 256 at most, and the
    embedded text also carries the title and heading path)."""

    text_tokens: int = 180
    overlap_tokens: int = 24
    table_tokens: int = 120  # smaller groups of rows rank better for row lookups
    max_heading_chars: int = 90
    max_heading_words: int = 12


def sentence_pieces(text: str) -> list[str]:
    """Split after sentence punctuation, keeping every character (pieces join to `text`),
    so chunks cut from them stay verbatim substrings."""
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        pieces.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def make_splitter(config: ChunkingConfig, count: TokenCounter) -> SentenceSplitter:
    from llama_index.core.node_parser import SentenceSplitter  # heavy: import on first use

    return SentenceSplitter(
        chunk_size=config.text_tokens,
        chunk_overlap=config.overlap_tokens,
        tokenizer=lambda text: range(count(text)),
        chunking_tokenizer_fn=sentence_pieces,
        include_metadata=False,
        include_prev_next_rel=False,
    )


@dataclass
class _Run:
    page: PageText
    first: int  # line indexes, inclusive
    last: int
    has_body: bool


@dataclass
class _Sections:
    """The heading stack while walking a document."""

    patterns: MetadataPatterns
    config: ChunkingConfig
    stack: list[tuple[tuple[int, ...], str, str | None]] = field(default_factory=list)

    @property
    def path(self) -> list[str]:
        return [label for _, label, _ in self.stack]

    @property
    def section_id(self) -> str | None:
        return self.stack[-1][2] if self.stack else None

    def plausible(self, number: tuple[int, ...]) -> bool:
        if not self.stack:
            return len(number) <= 2 and number[0] <= 2
        top = self.stack[-1][0]
        if number[: len(top)] == top and len(number) == len(top) + 1 and number[-1] <= 3:
            return True  # first child
        depth = len(number)
        if depth > len(top):
            return False
        gap = 6 if depth == 1 else 4  # optional sections may be left out
        return (
            number[: depth - 1] == top[: depth - 1]
            and top[depth - 1] < number[-1] <= top[depth - 1] + gap
        )

    def enter(self, number: tuple[int, ...], label: str) -> None:
        while self.stack and len(self.stack[-1][0]) >= len(number):
            self.stack.pop()
        self.stack.append((number, label, ".".join(str(n) for n in number)))

    def enter_level(self, level: int, label: str, section_id: str | None) -> None:
        """A heading known by its level (DOCX styles, markdown #), numbered or not."""
        while self.stack and len(self.stack[-1][0]) >= level:
            self.stack.pop()
        self.stack.append((tuple([0] * level), label, section_id))

    def title_like(self, text: str) -> bool:
        return (
            bool(_TITLE_START.match(text))
            and len(text) <= self.config.max_heading_chars
            and len(text.split()) <= self.config.max_heading_words
            and any(c.isalpha() for c in text)
            and not text.rstrip().endswith((",", ";"))
            and not _NOT_A_TITLE.search(text)
        )


def _number(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


class DocumentChunker:
    def __init__(
        self, patterns: MetadataPatterns, config: ChunkingConfig, count: TokenCounter
    ) -> None:
        self.patterns = patterns
        self.config = config
        self.count = count
        self.splitter = make_splitter(config, count)
        self._heading = patterns.compiled("section_heading")
        self._number_only = patterns.compiled("section_number_only")

    # -- headings ---------------------------------------------------------------------------

    def _next_text_line(self, page: PageText, index: int, skip: set[int]) -> int | None:
        for j in range(index + 1, min(index + 3, len(page.lines))):
            if j in skip:
                return None
            if page.line_text(j).strip():
                return j
        return None

    def _heading_at(
        self, page: PageText, index: int, sections: _Sections, skip: set[int]
    ) -> tuple[int, str] | None:
        """(last line of the heading, label) if a heading starts at `index`."""
        text = page.line_text(index).strip()
        level = page.headings.get(index)
        if level is not None:
            label = text.lstrip("#").strip()
            match = self._heading.match(label)
            sections.enter_level(level, label, match.group(1) if match else None)
            return index, label
        match = self._heading.match(text)
        if match and sections.title_like(match.group(2)):
            number = _number(match.group(1))
            if sections.plausible(number):
                sections.enter(number, f"{match.group(1)} {match.group(2).strip()}")
                return index, sections.path[-1]
            return None
        match = self._number_only.match(text)
        if match:
            j = self._next_text_line(page, index, skip)
            if j is not None:
                title = page.line_text(j).strip()
                number = _number(match.group(1))
                if sections.title_like(title) and sections.plausible(number):
                    sections.enter(number, f"{match.group(1)} {title}")
                    return j, sections.path[-1]
        return None

    # -- chunks -----------------------------------------------------------------------------

    def chunk(self, parsed: ParsedDocument) -> list[Chunk]:
        sections = _Sections(self.patterns, self.config)
        chunks: list[Chunk] = []
        for page in parsed.pages:
            chunks.extend(self._chunk_page(page, sections))
        return chunks

    def _chunk_page(self, page: PageText, sections: _Sections) -> Iterator[Chunk]:
        tables_by_first = {min(t.line_indexes): t for t in page.tables}
        table_lines = {i for t in page.tables for i in t.line_indexes}
        skip = set(page.boilerplate) | table_lines
        run: _Run | None = None
        pending: _Run | None = None  # a heading with no text yet: joined to what follows
        index = 0
        while index < len(page.lines):
            if index in tables_by_first:
                yield from self._close(run, pending, sections)
                run = pending = None
                yield from self.table_chunks(
                    tables_by_first[index], page, sections.path, sections.section_id
                )
                index += 1
                continue
            if index in skip:
                if index in page.boilerplate:
                    yield from self._close(run, pending, sections)
                    run = pending = None
                index += 1
                continue
            if not page.line_text(index).strip():
                if run is not None:
                    run.last = index
                index += 1
                continue
            path_before, id_before = sections.path, sections.section_id
            heading = self._heading_at(page, index, sections, skip)
            if heading is not None:
                end, _ = heading
                if run is not None and run.has_body:
                    yield from self._emit(run, path_before, id_before)
                elif run is not None:
                    pending = _Run(page, (pending or run).first, run.last, False)
                run = _Run(page, pending.first if pending else index, end, False)
                pending = None
                index = end + 1
                continue
            if run is None:
                run = _Run(page, index, index, True)
            run.last = index
            run.has_body = True
            index += 1
        yield from self._close(run, pending, sections)

    def _close(
        self, run: _Run | None, pending: _Run | None, sections: _Sections
    ) -> Iterator[Chunk]:
        if run is not None:
            yield from self._emit(run, sections.path, sections.section_id)
        elif pending is not None:
            yield from self._emit(pending, sections.path, sections.section_id)

    def _emit(self, run: _Run, path: list[str], section_id: str | None) -> Iterator[Chunk]:
        page = run.page
        start = page.lines[run.first].start
        end = page.lines[run.last].end
        text = page.text[start:end]
        stripped = text.strip()
        if not stripped:
            return
        start += len(text) - len(text.lstrip())
        end = start + len(stripped)
        for piece_start, piece in self._split(stripped):
            yield Chunk(
                text=piece,
                kind=ChunkKind.TEXT,
                page_start=page.number,
                page_end=page.number,
                char_start=start + piece_start,
                char_end=start + piece_start + len(piece),
                section_path=list(path),
                section_id=section_id,
            )

    def _split(self, text: str) -> list[tuple[int, str]]:
        if self.count(text) <= self.config.text_tokens:
            return [(0, text)]
        out: list[tuple[int, str]] = []
        cursor = 0
        for piece in self.splitter.split_text(text):
            position = text.find(piece, cursor)
            if position < 0:  # not verbatim (should not happen): fall back to a full search
                position = text.find(piece)
            if position < 0:
                raise AssertionError("splitter produced text that is not in the source")
            out.append((position, piece))
            cursor = position + 1
        return out

    # -- tables -----------------------------------------------------------------------------

    def _is_step_table(self, table: Table) -> bool:
        header = table.header
        if not header:
            return False
        wanted = self.patterns.step_table_header
        cells = [c.strip().lower() for c in header[0][: len(wanted)]]
        return tuple(cells) == tuple(wanted)

    def table_chunks(
        self, table: Table, page: PageText, path: list[str], section_id: str | None
    ) -> Iterator[Chunk]:
        header = table.header
        row_lines = table.row_lines or [frozenset()] * len(table.rows)
        body = list(zip(table.body, row_lines[table.header_rows :], strict=True))
        if not body:  # a header alone: keep its text as a one-row table
            body = list(zip(table.rows, row_lines, strict=True))
            header = []
        page_lines = {i: (page.lines[i].start, page.lines[i].end) for i in table.line_indexes}
        if self._is_step_table(table):
            for step_id, rows in _group_steps(body):
                yield self._table_chunk(
                    table, header, rows, path, step_id, ChunkKind.STEP, page_lines
                )
            return
        group: list[tuple[list[str], frozenset[int]]] = []
        for row in body:
            candidate = [*group, row]
            if (
                group
                and self.count(to_markdown(header, [r for r, _ in candidate]))
                > self.config.table_tokens
            ):
                yield self._table_chunk(
                    table, header, group, path, section_id, ChunkKind.TABLE, page_lines
                )
                group = [row]
            else:
                group = candidate
        if group:
            yield self._table_chunk(
                table, header, group, path, section_id, ChunkKind.TABLE, page_lines
            )

    def _table_chunk(
        self,
        table: Table,
        header: list[list[str]],
        rows: list[tuple[list[str], frozenset[int]]],
        path: list[str],
        section_id: str | None,
        kind: ChunkKind,
        page_lines: dict[int, tuple[int, int]],
    ) -> Chunk:
        lines = [i for _, line_set in rows for i in line_set if i in page_lines]
        start = min((page_lines[i][0] for i in lines), default=table.char_start)
        end = max((page_lines[i][1] for i in lines), default=table.char_end)
        return Chunk(
            text=to_markdown(header, [r for r, _ in rows]),
            kind=kind,
            page_start=table.page,
            page_end=table.page,
            char_start=start,
            char_end=end,
            section_path=list(path) if kind is ChunkKind.TABLE else [*path, f"Step {section_id}"],
            section_id=section_id,
            caption=table.caption,
        )


def _group_steps(
    rows: list[tuple[list[str], frozenset[int]]],
) -> Iterator[tuple[str, list[tuple[list[str], frozenset[int]]]]]:
    current: str | None = None
    group: list[tuple[list[str], frozenset[int]]] = []
    for row in rows:
        step = row[0][0].strip() if row[0] else ""
        if step and step != current:
            if group and current is not None:
                yield current, group
            current, group = step, []
        group.append(row)
    if group and current is not None:
        yield current, group


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(header: list[list[str]], rows: list[list[str]]) -> str:
    width = max((len(r) for r in [*header, *rows]), default=0)
    lines: list[str] = []
    for row in header[:1]:
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
        lines.append("|" + "---|" * width)
    for row in [*header[1:], *rows]:
        lines.append("| " + " | ".join(_cell(c) for c in row) + " |")
    return "\n".join(lines)
