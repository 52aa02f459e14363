"""docs/benchmarks.md from bench/results/*.json: one table per CPU kind, every row as the bench wrote it.

    python -m bench.page            # rewrite the page
    python -m bench.page --check    # exit 1 if the page is not what the results say
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PAGE = ROOT / "docs" / "benchmarks.md"

HOW = """\
`python3 dev.py bench` (or `python -m bench --only GROUP ...`) prints every figure with its target, first
naming the CPU kind (PyTorch's CPU capability and whether bf16 is native), and writes the rows to
`bench/results/<capability>-<CPU model>.json`; `--only` replaces that group's rows and keeps the rest.
Run it on a quiet machine. `ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2 MKL_ENABLE_INSTRUCTIONS=AVX2`
limits an AVX-512 machine to AVX2 (an emulation: same cores, fewer instructions); its rows go to
`<capability>-emulated.json`.

Groups: `dataset`, `generators` (one image, an 8x8 grid, a morph GIF per shipped model), `features`,
`neighbours`, `training` (every family's step in the precision `auto` picks, its FLOPs counted per
operator with torch's formulas, a lazy penalty averaged over its interval, against the measured fp32
matmul peak, so bf16 and well-fused convolutions can exceed 1), `pgwgan_step`, `quality` (a quality point
against the training it interrupts), `detect` (one detector fit), `peer` (the classic PyTorch DCGAN
example's loop, `bench/peer_dcgan.py`, on the same data), `app` (AppTest page timings), `web` and `tour`
(every page of the real app from an empty cache in chromium).

This page is generated: `python -m bench.page` rewrites it from the results files."""


def _fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _verdict(row: dict) -> str:
    return {True: "pass", False: "**fail**"}.get(row.get("pass"), "")


def render() -> str:
    parts = ["# Benchmarks", "", HOW, ""]
    for path in sorted(RESULTS.glob("*.json")):
        data = json.loads(path.read_text())
        m = data.get("machine", {})
        limited = m.get("isa_limited_by")
        parts += [f"## {path.stem}", "",
                  f"{m.get('cpu_model', '?')}, CPU capability {m.get('cpu_capability', '?')}, bf16 native: "
                  f"{m.get('bf16_native', '?')}, {m.get('cores', '?')} cores, {m.get('threads', '?')} threads, "
                  f"torch {m.get('torch', '?')}" + (f"; instruction set limited by {limited}" if limited else "")
                  + f" (`{path.relative_to(ROOT).as_posix()}`)", "",
                  "| figure | value | unit | target | | note |", "|---|---|---|---|---|---|"]
        for r in data.get("rows", []):
            parts.append(f"| {r['name']} | {_fmt(r.get('value'))} | {r.get('unit', '')} | {_fmt(r.get('target'))} | "
                         f"{_verdict(r)} | {r.get('note', '')} |")
        parts.append("")
    return "\n".join(parts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if the page differs from the results")
    a = ap.parse_args()
    text = render()
    if a.check:
        current = PAGE.read_text() if PAGE.exists() else ""
        if current != text:
            print(f"{PAGE} is out of date: run python -m bench.page", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(text)
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
