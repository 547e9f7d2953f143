"""The SBOM (`make sbom`: CycloneDX JSON of the environment installed from requirements.lock)
lists every pinned package at its pinned version, plus llama-cpp-python where it is built."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = PIN.match(line.strip())
        if match:
            pins[normalized(match.group(1))] = match.group(2)
    return pins


def test_make_sbom_target_runs_cyclonedx_on_the_environment() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^sbom:", makefile, re.M)
    assert "cyclonedx-py environment $(BIN)/python" in makefile


def test_sbom_lists_every_pinned_package(tmp_path: Path) -> None:
    out = tmp_path / "sbom.cdx.json"
    # The command of `make sbom` (run here without its install prerequisite).
    subprocess.run(
        [
            str(Path(sys.executable).parent / "cyclonedx-py"),
            "environment",
            sys.executable,
            "--pyproject",
            str(ROOT / "pyproject.toml"),
            "--of",
            "JSON",
            "--output-reproducible",
            "--validate",
            "-o",
            str(out),
        ],
        check=True,
        timeout=900,
        capture_output=True,
    )
    bom = json.loads(out.read_text())
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"].startswith("1.")
    assert bom["metadata"]["component"]["name"] == "devia"
    components = {normalized(c["name"]): c for c in bom["components"]}
    pins = locked()
    assert len(pins) > 100
    missing = sorted(n for n in pins if n not in components)
    assert not missing, f"pinned but not in the SBOM: {missing}"
    wrong = {
        n: (v, components[n]["version"]) for n, v in pins.items() if components[n]["version"] != v
    }
    assert not wrong, f"SBOM versions differ from the lock: {wrong}"
    for name, version in pins.items():
        purl = components[name]["purl"]
        assert purl.startswith("pkg:pypi/"), purl
        purl_name, _, purl_version = unquote(purl.removeprefix("pkg:pypi/")).partition("@")
        assert normalized(purl_name) == name and purl_version.startswith(version), purl
    licensed = [c for c in bom["components"] if c.get("licenses")]
    assert len(licensed) > len(pins) // 2, "licences are missing from most components"
