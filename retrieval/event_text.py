"""The parts of an event text that say what went wrong, apart from what it went wrong with.

Two small text rules shared by the similar-event finder and the failure-mode model:

- A query text may carry a product description as a labelled segment ("... | Product: ...",
  or the "Product: PRD-0042" sentence `EventQuery.from_payload` writes). Product text says
  which material was affected, not how it failed: it can swamp the problem statement in the
  dense embedding and in the keyword half, so the finder embeds and classifies the problem
  statement and keeps the product text at a low keyword weight.
- A historical record's title often starts with the category a person filed it under
  ("Failed Dissolution Specifications: ..."). A new event arrives without that heading, so
  the failure-mode model learns from the text after it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from retrieval.index_contract import Payload

# A labelled product segment: after " | ", a line break or a sentence end, up to the next one.
_PRODUCT_SEGMENT = re.compile(
    r"(?:^|\s*\|\s*|\n|(?<=[.;])\s+)(?:product(?:s| name| description)?)\s*:\s*(?P<value>[^|\n]*)",
    re.IGNORECASE,
)
# A leading heading: a short phrase (at most HEADING_MAX_WORDS words) ended by ":", ";" or " - ".
_HEADING = re.compile(r"^(?P<head>[^:;\n]{3,80}?)\s*(?:[:;]| - )\s*(?P<rest>\S.*)$", re.DOTALL)
HEADING_MAX_WORDS = 8


def split_product_text(text: str) -> tuple[str, str]:
    """(problem text, product text) of an event text; the product text is "" when the text
    has no labelled product segment, and the problem text falls back to the whole text when
    nothing else is left."""
    products = [m.group("value").strip() for m in _PRODUCT_SEGMENT.finditer(text)]
    if not products:
        return text.strip(), ""
    problem = _PRODUCT_SEGMENT.sub(" ", text)
    problem = re.sub(r"\s+", " ", problem).strip(" |.;")
    product = "; ".join(p for p in products if p)
    return (problem or text.strip()), product


def strip_headings(text: str) -> str:
    """The text after its leading category headings ("Labeling: Label Mix-Up: X" -> "X");
    the text itself when it is only a heading or has none."""
    current = text.strip()
    while True:
        match = _HEADING.match(current)
        if match is None or len(match.group("head").split()) > HEADING_MAX_WORDS:
            return current
        current = match.group("rest").strip()


def record_event_texts(payload: Mapping[str, Any]) -> list[str]:
    """What a historical record says happened, as a new event would word it: its title and
    description (QMS records) with headings stripped, then the same with the headings kept
    when they differ (a heading can be part of the wording); else its chunk text."""
    record = payload.get(Payload.RECORD)
    if isinstance(record, Mapping):
        fields = [
            str(record[name]).strip()
            for name in ("title", "description", "problem")
            if isinstance(record.get(name), str) and str(record[name]).strip()
        ]
        if fields:
            stripped = ". ".join(dict.fromkeys(strip_headings(f) for f in fields))
            return list(dict.fromkeys([stripped, ". ".join(dict.fromkeys(fields))]))
    text = str(payload.get(Payload.TEXT) or "").strip()
    return [text] if text else []
