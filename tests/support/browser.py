"""What the browser tests share: Debian's Chromium driven by Playwright, the two widths every page is
read at, the layout checks, and axe-core injected into a page for its accessibility check.

CI installs Chromium (.ci/run) and `make test` installs axe-core (`npm ci` in tests/browser); on a
developer machine without them the tests are skipped, never in CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "tests" / "browser" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP, PHONE = 1280, 390
WIDTHS = [DESKTOP, PHONE]
# Touch targets: the stylesheet's minimum, above WCAG 2.2's 24 px (2.5.8).
MIN_TARGET_PX = 44

# Where the page is wider than the viewport, and which controls reach past it or are too small.
LAYOUT_PROBLEMS = """
(minTarget) => {
  const doc = document.documentElement;
  const width = doc.clientWidth;
  const problems = [];
  if (doc.scrollWidth > width) problems.push(`the page is ${doc.scrollWidth}px wide in ${width}px`);
  const controls = 'a, button, summary, textarea, select, input:not([type=hidden]), .scale label';
  for (const element of document.querySelectorAll(controls)) {
    if (element.matches('.skip, .scale input, .choice input')) continue;  // shown on focus; inside its label
    const box = element.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;  // folded away
    const name = `${element.tagName.toLowerCase()} "${element.textContent.trim().slice(0, 40)}"`;
    if (box.left < 0 || box.right > width) problems.push(`${name} spans ${box.left}..${box.right}px`);
    if (!element.matches('a') && box.height < minTarget) problems.push(`${name} is ${box.height}px high`);
  }
  return problems;
}
"""

# axe-core's run over the page, reduced to the violations that block or seriously hinder people.
AXE_RUN = """
async () => {
  const result = await axe.run(document, { resultTypes: ['violations'] });
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) }));
}
"""


def require_chromium() -> None:
    if Path(CHROMIUM).exists() or shutil.which("chromium"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium before the tests")
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); CI installs it")


def require_axe() -> None:
    if AXE.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{AXE} is missing: `make test` installs it (npm ci in tests/browser)")
    pytest.skip("axe-core is not installed: run `make test`, or `npm ci` in tests/browser")


def launch_chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser: Browser, width: int) -> BrowserContext:
    """A phone (390 px, touch) or a desktop window. The pages' policy allows no script, so the
    context lets the one the accessibility check injects run (`bypass_csp`); the pages use none."""
    if width == PHONE:
        return browser.new_context(
            viewport={"width": PHONE, "height": 844},
            is_mobile=True,
            has_touch=True,
            device_scale_factor=3,
            bypass_csp=True,
        )
    return browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)


def layout_problems(page: Page) -> list[str]:
    problems: list[str] = page.evaluate(LAYOUT_PROBLEMS, MIN_TARGET_PX)
    return problems


def serious_accessibility_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    violations: list[dict[str, Any]] = page.evaluate(AXE_RUN)
    return violations
