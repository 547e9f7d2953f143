"""The `ai_provenance` block: what produced a draft, enough to reproduce and audit it."""

from __future__ import annotations

from typing import Any

from assistant.agent.evidence import EvidenceSet
from assistant.agent.report import iter_statements
from assistant.llm import ChatModel


def _confidence(record: dict[str, Any]) -> str:
    n = record.get("n_statements") or 0
    verified = record.get("verified") or 0
    if record.get("error") or n == 0:
        return "insufficient_evidence"
    share = verified / n
    return "high" if share == 1 else "medium" if share >= 0.5 else "low"


def build_provenance(
    *,
    run_id: str | None,
    model: ChatModel,
    sections: dict[str, dict[str, Any]],
    evidence: EvidenceSet,
    verification: dict[str, Any],
    timings: list[dict[str, Any]],
    reviews: list[dict[str, Any]],
) -> dict[str, Any]:
    info = model.info
    sampling = model.defaults
    per_section = []
    prompts: dict[str, str] = {}
    prompt_hashes: dict[str, str] = {}
    calls = []
    for name, record in sections.items():
        prompts[name] = ",".join(record.get("prompts") or [])
        prompt_hashes.update(record.get("prompt_sha256") or {})
        content = record.get("content") or {}
        unsupported = [
            st["text"]
            for _, st in iter_statements({name: content})
            if (st.get("check") or {}).get("verdict") != "verified"
        ]
        per_section.append(
            {
                "section": name,
                "origin": record.get("origin") or "ai_generated",
                "attempts": record.get("attempt", 0),
                "statements": record.get("n_statements", 0),
                "verified": record.get("verified", 0),
                "unsupported_claims": unsupported,
                "confidence": _confidence(record),
                "error": record.get("error"),
                "evidence_shown": record.get("evidence") or [],
            }
        )
        call = record.get("call") or {}
        calls.append(
            {
                "section": name,
                "attempt": record.get("attempt"),
                "seconds": record.get("seconds"),
                "usage": call.get("usage"),
                "finish_reason": call.get("finish_reason"),
                "attempts_in_call": call.get("attempts"),
            }
        )
    return {
        "run_id": run_id,
        "model": {
            "name": info.name,
            "backend": info.backend,
            "backend_version": info.backend_version,
            "file_sha256": info.file_sha256,
            "revision_sha": info.revision,
            "quantization": info.quantization,
            "serving": info.base_url,
            "sampling": {"temperature": sampling.temperature, "seed": sampling.seed},
        },
        "prompt_template_versions": prompts,
        "prompt_sha256": prompt_hashes,
        "retrieved": [
            {
                "eid": item.eid,
                "chunk_id": item.chunk_id,
                "doc_id": item.doc_id,
                "doc_type": item.doc_type,
                "doc_version": item.revision,
                "status": item.status,
                "page": item.page,
                "origin": item.origin,
                "score": item.score,
                "score_dense": item.dense_score,
                "score_sparse": item.sparse_score,
                "rerank_score": item.rerank_score,
                "injection_flags": item.injection,
            }
            for item in evidence.items
        ],
        "search": evidence.search,
        "per_section": per_section,
        "llm_calls": calls,
        "timings": timings,
        "verification": {
            k: verification.get(k)
            for k in (
                "n_statements",
                "n_verified",
                "n_unsupported",
                "n_citation_invalid",
                "n_injection_suspected",
                "n_citations",
                "n_quotes_found",
                "verified_rate",
                "quote_found_rate",
                "scorer",
                "support_threshold",
            )
        },
        "reviews": reviews,
    }
