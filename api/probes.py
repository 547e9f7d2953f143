"""Readiness probes: small callables the app factory receives (the lead wires real ones).

The defaults only check that files exist: the index folder and the configured model file.
"""

from __future__ import annotations

from pathlib import Path

from api.settings import Settings
from api.state import Probe, ProbeResult


def path_exists_probe(path: Path, what: str) -> Probe:
    def probe() -> ProbeResult:
        if path.exists():
            return ProbeResult(True, f"{what} present at {path}")
        return ProbeResult(False, f"{what} missing at {path}")

    return probe


def model_probe(settings: Settings) -> Probe:
    def probe() -> ProbeResult:
        if settings.llm_backend != "llamacpp":
            return ProbeResult(True, f"{settings.llm_backend} backend: no local model file")
        from assistant.llm.model_files import ModelError, find_installed, get_spec

        try:
            installed = find_installed(get_spec(settings.llm_model), settings.models_dir)
        except ModelError as exc:
            return ProbeResult(False, str(exc))
        if installed is None:
            return ProbeResult(
                False, f"model {settings.llm_model} not installed: devia models install"
            )
        return ProbeResult(True, f"model {settings.llm_model} at {installed.path}")

    return probe


def default_probes(settings: Settings) -> dict[str, Probe]:
    probes: dict[str, Probe] = {"model": model_probe(settings)}
    if settings.index == "edge":
        probes["index"] = path_exists_probe(settings.index_dir, "index folder")
    return probes
