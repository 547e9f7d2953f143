"""Cheap, offline signals of whether evidence text supports a statement.

Each (statement, evidence) pair gets a few numbers, all in [0, 1] or [-1, 1]:
- `keyword_coverage`: share of the statement's content words (5-letter stems, stop words and
  regulatory citations removed) that occur in the evidence. Also the eval's baseline.
- `cos_full`: MiniLM cosine between the statement and the whole evidence (MiniLM reads only the
  first 256 word pieces, so long evidence is seen partly).
- `cos_max_sentence`: best MiniLM cosine between the statement and one evidence sentence.
- `topic_agreement`: probability that statement and evidence are about the same GMP requirement
  area (see `support_model.TopicModel`); needs a fitted topic model.
Embeddings are computed once per distinct text for a whole batch of pairs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from retrieval.embedding import Embedder

FEATURE_NAMES: tuple[str, ...] = (
    "topic_agreement",
    "cos_full",
    "cos_max_sentence",
    "keyword_coverage",
)

_WORD = re.compile(r"[a-z0-9]+")
# English function words; words of two letters or fewer are dropped anyway.
STOP_WORDS = frozenset(
    """
    about above after again against all also although among and any are aren't because been
    before being below between both but can cannot could did does doing down during each either
    else etc even ever every few for from further had has have having her here hers herself him
    himself his how however into its itself just least less let may might more most much must
    neither nor not now off once only onto other otherwise our ours ourselves out over own per
    rather same shall she should since some still such than that the their theirs them
    themselves then there thereby therefore these they this those though through thus too under
    until upon very via was were what whatever when whenever where whereas whether which while
    who whom whose why will with within without would yet you yours yourself yourselves
    """.split()
)
# "(21 CFR 211.22(a))", "21 CFR 211.84(d)(1) and 211.84(d)(2)": the requirement a statement
# invokes, not a fact the evidence should repeat.
_REGULATORY_CITATION = re.compile(r"\(?\b\d+\s+CFR\b[^)]*(?:\([^)]*\)[^)]*)*\)?", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"(?<=[.;:!?])\s+(?=[A-Z(\[\"'“‘0-9•-])|\n\s*\n")
_MIN_SENTENCE_CHARS = 20


def strip_regulatory_citations(text: str) -> str:
    return _REGULATORY_CITATION.sub(" ", text)


def content_stems(text: str) -> set[str]:
    return {
        word[:5] for word in _WORD.findall(text.lower()) if len(word) > 2 and word not in STOP_WORDS
    }


def keyword_coverage(statement: str, evidence: str) -> float:
    """Share of the statement's content stems found in the evidence (0 when it has none)."""
    wanted = content_stems(strip_regulatory_citations(statement))
    if not wanted:
        return 0.0
    return len(wanted & content_stems(evidence)) / len(wanted)


def split_sentences(text: str) -> list[str]:
    """Sentences of the evidence; very short pieces are merged into the previous one."""
    sentences: list[str] = []
    for piece in _SENTENCE_BREAK.split(text):
        piece = piece.strip()
        if not piece:
            continue
        if sentences and len(piece) < _MIN_SENTENCE_CHARS:
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences or [text.strip()]


def join_evidence(evidence: Sequence[str]) -> str:
    return "\n\n".join(text.strip() for text in evidence if text.strip())


@dataclass(frozen=True)
class PairEmbeddings:
    """Embeddings of a batch of pairs: statements, joined evidence, evidence sentences."""

    statements: NDArray[np.float32]
    evidence: NDArray[np.float32]
    sentence_similarity_max: NDArray[np.float32]


def embed_pairs(
    embedder: Embedder, statements: Sequence[str], evidence: Sequence[str]
) -> PairEmbeddings:
    """Embed every distinct text once; `evidence[i]` is the joined evidence of pair i."""
    if len(statements) != len(evidence):
        raise ValueError(f"{len(statements)} statements but {len(evidence)} evidence texts")
    sentences_per_pair = [split_sentences(text) for text in evidence]
    distinct = sorted(
        set(statements) | set(evidence) | {s for group in sentences_per_pair for s in group}
    )
    if not distinct:
        empty = np.zeros((0, embedder.dim), dtype=np.float32)
        return PairEmbeddings(empty, empty, np.zeros(0, dtype=np.float32))
    row_of = {text: row for row, text in enumerate(distinct)}
    vectors = embedder.embed(distinct)
    statement_vectors = vectors[[row_of[text] for text in statements]]
    evidence_vectors = vectors[[row_of[text] for text in evidence]]
    best = np.array(
        [
            float(np.max(vectors[[row_of[s] for s in group]] @ statement_vectors[i]))
            for i, group in enumerate(sentences_per_pair)
        ],
        dtype=np.float32,
    )
    return PairEmbeddings(statement_vectors, evidence_vectors, best)


def feature_columns(
    topic_agreement: NDArray[np.float64], embeddings: PairEmbeddings, keyword: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The feature matrix, columns in `FEATURE_NAMES` order, rows aligned with `embeddings`."""
    cos_full = np.einsum("ij,ij->i", embeddings.statements, embeddings.evidence)
    return np.column_stack(
        [topic_agreement, cos_full, embeddings.sentence_similarity_max, keyword]
    ).astype(np.float64)


def subset(embeddings: PairEmbeddings, rows: NDArray[np.int_]) -> PairEmbeddings:
    return PairEmbeddings(
        embeddings.statements[rows],
        embeddings.evidence[rows],
        embeddings.sentence_similarity_max[rows],
    )
