"""Characterise an excursion from its process data: figures computed, not generated.

Peak (the sample farthest outside the limits), time outside limits (samples outside times the
sampling interval, as MES reports `duration_s`), the span from the first to the last sample
outside, the steepest rate of change, and a PNG plot of the window with its limits.
"""

from __future__ import annotations

import itertools
import os
import statistics
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.agent.anomaly import Anomaly


@dataclass(frozen=True)
class Characterisation:
    tag: str
    unit: str | None
    samples: int
    window_start: str
    window_end: str
    interval_s: float
    limit_low: float | None
    limit_high: float | None
    peak_value: float
    peak_at: str
    peak_excess: float  # distance beyond the nearest limit (0 when inside)
    samples_outside: int
    time_outside_s: float
    first_outside_at: str | None
    last_outside_at: str | None
    excursion_span_s: float
    max_rate_per_min: float  # largest absolute change between consecutive samples, per minute
    mean_value: float
    reported_peak: float | None
    reported_duration_s: float | None
    discrepancies: list[str]
    plot_path: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _excess(value: float, low: float | None, high: float | None) -> float:
    if high is not None and value > high:
        return value - high
    if low is not None and value < low:
        return low - value
    return 0.0


def characterise(anomaly: Anomaly) -> Characterisation | None:
    """Figures of the excursion, or None when the event carries no process data."""
    data = anomaly.process_data
    if data is None or len(data.samples) < 2:
        return None
    param = anomaly.parameter
    low = param.limit_low if param else None
    high = param.limit_high if param else None
    times = [t for t, _ in data.samples]
    values = [v for _, v in data.samples]
    steps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    interval = statistics.median(steps)
    excess = [_excess(v, low, high) for v in values]
    if any(excess):
        peak_index = max(range(len(values)), key=lambda i: (excess[i], -i))
    else:
        peak_index = max(range(len(values)), key=lambda i: values[i])
    outside = [i for i, e in enumerate(excess) if e > 0]
    rates = [
        abs(values[i + 1] - values[i]) / (steps[i] / 60.0) for i in range(len(steps)) if steps[i]
    ]
    time_outside = len(outside) * interval
    span = (times[outside[-1]] - times[outside[0]]).total_seconds() + interval if outside else 0.0
    discrepancies: list[str] = []
    if (
        param
        and param.observed_peak is not None
        and abs(param.observed_peak - values[peak_index]) > 1e-6
    ):
        discrepancies.append(
            f"reported peak {param.observed_peak} differs from the data peak {values[peak_index]}"
        )
    if param and param.duration_s is not None and abs(param.duration_s - time_outside) > interval:
        discrepancies.append(
            f"reported duration {param.duration_s:g} s differs from {time_outside:g} s outside "
            "limits in the data"
        )
    return Characterisation(
        tag=data.tag,
        unit=param.unit if param else None,
        samples=len(values),
        window_start=times[0].isoformat(),
        window_end=times[-1].isoformat(),
        interval_s=interval,
        limit_low=low,
        limit_high=high,
        peak_value=values[peak_index],
        peak_at=times[peak_index].isoformat(),
        peak_excess=round(excess[peak_index], 6),
        samples_outside=len(outside),
        time_outside_s=time_outside,
        first_outside_at=times[outside[0]].isoformat() if outside else None,
        last_outside_at=times[outside[-1]].isoformat() if outside else None,
        excursion_span_s=span,
        max_rate_per_min=round(max(rates), 6) if rates else 0.0,
        mean_value=round(statistics.fmean(values), 6),
        reported_peak=param.observed_peak if param else None,
        reported_duration_s=param.duration_s if param else None,
        discrepancies=discrepancies,
    )


def render_plot(anomaly: Anomaly, figures: Characterisation, path: Path) -> Path:
    """PNG of the window with its limits; written atomically (a re-run replaces it whole)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    assert anomaly.process_data is not None
    times: list[datetime] = [t for t, _ in anomaly.process_data.samples]
    values = [v for _, v in anomaly.process_data.samples]
    fig, ax = plt.subplots(figsize=(8, 3.5), dpi=100)
    try:
        ax.plot(times, values, color="#1f4e79", linewidth=1.4, label=figures.tag)  # type: ignore[arg-type]
        for limit, name in (
            (figures.limit_high, "upper limit"),
            (figures.limit_low, "lower limit"),
        ):
            if limit is not None:
                ax.axhline(limit, color="#c00000", linestyle="--", linewidth=1, label=name)
        ax.scatter(
            [datetime.fromisoformat(figures.peak_at)],  # type: ignore[arg-type]
            [figures.peak_value],
            color="#c00000",
            zorder=3,
        )
        name = anomaly.parameter.name if anomaly.parameter else figures.tag
        unit = f" ({figures.unit})" if figures.unit else ""
        ax.set_title(f"{anomaly.event_id}: {name}{unit}")
        ax.set_ylabel(f"{name}{unit}")
        ax.legend(loc="best", fontsize=8)
        fig.autofmt_xdate()
        fig.tight_layout()
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        fig.savefig(tmp, format="png")
        os.replace(tmp, path)
    finally:
        plt.close(fig)
    return path
