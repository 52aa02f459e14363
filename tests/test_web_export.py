"""`catgan export-web`: the static page, its errors, and the page itself in Debian's chromium."""
import functools
import http.server
import json
import os
import threading

import numpy as np
import torch
import pytest

from catgan import load_generator
from catgan.web import export as web
from catgan.web.browser import CHROMIUM
from conftest import ROOT

SHIPPED = {f: ROOT / "checkpoints" / f"{f}-stickers64" / "model.safetensors" for f in ("dcgan", "began", "pgwgan", "stylegan2")}
needs_runtime = pytest.mark.skipif(not all((web.RUNTIME / f).exists() for f in web.RUNTIME_FILES),
                                   reason="ONNX Runtime Web is not installed (npm ci --prefix catgan/web)")


@needs_runtime
def test_the_folder_holds_the_page_the_model_and_the_runtime(tmp_path):
    info = web.export_web(SHIPPED["dcgan"], tmp_path / "site")
    assert {"index.html", "app.js", "model.onnx", "model.json", "ort/ort.wasm.min.js"} <= set(info["files"])
    meta = json.loads((tmp_path / "site" / "model.json").read_text())
    from catgan.latent import projection
    assert meta["name"] == "dcgan-stickers64" and meta["latent_dim"] == 100 and meta["resolution"] == 64
    assert np.allclose(meta["projection"], projection(100), atol=1e-6)
    assert "sticker fd" in meta["metrics"] and "M images" in meta["summary"]
    html = (tmp_path / "site" / "index.html").read_text() + (tmp_path / "site" / "app.js").read_text()
    assert "http://" not in html and "https://" not in html          # nothing fetched from elsewhere


@pytest.mark.parametrize("family", list(SHIPPED))
def test_onnx_runtime_draws_what_torch_draws_for_any_batch(family):
    ort = pytest.importorskip("onnxruntime")
    g = load_generator(SHIPPED[family], device="cpu")
    session = ort.InferenceSession(web.onnx_bytes(g), providers=["CPUExecutionProvider"])
    for n in (1, 5):
        z = np.random.default_rng(11).standard_normal((n, g.latent_dim)).astype(np.float32)
        feeds = {"z": z, **({"psi": np.ones(1, np.float32)} if g.space == "w" else {})}
        rgb = session.run(None, feeds)[0]
        assert rgb.shape == (n, 3, 64, 64)
        assert np.abs(np.round(rgb) - g.generate(g.from_z(z)).transpose(0, 3, 1, 2)).max() <= 1


def test_a_broken_model_is_named_and_an_existing_folder_is_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(web, "runtime_files", lambda: [])
    bad = tmp_path / "model.safetensors"
    bad.write_bytes(b"\x00" * 64)
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "keep.txt").write_text("mine")
    with pytest.raises(Exception, match="model.safetensors"):
        web.export_web(bad, tmp_path / "site")
    assert (tmp_path / "site" / "keep.txt").read_text() == "mine"


def test_a_net_that_cannot_be_exported_says_which_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(web, "runtime_files", lambda: [])

    def fail(*a, **k):
        raise RuntimeError("Unsupported: aten::made_up")
    monkeypatch.setattr(web.torch.onnx, "export", fail)
    with pytest.raises(web.WebExportError, match="dcgan generator could not be exported.*made_up"):
        web.export_web(SHIPPED["dcgan"], tmp_path / "site")
    assert not (tmp_path / "site").exists() and not list(tmp_path.glob(".site*"))


def test_a_missing_runtime_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(web, "RUNTIME", tmp_path / "nowhere")
    with pytest.raises(web.WebExportError, match="npm ci"):
        web.export_web(SHIPPED["dcgan"], tmp_path / "site")


# --- in the browser --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Every shipped family exported and served by Python's own static file server."""
    if not os.path.exists(CHROMIUM):
        pytest.skip("browser tests need Debian's chromium: apt-get install -y chromium")    # before exporting
    if not all((web.RUNTIME / f).exists() for f in web.RUNTIME_FILES):
        pytest.skip("ONNX Runtime Web is not installed (npm ci --prefix catgan/web)")
    root = tmp_path_factory.mktemp("sites")
    for family, path in SHIPPED.items():
        web.export_web(path, root / family)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()


def _open(browser, url):
    page = browser.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.wait_for_function("window.catganReady === true || window.catganError !== undefined")
    assert page.evaluate("window.catganError") is None, page.evaluate("window.catganError")
    return page


def _pixels(page, canvas):
    return np.array(page.evaluate(f"""() => {{ const c = document.querySelector('{canvas}');
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }}"""), np.int16)


@pytest.mark.parametrize("family", list(SHIPPED))
def test_the_page_draws_torchs_pixels_moves_with_a_slider_and_builds_corners(served, browser, family):
    url, _ = served
    page = _open(browser, f"{url}/{family}/")
    g = load_generator(SHIPPED[family], device="cpu")
    z = np.random.default_rng(7).standard_normal((1, g.latent_dim)).astype(np.float32)   # the page takes z
    page.evaluate("z => window.catganRender(z)", z[0].tolist())
    rgba = _pixels(page, "#probe").reshape(64, 64, 4)
    assert np.abs(rgba[..., :3] - g.generate(g.from_z(z))[0]).max() <= 2        # within 2/255 of torch
    assert page.locator("#batch canvas").count() == 16
    before = _pixels(page, "#slider-image")
    page.locator("#a").fill("1.5")                                         # fires input on a range
    page.wait_for_function("document.querySelector('#a-value').textContent === '1.50'")
    page.wait_for_timeout(300)
    assert np.abs(_pixels(page, "#slider-image") - before).max() > 0
    page.locator("#grid-size").fill("4")
    page.locator("#grid-size").dispatch_event("change")
    page.wait_for_function("document.querySelectorAll('#corner-grid canvas').length === 16")
    assert page.evaluate("window.catganTimings.firstBatchMs") < 3000
    page.close()


@pytest.mark.parametrize("model", ["dcgan", "stylegan2"])
def test_a_conditional_model_exports_with_its_label_input_within_1e4_of_torch(model, tiny_cfg):
    ort = pytest.importorskip("onnxruntime")
    from catgan.train.trainer import CHECKPOINT, train
    cfg = tiny_cfg(model, steps=2, cond="labels")
    train(cfg)
    g = load_generator(f"{cfg.out}/{CHECKPOINT}", device="cpu")
    session = ort.InferenceSession(web.onnx_bytes(g), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["z", "c"] + (["psi"] if g.space == "w" else [])
    z = np.random.default_rng(3).standard_normal((5, g.latent_dim)).astype(np.float32)
    c = g.label_vectors(5, seed=3).numpy()
    rgb = session.run(None, {"z": z, "c": c, **({"psi": np.ones(1, np.float32)} if g.space == "w" else {})})[0]
    with torch.no_grad():
        x = g.net(torch.from_numpy(z), torch.from_numpy(c), **g.meta.get("sample_kwargs", {})).float()
    torch_rgb = ((x.clamp(-1, 1) + 1) * 127.5).numpy()
    assert np.abs(rgb - torch_rgb).max() / 127.5 <= 1e-4                          # within 1e-4 of the [-1, 1] range
    info = web.page_info(g, "tiny", {})
    assert info["labels"]["attributes"]["pose"][0] == "sitting" and len(info["labels"]["mix"]) > 1


def test_the_page_of_a_conditional_model_draws_the_kind_asked_for(served, browser, tiny_cfg):
    from catgan.checkpoint import load_checkpoint, save_checkpoint
    from catgan.train.trainer import CHECKPOINT, train
    url, root = served
    cfg = tiny_cfg("stylegan2", steps=2, cond="labels")
    train(cfg)
    path = f"{cfg.out}/{CHECKPOINT}"
    tensors, meta = load_checkpoint(path)        # label weights of a trained model's size (they start at zero)
    for key in [k for k in tensors if k.endswith("embed.into.weight")]:
        tensors[key] = torch.randn(tensors[key].shape, generator=torch.Generator().manual_seed(0))
    save_checkpoint(path, tensors, meta)
    web.export_web(path, root / "cond")
    page = _open(browser, f"{url}/cond/")
    assert page.locator("#kind select").count() == 4 and page.locator("#kind-row").is_visible()
    g = load_generator(path, device="cpu")
    z = np.random.default_rng(7).standard_normal((1, g.latent_dim)).astype(np.float32)
    c = g.labels.vectors([[4, 5, 1, 1]])                      # sleeping, cup, orange, closed
    page.evaluate("([z, c]) => window.catganRender(z, c)", [z[0].tolist(), c[0].tolist()])
    rgba = _pixels(page, "#probe").reshape(32, 32, 4)
    assert np.abs(rgba[..., :3] - g.generate(g.from_z(z, rows=np.array([[4, 5, 1, 1]])))[0]).max() <= 2
    before = _pixels(page, "#batch canvas:first-child")
    page.locator("#kind-pose").select_option(label="sleeping")
    page.wait_for_function("""b => { const c = document.querySelector('#batch canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return d.some((v, i) => v !== b[i]); }""", arg=before.tolist())
    page.close()
