"""Same seed -> byte-identical corpus (PDFs included); another seed -> another corpus."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from evals.plant.generator import CorpusError, CorpusSummary, generate_corpus
from tests.plant.conftest import SEED


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_gives_identical_bytes(corpus: CorpusSummary, tmp_path: Path) -> None:
    again = generate_corpus(tmp_path / "again", seed=SEED)
    first, second = _digests(corpus.out_dir), _digests(again.out_dir)
    assert first.keys() == second.keys()
    differing = [name for name in first if first[name] != second[name]]
    assert differing == []
    assert any(name.endswith(".pdf") for name in first)


def test_other_seed_gives_other_corpus(corpus: CorpusSummary, tmp_path: Path) -> None:
    other = _digests(generate_corpus(tmp_path / "other", seed=SEED + 1).out_dir)
    first = _digests(corpus.out_dir)
    for name in (
        "qms/deviations_2021-2023.csv",
        "qms/deviations_2024-2026.jsonl",
        "scenarios/gold.jsonl",
    ):
        assert first[name] != other[name]


def test_refuses_to_replace_a_folder_it_did_not_generate(tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    with pytest.raises(CorpusError):
        generate_corpus(target, seed=SEED)
    with pytest.raises(CorpusError):
        generate_corpus(target, seed=SEED, overwrite=True)
    assert (target / "notes.txt").read_text() == "keep me"
