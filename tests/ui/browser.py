"""Headless Debian Chromium driven by Playwright (never a browser Playwright downloads), and
the accessibility check (vendored axe-core) every page visited must pass."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"
# Without the background-networking flags Chromium keeps calling home on a closed network.
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
BLOCKING_IMPACTS = ("serious", "critical")


@contextmanager
def chromium() -> Iterator[Browser]:
    """Playwright gives every launch a fresh temporary profile (--user-data-dir)."""
    if not CHROMIUM.is_file():
        raise RuntimeError(f"{CHROMIUM} is missing: run `make browser` (Debian's chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's WCAG 2 A/AA rules on the page as it is now; serious and critical only."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP (script-src 'self') stays on.
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;undefined")
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {
                runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']},
                resultTypes: ['violations'],
            });
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ')),
            }));
        }"""
    )
    return [v for v in result if v["impact"] in BLOCKING_IMPACTS]


def assert_accessible(page: Page, name: str) -> None:
    violations = accessibility_violations(page)
    assert not violations, f"{name}: accessibility violations\n" + json.dumps(violations, indent=1)
