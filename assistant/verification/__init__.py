"""Statement verification: is a drafted statement backed by the chunks it cites?

- `quote_match.find_quote`: is the quoted span (near-)verbatim in the chunk text, and where;
- `support_scorer`: support score in [0, 1] of a statement given evidence texts (keyword,
  MiniLM, the fitted hybrid model; `judge.LLMJudgeScorer` for an optional chat-model judge);
- `injection.find_injection`: instruction-like text in a document chunk;
- `verifier.StatementVerifier`: all of it per statement, with a verdict and an aggregate report.
"""

from assistant.verification.injection import find_injection
from assistant.verification.models import (
    ChunkPayload,
    ChunkStatus,
    CitationCheck,
    CitationRef,
    DraftStatement,
    QuoteCheck,
    StatementCheck,
    Verdict,
    VerificationReport,
)
from assistant.verification.quote_match import QuoteMatch, find_quote
from assistant.verification.support_scorer import (
    EmbeddingSimilarityScorer,
    HybridSupportScorer,
    KeywordOverlapScorer,
    SupportScorer,
)
from assistant.verification.verifier import StatementVerifier, VerifierConfig

__all__ = [
    "ChunkPayload",
    "ChunkStatus",
    "CitationCheck",
    "CitationRef",
    "DraftStatement",
    "EmbeddingSimilarityScorer",
    "HybridSupportScorer",
    "KeywordOverlapScorer",
    "QuoteCheck",
    "QuoteMatch",
    "StatementCheck",
    "StatementVerifier",
    "SupportScorer",
    "Verdict",
    "VerificationReport",
    "VerifierConfig",
    "find_injection",
    "find_quote",
]
