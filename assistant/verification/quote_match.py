"""Is a quote span that the model says is verbatim really in the cited chunk text? Where?

Both texts are normalised (see `text_normalization`), then the quote is located by an exact
search and, failing that, by the best fuzzy alignment (rapidfuzz `partial_ratio_alignment`).
A fuzzy hit must pass two tests: character similarity of the aligned window (tolerates a
changed word or a typo) and word-order similarity (a quote that only shares words with the
chunk, in another order, fails). Quotes with an ellipsis are matched fragment by fragment, in
order. Offsets returned are in the ORIGINAL chunk text, widened to whole words, for
highlighting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Indel

from assistant.verification.text_normalization import NormalizedText, normalize_with_offsets

DEFAULT_CHAR_THRESHOLD = 0.90
DEFAULT_WORD_ORDER_THRESHOLD = 0.80
# Below this many words a fuzzy hit means little (three words can align almost anywhere):
# short quotes must be found exactly (after normalisation).
MIN_FUZZY_WORDS = 4
_ELLIPSIS = re.compile(r"\s*(?:\.\s*){3,}|\s*\[\s*\.\.\.\s*\]\s*")
_WORD = re.compile(r"\w+")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A near-verbatim quote may change a word, never a number or the polarity of the sentence.
_NEGATIONS = frozenset({"not", "no", "never", "without", "cannot", "nor", "none", "neither"})


@dataclass(frozen=True)
class QuoteMatch:
    found: bool
    score: float  # in [0, 1]: min over fragments of the character similarity of the best window
    word_order_score: float  # in [0, 1]: in-order word overlap of the quote with that window
    start: int | None  # offsets in the original chunk text (half-open), None when not located
    end: int | None
    exact: bool  # every fragment was found exactly after normalisation
    reason: str


@dataclass(frozen=True)
class _FragmentHit:
    start: int  # in normalised chunk text
    end: int
    char_score: float
    word_score: float
    exact: bool
    changes: tuple[str, ...] = ()


def _widen_to_words(text: str, start: int, end: int) -> tuple[int, int]:
    while start > 0 and text[start - 1].isalnum() and text[start].isalnum():
        start -= 1
    while end < len(text) and text[end - 1].isalnum() and text[end].isalnum():
        end += 1
    return start, end


def _word_order_similarity(quote: str, window: str) -> float:
    quote_words = _WORD.findall(quote)
    window_words = _WORD.findall(window)
    if not quote_words:
        return 0.0
    return float(Indel.normalized_similarity(quote_words, window_words))


def _meaning_changes(fragment: str, window: str) -> list[str]:
    """Numbers or negations of the quote that the located window does not share."""
    changes = [
        f"number {number} not in the cited text"
        for number in sorted(set(_NUMBER.findall(fragment)) - set(_NUMBER.findall(window)))
    ]
    quote_negations = _NEGATIONS.intersection(_WORD.findall(fragment))
    window_negations = _NEGATIONS.intersection(_WORD.findall(window))
    if quote_negations != window_negations:
        changes.append("negation differs from the cited text")
    return changes


def _locate_fragment(fragment: str, chunk: str, search_from: int) -> _FragmentHit | None:
    exact_at = chunk.find(fragment, search_from)
    if exact_at >= 0:
        return _FragmentHit(exact_at, exact_at + len(fragment), 1.0, 1.0, True)
    if len(_WORD.findall(fragment)) < MIN_FUZZY_WORDS:
        return None
    haystack = chunk[search_from:]
    if not haystack:
        return None
    alignment = fuzz.partial_ratio_alignment(fragment, haystack)
    if alignment is None:
        return None
    start, end = _widen_to_words(
        chunk, search_from + alignment.dest_start, search_from + alignment.dest_end
    )
    window = chunk[start:end]
    # Score the widened window against the whole fragment: partial_ratio's window has the
    # quote's length, which flatters a quote that is much longer than the text it aligns to.
    char_score = max(alignment.score, fuzz.ratio(fragment, window)) / 100.0
    if len(fragment) > len(haystack):
        char_score = fuzz.ratio(fragment, window) / 100.0
    word_score = _word_order_similarity(fragment, window)
    changes = tuple(_meaning_changes(fragment, window))
    return _FragmentHit(start, end, char_score, word_score, False, changes)


def _unwrap(quote: str) -> str:
    """Drop quotation marks wrapped around the whole quote."""
    quote = quote.strip()
    while len(quote) >= 2 and quote[0] == quote[-1] and quote[0] in "\"'":
        quote = quote[1:-1].strip()
    return quote


def _fragments(normalized_quote: str) -> list[str]:
    return [part.strip() for part in _ELLIPSIS.split(normalized_quote) if part.strip()]


def find_quote(
    chunk_text: str,
    quote: str,
    *,
    char_threshold: float = DEFAULT_CHAR_THRESHOLD,
    word_order_threshold: float = DEFAULT_WORD_ORDER_THRESHOLD,
) -> QuoteMatch:
    """Locate `quote` in `chunk_text`; `found` only if every fragment passes both thresholds."""
    chunk = normalize_with_offsets(chunk_text)
    fragments = _fragments(_unwrap(normalize_with_offsets(quote).text))
    if not fragments:
        return QuoteMatch(False, 0.0, 0.0, None, None, False, "empty quote")
    if not chunk.text:
        return QuoteMatch(False, 0.0, 0.0, None, None, False, "empty chunk text")

    hits: list[_FragmentHit] = []
    search_from = 0
    for fragment in fragments:
        hit = _locate_fragment(fragment, chunk.text, search_from)
        if hit is None:
            reason = (
                f"short fragment {fragment!r} not found verbatim"
                if len(_WORD.findall(fragment)) < MIN_FUZZY_WORDS
                else f"fragment {fragment!r} not found"
            )
            return QuoteMatch(False, 0.0, 0.0, None, None, False, reason)
        hits.append(hit)
        search_from = hit.end

    return _verdict(chunk, hits, char_threshold, word_order_threshold)


def _verdict(
    chunk: NormalizedText,
    hits: list[_FragmentHit],
    char_threshold: float,
    word_order_threshold: float,
) -> QuoteMatch:
    char_score = min(hit.char_score for hit in hits)
    word_score = min(hit.word_score for hit in hits)
    start, end = chunk.original_span(hits[0].start, hits[-1].end)
    exact = all(hit.exact for hit in hits)
    if exact:
        return QuoteMatch(True, 1.0, 1.0, start, end, True, "found verbatim")
    if char_score < char_threshold:
        reason = f"closest text differs too much (similarity {char_score:.2f} < {char_threshold})"
        return QuoteMatch(False, char_score, word_score, start, end, False, reason)
    if word_score < word_order_threshold:
        reason = (
            f"words present but not in the quoted order "
            f"(word order {word_score:.2f} < {word_order_threshold})"
        )
        return QuoteMatch(False, char_score, word_score, start, end, False, reason)
    changes = [change for hit in hits for change in hit.changes]
    if changes:
        return QuoteMatch(False, char_score, word_score, start, end, False, "; ".join(changes))
    return QuoteMatch(True, char_score, word_score, start, end, False, "found near-verbatim")
