"""Conditioning on labels: the label space, every family trained conditioned, a fork from an unconditional
parent, and the refusals."""
import numpy as np
import pytest
import torch

from catgan.checkpoint import load_checkpoint, read_meta
from catgan.data.dataset import write_dataset
from catgan.labels import LabelError, LabelSpace
from catgan.models import FAMILIES
from catgan.models.layers import LabelEmbedding
from catgan.train.trainer import CHECKPOINT, Trainer, train
from conftest import TINY


def _space(ds):
    return LabelSpace.of_dataset(ds.labels, ds.label_names)


def test_label_space_vectors_mix_and_draws(tiny_data):
    space = _space(tiny_data)
    assert space.names == ["pose", "item", "coat", "eyes"] and space.dim == 7 + 7 + 4 + 2
    rows = space.rows(tiny_data.labels)
    v = space.vectors(rows)
    assert v.shape == (len(tiny_data), space.dim) and torch.equal(v.sum(1), torch.full((len(tiny_data),), 4.0))
    assert abs(sum(share for _, share in space.mix) - 1) < 1e-4
    again = LabelSpace.from_json(space.to_json())
    a = space.draw(50, torch.Generator().manual_seed(3))
    assert np.array_equal(a, again.draw(50, torch.Generator().manual_seed(3)))      # a seed's labels, anywhere
    assert {tuple(r) for r in a} <= {label for label, _ in space.mix}                  # only the data's labels
    sleeping = space.parse({"pose": "sleeping", "item": "any"})
    held = space.draw(20, torch.Generator().manual_seed(0), sleeping)
    assert (held[:, 0] == space.attributes["pose"].index("sleeping")).all()
    with pytest.raises(LabelError, match="unknown pose 'flying'; choose from"):
        space.parse({"pose": "flying"})
    with pytest.raises(LabelError, match="unknown label attribute 'hat'"):
        space.parse({"hat": "red"})


@pytest.mark.parametrize("model", list(FAMILIES))
def test_every_family_trains_conditioned_and_resumes_bit_for_bit(model, tiny_cfg):
    whole = tiny_cfg(model, out="whole", steps=4, cond="labels")
    train(whole)
    meta = read_meta(f"{whole.out}/{CHECKPOINT}")
    assert meta["config"]["label_dim"] == 20 and meta["config"]["labels"]["kind"] == "labels"
    half = tiny_cfg(model, out="half", steps=2, cond="labels")
    train(half)
    half.steps = 4
    train(half)
    a, _ = load_checkpoint(f"{whole.out}/{CHECKPOINT}")
    b, _ = load_checkpoint(f"{half.out}/{CHECKPOINT}")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("model", list(FAMILIES))
def test_the_label_changes_the_image_and_a_seed_and_label_always_give_the_same_one(model):
    fam = FAMILIES[model]
    torch.manual_seed(0)
    cfg = fam.config("cpu", resolution=32, **{**TINY[model], "label_dim": 20})
    G = fam.Generator(**cfg).eval()
    for m in G.modules():         # label weights that start at zero (StyleGAN2's), as if they had learnt
        if isinstance(m, LabelEmbedding) and m.into is not None:
            torch.nn.init.normal_(m.into.weight)
    z = torch.randn(2, cfg["latent_dim"], generator=torch.Generator().manual_seed(5)).repeat(2, 1)
    c = torch.zeros(4, 20)
    c[:2, 0] = c[2:, 1] = 1                                     # two poses, the same two latents
    with torch.no_grad():
        x = G(z, c)
        assert torch.equal(x, G(z, c))
        assert (x[:2] - x[2:]).abs().amax(dim=(1, 2, 3)).min() > 1e-3


@pytest.mark.parametrize("model", list(FAMILIES))
def test_a_conditional_run_from_an_unconditional_parent_starts_where_the_parent_was(model, tiny_cfg):
    parent = tiny_cfg(model, out="parent", steps=4)
    train(parent)
    child = Trainer(tiny_cfg(model, out="child", steps=8, cond="labels", init_from=f"{parent.out}/{CHECKPOINT}"))
    child.init_weights(child.cfg.init_from)
    assert child.label_strength() == 1.0                        # no ramp unless asked for
    was = Trainer(tiny_cfg(model, out="parent", steps=4))
    was.resume()
    with torch.no_grad():
        mine = child.sample(child.fixed_z, child.fixed_c).astype(int)
        theirs = was.sample(was.fixed_z).astype(int)
    assert np.abs(mine - theirs).max() <= 1                  # the labels are fully in, at zero weight: the same cats
    kw, c = was.family.sample_kwargs(), child.fixed_c[:4]
    size = 4 * 2 ** kw["level"] if "level" in kw else 32              # a growing critic at its current size
    x = torch.rand(4, 3, size, size) * 2 - 1
    with torch.no_grad():                                      # and D judges as the parent's did
        judged = child.family.realism(lambda v: child.family.nets["D"](v, c, **kw), x)
        parent_judged = was.family.realism(lambda v: was.family.nets["D"](v, **kw), x)
    assert torch.allclose(judged, parent_judged, atol=1e-4)


def test_labels_ramp_in_over_cond_ramp_kimg_when_asked(tiny_cfg):
    run = Trainer(tiny_cfg("dcgan", cond="labels", overrides={**TINY["dcgan"], "cond_ramp_kimg": 1}))
    assert run.label_strength() == 0.0
    run.step = 1000 // 8 // 2                                  # half of 1 k images at batch 8
    assert run.label_strength() == pytest.approx(0.5, abs=0.01)
    run.step = 1000 // 8
    assert run.label_strength() == 1.0


def test_the_generator_follows_labels_only_after_d_has_read_them_for_cond_g_after_kimg(tiny_cfg):
    run = Trainer(tiny_cfg("dcgan", cond="labels", overrides={**TINY["dcgan"], "cond_g_after_kimg": 1}))
    assert run.label_strength("D") == 1.0 and run.label_strength("G") == 0.0 == run.label_strength("G_ema")
    run.step = 1000 // 8 - 1                                   # just short of 1 k images at batch 8
    assert run.label_strength("G") == 0.0
    run.step = 1000 // 8
    assert run.label_strength("G") == 1.0
    waiting = Trainer(tiny_cfg("stylegan2", out="wait", steps=3, cond="labels",
                               overrides={**TINY["stylegan2"], "cond_g_after_kimg": 1}))
    waiting.run()                               # 24 images: D reads labels, G's label weights do not move
    nets = waiting.family.nets
    assert not nets["G"].mapping.embed.into.weight.any()
    assert nets["D"].project.embed.weight.any()


def test_cond_on_a_dataset_without_labels_is_refused_by_name(tmp_path, tiny_cfg):
    images = np.full((40, 32, 32, 3), 255, np.uint8)
    bare = write_dataset(tmp_path / "bare", images, {"source": "folder"})
    with pytest.raises(ValueError, match="--cond labels needs a dataset with labels"):
        Trainer(tiny_cfg("dcgan", data=str(bare.path), cond="labels"))
    with pytest.raises(ValueError, match="not a kind of conditioning"):
        Trainer(tiny_cfg("dcgan", cond="colour"))


def test_a_conditional_stylegan2_samples_through_the_explorer_a_seed_its_own_labels(tiny_cfg):
    """In W a label lives in w (mapping(z, c)), so every page draws a conditional model unchanged: a seed
    draws its labels from the data's mix, the same on every load; a kind holds some of them."""
    from catgan import load_generator
    cfg = tiny_cfg("stylegan2", out="cond", steps=2, cond="labels")
    train(cfg)
    g = load_generator(f"{cfg.out}/{CHECKPOINT}", device="cpu", with_critic=True)
    assert g.labels is not None and g.labels.dim == 20
    drawn = g.generate(g.latents(0, 3))
    average, own = g.realism(drawn), g.realism(drawn, g.label_rows(3, 0))
    assert average.shape == own.shape == (3,)          # its own judge: at the data's average label, or at each
    assert not np.allclose(average, own, atol=1e-6)    # sample's own (the projection has learnt for two steps)
    a = g.generate(g.latents(3, 4))
    assert np.array_equal(a, load_generator(f"{cfg.out}/{CHECKPOINT}", device="cpu").generate(g.latents(3, 4)))
    assert not np.array_equal(g.label_vectors(64, 3), g.label_vectors(64, 4))
    sleeping = g.with_kind(g.labels.parse({"pose": "sleeping", "coat": None}))       # the kind-of-cat picker's view
    pose = g.labels.names.index("pose")
    assert (sleeping.label_rows(64, 3)[:, pose] == g.labels.attributes["pose"].index("sleeping")).all()
    assert sleeping.net is g.net and g.kind is None                                   # the same nets, g untouched
    assert not np.array_equal(sleeping.latents(3, 4), g.latents(3, 4))
    rows = g.label_rows(4, 3)                                        # truncation pulls towards each label's mean w
    assert np.allclose(g.latents(3, 4, psi=0.0), g.label_centres(rows), atol=1e-6)
    assert np.allclose(g.latents(3, 4, psi=0.5), (g.latents(3, 4) + g.label_centres(rows)) / 2, atol=1e-5)
    by_index = g.with_kind({"pose": g.labels.attributes["pose"].index("sleeping")})
    assert np.array_equal(sleeping.latents(3, 4), by_index.latents(3, 4))


@pytest.mark.parametrize("model", ["dcgan", "began", "pgwgan"])
def test_a_conditional_model_in_z_is_explored_with_its_label_after_z(model, tiny_cfg):
    """Without a mapping network the label cannot live in the latent's space, so it rides beside it:
    an explorer latent is [z, c], and blends, arithmetic and directions move the label too."""
    from catgan import load_generator
    cfg = tiny_cfg(model, out="cond", steps=2, cond="labels")
    train(cfg)
    g = load_generator(f"{cfg.out}/{CHECKPOINT}", device="cpu")
    assert g.space == "z" and g.explorer_dim == g.latent_dim + 20
    z = g.latents(3, 4)
    assert z.shape == (4, g.explorer_dim)
    assert np.array_equal(z[:, g.latent_dim:], g.label_vectors(4, 3).numpy())      # the seed's own labels
    assert g.generate(z).shape == (4, 32, 32, 3)
    sleeping = g.with_kind(g.labels.parse({"pose": "sleeping"}))
    col = g.latent_dim + g.labels.attributes["pose"].index("sleeping")          # pose's one-hot comes first
    assert (sleeping.latents(3, 4)[:, col] == 1).all()
    assert np.array_equal(sleeping.latents(3, 4)[:, :g.latent_dim], z[:, :g.latent_dim])  # the same z
    sitting = g.with_kind(g.labels.parse({"pose": "sitting"}))
    assert not np.array_equal(sleeping.generate(sleeping.latents(3, 4)), sitting.generate(sitting.latents(3, 4)))
    centre = sleeping.centre()                      # the origin: mean z (near 0) with the kind's label
    assert centre[col] == 1 and np.abs(centre[:g.latent_dim]).max() < 0.2
    assert np.allclose(sleeping.truncate(z, 1.0), z) and np.allclose(sleeping.truncate(z, 0.0), centre[None])
    assert sleeping.from_three([0.5, 0, 0]).shape == (g.explorer_dim,)
    half = g.latents(3, 4, psi=0.5)                  # truncation keeps each seed's own label
    assert np.allclose(half[:, :g.latent_dim], 0.5 * z[:, :g.latent_dim], atol=1e-6)
    assert np.array_equal(half[:, g.latent_dim:], z[:, g.latent_dim:])


def test_a_stylegan2_run_saved_before_the_nets_were_split_is_refused_on_resume_and_continues_by_init_from(
        tiny_cfg, tmp_path):
    """Its weights load (a key map), but its Adam state is by parameter order, which changed: resuming it would
    pair moments with the wrong weights, so it is refused by name, and --init-from continues it."""
    from catgan.checkpoint import save_checkpoint
    from catgan.models.stylegan2 import _upgrade_keys
    cfg = tiny_cfg("stylegan2", out="old", steps=2)
    train(cfg)
    path = f"{cfg.out}/{CHECKPOINT}"
    tensors, meta = load_checkpoint(path)
    renamed = {}
    for k, v in tensors.items():                     # back to the old names, as such a run saved them
        if k.startswith("G.synthesis.blocks.") or k.startswith("G.mapping.fc."):
            renamed[_old_name(k)] = v
        else:
            renamed[k] = v
    probe = {k[2:]: 0 for k in renamed if k.startswith("G.")}
    _upgrade_keys(probe)
    assert set(probe) == {k[2:] for k in tensors if k.startswith("G.")}     # the key map undoes the renaming
    save_checkpoint(path, renamed, meta)
    cfg.steps = 4
    with pytest.raises(ValueError, match="cannot be resumed.*--init-from"):
        train(cfg)
    fork = tiny_cfg("stylegan2", out="fork", steps=4, init_from=path)
    assert train(fork)["state"] == "finished"


def _old_name(key):
    parts = key.split(".")
    if parts[1] == "mapping":
        return ".".join(["G", "mapping", "net", *parts[3:]])
    block, layer = int(parts[3]), parts[4]
    if layer == "const":
        return "G.synthesis.const"
    if layer == "torgb":
        return ".".join(["G", "synthesis", "to_rgb", str(block), *parts[5:]])
    j = 0 if block == 0 else 2 * block - 1 + (layer == "conv1")
    return ".".join(["G", "synthesis", "convs", str(j), *parts[5:]])


def test_a_conditional_run_keeps_its_flags_as_given_and_resumes_with_cond(tiny_cfg):
    import json
    from pathlib import Path
    from catgan.runs import resume_args
    cfg = tiny_cfg("dcgan", steps=2, cond="labels")
    train(cfg)
    saved = json.loads((Path(cfg.out) / "config.json").read_text())
    assert saved["cond"] == "labels" and "label_dim" not in saved["overrides"]    # the label space lives in the model
    assert saved["model_config"]["label_dim"] == 20
    args = resume_args(Path(cfg.out))
    assert args[args.index("--cond") + 1] == "labels"


def test_catgan_sample_draws_a_kind_and_refuses_one_it_cannot_by_name(tiny_cfg, tmp_path, capsys):
    from PIL import Image
    from catgan.cli import main
    cond, plain = tiny_cfg("dcgan", out="cond", steps=2, cond="labels"), tiny_cfg("dcgan", out="plain", steps=2)
    train(cond)
    train(plain)
    out = tmp_path / "kind.png"
    assert main(["sample", f"{cond.out}/{CHECKPOINT}", "--out", str(out), "--n", "4", "--kind",
                 "pose=sleeping,eyes=closed"]) == 0
    width, height = Image.open(out).size
    assert width > 4 * 32 and 32 <= height < 2 * 32                  # one row of four 32 px cats
    assert main(["sample", f"{cond.out}/{CHECKPOINT}", "--out", str(out), "--kind", "pose=flying"]) == 2
    assert "unknown pose 'flying'; choose from sitting" in capsys.readouterr().err
    assert main(["sample", f"{plain.out}/{CHECKPOINT}", "--out", str(out), "--kind", "pose=sleeping"]) == 2
    assert "is not conditional" in capsys.readouterr().err


def test_your_own_cat_guesses_a_sticker_models_kind_from_the_picture(tiny_cfg, tiny_data):
    from catgan import load_generator
    from catgan.invert import guess_kind
    cond, plain = tiny_cfg("dcgan", out="cond", steps=2, cond="labels"), tiny_cfg("dcgan", out="plain", steps=2)
    train(cond)
    train(plain)
    g = load_generator(f"{cond.out}/{CHECKPOINT}", device="cpu")
    hits = 0
    for i in range(8):                  # real stickers: the guess is (mostly) what the renderer drew
        guess = guess_kind(g, np.asarray(tiny_data.images[i]))
        assert set(guess) == {"pose", "item", "coat", "eyes"}
        hits += guess["coat"] == tiny_data.labels["coat"][i]
    assert hits >= 6
    assert guess_kind(load_generator(f"{plain.out}/{CHECKPOINT}", device="cpu"), np.asarray(tiny_data.images[0])) is None
