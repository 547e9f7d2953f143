import hashlib
from pathlib import Path

import pytest

from assistant.llm.model_files import (
    TEST_MODEL,
    ModelError,
    ModelHashMismatch,
    ModelSpec,
    find_installed,
    get_spec,
    install_model,
    require_installed,
)


def _parts(tmp_path: Path, contents: list[bytes]) -> list[Path]:
    paths = []
    for number, content in enumerate(contents, start=1):
        path = tmp_path / f"part{number}.bin"
        path.write_bytes(content)
        paths.append(path)
    return paths


def _spec(parts: list[Path], sha256: str) -> ModelSpec:
    return ModelSpec(
        model_id="tiny",
        filename="tiny.gguf",
        sha256=sha256,
        size_bytes=0,
        licence="Apache-2.0",
        upstream="test",
        quantization="none",
        part_paths=lambda: parts,
    )


def test_parts_are_concatenated_in_order_and_verified(tmp_path: Path) -> None:
    parts = _parts(tmp_path, [b"GGUF-head", b"-middle-", b"tail"])
    expected = hashlib.sha256(b"GGUF-head-middle-tail").hexdigest()
    models_dir = tmp_path / "models"
    installed = install_model(_spec(parts, expected), models_dir)
    assert installed.path.read_bytes() == b"GGUF-head-middle-tail"
    assert installed.sha256 == expected
    assert find_installed(_spec(parts, expected), models_dir) == installed


def test_wrong_hash_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    parts = _parts(tmp_path, [b"corrupted", b"part"])
    wrong = "0" * 64
    models_dir = tmp_path / "models"
    with pytest.raises(ModelHashMismatch) as excinfo:
        install_model(_spec(parts, wrong), models_dir)
    message = str(excinfo.value)
    actual = hashlib.sha256(b"corruptedpart").hexdigest()
    assert str(models_dir / "tiny.gguf") in message
    assert wrong in message and actual in message
    assert list(models_dir.iterdir()) == []


def test_a_modified_model_file_is_no_longer_trusted(tmp_path: Path) -> None:
    parts = _parts(tmp_path, [b"abc"])
    spec = _spec(parts, hashlib.sha256(b"abc").hexdigest())
    models_dir = tmp_path / "models"
    installed = install_model(spec, models_dir)
    installed.path.write_bytes(b"abd-tampered")
    assert find_installed(spec, models_dir) is None


def test_unknown_model_and_missing_install_have_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"unknown model 'gpt-x'"):
        get_spec("gpt-x")
    with pytest.raises(ModelError, match=r"devia models install --model qwen2\.5-coder-0\.5b"):
        require_installed(TEST_MODEL, tmp_path)


@pytest.mark.model
def test_bundled_test_model_assembles_to_the_published_hash(tmp_path: Path) -> None:
    installed = install_model(get_spec(TEST_MODEL), tmp_path)
    assert installed.sha256 == get_spec(TEST_MODEL).sha256
    assert installed.path.read_bytes()[:4] == b"GGUF"
