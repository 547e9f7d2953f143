"""One document file to chunks: parse, metadata and structure-aware chunking.

This is the part of ingesting a document that needs neither the index nor the embedder, so it
can run in a worker process (`ingestion.prepare_pool`). `prepare_document` is the one code
path for both places: in the ingesting process with its own chunker, and in a worker with a
chunker built from the same settings, so both give the same chunks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.chunking import ChunkingConfig, DocumentChunker
from ingestion.metadata import extract_metadata
from ingestion.model import Chunk, DocMetadata, ParsedDocument
from ingestion.patterns import MetadataPatterns
from ingestion.pdf_parser import read_pdf
from ingestion.text_parser import read_docx, read_text_file
from ingestion.tokens import approximate_tokens
from retrieval.index_contract import DocType


@dataclass(frozen=True)
class PrepareSettings:
    """What preparing a document depends on (sent to the worker processes, so picklable)."""

    patterns: MetadataPatterns = field(default_factory=MetadataPatterns)
    chunking: ChunkingConfig = field(default_factory=ChunkingConfig)
    ocr: bool = True  # OCR pages without text when Tesseract is installed
    doc_type: DocType | None = None  # forces the type of every document
    site: str | None = None  # site of documents that name none
    force_site: bool = False  # `site` wins over any site the document names


@dataclass
class PreparedDocument:
    meta: DocMetadata
    chunks: list[Chunk]
    pages: int
    pages_without_text: list[int]  # 1-based numbers of pages with no text layer (and no OCR)
    notes: list[str]  # from the parser, e.g. "decoded as cp1252"
    parse_s: float  # seconds spent parsing + metadata, where it ran
    chunk_s: float  # seconds spent chunking, where it ran


def parse_document(path: Path, settings: PrepareSettings) -> ParsedDocument:
    """PDF, DOCX, or Markdown / text by the file's suffix (raises `ParseError`)."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return read_pdf(path, settings.patterns, ocr=settings.ocr)
    if suffix == ".docx":
        return read_docx(path, settings.patterns)
    return read_text_file(path, settings.patterns)


def prepare_document(
    path: Path, settings: PrepareSettings, chunker: DocumentChunker
) -> PreparedDocument:
    start = time.perf_counter()
    parsed = parse_document(path, settings)
    meta = extract_metadata(
        parsed, path, settings.patterns, doc_type=settings.doc_type, default_site=settings.site
    )
    if settings.force_site and settings.site:
        meta.site = settings.site
    parsed_at = time.perf_counter()
    chunks = chunker.chunk(parsed)
    return PreparedDocument(
        meta=meta,
        chunks=chunks,
        pages=len(parsed.pages),
        pages_without_text=[p.number for p in parsed.pages if p.no_text_layer],
        notes=list(parsed.notes),
        parse_s=parsed_at - start,
        chunk_s=time.perf_counter() - parsed_at,
    )


def worker_chunker(settings: PrepareSettings) -> DocumentChunker:
    """The chunker of a worker process: the settings' budgets, approximate token counts."""
    return DocumentChunker(settings.patterns, settings.chunking, approximate_tokens)


_chunkers: list[tuple[PrepareSettings, DocumentChunker]] = []  # one per worker process


def prepare_in_worker(path: Path, settings: PrepareSettings) -> PreparedDocument:
    """The job a worker process runs; its chunker is built once per settings."""
    if not _chunkers or _chunkers[0][0] != settings:
        _chunkers[:] = [(settings, worker_chunker(settings))]
    return prepare_document(path, settings, _chunkers[0][1])
