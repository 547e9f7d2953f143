"""A chat answer's text split into its body and its citation lines, for display."""

from __future__ import annotations

import re

_CITE_LINE = re.compile(r"^\[(S\d+)\]\s+(.*)$")


def split_answer(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The answer body and its citation lines (`[S1] DOC rev 3 §4.2 (verified): "..."`), as
    the evidence chat responder writes them."""
    body: list[str] = []
    cites: list[tuple[str, str]] = []
    for line in text.splitlines():
        match = _CITE_LINE.match(line.strip())
        if match:
            cites.append((match.group(1), match.group(2)))
        else:
            body.append(line)
    return "\n".join(body).strip(), cites
