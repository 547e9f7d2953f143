"""Intake: the anomaly an investigation starts from, validated and normalised.

Two ways in: an MES payload (investigation-report.md shape) or a free-text description from a
person (with the site it belongs to). Both become one `Anomaly`; bad input is a clear
`AnomalyError`, never a half-read event.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator


class AnomalyError(ValueError):
    """The event cannot be investigated as given (missing fields, bad values)."""


class MbrStep(BaseModel):
    mbr_id: str
    version: int | str | None = None
    step_id: str

    @field_validator("step_id", mode="before")
    @classmethod
    def _step_as_text(cls, value: Any) -> str:
        return str(value)


class Parameter(BaseModel):
    name: str
    unit: str | None = None
    limit_low: float | None = None
    limit_high: float | None = None
    observed_peak: float | None = None
    duration_s: float | None = None

    @model_validator(mode="after")
    def _limits_ordered(self) -> Parameter:
        if (
            self.limit_low is not None
            and self.limit_high is not None
            and self.limit_low > self.limit_high
        ):
            raise ValueError(f"limit_low {self.limit_low} > limit_high {self.limit_high}")
        return self


class ProcessData(BaseModel):
    tag: str
    samples: list[tuple[datetime, float]] = Field(default_factory=list)

    @field_validator("samples")
    @classmethod
    def _finite_sorted(cls, samples: list[tuple[datetime, float]]) -> list[tuple[datetime, float]]:
        out = []
        for when, value in samples:
            if not math.isfinite(value):
                raise ValueError(f"sample at {when.isoformat()} is not a finite number")
            out.append((when if when.tzinfo else when.replace(tzinfo=UTC), value))
        return sorted(out, key=lambda s: s[0])


class MesPayload(BaseModel):
    """An anomaly from MES (or any system sending the same shape)."""

    event_id: str
    site: str
    area: str | None = None
    line: str | None = None
    equipment: list[str] = Field(default_factory=list)
    product_code: str | None = None
    batch_id: str | None = None
    mbr_step: MbrStep | None = None
    parameter: Parameter | None = None
    process_data: ProcessData | None = None
    occurred_at: datetime
    description: str = Field(min_length=1, max_length=10_000)

    @field_validator("equipment", mode="before")
    @classmethod
    def _equipment_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("event_id", "site", "description")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value.strip()


class Anomaly(BaseModel):
    """The normalised event every later node reads."""

    event_id: str
    source_system: str  # "MES" | "manual"
    site: str
    area: str | None = None
    line: str | None = None
    equipment: list[str] = Field(default_factory=list)
    product_code: str | None = None
    batch_id: str | None = None
    mbr_step: MbrStep | None = None
    parameter: Parameter | None = None
    process_data: ProcessData | None = None
    occurred_at: datetime | None = None
    description: str
    payload_sha256: str

    def as_payload(self) -> dict[str, Any]:
        """The MES-shaped dict retrieval helpers read (`EventQuery.from_payload`)."""
        data = self.model_dump(mode="json", exclude={"process_data", "payload_sha256"})
        return {k: v for k, v in data.items() if v not in (None, [], "")}


def _sha256(data: Any) -> str:
    return hashlib.sha256(
        json.dumps(data, sort_keys=True, default=str, separators=(",", ":")).encode()
    ).hexdigest()


def normalise_event(raw: dict[str, Any]) -> Anomaly:
    """`{"payload": {...MES...}}` or `{"text": "...", "site": "...", "event_id"?: "..."}`."""
    if "payload" in raw:
        payload = raw["payload"]
        if not isinstance(payload, dict):
            raise AnomalyError("the MES payload must be a JSON object")
        try:
            mes = MesPayload.model_validate(payload)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'payload'}: {e['msg']}"
                for e in exc.errors()
            )
            raise AnomalyError(f"invalid MES payload: {problems}") from exc
        return Anomaly(**mes.model_dump(), source_system="MES", payload_sha256=_sha256(payload))
    text = raw.get("text")
    site = raw.get("site")
    if not isinstance(text, str) or not text.strip():
        raise AnomalyError("give an MES payload or a non-empty free-text description")
    if not isinstance(site, str) or not site.strip():
        raise AnomalyError("a free-text event needs the site it happened at")
    digest = _sha256({"text": text, "site": site})
    event_id = raw.get("event_id") or f"MAN-{digest[:10].upper()}"
    return Anomaly(
        event_id=str(event_id),
        source_system="manual",
        site=site.strip(),
        description=text.strip(),
        equipment=list(raw.get("equipment") or []),
        product_code=raw.get("product_code"),
        batch_id=raw.get("batch_id"),
        payload_sha256=digest,
    )
