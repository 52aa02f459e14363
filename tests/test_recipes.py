"""Training recipes shared by the families: EMA, DiffAugment, the DCGAN switches, budgets, resuming."""
import pytest
import torch

from catgan.models import diffaug, get_family
from catgan.checkpoint import read_meta
from catgan.train.trainer import CHECKPOINT, train
from conftest import TINY


def test_ema_follows_g_with_a_half_life_in_images_and_a_ramp_up():
    fam = get_family("dcgan")
    cfg = fam.config("cpu", resolution=32, ema_kimg=10, **TINY["dcgan"])
    f = fam(cfg)
    assert f.sample_net == "G_ema" and not any(p.requires_grad for p in f.nets["G_ema"].parameters())
    for p in f.G.parameters():
        p.data.add_(1.0)
    f.update_ema(images_seen=64, batch=64)        # ramp-up: half-life 5% of 64 images, so EMA ~ G at once
    g, e = next(f.G.parameters()), next(f.nets["G_ema"].parameters())
    assert torch.allclose(e, g, atol=1e-6)
    before = e.clone()
    for p in f.G.parameters():
        p.data.add_(1.0)
    f.update_ema(images_seen=10_000_000, batch=10_000)   # past the ramp-up: half-life 10k images = 1 batch
    assert torch.allclose(e, (before + g) / 2, atol=1e-5)
    assert get_family("dcgan")(get_family("dcgan").config("classic", **TINY["dcgan"])).sample_net == "G"


def test_translation_shifts_content_and_fills_white():
    x = -torch.ones(8, 3, 16, 16)
    x[:, :, 6:10, 6:10] = 0.5
    gen = torch.Generator().manual_seed(0)
    y = diffaug.translation(x, gen, ratio=0.25)
    assert y.shape == x.shape
    assert ((y == 1.0).flatten(1).any(1) | (y == x).flatten(1).all(1)).all()      # shifted ones show white
    assert not torch.equal(y, x)
    again = diffaug.translation(x, torch.Generator().manual_seed(0), ratio=0.25)
    assert torch.equal(y, again)                                                    # the step's generator decides


def test_diffaugment_passes_gradients_and_refuses_unknown_policies():
    x = torch.rand(4, 3, 16, 16, requires_grad=True)
    diffaug.augment(x, diffaug.parse("translation,color"), torch.Generator().manual_seed(1)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="unknown DiffAugment policy 'cutout'"):
        diffaug.parse("translation,cutout")


@pytest.mark.parametrize("switches", [
    {"g_arch": "upsample"}, {"loss": "hinge", "spectral_norm": True, "lr_d": 4e-4},
    {"diffaug": "translation,color", "ema_kimg": 1}, {"g_top": 8}, {"r1_gamma": 0.2, "r1_every": 2}])
def test_dcgan_switches_train_and_sample(switches, tiny_cfg):
    from catgan import load_generator
    cfg = tiny_cfg("dcgan", steps=3, preset="classic", overrides={**TINY["dcgan"], **switches})
    assert train(cfg)["state"] == "finished"
    g = load_generator(f"{cfg.out}/{CHECKPOINT}", device="cpu")
    assert g.generate(g.latents(0, 2)).shape == (2, 32, 32, 3)
    assert read_meta(f"{cfg.out}/{CHECKPOINT}")["sample_net"] == ("G_ema" if "ema_kimg" in switches else "G")


def test_unknown_switch_values_are_named():
    fam = get_family("dcgan")
    with pytest.raises(ValueError, match="unknown loss 'wgan'"):
        fam(fam.config("cpu", loss="wgan", **TINY["dcgan"]))
    with pytest.raises(ValueError, match="unknown g_arch"):
        fam(fam.config("cpu", g_arch="pixelshuffle", **TINY["dcgan"]))


def test_minutes_budget_stops_a_run_and_saves(tiny_cfg):
    cfg = tiny_cfg("dcgan", steps=10_000_000, max_minutes=0.05)
    result = train(cfg)
    assert result["state"] == "finished" and 0 < result["step"] < 10_000_000
    assert read_meta(f"{cfg.out}/{CHECKPOINT}")["step"] == result["step"]


def test_a_resumed_run_keeps_its_config_when_the_preset_changes_and_refuses_other_values(tiny_cfg, monkeypatch):
    from catgan.models import dcgan
    cfg = tiny_cfg("dcgan", steps=2)
    train(cfg)
    monkeypatch.setitem(dcgan.PRESETS, "cpu", {**dcgan.PRESETS["cpu"], "latent_dim": 7})
    cfg.steps = 4
    assert train(cfg)["step"] == 4
    assert read_meta(f"{cfg.out}/{CHECKPOINT}")["config"]["latent_dim"] == 100
    cfg.steps, cfg.overrides = 6, {**cfg.overrides, "r1_gamma": 0.5}       # asked for another value: refused
    with pytest.raises(ValueError, match=r"r1_gamma=0.5 \(it has .*--init-from"):
        train(cfg)
    assert read_meta(f"{cfg.out}/{CHECKPOINT}")["step"] == 4


def test_the_full_resolution_stage_draws_from_a_map_at_the_image_size():
    fam = get_family("dcgan")
    g = fam.Generator(**fam.config("cpu", resolution=32, g_top=8, **TINY["dcgan"]))
    maps = []
    for m in g.net:
        if isinstance(m, torch.nn.BatchNorm2d):
            m.register_forward_hook(lambda mod, i, o: maps.append(o.shape))
    g(torch.randn(2, 100))
    assert maps[-1] == (2, 8, 32, 32)            # the last hidden map is 32 px wide, not 16


def test_r1_penalises_d_on_reals_only_every_interval_and_weighs_it_by_the_interval():
    fam = get_family("dcgan")
    cfg = fam.config("cpu", resolution=32, r1_gamma=0.5, r1_every=4, **TINY["dcgan"])
    f = fam(cfg, "cpu")
    real = torch.rand(8, 3, 32, 32) * 2 - 1
    logged = [f.train_step(real, torch.Generator().manual_seed(s), s)["r1"] for s in range(6)]
    assert logged[0] > 0 and logged[1:4] == [logged[0]] * 3 and logged[4] != logged[0]   # steps 0 and 4
    f.opt["D"].zero_grad(set_to_none=True)
    f.lazy_r1(real, torch.Generator().manual_seed(0))
    got = [p.grad.clone() for p in f.D.parameters()]
    f.opt["D"].zero_grad(set_to_none=True)
    x = real.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(f.D(x).sum(), x, create_graph=True)
    (grad.square().sum(dim=(1, 2, 3)).mean() * 0.5 / 2 * 4).backward()      # gamma / 2 * interval
    assert all(torch.allclose(a, p.grad, rtol=1e-4, atol=1e-7) for a, p in zip(got, f.D.parameters()))


def test_began_cs_ties_ds_code_to_z_and_needs_a_code_as_wide():
    fam = get_family("began")
    with pytest.raises(ValueError, match="hidden=100"):
        fam(fam.config("cpu", resolution=32, cs_alpha=0.1, **{**TINY["began"], "hidden": 16}))
    torch.manual_seed(0)                              # the nets' init and the batch: one fixed case
    f = fam(fam.config("cpu", resolution=32, cs_alpha=0.1, **{**TINY["began"], "hidden": 100}), "cpu")
    real = torch.rand(8, 3, 32, 32) * 2 - 1
    first = f.train_step(real, torch.Generator().manual_seed(0), 0)
    assert first["cs"] > 0
    for step in range(1, 80):           # over 40 steps it can first rise (seen with seed 0), then falls
        last = f.train_step(real, torch.Generator().manual_seed(0), step)     # the same z every step
    assert last["cs"] < first["cs"]                   # D learns to read the latent back from the fake


def test_the_dcgan_lr_halves_after_each_threshold_of_images_for_both_nets():
    fam = get_family("dcgan")
    f = fam(fam.config("cpu", resolution=32, batch=10, lr=2e-4, lr_d=4e-4, lr_halve_kimg=[0.05, 0.1],
                       **TINY["dcgan"]), "cpu")
    seen = {}
    for step in (0, 4, 5, 9, 10, 50):                     # 10 images a step: 50 and 100 images are thresholds
        f.begin_step(step)
        seen[step] = (f.opt["G"].param_groups[0]["lr"], f.opt["D"].param_groups[0]["lr"])
    assert seen[0] == seen[4] == (2e-4, 4e-4)
    assert seen[5] == seen[9] == (1e-4, 2e-4)
    assert seen[10] == seen[50] == (5e-5, 1e-4)
