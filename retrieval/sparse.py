"""Sparse lexical vectors for hybrid search.

Documents get BM25 term-frequency weights (saturated, length-normalised); the engine applies
IDF at query time (Qdrant's `Modifier.IDF`), so no corpus statistics are kept here and adding
documents never invalidates stored vectors. Queries get weight 1 per distinct term.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter

from retrieval.store.base import SparseVector

BM25_K1 = 1.2
BM25_B = 0.75
AVG_DOC_TOKENS = 120.0  # typical chunk length; a constant keeps vectors corpus-independent

_TOKEN = re.compile(r"[a-z0-9]+(?:[-./][a-z0-9]+)*")
_STOPWORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was "
    "were will with which not no".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; compound tags like `GR-201` or `5.3` are kept whole and
    also split into their parts, so `GR-201` matches `GR201`-style text via `gr` + `201`."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(text.lower()):
        token = match.group()
        parts = re.split(r"[-./]", token)
        if len(parts) > 1:
            tokens.append(token.replace("-", "").replace("/", "").replace(".", "_"))
            tokens.extend(part for part in parts if part)
        elif token not in _STOPWORDS:
            tokens.append(token)
    return tokens


def term_id(term: str) -> int:
    return zlib.crc32(term.encode()) & 0x7FFFFFFF


def _vector(weights: dict[int, float]) -> SparseVector:
    items = sorted(weights.items())
    return SparseVector(tuple(i for i, _ in items), tuple(w for _, w in items))


def document_vector(text: str) -> SparseVector:
    tokens = tokenize(text)
    counts = Counter(term_id(t) for t in tokens)
    length_norm = BM25_K1 * (1 - BM25_B + BM25_B * len(tokens) / AVG_DOC_TOKENS)
    return _vector({tid: tf * (BM25_K1 + 1) / (tf + length_norm) for tid, tf in counts.items()})


def query_vector(text: str) -> SparseVector:
    return _vector({term_id(t): 1.0 for t in tokenize(text)})
