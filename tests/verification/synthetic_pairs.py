"""A small labelled claim/evidence set with a clear topic structure, for fast fitting tests."""

from __future__ import annotations

import random

from assistant.verification.support_training import LabelledPair

THEMES: dict[str, tuple[str, list[str]]] = {
    "CLEANING": (
        "The firm failed to clean and maintain equipment at appropriate intervals.",
        ["residue", "swab", "rinse", "cleaning", "equipment", "detergent", "hold", "dirty"],
    ),
    "LAB": (
        "The firm failed to establish scientifically sound laboratory test methods.",
        ["assay", "hplc", "method", "validation", "specificity", "laboratory", "test", "standard"],
    ),
    "INVESTIGATION": (
        "The firm failed to thoroughly investigate unexplained discrepancies.",
        ["root", "cause", "capa", "investigation", "deviation", "discrepancy", "oos", "batches"],
    ),
}


def synthetic_pairs(n_groups: int = 12, seed: int = 7) -> list[LabelledPair]:
    rng = random.Random(seed)
    names = sorted(THEMES)
    pairs: list[LabelledPair] = []
    for group in range(n_groups):
        for theme in names:
            words = THEMES[theme][1]
            evidence = " ".join(rng.choice(words) for _ in range(14)) + f" site {group}."
            other = rng.choice([t for t in names if t != theme])
            for claim_theme in (theme, other):
                pairs.append(
                    LabelledPair(
                        statement=THEMES[claim_theme][0],
                        evidence=evidence,
                        supported=claim_theme == theme,
                        statement_theme=claim_theme,
                        evidence_theme=theme,
                        group=f"letter-{group}",
                    )
                )
    return pairs
