"""`devia demo generate` refuses to write into a folder it did not generate."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from api.cli.demo_cmd import app


def test_generate_refuses_a_foreign_non_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_text("precious")
    result = CliRunner().invoke(app, ["generate", "--out", str(tmp_path), "--overwrite"])
    assert result.exit_code == 2
    assert "refusing" in result.output
    assert (tmp_path / "thesis.docx").read_text() == "precious"
