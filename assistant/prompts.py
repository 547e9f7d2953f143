"""Versioned prompt files, loaded by name.

Prompts live in the top-level `prompts/` folder as `<name>.v<N>.md`; no prompt text is kept in
Python modules. `load_prompt("draft_root_cause")` returns the highest version present (or the
version asked for), with its sha256 so a draft's provenance can name exactly what was sent.
Placeholders use `$name` (string.Template): JSON braces in a prompt need no escaping, and a
missing value is an error, never a silently empty slot.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

DEFAULT_PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"
_FILE = re.compile(r"^(?P<name>[a-z0-9_]+)\.v(?P<version>\d+)\.md$")


class PromptNotFoundError(LookupError):
    """No prompt file of that name (and version) in the prompts folder."""


@dataclass(frozen=True)
class Prompt:
    name: str
    version: int
    text: str
    sha256: str

    @property
    def ref(self) -> str:
        """`name.vN`: how provenance records refer to this prompt."""
        return f"{self.name}.v{self.version}"

    def render(self, **values: object) -> str:
        return Template(self.text).substitute({k: str(v) for k, v in values.items()})


@cache
def _versions(prompts_dir: Path) -> dict[str, dict[int, Path]]:
    found: dict[str, dict[int, Path]] = {}
    if not prompts_dir.is_dir():
        return found
    for path in prompts_dir.iterdir():
        match = _FILE.match(path.name)
        if match:
            found.setdefault(match["name"], {})[int(match["version"])] = path
    return found


def load_prompt(
    name: str, version: int | None = None, prompts_dir: Path = DEFAULT_PROMPTS_DIR
) -> Prompt:
    """The prompt `name` at `version` (default: the highest version in `prompts_dir`)."""
    versions = _versions(prompts_dir.resolve())
    if name not in versions:
        raise PromptNotFoundError(f"no prompt named {name!r} in {prompts_dir}")
    chosen = max(versions[name]) if version is None else version
    path = versions[name].get(chosen)
    if path is None:
        raise PromptNotFoundError(
            f"prompt {name!r} has no version {chosen} in {prompts_dir} "
            f"(versions: {sorted(versions[name])})"
        )
    raw = path.read_bytes()
    return Prompt(name, chosen, raw.decode("utf-8"), hashlib.sha256(raw).hexdigest())
