"""A family with a mapping network (StyleGAN2): seeds name z, the explorer works in W centred on w_avg."""
import numpy as np
import pytest
import torch

from catgan import load_generator
from catgan.train.trainer import CHECKPOINT, train


@pytest.fixture(scope="module")
def w_model(tmp_path_factory):
    from catgan.data.dataset import make_synthetic
    from catgan.train.trainer import TrainConfig
    from conftest import TINY
    root = tmp_path_factory.mktemp("w")
    ds = make_synthetic(root / "data", n=64, size=32, seed=2, progress=False)
    train(TrainConfig(model="stylegan2", data=str(ds.path), out=str(root / "run"), steps=6, resolution=32,
                      batch=8, threads=1, progress=False, overrides=dict(TINY["stylegan2"])))
    return root / "run" / CHECKPOINT


def test_seeds_name_z_and_the_explorer_latents_are_centred_w(w_model):
    g = load_generator(w_model, device="cpu")
    assert g.space == "w"
    z = torch.randn(3, g.latent_dim, generator=torch.Generator().manual_seed(9))
    with torch.no_grad():
        want = (g.net.map(z) - g.net.w_avg).numpy()
        images = ((g.net(z, psi=0.6).clamp(-1, 1) + 1) * 127.5).round().permute(0, 2, 3, 1).numpy()
    u = g.latents(9, 3)
    assert np.allclose(u, want, atol=1e-5)
    assert np.abs(g.generate(u * 0.6).astype(int) - images).max() <= 1          # scaling by psi is truncation
    mean_image = g.generate(np.zeros((1, g.latent_dim), np.float32))[0]
    assert np.abs(g.generate(g.latents(1, 1) * 0)[0].astype(int) - mean_image).max() == 0
    assert g.latent_shell() > 0 and abs(np.linalg.norm(u, axis=1).mean() / g.latent_shell() - 1) < 0.5


def test_a_seed_gives_the_same_image_on_every_load(w_model):
    a = load_generator(w_model, device="cpu").generate(load_generator(w_model, device="cpu").latents(5, 4))
    g = load_generator(w_model, device="cpu")
    assert np.array_equal(a, g.generate(g.latents(5, 4)))


def test_three_numbers_move_w_from_where_z_0_lands(w_model):
    g = load_generator(w_model, device="cpu")
    assert np.allclose(g.from_three([0, 0, 0]), 0)
    base = g.latents(3, 1)[0]
    assert np.allclose(g.from_three([1, -1, 0.5], base) - base, g.from_three([1, -1, 0.5]), atol=1e-6)


def test_onnx_takes_z_and_psi_within_1e_4_of_torch(w_model):
    ort = pytest.importorskip("onnxruntime")
    from catgan.web import export as web
    g = load_generator(w_model, device="cpu")
    session = ort.InferenceSession(web.onnx_bytes(g), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["z", "psi"]
    z = torch.randn(5, g.latent_dim, generator=torch.Generator().manual_seed(4))
    for psi in (1.0, 0.5):
        rgb = session.run(None, {"z": z.numpy(), "psi": np.array([psi], np.float32)})[0]
        with torch.no_grad():
            want = ((g.net(z, psi=psi).float().clamp(-1, 1) + 1) * 127.5).numpy()
        assert np.abs(rgb - want).max() / 255 < 1e-4
    assert web.page_info(g, "tiny", {})["w_space"] is True


def test_the_card_of_a_w_model_calls_its_truncation_psi(w_model, tmp_path):
    import json
    import shutil
    from catgan.card import write_card
    folder = tmp_path / "sg2-card"
    folder.mkdir()
    shutil.copy(w_model, folder / "model.safetensors")
    rows = [{"scale": s, "detectability": d, "stderr": 0.06} for s, d in ((0.7, 0.9), (1.0, 0.95))]
    (folder / "eval.json").write_text(json.dumps({"truncation": {"rows": rows, "recommended": 0.7}}))
    write_card(folder, "test machine")
    text = (folder / "card.md").read_text()
    assert "## Truncation: detectability against psi, the pull toward the mean w" in text
    assert "Recommended psi: 0.7" in text
