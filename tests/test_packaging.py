"""A plain (non-editable) install carries every file the package reads at run time."""
import fnmatch
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")   # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
NOT_SHIPPED = {"__pycache__", "node_modules"}


def test_every_data_file_in_the_package_matches_a_package_data_rule():
    rules = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    data_files = [p for p in (ROOT / "catgan").rglob("*")
                  if p.is_file() and p.suffix != ".py" and not NOT_SHIPPED & set(p.parts)]
    assert data_files, "the package has data files (the sticker space's weights, the shipped ladder)"
    folders = {pkg: ROOT / pkg.replace(".", "/") for pkg in rules}
    unmatched = [path.relative_to(ROOT).as_posix() for path in data_files
                 if not any(fnmatch.fnmatch(path.relative_to(folder).as_posix(), glob)
                            for pkg, folder in folders.items() if path.is_relative_to(folder)
                            for glob in rules[pkg])]
    assert not unmatched, f"add these to [tool.setuptools.package-data] in pyproject.toml: {unmatched}"
