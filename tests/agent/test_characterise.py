from __future__ import annotations

from pathlib import Path

import pytest

from assistant.agent.anomaly import AnomalyError, normalise_event
from assistant.agent.characterise import characterise, render_plot
from tests.agent.corpus import mes_payload


def _anomaly(**changes: object) -> object:
    payload = mes_payload()
    payload.update(changes)
    return normalise_event({"payload": payload})


def test_figures_of_an_upper_limit_excursion() -> None:
    figures = characterise(_anomaly())  # type: ignore[arg-type]
    assert figures is not None
    assert figures.peak_value == 13.76
    assert figures.peak_at.startswith("2026-11-03T03:06")
    assert figures.peak_excess == pytest.approx(1.76)
    # 12.61 .. 13.47: six one-minute samples above 12.0 (12.0 itself is inside)
    assert figures.samples_outside == 6
    assert figures.time_outside_s == 360
    assert figures.first_outside_at and figures.first_outside_at.startswith("2026-11-03T03:03")
    assert figures.last_outside_at and figures.last_outside_at.startswith("2026-11-03T03:08")
    assert figures.excursion_span_s == 360
    assert figures.max_rate_per_min == pytest.approx(12.61 - 10.2)
    assert figures.discrepancies == []


def test_lower_limit_excursion_and_reported_value_mismatch() -> None:
    payload = mes_payload()
    payload["parameter"]["observed_peak"] = 9.9  # type: ignore[index]
    values = [10.0, 9.0, 7.5, 6.9, 7.9, 8.5, 10.0]
    payload["process_data"]["samples"] = [  # type: ignore[index]
        [f"2026-11-03T04:{2 * i:02d}:00Z", v] for i, v in enumerate(values)
    ]
    figures = characterise(normalise_event({"payload": payload}))
    assert figures is not None
    assert figures.peak_value == 6.9
    assert figures.peak_excess == pytest.approx(1.1)
    assert figures.interval_s == 120
    assert figures.samples_outside == 3
    assert figures.time_outside_s == 360
    assert figures.max_rate_per_min == pytest.approx(0.75)
    assert any("reported peak 9.9" in d for d in figures.discrepancies)


def test_no_process_data_gives_no_figures() -> None:
    assert characterise(_anomaly(process_data=None)) is None  # type: ignore[arg-type]


def test_plot_is_a_png_written_whole(tmp_path: Path) -> None:
    anomaly = _anomaly()
    figures = characterise(anomaly)  # type: ignore[arg-type]
    assert figures is not None
    path = render_plot(anomaly, figures, tmp_path / "p" / "plot.png")  # type: ignore[arg-type]
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in path.parent.iterdir()] == ["plot.png"]


def test_bad_payloads_are_refused_with_a_reason() -> None:
    with pytest.raises(AnomalyError, match="limit_low"):
        payload = mes_payload()
        payload["parameter"]["limit_low"] = 20  # type: ignore[index]
        normalise_event({"payload": payload})
    with pytest.raises(AnomalyError, match="occurred_at"):
        payload = mes_payload()
        del payload["occurred_at"]
        normalise_event({"payload": payload})
    with pytest.raises(AnomalyError, match="site"):
        normalise_event({"text": "Tablet weight low on TP-201"})
    manual = normalise_event({"text": "Tablet weight low on TP-201", "site": "SITE-A"})
    assert manual.source_system == "manual" and manual.event_id.startswith("MAN-")
