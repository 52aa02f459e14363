"""The README and docs/ as a user meets them: short, the two commands first, every command runs, every link
resolves, and the benchmark page says what the results files say."""
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]


def _code_lines(text: str) -> list[str]:
    lines, inside = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            inside = not inside
        elif inside and line.strip():
            lines.append(line.split("  #")[0].strip())
    return lines


def test_the_readme_is_a_short_guide_that_starts_with_the_two_commands():
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    assert _code_lines(text)[:2] == ["python3 dev.py app", "python3 dev.py test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 dev.py test" in ci                        # CI runs the README's test command


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_file_a_doc_links_exists(doc):
    for target in re.findall(r"\]\(([^)\s]+)\)", doc.read_text()):
        if "://" in target or target.startswith("#") or "?" in target:
            continue
        assert (doc.parent / target.split("#")[0]).exists(), f"{doc.name} links {target}, which does not exist"


def _catgan_commands() -> list[list[str]]:
    out = []
    for line in _code_lines(README.read_text()):
        if line.startswith(".venv/bin/python -m catgan "):
            out.append(shlex.split(line)[3:])
    return out


def test_every_catgan_command_the_readme_shows_parses_and_answers_help():
    from catgan.cli import build_parser
    commands = _catgan_commands()
    assert len(commands) >= 15
    parser = build_parser()
    for words in commands:
        if words[0] == "sweep":                       # the rest are `catgan train` arguments, as cli.main reads them
            _, base = parser.parse_known_args(words)
            parser.parse_args(["train", *base, "--out", "-"])
        else:
            parser.parse_args(words)                  # the arguments as shown are valid
        sub = words[:2] if words[0] == "prepare" else words[:1]
        with pytest.raises(SystemExit) as done:
            parser.parse_args([*sub, "--help"])
        assert done.value.code == 0


def test_every_script_the_readme_shows_answers_help():
    scripts = {shlex.split(line)[1] for line in _code_lines(README.read_text())
               if line.startswith(".venv/bin/python scripts/")}
    assert scripts
    for script in scripts:
        r = subprocess.run([sys.executable, script, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert r.returncode == 0 and "usage" in r.stdout.lower(), r.stderr


def test_the_benchmark_page_is_generated_from_the_results():
    r = subprocess.run([sys.executable, "-m", "bench.page", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    for results in (ROOT / "bench" / "results").glob("*.json"):
        assert f"## {results.stem}" in page
