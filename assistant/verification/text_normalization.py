"""Text normalisation for quote matching that remembers where every character came from.

PDF-extracted chunk text and a model-written quote differ in ways that carry no meaning:
ligatures ("ﬁ"), curly vs straight quotes, en/em dashes, words hyphenated across a line
break, runs of whitespace, letter case. `normalize_with_offsets` removes those differences and
returns, for every character of the normalised text, the offset of the original character it
came from, so a match found in normalised text can be highlighted in the original.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

_QUOTES = {
    "\u2018": "'",  # left single quotation mark
    "\u2019": "'",  # right single quotation mark / apostrophe
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",  # prime
    "\u00b4": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u201f": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
}
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")
_SOFT_HYPHEN = "\u00ad"
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
# A hyphen at the end of a line followed by a lower-case letter: a word split by the layout.
_LINE_BREAK_HYPHEN = re.compile(r"[-\u2010\u2011\u00ad][ \t]*\r?\n[ \t]*(?=[a-z])")


@dataclass(frozen=True)
class NormalizedText:
    text: str
    # offsets[i] is the index in the original text of the character that produced text[i].
    offsets: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map the half-open span [start, end) of the normalised text back to the original."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span [{start}, {end}) outside normalised text of {len(self.text)}")
        return self.offsets[start], self.offsets[end - 1] + 1


def _fold_char(char: str) -> str:
    if char in _QUOTES:
        return _QUOTES[char]
    if char in _DASHES:
        return "-"
    if char in _ZERO_WIDTH:
        return ""
    folded = unicodedata.normalize("NFKC", char)
    return folded.casefold()


def normalize_with_offsets(text: str) -> NormalizedText:
    """Case-folded, NFKC, quote/dash-folded, line-break-dehyphenated, whitespace-collapsed text."""
    skipped: set[int] = set()
    for match in _LINE_BREAK_HYPHEN.finditer(text):
        skipped.update(range(match.start(), match.end()))

    chars: list[str] = []
    offsets: list[int] = []
    pending_space_at: int | None = None
    for index, char in enumerate(text):
        if index in skipped or char == _SOFT_HYPHEN:
            continue
        if char.isspace():
            if chars and pending_space_at is None:
                pending_space_at = index
            continue
        folded = _fold_char(char)
        if not folded:
            continue
        if pending_space_at is not None:
            chars.append(" ")
            offsets.append(pending_space_at)
            pending_space_at = None
        for piece in folded:
            if piece.isspace():
                # NFKC turns some compatibility characters into spaces; keep them single.
                if chars and chars[-1] != " ":
                    chars.append(" ")
                    offsets.append(index)
                continue
            chars.append(piece)
            offsets.append(index)
    return NormalizedText("".join(chars), tuple(offsets))


def normalize(text: str) -> str:
    return normalize_with_offsets(text).text
