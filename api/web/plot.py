"""The process-data plot of an investigation: samples and limits as inline SVG geometry.

Computed from the MES payload (`process_data.samples`, `parameter.limit_low/high`); the template
draws it, so the page needs no image file, no script and no network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

WIDTH, HEIGHT = 440, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 36


@dataclass(frozen=True)
class Limit:
    label: str
    value: float
    y: float


@dataclass(frozen=True)
class Plot:
    tag: str
    unit: str
    points: str  # SVG polyline points
    outside: list[tuple[float, float]]  # samples beyond a limit (x, y)
    limits: list[Limit]
    y_ticks: list[tuple[float, str]]
    x_labels: list[tuple[float, str]]
    summary: str  # the plot in words (screen readers, and the figure caption)
    width: int = WIDTH
    height: int = HEIGHT


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def build_plot(payload: dict[str, Any]) -> Plot | None:
    data = payload.get("process_data")
    parameter = payload.get("parameter") or {}
    if not isinstance(data, dict) or not isinstance(parameter, dict):
        return None
    samples: list[tuple[datetime, float]] = []
    for row in data.get("samples") or []:
        if isinstance(row, list | tuple) and len(row) == 2:
            moment, value = _moment(row[0]), _number(row[1])
            if moment is not None and value is not None:
                samples.append((moment, value))
    if len(samples) < 2:
        return None
    samples.sort()
    low, high = _number(parameter.get("limit_low")), _number(parameter.get("limit_high"))
    values = [v for _, v in samples] + [x for x in (low, high) if x is not None]
    v_min, v_max = min(values), max(values)
    pad = (v_max - v_min) * 0.08 or 1.0
    v_min, v_max = v_min - pad, v_max + pad
    t0, t1 = samples[0][0].timestamp(), samples[-1][0].timestamp()
    span = (t1 - t0) or 1.0
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(moment: datetime) -> float:
        return round(LEFT + (moment.timestamp() - t0) / span * inner_w, 1)

    def y_of(value: float) -> float:
        return round(TOP + (v_max - value) / (v_max - v_min) * inner_h, 1)

    unit = str(parameter.get("unit") or "")
    limits = [
        Limit(f"{name} limit {value:g} {unit}".strip(), value, y_of(value))
        for name, value in (("upper", high), ("lower", low))
        if value is not None
    ]
    outside = [
        (x_of(m), y_of(v))
        for m, v in samples
        if (high is not None and v > high) or (low is not None and v < low)
    ]
    ticks = [v_min + (v_max - v_min) * i / 4 for i in range(5)]
    peak_at, peak = max(samples, key=lambda s: s[1])
    name = str(parameter.get("name") or data.get("tag") or "value")
    summary = (
        f"{name}: {len(samples)} samples from {samples[0][0].isoformat()} to "
        f"{samples[-1][0].isoformat()}; peak {peak:g} {unit} at {peak_at.isoformat()}; "
        f"limits {'-' if low is None else f'{low:g}'} to {'-' if high is None else f'{high:g}'} "
        f"{unit}; {len(outside)} sample(s) outside the limits."
    )
    return Plot(
        tag=str(data.get("tag") or name),
        unit=unit,
        points=" ".join(f"{x_of(m)},{y_of(v)}" for m, v in samples),
        outside=outside,
        limits=limits,
        y_ticks=[(y_of(t), f"{t:.4g}") for t in ticks],
        x_labels=[
            (x_of(samples[0][0]), samples[0][0].strftime("%H:%M")),
            (x_of(samples[-1][0]), samples[-1][0].strftime("%H:%M")),
        ],
        summary=summary.replace("  ", " "),
    )
