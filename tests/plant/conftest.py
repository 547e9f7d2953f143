"""One generated demo corpus shared by the plant tests (generation takes a few seconds)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from evals.plant.generator import CorpusSummary, generate_corpus

SEED = 7


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> CorpusSummary:
    return generate_corpus(tmp_path_factory.mktemp("plant") / "corpus", seed=SEED)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def split_list(value: str) -> list[str]:
    return [item for item in value.split(";") if item]


@pytest.fixture(scope="session")
def deviations(corpus: CorpusSummary) -> list[dict[str, Any]]:
    """Both deviation exports as JSON-shaped records (CSV lists split on ';')."""
    records: list[dict[str, Any]] = []
    for row in read_csv(corpus.out_dir / "qms" / "deviations_2021-2023.csv"):
        records.append(
            {**row, **{k: split_list(row[k]) for k in ("equipment", "batch_ids", "capa_ids")}}
        )
    records += read_jsonl(corpus.out_dir / "qms" / "deviations_2024-2026.jsonl")
    return records


@pytest.fixture(scope="session")
def capas(corpus: CorpusSummary) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for row in read_csv(corpus.out_dir / "qms" / "capas.csv"):
        records.append({**row, **{k: split_list(row[k]) for k in ("equipment", "deviation_ids")}})
    records += read_jsonl(corpus.out_dir / "qms" / "capas.jsonl")
    return records


@pytest.fixture(scope="session")
def gold(corpus: CorpusSummary) -> list[dict[str, Any]]:
    return read_jsonl(corpus.out_dir / "scenarios" / "gold.jsonl")
