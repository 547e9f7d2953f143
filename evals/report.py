"""`devia eval report`: Markdown + HTML report of the stored eval runs (evals/run_store.py).

For each suite: the newest run's metrics beside the previous run's and the delta, the model,
prompt versions and timings it recorded, and a plot of each headline metric over the stored
runs (matplotlib, PNG files next to the report, referenced by both documents).
"""

from __future__ import annotations

import html
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.run_store import StoredRun

# Plotted per suite (when present); every metric is still tabulated.
HEADLINES: dict[str, tuple[str, ...]] = {
    "recalls": ("P@5", "MRR", "nDCG@10"),
    "claims": ("AUC", "AUC_hard", "accuracy"),
    "cfr-qa": ("top1", "top3"),
    "di-qa": ("retrieval_hit@5", "answer_accuracy", "cited_page_accuracy"),
    "q3c-tables": ("retrieval_hit@5", "answer_accuracy", "cited_page_accuracy", "negative_correct"),
    "faithfulness": ("faithfulness_mean_nan_as_0", "context_precision_mean", "quote_found_rate"),
    "plant": (),
}
MAX_PLOTTED = 4


@dataclass(frozen=True)
class SuiteSection:
    suite: str
    latest: StoredRun
    previous: StoredRun | None
    rows: list[tuple[str, float | None, float | None, float | None]]  # name, now, before, delta
    plot: str | None  # file name of the PNG, relative to the report


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return None if math.isnan(float(value)) else float(value)


def compare(latest: StoredRun, previous: StoredRun | None) -> list[tuple[str, Any, Any, Any]]:
    rows = []
    before_metrics = previous.metrics if previous else {}
    for name, value in latest.metrics.items():
        now = _number(value)
        before = _number(before_metrics.get(name)) if previous else None
        delta = now - before if now is not None and before is not None else None
        rows.append((name, now, before, delta))
    return rows


def _headlines(suite: str, runs: Sequence[StoredRun]) -> list[str]:
    wanted = HEADLINES.get(suite) or tuple(runs[-1].metrics)[:MAX_PLOTTED]
    present = [m for m in wanted if any(_number(r.metrics.get(m)) is not None for r in runs)]
    return present[:MAX_PLOTTED]


def plot_suite(suite: str, runs: Sequence[StoredRun], out: Path) -> bool:
    os.environ.setdefault("MPLBACKEND", "Agg")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = _headlines(suite, runs)
    if not names:
        return False
    fig, ax = plt.subplots(figsize=(7, 3.2))
    labels = [r.recorded_at.replace("T", " ").rstrip("Z") for r in runs]
    for name in names:
        values = [_number(r.metrics.get(name)) for r in runs]
        ax.plot(
            range(len(runs)),
            [v if v is not None else float("nan") for v in values],
            "o-",
            label=name,
        )
    ax.set_xticks(range(len(runs)))
    ax.set_xticklabels(labels, rotation=30, ha="right", fontsize=7)
    ax.set_title(f"{suite}: stored runs")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return True


def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    if float(value).is_integer() and abs(value) >= 1 and not signed:
        return f"{int(value)}"
    return f"{value:+.4g}" if signed else f"{value:.4g}"


def _describe(run: StoredRun) -> list[str]:
    doc = run.document
    lines = [f"run file: `{run.path}`", f"recorded: {run.recorded_at}"]
    model = doc.get("model")
    if isinstance(model, dict) and model:
        lines.append(
            "model: "
            + ", ".join(
                f"{k}={model[k]}"
                for k in ("name", "backend", "file_sha256", "quantization")
                if model.get(k)
            )
        )
    judge = doc.get("judge")
    if isinstance(judge, dict):
        lines.append("judge: " + ", ".join(f"{k}={v}" for k, v in judge.items() if v))
    prompts = doc.get("prompts")
    if isinstance(prompts, dict) and prompts:
        lines.append(
            "prompts: "
            + ", ".join(
                f"{n} v{p.get('version')}" for n, p in prompts.items() if isinstance(p, dict)
            )
        )
    timings = doc.get("timings")
    if isinstance(timings, dict) and timings:
        lines.append(
            "timings: "
            + ", ".join(
                f"{k}={v:.1f}" if isinstance(v, int | float) else f"{k}={v}"
                for k, v in timings.items()
            )
        )
    return lines


def build_sections(runs_by_suite: dict[str, list[StoredRun]], out_dir: Path) -> list[SuiteSection]:
    sections = []
    for suite, runs in sorted(runs_by_suite.items()):
        if not runs:
            continue
        latest, previous = runs[-1], (runs[-2] if len(runs) > 1 else None)
        plot_name = f"{suite}.png"
        plotted = plot_suite(suite, runs, out_dir / plot_name)
        sections.append(
            SuiteSection(
                suite, latest, previous, compare(latest, previous), plot_name if plotted else None
            )
        )
    return sections


def render_markdown(sections: Sequence[SuiteSection], generated_at: str) -> str:
    out = [f"# devia evaluation report\n\nGenerated {generated_at}. Each suite: its newest stored "
           "run against the run before it (delta = newest - previous).\n"]  # fmt: skip
    for s in sections:
        out.append(f"## {s.suite}\n")
        out.extend(f"- {line}" for line in _describe(s.latest))
        out.append(
            f"- previous: `{s.previous.path}` ({s.previous.recorded_at})"
            if s.previous
            else "- previous: none (first stored run)"
        )
        out.append("")
        if s.plot:
            out.append(f"![{s.suite}]({s.plot})\n")
        out.append("| metric | newest | previous | delta |")
        out.append("|---|---:|---:|---:|")
        for name, now, before, delta in s.rows:
            out.append(f"| {name} | {_fmt(now)} | {_fmt(before)} | {_fmt(delta, signed=True)} |")
        out.append("")
    return "\n".join(out) + "\n"


def render_html(sections: Sequence[SuiteSection], generated_at: str) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>devia evaluation report</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}"
        "td.n{text-align:right}.up{color:#070}.down{color:#a00}</style></head><body>",
        f"<h1>devia evaluation report</h1><p>Generated {e(generated_at)}. Each suite: its "
        "newest stored run against the run before it (delta = newest - previous).</p>",
    ]
    for s in sections:
        parts.append(f"<h2>{e(s.suite)}</h2><ul>")
        parts.extend(f"<li>{e(line)}</li>" for line in _describe(s.latest))
        previous = (
            f"previous: {s.previous.path} ({s.previous.recorded_at})"
            if s.previous
            else "previous: none (first stored run)"
        )
        parts.append(f"<li>{e(previous)}</li></ul>")
        if s.plot:
            parts.append(f"<img src='{e(s.plot)}' alt='{e(s.suite)} plot'>")
        parts.append(
            "<table><tr><th>metric</th><th>newest</th><th>previous</th><th>delta</th></tr>"
        )
        for name, now, before, delta in s.rows:
            css = "" if not delta else (" up" if delta > 0 else " down")
            parts.append(
                f"<tr><td>{e(name)}</td><td class='n'>{_fmt(now)}</td>"
                f"<td class='n'>{_fmt(before)}</td>"
                f"<td class='n{css}'>{_fmt(delta, signed=True)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_report(
    runs_by_suite: dict[str, list[StoredRun]], out_dir: Path, generated_at: str
) -> tuple[Path, Path]:
    """Write report.md, report.html and one PNG per suite into `out_dir` (each file whole)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sections = build_sections(runs_by_suite, out_dir)
    if not sections:
        raise ValueError("no stored runs to report on")
    paths = []
    for name, text in (
        ("report.md", render_markdown(sections, generated_at)),
        ("report.html", render_html(sections, generated_at)),
    ):
        path = out_dir / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
        paths.append(path)
    return paths[0], paths[1]
