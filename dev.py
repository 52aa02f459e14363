#!/usr/bin/env python3
"""One-command set-up: `python3 dev.py app` starts the app, `python3 dev.py test` runs every test.

Creates .venv on first use and reinstalls only when a requirements file changes.
"""
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def ensure_env(requirements: str) -> None:
    text = b"".join((ROOT / f).read_bytes() for f in ("requirements.txt", requirements, "pyproject.toml"))
    stamp = VENV / f".installed-{hashlib.sha256(text).hexdigest()[:12]}"
    if stamp.exists():
        return
    if not (BIN / "python").exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
    pip = [str(BIN / "python"), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
    subprocess.check_call(pip + ["-r", str(ROOT / requirements)])
    subprocess.check_call(pip + ["--no-deps", "-e", str(ROOT)])      # the `catgan` command
    stamp.touch()


def ensure_web_runtime() -> None:
    """ONNX Runtime Web for `catgan export-web`, from npm (catgan/web/package-lock.json), once."""
    web = ROOT / "catgan" / "web"
    if (web / "node_modules" / "onnxruntime-web" / "dist").exists():
        return
    if shutil.which("npm") is None:
        print("dev.py: npm not found, so web export is unavailable (install Node.js and npm, then rerun)")
        return
    subprocess.check_call(["npm", "ci", "--prefix", str(web), "--no-audit", "--no-fund", "--ignore-scripts",
                           "--loglevel=error"])


def main() -> int:
    what = sys.argv[1] if len(sys.argv) > 1 else ""
    extra = sys.argv[2:]
    os.chdir(ROOT)
    if what == "app":
        ensure_env("requirements.txt")
        ensure_web_runtime()
        return subprocess.call([str(BIN / "python"), "serve.py", *extra])      # streamlit run app.py, warmed
    if what == "test":
        ensure_env("requirements-dev.txt")
        ensure_web_runtime()
        return subprocess.call([str(BIN / "python"), "-m", "pytest", "-q", *extra])
    if what == "bench":
        ensure_env("requirements-dev.txt")
        return subprocess.call([str(BIN / "python"), "-m", "bench", *extra])
    print("usage: python3 dev.py app | test | bench   (extra arguments go to streamlit / pytest / bench)")
    return 2


if __name__ == "__main__":
    sys.exit(main())
