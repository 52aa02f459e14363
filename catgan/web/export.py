"""`catgan export-web`: a generator as a static web page that runs in the browser, as the first seed's demo.

The folder holds index.html and app.js (from catgan/web/page), the generator as model.onnx, model.json
(latent size, the Latent sliders' fixed 3 x latent matrix, the card's summary) and ONNX Runtime Web's
WebAssembly build (installed from npm into catgan/web/node_modules by the README's commands). Nothing
is fetched from elsewhere, so any static file server works, `python -m http.server` included.
"""
from __future__ import annotations

import io
import json
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import torch

from catgan import latent
from catgan.catalogue import read_json
from catgan.generator import LoadedGenerator, load_generator
from catgan.io import atomic_dir

HERE = Path(__file__).resolve().parent
PAGE = HERE / "page"
RUNTIME = HERE / "node_modules" / "onnxruntime-web" / "dist"
RUNTIME_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
OPSET = 17


class WebExportError(RuntimeError):
    pass


class _Pixels(torch.nn.Module):
    """z (and a conditional model's label vectors c) -> RGB values 0..255 (float, N x 3 x H x W) at the
    model's resolution, its sampling settings fixed. A model with a mapping network takes psi as well (a
    1-element input): mapping, truncation and synthesis in one graph, so the page's seeds name the same z
    as the app's."""

    def __init__(self, g: LoadedGenerator):
        super().__init__()
        self.net, self.kwargs, self.resolution = g.net, dict(g.meta.get("sample_kwargs", {})), g.resolution
        self.w_space, self.conditional = g.space == "w", g.labels is not None

    def forward(self, z, *rest):
        c = rest[0] if self.conditional else None
        if self.w_space:
            psi = rest[-1]
            x = self.net.synthesis(self.net.truncate(self.net.map(z, c), psi))
        else:
            x = self.net(z, c, **self.kwargs) if self.conditional else self.net(z, **self.kwargs)
        x = x.float()
        if x.shape[-1] != self.resolution:
            x = torch.nn.functional.interpolate(x, size=self.resolution, mode="nearest")
        return (x.clamp(-1, 1) + 1) * 127.5


def _inputs(g: LoadedGenerator) -> tuple[tuple, list[str]]:
    """The graph's example inputs and their names: z, a conditional model's c, and psi for a model with W."""
    args, names = [torch.zeros(1, g.latent_dim)], ["z"]
    if g.labels is not None:
        args.append(torch.zeros(1, g.labels.dim).index_fill_(1, torch.tensor([0]), 1.0))
        names.append("c")
    if g.space == "w":
        args.append(torch.ones(1))
        names.append("psi")
    return tuple(args), names


def runtime_files() -> list[Path]:
    missing = [f for f in RUNTIME_FILES if not (RUNTIME / f).exists()]
    if missing:
        raise WebExportError(f"ONNX Runtime Web is not installed ({', '.join(missing)} missing from {RUNTIME}); "
                             f"run `npm ci --prefix {HERE}` (python3 dev.py app does it when npm is present)")
    return [RUNTIME / f for f in RUNTIME_FILES]


def onnx_bytes(g: LoadedGenerator) -> bytes:
    """The generator as ONNX (opset 17, any batch size)."""
    net = _Pixels(g).eval().to("cpu")
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            # torch calls the TorchScript exporter legacy; the newer one needs onnxscript, which this
            # project does not install, and this one handles every family's net (REFERENCE section 14)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", torch.jit.TracerWarning)    # shapes are fixed here, batch aside
            args, names = _inputs(g)
            torch.onnx.export(net, args, buf, dynamo=False, opset_version=OPSET,
                              input_names=names, output_names=["rgb"],
                              dynamic_axes={n: {0: "batch"} for n in [*names, "rgb"] if n != "psi"})
    except Exception as e:       # the exporter raises many kinds; the user needs to know which net failed
        raise WebExportError(f"{g.path}: the {g.family} generator could not be exported to ONNX "
                             f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})") from e
    return buf.getvalue()


def page_info(g: LoadedGenerator, name: str, card: dict) -> dict:
    quality = card.get("quality", {})
    return {"name": name, "family": g.family, "resolution": g.resolution, "latent_dim": g.latent_dim,
            "w_space": g.space == "w", "psi": _recommended_psi(g),
            "labels": g.labels.to_json() if g.labels is not None else None,     # attributes and the data's mix
            "projection_seed": latent.PROJECTION_SEED,
            "projection": latent.projection(g.latent_dim).round(7).tolist(),
            "summary": card.get("summary") or f"{g.family.upper()} · {g.meta.get('step', 0):,} steps",
            "metrics": {k: quality.get(k) for k in ("sticker fd", "pose×item coverage", "memorised",
                                                     "efficientnet fd") if quality.get(k) is not None}}


def _recommended_psi(g: LoadedGenerator) -> float:
    """The page's starting psi for a model with W: the one its eval recommends, else 1."""
    from catgan.audit.truncation import recommended_scale
    return recommended_scale(read_json(g.path.parent / "eval.json")) if g.space == "w" else 1.0


def export_web(model: str | Path, out: str | Path) -> dict:
    """Write the static page for a model file into `out` (all at once: a failure leaves no half folder)."""
    model, out = Path(model), Path(out)
    runtime = runtime_files()
    g = load_generator(model, device="cpu")
    card_path = model.parent / "card.json"
    card = json.loads(card_path.read_text()) if card_path.exists() else {}
    name = model.parent.name if model.name == "model.safetensors" else model.stem
    blob = onnx_bytes(g)
    with atomic_dir(out) as tmp:
        for f in ("index.html", "app.js"):
            shutil.copy2(PAGE / f, tmp / f)
        (tmp / "ort").mkdir()
        for f in runtime:
            shutil.copy2(f, tmp / "ort" / f.name)
        (tmp / "model.onnx").write_bytes(blob)
        (tmp / "model.json").write_text(json.dumps(page_info(g, name, card)))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return {"out": str(out), "files": sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()),
            "bytes": size, "model_bytes": len(blob)}


def export_web_zip(model: str | Path) -> bytes:
    """The same folder as one zip (the app's download button)."""
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d) / "page"
        export_web(model, folder)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    z.write(p, p.relative_to(folder).as_posix())
        return buf.getvalue()
