"""The shipped hybrid model with the real MiniLM embedder, on a few unseen GMP statements."""

from __future__ import annotations

import pytest

from assistant.verification.support_model import SupportModel
from assistant.verification.support_scorer import HybridSupportScorer

EVIDENCE = (
    "Swab samples taken from the granulator bowl after cleaning showed product residue above "
    "the acceptance limit. The cleaning procedure was not validated for the new detergent and "
    "the equipment was released for the next product without a cleaning verification."
)


@pytest.mark.embedder
def test_shipped_model_prefers_the_statement_the_evidence_is_about() -> None:
    from retrieval.embedding import SentenceTransformerEmbedder

    model = SupportModel.load()
    assert model.threshold == 0.5 and len(model.trained_on) > 500
    scorer = HybridSupportScorer(SentenceTransformerEmbedder(), model)
    on_topic, off_topic = scorer.score(
        [
            "Equipment cleaning was inadequate: residue remained after cleaning.",
            "Stability testing did not support the assigned expiry date.",
        ],
        [[EVIDENCE], [EVIDENCE]],
    )
    assert on_topic >= scorer.threshold > off_topic
