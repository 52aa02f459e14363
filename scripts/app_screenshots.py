"""The README's pictures of the app: one page of each sidebar group, from the real app in chromium.

    .venv/bin/python scripts/app_screenshots.py            # writes docs/app-explore.png, app-audit.png, app-train.png
"""
import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from catgan.web.browser import launch, open_from_sidebar, serve_app  # noqa: E402

SHOTS = {"app-explore.png": None, "app-audit.png": "Report card", "app-train.png": "Training"}


def settle(page):
    """Connected, no script running, then a moment for images to paint."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']")
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stStatusWidget']\")", timeout=120_000)
    page.wait_for_timeout(1500)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "docs"))
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright
    with serve_app({}, Path(a.out) / ".screenshots-server.log") as url, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(url)
        page.wait_for_selector("[data-testid='stImage']", timeout=120_000)
        for name, title in SHOTS.items():
            if title:
                open_from_sidebar(page, title)
            settle(page)
            page.screenshot(path=str(Path(a.out) / name))
            print(f"wrote {Path(a.out) / name}")
        browser.close()
    (Path(a.out) / ".screenshots-server.log").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
