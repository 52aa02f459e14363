"""Latent editing: named and principal directions, inversion, the latent store, their commands."""
import json
from dataclasses import dataclass, field

import numpy as np
import pytest
from PIL import Image

from catgan import directions, invert, latent_store, load_generator
from catgan.audit import sticker_space
from catgan.cli import main, parse_seeds
from catgan.data import render
from catgan.train.trainer import CHECKPOINT, TrainConfig, train
from conftest import TINY

NAMES = render.LABEL_NAMES
SLICES = {"coat": slice(0, 4), "pose": slice(4, 11), "item": slice(11, 18)}     # eyes: the sign of z[18]


@dataclass
class RendererAsGenerator:
    """A stand-in generator whose latent decides the labels (coat = argmax of z[0:4], ...) and whose images
    are the renderer's stickers: named directions must find those coordinates."""
    latent_dim: int = 19
    meta: dict = field(default_factory=lambda: {"dataset": {"source": "synthetic"}})
    space: str = "z"

    def random_latents(self, n, seed=0):
        return np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype(np.float32)

    def labels(self, z):
        lab = {a: NAMES[a][int(np.argmax(z[s]))] for a, s in SLICES.items()}
        return {**lab, "eyes": NAMES["eyes"][0 if z[18] > 0 else 1]}

    def generate(self, z):
        z = np.asarray(z).reshape(-1, self.latent_dim)
        return np.stack([render.render(64, np.random.default_rng(0), self.labels(v))[0] for v in z])


@pytest.fixture(scope="module")
def fake_directions():
    g = RendererAsGenerator()
    return g, directions.find(g, n=500)


def test_named_directions_change_their_own_label_most(fake_directions):
    g, found = fake_directions
    z = g.random_latents(48, seed=5)
    before = sticker_space.classify(g.generate(z))
    for name in ("coat: orange", "item: party_hat", "pose: loaf"):
        attr, value = name.split(": ")
        after = sticker_space.classify(g.generate(directions.edit(z, found, {name: 3.0})))
        share = np.mean(after[attr] == NAMES[attr].index(value))
        changed = {a: np.mean(after[a] != before[a]) for a in after}
        assert share >= 0.6, (name, share)
        assert changed[attr] == max(changed.values()), (name, changed)


def test_on_the_shipped_dcgan_each_named_direction_moves_its_own_label_most():
    """The shipped DCGAN (checkpoints/), as the README reports: +3 along "coat: orange" turns most
    seeds orange, and every named direction changes its own attribute more often than the others."""
    from conftest import ROOT
    g = load_generator(ROOT / "checkpoints" / "dcgan-stickers64" / "model.safetensors", device="cpu")
    found = directions.find(g)
    z = g.random_latents(200, seed=7)
    before = sticker_space.classify(g.generate(z))
    for d in (d for d in found.directions if d.kind == "label"):
        attr, value = d.name.split(": ")
        after = sticker_space.classify(g.generate(z + 3.0 * d.vector))
        own = np.mean(after[attr] != before[attr])
        others = np.mean([np.mean(after[a] != before[a]) for a in after if a != attr])
        assert own > others, (d.name, own, others)
        if d.name == "coat: orange":
            assert np.mean(after[attr] == NAMES[attr].index(value)) >= 0.6


def test_directions_are_unit_vectors_named_first_then_components(fake_directions):
    _, found = fake_directions
    kinds = [d.kind for d in found.directions]
    assert kinds == ["label"] * (len(kinds) - directions.N_COMPONENTS) + ["pc"] * directions.N_COMPONENTS
    assert len(kinds) > directions.N_COMPONENTS
    assert all(np.isclose(np.linalg.norm(d.vector), 1.0, atol=1e-4) for d in found.directions)
    with pytest.raises(ValueError, match="no direction named 'coat: plaid'"):
        found.by_name("coat: plaid")


@pytest.fixture(scope="module", params=["dcgan", "stylegan2"])
def tiny_model(request, tmp_path_factory):
    """A few steps of a family without W (z) and of one with W (its explorer latents are w - w_avg)."""
    from catgan.data.dataset import make_synthetic
    root = tmp_path_factory.mktemp("model")
    ds = make_synthetic(root / "data", n=64, size=32, seed=1, progress=False)
    train(TrainConfig(model=request.param, data=str(ds.path), out=str(root / "run"), steps=6, resolution=32,
                      batch=8, threads=1, progress=False, overrides=dict(TINY[request.param])))
    return root / "run" / CHECKPOINT


def test_directions_are_cached_per_model_file_and_read_back(tiny_model, monkeypatch):
    g = load_generator(tiny_model)
    monkeypatch.setattr(directions, "N_SAMPLES", 300)
    first = directions.cached(g)
    assert directions.cache_path(g).exists()
    monkeypatch.setattr(directions, "find", lambda *a, **k: pytest.fail("found again instead of read"))
    again = directions.cached(g)
    pcs = [d.effect for d in first.directions if d.kind == "pc"]
    assert min(pcs) > first.random_effect          # principal directions move the images more than random ones
    assert again.names() == first.names()
    assert all(np.array_equal(a.vector, b.vector) for a, b in zip(again.directions, first.directions))


def test_a_stopped_search_returns_nothing_and_caches_nothing(tiny_model):
    g = load_generator(tiny_model)
    assert directions.find(g, n=300, stopping=lambda: True) is None


def test_inversion_beats_the_best_random_sample(tiny_model):
    g = load_generator(tiny_model)
    target = g.generate(g.latents(12345, 1))[0]
    found = invert.invert(g, target, steps=60)
    assert found.pixel_rms < found.random_best_rms
    assert found.feature_distance is not None and found.steps == 60
    assert np.array_equal(g.generate(found.z[None])[0], found.image)


def test_inversion_refuses_a_target_of_the_wrong_size(tiny_model):
    g = load_generator(tiny_model)
    with pytest.raises(ValueError, match="32x32 RGB uint8"):
        invert.invert(g, np.zeros((64, 64, 3), np.uint8))


def test_the_latent_store_round_trips_and_explains_bad_ids():
    z = np.arange(10, dtype=np.float32)
    key = latent_store.put(z, {"source": "test"})
    assert latent_store.put(z) == key                          # same latent, same id
    assert np.array_equal(latent_store.get(key, 10), z) and latent_store.note(key) == {}
    with pytest.raises(latent_store.UnknownLatent, match="another model"):
        latent_store.get(key, 100)
    with pytest.raises(latent_store.UnknownLatent, match="not a stored-latent id"):
        latent_store.get("../../etc/passwd")
    with pytest.raises(latent_store.UnknownLatent, match="no stored latent"):
        latent_store.get("0123456789")
    assert latent_store.parse_keyframes(f"1, z:{key},2") == [1, f"z:{key}", 2]
    with pytest.raises(ValueError, match="neither a seed"):
        latent_store.parse_keyframes("1, cat")


def test_commands_list_directions_edit_seeds_and_invert_a_picture(tiny_model, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(directions, "N_SAMPLES", 300)
    assert parse_seeds("0-2,7") == [0, 1, 2, 7]
    assert main(["directions", str(tiny_model)]) == 0
    listed = json.loads(capsys.readouterr().out)
    name = listed["directions"][0]["name"]
    assert {d["kind"] for d in listed["directions"]} <= {"label", "pc"}
    assert main(["edit", str(tiny_model), "--seeds", "0-1", "--direction", name, "--amounts", "-3,0,3",
                 "--out", str(tmp_path / "edit")]) == 0
    written = sorted(p.name for p in (tmp_path / "edit").iterdir())
    assert written == sorted(f"seed{s}_{a}.png" for s in (0, 1) for a in ("-3", "0", "3"))
    assert main(["edit", str(tiny_model), "--direction", "coat: plaid", "--out", str(tmp_path / "x")]) == 2
    capsys.readouterr()
    g = load_generator(tiny_model)
    Image.fromarray(g.generate(g.latents(3, 1))[0]).resize((80, 80)).save(tmp_path / "mine.png")
    assert main(["invert", str(tiny_model), str(tmp_path / "mine.png"), "--out", str(tmp_path / "inv"),
                 "--steps", "20"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (tmp_path / "inv" / "reconstruction.png").exists()
    assert np.load(tmp_path / "inv" / "latent.npy").shape == (g.latent_dim,)
    assert np.array_equal(latent_store.get(out["latent_id"], g.latent_dim), np.load(tmp_path / "inv" / "latent.npy"))
    (tmp_path / "bad.png").write_bytes(b"not a png")
    assert main(["invert", str(tiny_model), str(tmp_path / "bad.png"), "--out", str(tmp_path / "inv2")]) == 2
