"""TEST FAKE: a deterministic DraftRunner that builds a small, real draft from the payload.

Used only by the tests (never the app's default path: the real runner is the agent). It
fills sections from the MES fields so tests exercise real content, hashes, edits and diffs.
"""

from __future__ import annotations

import threading
from typing import Any

from api.jobs.protocols import DraftRequest, DraftResult
from api.records.canonical import content_sha256


class FakeDeterministicDraftRunner:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def draft(self, request: DraftRequest) -> DraftResult:
        with self._lock:
            self.calls.append(request.investigation_id)
        p = request.payload
        parameter: dict[str, Any] = p.get("parameter") or {}
        high = parameter.get("limit_high")
        peak = parameter.get("observed_peak")
        excess = (peak - high) if isinstance(peak, int | float) and high is not None else None
        what = p.get("description", "")
        samples = (p.get("process_data") or {}).get("samples", [])
        content: dict[str, Any] = {
            "header": {
                "site": request.site,
                "area": p.get("area", ""),
                "line": p.get("line", ""),
                "batches": [{"batch_id": p.get("batch_id", ""), "status": "quarantined"}],
                "equipment": [{"tag": tag} for tag in p.get("equipment", [])],
                "source_event": {"system": request.source, "event_id": p.get("event_id")},
            },
            "executive_summary": {
                "text": f"{what} Root cause: insufficient evidence.",
                "citations": [],
            },
            "classification": {
                "type": "unplanned",
                "category": "equipment",
                "criticality_suggested": "major" if excess and excess > 5 else "minor",
                "rationale": f"Peak exceeded the upper limit by {excess}." if excess else "n/a",
                "citations": [],
            },
            "event_description": {
                "what_happened": what,
                "expected_vs_actual": [
                    {
                        "parameter": parameter.get("name"),
                        "unit": parameter.get("unit"),
                        "limit_low": parameter.get("limit_low"),
                        "limit_high": high,
                        "observed": peak,
                        "duration": parameter.get("duration_s"),
                    }
                ],
                "citations": [],
            },
            "timeline": [{"timestamp": t, "event": f"reading {v}"} for t, v in samples],
            "root_cause_analysis": {
                "methods": ["5_why"],
                "root_cause_statement": "insufficient evidence",
                "citations": [],
            },
            "disposition": {"recommendation_suggested": "pending", "citations": []},
        }
        return DraftResult(
            content=content,
            provenance={"runner": "tests.fake", "payload_sha256": content_sha256(p)},
        )
