"""The MES anomaly payload (shape from investigation-report.md) and the 202 answer."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

Text = Annotated[str, Field(min_length=1, max_length=200)]


class MbrStep(BaseModel):
    model_config = ConfigDict(extra="allow")
    mbr_id: Text
    version: int = Field(ge=0)
    step_id: Text


class Parameter(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: Text
    unit: Annotated[str, Field(max_length=50)]
    limit_low: float | None = None
    limit_high: float | None = None
    observed_peak: float
    duration_s: float = Field(ge=0)

    @model_validator(mode="after")
    def _limits_ordered(self) -> Parameter:
        if self.limit_low is None and self.limit_high is None:
            raise ValueError("at least one of limit_low / limit_high is required")
        if (
            self.limit_low is not None
            and self.limit_high is not None
            and self.limit_low > self.limit_high
        ):
            raise ValueError("limit_low must not exceed limit_high")
        return self


class ProcessData(BaseModel):
    model_config = ConfigDict(extra="allow")
    tag: Text
    samples: list[tuple[AwareDatetime, float]] = Field(max_length=100_000)


class MesEvent(BaseModel):
    """One process anomaly from MES. Unknown extra fields are kept (MES schemas grow)."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "example": {
                "event_id": "MES-EX-2026-00417",
                "site": "SITE-A",
                "area": "Granulation",
                "line": "L2",
                "equipment": ["GR-201"],
                "product_code": "PRD-0042",
                "batch_id": "B26-0815",
                "mbr_step": {"mbr_id": "MBR-PRD-0042", "version": 7, "step_id": "6.3"},
                "parameter": {
                    "name": "Inlet air temperature",
                    "unit": "C",
                    "limit_low": 55,
                    "limit_high": 65,
                    "observed_peak": 71.4,
                    "duration_s": 420,
                },
                "process_data": {
                    "tag": "GR201.TI101",
                    "samples": [["2026-11-20T08:01:00Z", 61.2]],
                },
                "occurred_at": "2026-11-20T08:07:00Z",
                "description": "Inlet air temperature exceeded upper limit during drying.",
            }
        },
    )

    event_id: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")]
    site: Text
    area: Text
    line: Text
    equipment: list[Text] = Field(min_length=1, max_length=50)
    product_code: Text
    batch_id: Text
    mbr_step: MbrStep
    parameter: Parameter
    process_data: ProcessData
    occurred_at: AwareDatetime
    description: Annotated[str, Field(min_length=1, max_length=5000)]


class EventAccepted(BaseModel):
    investigation_id: str
    job_id: int
    status: str
    event_id: str
    due_at: str
