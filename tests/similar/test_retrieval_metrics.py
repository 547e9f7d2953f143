import math

import pytest

from evals.retrieval_metrics import (
    RankedQuery,
    evaluate_rankings,
    label_accuracy,
    macro_micro,
    ndcg_at,
    precision_at,
    reciprocal_rank,
    success_at,
)


def test_precision_success_rr_by_hand() -> None:
    gains = [0, 1, 0, 2, 0]
    assert precision_at(gains, 1) == 0.0
    assert precision_at(gains, 5) == pytest.approx(2 / 5)
    assert precision_at(gains, 10) == pytest.approx(2 / 10)  # missing ranks count as misses
    assert success_at(gains, 1) == 0.0
    assert success_at(gains, 2) == 1.0
    assert reciprocal_rank(gains) == pytest.approx(1 / 2)
    assert reciprocal_rank([0, 0, 0]) == 0.0


def test_ndcg_binary_and_graded_by_hand() -> None:
    gains = [0, 1, 0, 2]
    relevant = [1, 2, 2]  # three relevant docs in the corpus
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at(gains, relevant, 10, graded=False) == pytest.approx(dcg / idcg)
    gdcg = 1 / math.log2(3) + 2 / math.log2(5)
    gidcg = 2 + 2 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at(gains, relevant, 10, graded=True) == pytest.approx(gdcg / gidcg)
    assert ndcg_at([0, 0], [], 10, graded=False) == 0.0
    assert ndcg_at([1, 1], [1, 1], 10, graded=False) == pytest.approx(1.0)


def test_macro_weighs_each_class_the_same() -> None:
    per_query = [{"P@1": 1.0}, {"P@1": 1.0}, {"P@1": 1.0}, {"P@1": 0.0}]
    classes = ["A", "A", "A", "B"]
    macro, micro = macro_micro(per_query, classes)
    assert micro["P@1"] == pytest.approx(0.75)
    assert macro["P@1"] == pytest.approx(0.5)
    with pytest.raises(ValueError):
        macro_micro(per_query, classes[:2])


def test_evaluate_rankings_names_and_values() -> None:
    queries = [
        RankedQuery("A", [1, 0, 0, 0, 0], [1]),
        RankedQuery("B", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 1]),
    ]
    macro, micro, per_query = evaluate_rankings(queries)
    assert set(macro) >= {"P@1", "P@5", "P@10", "Success@5", "MRR", "nDCG@10", "graded_nDCG@10"}
    assert per_query[0]["MRR"] == 1.0 and per_query[1]["MRR"] == 0.0
    assert macro["MRR"] == pytest.approx(0.5)
    assert micro["nDCG@10"] == pytest.approx(0.5)


def test_label_accuracy() -> None:
    assert label_accuracy(["X", "Y", "Z"], "Y", 1) == 0.0
    assert label_accuracy(["X", "Y", "Z"], "Y", 3) == 1.0
    assert label_accuracy([], "Y", 3) == 0.0
