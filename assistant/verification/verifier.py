"""Check a drafted statement against the chunks it cites: the agent's self-check and the
reviewer check "every factual sentence has a citation that resolves to an effective version,
and its quote span is found in the cited text".

Per statement, in order:
1. every citation must resolve: the chunk exists, was among the chunks retrieved for this draft
   (when that set is given), is an effective revision, carries no instruction-like text, and its
   quote span is found (near-)verbatim in the chunk text; otherwise `citation_invalid`;
2. the cited chunks must support the statement: support score >= the scorer's threshold, and
   every number / identifier of the statement (e.g. 71.4, B26-0815) occurs in the cited text;
   otherwise `unsupported`;
3. else `verified`, the only verdict that may be shown as fact.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from assistant.verification.injection import find_injection
from assistant.verification.models import (
    ChunkPayload,
    ChunkStatus,
    CitationCheck,
    CitationRef,
    DraftStatement,
    InjectionFlag,
    QuoteCheck,
    StatementCheck,
    Verdict,
    VerificationReport,
)
from assistant.verification.quote_match import (
    DEFAULT_CHAR_THRESHOLD,
    DEFAULT_WORD_ORDER_THRESHOLD,
    find_quote,
)
from assistant.verification.support_features import strip_regulatory_citations
from assistant.verification.support_scorer import SupportScorer
from assistant.verification.text_normalization import normalize

_IDENTIFIER = re.compile(r"[a-z0-9]+(?:[-./][a-z0-9]+)*")


@dataclass(frozen=True)
class VerifierConfig:
    char_threshold: float = DEFAULT_CHAR_THRESHOLD
    word_order_threshold: float = DEFAULT_WORD_ORDER_THRESHOLD
    check_numbers: bool = True


def _identifiers_with_digits(text: str) -> list[str]:
    found = (token.rstrip(".") for token in _IDENTIFIER.findall(normalize(text)))
    return list(dict.fromkeys(token for token in found if any(c.isdigit() for c in token)))


_DECIMAL = re.compile(r"\d+[.,]\d+")
_NUMERIC_RANGE = re.compile(r"(\d+(?:[.,]\d+)?)-(\d+(?:[.,]\d+)?)")
_MIN_SUBSTRING_MATCH = 4  # shorter tokens ("71", "5") must match a whole token


def _compact(token: str) -> str:
    return re.sub(r"[-/]", "", token)


def _token_parts(token: str) -> set[str]:
    """A token, its hyphen-free form, and its parts ("gr201.ti101" -> gr201, ti101); decimal
    numbers are kept whole, so 71.4 never provides 71."""
    parts = {token, _compact(token)}
    if not _DECIMAL.fullmatch(token):
        pieces = re.split(r"[-./]", token)
        parts.update(piece for piece in pieces if piece)
        parts.update(_compact(piece) for piece in token.split(".") if piece)
    return parts


def unmatched_numbers(statement: str, evidence: Sequence[str]) -> list[str]:
    """Numbers and identifiers of the statement (regulatory citations aside) that no cited
    text contains, compared after normalisation and without hyphens: "55–65 °C" contains 55,
    65 and 55-65; "GR201.TI101" contains GR-201; "2026-11-20T08:07" contains 2026-11-20."""
    available: set[str] = set()
    for text in evidence:
        for token in _identifiers_with_digits(text):
            available.update(_token_parts(token))
    compact_text = _compact(" ".join(normalize(text) for text in evidence))
    missing: list[str] = []
    for token in _identifiers_with_digits(strip_regulatory_citations(statement)):
        wanted = _compact(token)
        if wanted in available or token in available:
            continue
        bounds = _NUMERIC_RANGE.fullmatch(token)
        if bounds and all(bound in available for bound in bounds.groups()):
            continue  # "8-12" where the text has "8 - 12" or "8 to 12"
        if len(wanted) >= _MIN_SUBSTRING_MATCH and re.search(
            rf"(?<![0-9]){re.escape(wanted)}(?![0-9])", compact_text
        ):
            continue
        missing.append(token)
    return missing


_DASHES = "-\u2010\u2011\u2012\u2013\u2014"


def _label_patterns(chunk: ChunkPayload) -> list[str]:
    def value(text: str) -> str:
        # the value itself, not the start of a longer number (section 5.3 is not 5.30)
        return re.escape(text) + r"(?![0-9]|[.,][0-9])"

    patterns = []
    if chunk.doc_id.strip():
        parts = [re.escape(part) for part in re.split(rf"[{_DASHES}\s]+", chunk.doc_id.strip())]
        patterns.append(rf"(?<![\w-]){f'[{_DASHES} ]?'.join(parts)}(?![\w-])")
    if chunk.revision and chunk.revision.strip() not in {"", "-"}:
        patterns.append(rf"\b(?:rev(?:ision)?|version|ver|v)\.?\s*{value(chunk.revision.strip())}")
    if chunk.section and chunk.section.strip():
        patterns.append(rf"(?:\b(?:section|sect|step)\.?|§)\s*{value(chunk.section.strip())}")
    if chunk.page is not None:
        patterns.append(rf"\b(?:page|pg|p)\.?\s*{value(str(chunk.page))}")
    return patterns


def strip_citation_labels(statement: str, cited: Sequence[ChunkPayload]) -> str:
    """The statement without the labels of the documents it cites ("SOP-PRD-011, rev 3,
    section 5.3, page 1"): those identifiers are checked by the citation itself (the chunk
    belongs to that document, revision, section and page), not by the chunk text, which
    seldom repeats its own header. A label that names another revision or section stays in
    and must be found in the cited text like any other identifier."""
    for chunk in cited:
        for pattern in _label_patterns(chunk):
            statement = re.sub(pattern, " ", statement, flags=re.IGNORECASE)
    return statement


class StatementVerifier:
    def __init__(self, scorer: SupportScorer, config: VerifierConfig | None = None) -> None:
        self._scorer = scorer
        self._config = config or VerifierConfig()

    def check_citation(
        self,
        citation: CitationRef,
        chunks: Mapping[str, ChunkPayload],
        retrieved_ids: Collection[str] | None,
    ) -> CitationCheck:
        chunk = chunks.get(citation.chunk_id)
        in_retrieved = retrieved_ids is None or citation.chunk_id in retrieved_ids
        if chunk is None:
            return CitationCheck(
                chunk_id=citation.chunk_id,
                quote_span=citation.quote_span,
                chunk_exists=False,
                in_retrieved=in_retrieved,
                effective=False,
                problems=[f"cited chunk {citation.chunk_id!r} does not exist"],
            )
        problems: list[str] = []
        if not in_retrieved:
            problems.append(f"chunk {chunk.chunk_id!r} was not among the retrieved chunks")
        effective = chunk.status is ChunkStatus.effective
        if not effective:
            problems.append(
                f"{chunk.doc_id} revision {chunk.revision or '?'} is {chunk.status.value}, "
                "not effective"
            )
        match = find_quote(
            chunk.text,
            citation.quote_span,
            char_threshold=self._config.char_threshold,
            word_order_threshold=self._config.word_order_threshold,
        )
        if not match.found:
            problems.append(f"quote not found in {chunk.chunk_id!r}: {match.reason}")
        injection = [
            InjectionFlag(pattern=f.pattern, excerpt=f.excerpt) for f in find_injection(chunk.text)
        ]
        if injection:
            patterns = ", ".join(flag.pattern for flag in injection)
            problems.append(f"cited text contains instruction-like content ({patterns})")
        return CitationCheck(
            chunk_id=chunk.chunk_id,
            quote_span=citation.quote_span,
            chunk_exists=True,
            in_retrieved=in_retrieved,
            effective=effective,
            doc_id=chunk.doc_id,
            revision=chunk.revision,
            page=chunk.page,
            quote=QuoteCheck(
                found=match.found,
                score=match.score,
                word_order_score=match.word_order_score,
                exact=match.exact,
                start=match.start,
                end=match.end,
                reason=match.reason,
            ),
            injection=injection,
            problems=problems,
        )

    def verify(
        self,
        statements: Sequence[DraftStatement],
        chunks: Mapping[str, ChunkPayload],
        retrieved_ids: Collection[str] | None = None,
    ) -> VerificationReport:
        """Check every statement; `retrieved_ids` is the set of chunk ids retrieved for this
        draft (None skips that check)."""
        citation_checks = [
            [self.check_citation(c, chunks, retrieved_ids) for c in s.citations] for s in statements
        ]
        to_score = [
            i
            for i, checks in enumerate(citation_checks)
            if checks and all(check.valid for check in checks)
        ]
        scores = self._scorer.score(
            [statements[i].text for i in to_score],
            [[chunks[c.chunk_id].text for c in statements[i].citations] for i in to_score],
        )
        score_of = dict(zip(to_score, (float(s) for s in scores), strict=True))
        results = [
            self._statement_check(statement, checks, chunks, score_of.get(i))
            for i, (statement, checks) in enumerate(zip(statements, citation_checks, strict=True))
        ]
        return self._report(results)

    def _statement_check(
        self,
        statement: DraftStatement,
        checks: list[CitationCheck],
        chunks: Mapping[str, ChunkPayload],
        score: float | None,
    ) -> StatementCheck:
        statement_injection = bool(find_injection(statement.text))

        def result(
            verdict: Verdict,
            reasons: list[str],
            score: float | None = None,
            missing: list[str] | None = None,
        ) -> StatementCheck:
            return StatementCheck(
                statement_id=statement.statement_id,
                text=statement.text,
                section=statement.section,
                verdict=verdict,
                reasons=reasons,
                citations=checks,
                support_score=score,
                supported=None if score is None else verdict is Verdict.verified,
                unmatched_numbers=missing or [],
                injection_suspected=statement_injection or any(c.injection for c in checks),
            )

        if not checks:
            return result(Verdict.citation_invalid, ["statement has no citation"])
        problems = [problem for check in checks for problem in check.problems]
        if statement_injection:
            problems.append("statement itself contains instruction-like text")
        if problems or score is None:
            return result(Verdict.citation_invalid, problems or ["not scored"])
        cited = [chunks[check.chunk_id] for check in checks]
        missing = (
            unmatched_numbers(
                strip_citation_labels(statement.text, cited), [chunk.text for chunk in cited]
            )
            if self._config.check_numbers
            else []
        )
        supported = score >= self._scorer.threshold and not missing
        reasons: list[str] = []
        if score < self._scorer.threshold:
            reasons.append(
                f"cited text does not support the statement ({self._scorer.name} score "
                f"{score:.2f} < {self._scorer.threshold:.2f})"
            )
        if missing:
            reasons.append(f"not in the cited text: {', '.join(missing)}")
        if supported:
            reasons.append(f"supported ({self._scorer.name} score {score:.2f})")
        verdict = Verdict.verified if supported else Verdict.unsupported
        return result(verdict, reasons, score, missing)

    def _report(self, results: list[StatementCheck]) -> VerificationReport:
        n = len(results)
        count = {v: sum(r.verdict is v for r in results) for v in Verdict}
        quotes = [c.quote for r in results for c in r.citations]
        scored = [r.support_score for r in results if r.support_score is not None]
        return VerificationReport(
            statements=results,
            n_statements=n,
            n_verified=count[Verdict.verified],
            n_unsupported=count[Verdict.unsupported],
            n_citation_invalid=count[Verdict.citation_invalid],
            n_injection_suspected=sum(r.injection_suspected for r in results),
            n_citations=len(quotes),
            n_quotes_found=sum(q is not None and q.found for q in quotes),
            verified_rate=count[Verdict.verified] / n if n else 0.0,
            unsupported_rate=count[Verdict.unsupported] / n if n else 0.0,
            citation_invalid_rate=count[Verdict.citation_invalid] / n if n else 0.0,
            quote_found_rate=(
                sum(q is not None and q.found for q in quotes) / len(quotes) if quotes else 0.0
            ),
            mean_support_score=sum(scored) / len(scored) if scored else None,
            scorer=self._scorer.name,
            support_threshold=self._scorer.threshold,
        )
