"""Realistic wording noise for QMS free text: abbreviations, shorthand and the odd typo."""

from __future__ import annotations

import random
import re

_ABBREVIATIONS = (
    ("temperature", ("temp", "T", "temp.")),
    ("Temperature", ("Temp", "T")),
    ("relative humidity", ("RH", "rel. hum.")),
    ("approximately", ("approx", "~", "aprox")),
    ("minutes", ("min", "mins")),
    ("differential pressure", ("dP", "diff. press.")),
    ("batch record", ("BR", "EBR")),
    ("operator", ("opr", "op.")),
    ("supervisor", ("sup.", "supv")),
    ("inlet air", ("inlet", "IA")),
    ("above", (">", "over")),
    ("below", ("<", "under")),
    ("Quality Assurance", ("QA",)),
    ("maintenance", ("maint.", "mtce")),
)


def abbreviate(text: str, rng: random.Random, probability: float) -> str:
    for long_form, short_forms in _ABBREVIATIONS:
        if long_form in text and rng.random() < probability:
            text = text.replace(long_form, rng.choice(short_forms))
    return text


def add_typo(text: str, rng: random.Random) -> str:
    """Swap two adjacent letters inside one longer word (never inside ids or numbers)."""
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) > 5 and w.isalpha() and w.islower()]
    if not candidates:
        return text
    i = rng.choice(candidates)
    word = words[i]
    j = rng.randrange(1, len(word) - 2)
    words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    return " ".join(words)


def operator_style(text: str, rng: random.Random) -> str:
    """Terse shop-floor text: abbreviations, sometimes lower case, sometimes a typo."""
    text = abbreviate(text, rng, 0.6)
    first = text.split(" ", 1)[0]
    if rng.random() < 0.25 and first.isalpha() and not first.isupper():
        text = text[0].lower() + text[1:]
    if rng.random() < 0.3:
        text = add_typo(text, rng)
    return re.sub(r"\s+", " ", text).strip()


def qa_style(text: str, rng: random.Random) -> str:
    """QA prose: full words, occasionally one abbreviation that QA uses too."""
    return abbreviate(text, rng, 0.1)
