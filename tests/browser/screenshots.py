"""Screenshots of every console page at 1280 and 390 px, into docs/screenshots/ (`make screenshots`).

The app runs over loopback on the console's small seeded world (`tests.support.console`), as its
browser test does, in Debian's Chromium. Each shot is the viewport (not the full page), at one
device pixel per CSS pixel, so every PNG stays small.

    .venv/bin/python -m tests.browser.screenshots [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect

from sandbox.server import LoopbackServer
from service.api.app import create_app
from service.console import console_router
from service.portal import portal_router
from tests.support.api import make_settings
from tests.support.browser import DESKTOP, PHONE, launch_chromium
from tests.support.console import seed_console_world
from tests.support.fakes import RecordingEnqueuer

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
HEIGHTS = {DESKTOP: 900, PHONE: 844}


def _shoot(page: Page, out: Path, name: str, width: int) -> Path:
    path = out / f"console-{name}-{width}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def take(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []
    with tempfile.TemporaryDirectory(prefix="pmbridge-screenshots-") as tmp:
        settings = make_settings(Path(tmp))
        app = create_app(
            settings, enqueuer=RecordingEnqueuer(), extra_routers=[portal_router(), console_router()]
        )
        with LoopbackServer(app, lifespan=True) as server:
            seeded = seed_console_world(app.state.store)
            world = seeded.world
            base = server.base_url
            pages = {
                "today": "/console/",
                "flags": "/console/flags?state=open",
                "flag": f"/console/flags/{world.flags['ACME-item']}",
                "sources": "/console/sources",
                "remove-source": f"/console/sources/{seeded.spare_source_id}/remove",
                "rules": "/console/rules",
                "clients": "/console/clients",
                "view-as-client": f"/console/clients/{world.clients['acme']}/view",
                "feedback": "/console/feedback",
            }
            for browser in launch_chromium():
                for width in (DESKTOP, PHONE):
                    context = browser.new_context(
                        viewport={"width": width, "height": HEIGHTS[width]},
                        device_scale_factor=1,
                        is_mobile=width == PHONE,
                        has_touch=width == PHONE,
                    )
                    page = context.new_page()
                    page.goto(f"{base}/console/sign-in")
                    taken.append(_shoot(page, out, "sign-in", width))
                    page.get_by_label("Admin token").fill(world.admin_token)
                    page.get_by_role("button", name="Sign in").click()
                    expect(page.get_by_role("heading", name="Today", exact=True)).to_be_visible()
                    for name, path in pages.items():
                        response = page.goto(base + path)
                        if response is None or response.status != 200:
                            continue  # a page this build does not have
                        taken.append(_shoot(page, out, name, width))
                    page.goto(f"{base}/console/flags/{world.flags['GLOBEX-unpublished']}")
                    page.get_by_label("Wording for the client").fill(
                        "The launch may slip by a week; we will confirm on Friday."
                    )
                    page.get_by_role("button", name="Preview the publish").click()
                    taken.append(_shoot(page, out, "publish-preview", width))
                    context.close()
    return taken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    for path in take(args.out):
        print(f"{path} {path.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
