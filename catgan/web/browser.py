"""The real app and exported pages in Debian's chromium: what the browser tests and the bench share.

Nothing in catgan imports this; it needs playwright (requirements-dev.txt) only when a browser starts.
"""
from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
# as root, headless, and without the background connections this closed network refuses
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
# What counts as a page's own content below its title: a picture, a chart, a control to use, or the
# progress of a background job it waits on
FIRST_CONTENT = ", ".join(f"[data-testid='{t}']" for t in (
    "stImage", "stProgress", "stForm", "stMetric", "stAlert", "stVegaLiteChart", "stFileUploader",
    "stMultiSelect", "stSelectbox", "stSlider", "stNumberInput"))


def open_from_sidebar(page, name: str) -> None:
    """Click a page's sidebar link and wait for its title (a label's "?" is not in the title)."""
    page.locator("[data-testid='stSidebarNav'] a").filter(has_text=name).first.click()
    page.locator("h1", has_text=name.rstrip("?")).first.wait_for()


def sidebar_labels(page) -> list[str]:
    return [n.strip() for n in page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()]


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_app(env: dict, log_path: str | Path):
    """The app as `python3 dev.py app` starts it (serve.py: `streamlit run app.py` with warm imports) on a
    free port with `env` added; yields its URL once it answers."""
    port = _free_port()
    with open(log_path, "wb") as log:
        server = subprocess.Popen([sys.executable, "serve.py", "--server.headless=true",
                                   f"--server.port={port}", "--browser.gatherUsageStats=false"],
                                  cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(120):
                try:
                    if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                        break
                except OSError:
                    time.sleep(0.5)
            else:
                raise RuntimeError(f"streamlit did not start; see {log_path}")
            yield url
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:     # a page's background work held it up: end it
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
