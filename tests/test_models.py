import copy
import json
import math

import pytest
import torch

from catgan.models import FAMILIES, get_family
from catgan.models.pgwgan import schedule
from conftest import TINY


@pytest.mark.parametrize("name", list(FAMILIES))
@pytest.mark.parametrize("resolution", [32, 64])
def test_shapes_and_gradients(name, resolution):
    fam = get_family(name)
    cfg = fam.config("cpu", resolution=resolution, **TINY[name])
    G, D = fam.Generator(**cfg), fam.Discriminator(**cfg)
    z = torch.randn(4, cfg["latent_dim"], requires_grad=True)
    x = G(z)
    assert x.shape == (4, 3, resolution, resolution)
    score = fam.realism(D, x)
    assert score.shape == (4,)
    score.sum().backward()
    assert z.grad is not None and z.grad.abs().sum() > 0
    # at full size every parameter is used, except the growing GAN's lower-resolution RGB heads
    unused = [n for n, p in G.named_parameters() if p.grad is None]
    assert all(n.startswith("to_rgb.") for n in unused) and f"to_rgb.{len(unused)}.weight" not in unused


def test_unknown_family_and_preset_are_clear():
    with pytest.raises(ValueError, match="unknown model family 'vae'"):
        get_family("vae")
    with pytest.raises(ValueError, match="unknown preset"):
        get_family("dcgan").config("huge")


def test_bad_resolution_is_refused():
    with pytest.raises(ValueError, match="power of two"):
        get_family("dcgan").Generator(resolution=48)


def test_progressive_schedule_fades_then_holds():
    phases = [10, 10, 20, 40]                     # images: 4x4 holds 10, 8x8 fades 10 and holds 10, ...
    assert schedule(0, phases) == (0, 1.0)
    assert schedule(10, phases) == (1, 0.0)
    assert schedule(15, phases) == (1, 0.5)
    assert schedule(25, phases) == (1, 1.0)
    assert schedule(30, phases) == (2, 0.0)
    assert schedule(40, phases) == (2, 0.5)       # the 16x16 fade is twice as long
    assert schedule(70, phases) == (3, 0.0)
    assert schedule(10_000, phases) == (3, 1.0)   # the last level runs on
    assert schedule(10_000, [10]) == (0, 1.0)


def test_pgwgan_phases_in_images_and_the_penalty_in_every_log():
    fam = get_family("pgwgan")
    f = fam(fam.config("cpu", resolution=32, batch=8, **{**TINY["pgwgan"], "phase_kimg": [0.016, 0.032],
                                                        "gp_every": [1, 3]}))
    assert f.phases == [16, 32, 32, 32]
    seen = []
    for step in range(8):
        f.begin_step(step)
        m = f.train_step(torch.rand(8, 3, 32, 32) * 2 - 1, torch.Generator().manual_seed(step), step)
        seen.append((m["resolution"], m["gp"]))
    assert [r for r, _ in seen] == [4, 4, 8, 8, 8, 8, 8, 8]
    assert seen[3][1] == seen[4][1] == seen[5][1] != seen[6][1]   # at 8x8 the penalty runs every 3rd step
    old = fam.config("cpu", resolution=32, batch=8, **TINY["pgwgan"])
    del old["phase_kimg"]
    assert fam({**old, "phase_steps": 2}).phases == [16, 16, 16, 16]   # a run from before: phases in steps


def test_pgwgan_upsampling_conv_is_nearest_upsampling_then_the_3x3_conv():
    from catgan.models.layers import EqUpConv
    conv = EqUpConv(6, 5, 3)
    torch.nn.init.normal_(conv.bias)
    x = torch.randn(2, 6, 7, 7)
    want = torch.nn.functional.conv2d(torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest"),
                                      conv.weight * conv.scale, conv.bias, padding=1)
    assert conv(x).shape == (2, 5, 14, 14)
    assert torch.allclose(conv(x), want, atol=1e-5)


def test_pgwgan_draws_the_same_in_place_without_gradients_and_leaves_the_latents_alone():
    from catgan.models.layers import pixel_norm
    fam = get_family("pgwgan")
    G = fam.Generator(**fam.config("cpu", resolution=32, **TINY["pgwgan"]))
    z = torch.randn(3, 128, requires_grad=True)
    with_grad = G(z)
    z_before = z.detach().clone()
    with torch.no_grad():
        assert torch.allclose(G(z), with_grad, atol=1e-5)
        assert torch.equal(z, z_before)
    x = torch.randn(2, 5, 3, 3, requires_grad=True)
    rms = lambda v: v * torch.rsqrt(v.pow(2).mean(dim=1, keepdim=True) + 1e-8)  # noqa: E731
    w = torch.randn(2, 5, 3, 3)
    want, = torch.autograd.grad((rms(x) * w).sum(), x)
    got, = torch.autograd.grad((pixel_norm(x) * w).sum(), x)
    assert torch.allclose(pixel_norm(x), rms(x), atol=1e-6) and torch.allclose(got, want, atol=1e-5)


def test_pgwgan_fade_blends_low_and_high_resolution():
    fam = get_family("pgwgan")
    G = fam.Generator(**fam.config("cpu", resolution=32, **TINY["pgwgan"]))
    z = torch.randn(2, 128)
    a0, a1, ah = G(z, level=2, alpha=0.0), G(z, level=2, alpha=1.0), G(z, level=2, alpha=0.5)
    low = torch.nn.functional.interpolate(G(z, level=1), scale_factor=2, mode="nearest")
    assert torch.allclose(a0, low, atol=1e-5)
    assert torch.allclose(ah, (a0 + a1) / 2, atol=1e-5)


def test_pgwgan_penalty_pass_gives_the_critic_the_gradient_of_one_pass_over_all_three():
    """The blend's own critic pass (cheaper: the double backward runs over it alone) changes nothing: the
    critic's loss and gradient equal those of the paper's one pass over real | fake | blend."""
    fam = get_family("pgwgan")
    f = fam(fam.config("cpu", resolution=32, batch=8, **TINY["pgwgan"]))
    step = 8 * f.gp_every[-1]                      # at full size, a penalty step
    f.begin_step(step)
    G, D = copy.deepcopy(f.G), copy.deepcopy(f.D)
    real = torch.rand(8, 3, 32, 32) * 2 - 1
    m = f.train_step(real, torch.Generator().manual_seed(3), step)
    gen = torch.Generator().manual_seed(3)
    z, eps = torch.randn(8, 128, generator=gen), torch.rand(8, 1, 1, 1, generator=gen)
    fake = G(z).detach()
    x_hat = torch.lerp(real, fake, eps).requires_grad_(True)
    out = D(torch.cat([real, fake, x_hat]))
    grad, = torch.autograd.grad(out[16:].sum(), x_hat, create_graph=True)
    gp = ((grad.pow(2).sum(dim=(1, 2, 3)) + 1e-12).sqrt() - 1).pow(2).mean()
    drift = f.cfg["drift"] * out[:8].pow(2).mean()
    loss = out[8:16].mean() - out[:8].mean() + f.cfg["gp_weight"] * f.gp_every[-1] * gp + drift
    loss.backward()
    assert math.isclose(m["critic_loss"], loss.item(), rel_tol=1e-4, abs_tol=1e-5)
    used = [(name, p.grad, q.grad) for (name, p), q in zip(D.named_parameters(), f.D.parameters())
            if p.grad is not None]
    assert len(used) > 8
    for name, want, got in used:
        assert torch.allclose(got, want, rtol=1e-3, atol=1e-6), name


def test_pgwgan_widens_a_trained_net_without_changing_what_it_draws_or_judges():
    """fit_weights (--init-from a narrower model): the wider nets give the same images and scores, the new
    channels get a gradient, and what cannot be widened this way is refused by name."""
    fam = get_family("pgwgan")
    torch.manual_seed(0)
    narrow = fam(fam.config("cpu", resolution=32, **TINY["pgwgan"]))
    wide = fam(fam.config("cpu", resolution=32, **{**TINY["pgwgan"], "channels": [16, 24, 12, 10]}))
    for net in ("G", "G_ema", "D"):
        wide.nets[net].load_state_dict(wide.fit_weights(net, narrow.nets[net].state_dict()))
    z, x = torch.randn(6, 128), torch.rand(8, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(wide.G(z), narrow.G(z), atol=1e-4)
        assert torch.allclose(wide.D(x), narrow.D(x), atol=1e-5)
    assert wide.G.blocks[2][1].weight.shape[0] == 10
    wide.G(z).square().mean().backward()
    assert wide.G.blocks[2][1].weight.grad[8:].abs().sum() > 0     # a new filter learns
    for channels, match in (([24, 16, 8, 8], "4x4 level"), ([16, 16, 8, 4], "only widen")):
        other = fam(fam.config("cpu", resolution=32, **{**TINY["pgwgan"], "channels": channels}))
        with pytest.raises(ValueError, match=match):
            other.fit_weights("G", narrow.G.state_dict())


def test_began_vanishing_residual_fades_out():
    fam = get_family("began")
    f = fam(fam.config("cpu", resolution=32, **TINY["began"]))
    f.begin_step(0)
    blocks = [m for m in f.G.modules() if hasattr(m, "c")]
    assert blocks and all(float(b.c) == 1.0 for b in blocks)
    f.begin_step(10_000)
    assert all(float(b.c) == 0.0 for b in blocks)


def test_began_switches_shape_the_autoencoder():
    """D's channels per stage (8x8 first, as G's), and the original BEGAN's ELU without batch norm."""
    fam = get_family("began")
    f = fam(fam.config("cpu", resolution=32, **{**TINY["began"], "d_channels": [16, 8, 4]}, norm="none", act="elu"))
    convs = [m for m in f.D.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs[0].out_channels == 4                      # the image end of the encoder is the thinnest
    assert f.D.fc.in_features == 16 * 8 * 8                # the 8x8 end is the widest
    kinds = {type(m) for m in f.D.modules()} | {type(m) for m in f.G.modules()}
    assert torch.nn.ELU in kinds and torch.nn.BatchNorm2d not in kinds and torch.nn.LeakyReLU not in kinds
    m = f.train_step(torch.rand(8, 3, 32, 32) * 2 - 1, torch.Generator().manual_seed(0), 0)
    assert all(math.isfinite(v) for v in m.values())


def test_began_d_norm_sets_the_discriminator_alone():
    fam = get_family("began")
    f = fam(fam.config("cpu", resolution=32, **TINY["began"], d_norm="none"))
    assert torch.nn.BatchNorm2d not in {type(m) for m in f.D.modules()}
    assert torch.nn.BatchNorm2d in {type(m) for m in f.G.modules()}


def test_began_lr_d_gives_d_its_own_rate_through_the_halving_schedule():
    fam = get_family("began")
    f = fam(fam.config("cpu", resolution=32, **TINY["began"], lr=5e-5, lr_d=2e-4, lr_halve_every=10, lr_floor=4e-5))
    rates = {}
    for step in (0, 10, 20):
        f.begin_step(step)
        rates[step] = {k: opt.param_groups[0]["lr"] for k, opt in f.opt.items()}
    assert rates[0] == {"G": 5e-5, "D": 2e-4}
    assert rates[10] == {"G": 4e-5, "D": 1e-4}      # halved, G held at the floor
    assert rates[20] == {"G": 4e-5, "D": 5e-5}
    plain = fam(fam.config("cpu", resolution=32, **TINY["began"], lr=5e-5))
    plain.begin_step(0)
    assert plain.opt["D"].param_groups[0]["lr"] == 5e-5


def test_began_k_stays_in_unit_interval():
    fam = get_family("began")
    f = fam(fam.config("cpu", resolution=32, lambda_k=10.0, gamma=5.0, **TINY["began"]))
    ks = []
    for step in range(6):
        f.begin_step(step)
        m = f.train_step(torch.rand(8, 3, 32, 32) * 2 - 1, torch.Generator().manual_seed(step), step)
        ks.append(m["k_t"])
        assert m["M_global"] >= m["L_real"]
    assert all(0.0 <= k <= 1.0 for k in ks) and max(ks) == 1.0   # clipped, not 10x the balance


@pytest.mark.parametrize("name", list(FAMILIES))
def test_cpu_presets_sample_cheaply(name):
    """At most 0.25 GFLOP per generated 64 px image: what keeps an 8x8 grid near 0.1 s on a 2-core CPU."""
    from torch.utils.flop_counter import FlopCounterMode
    fam = get_family(name)
    cfg = fam.config("cpu", resolution=64)
    G = fam.Generator(**cfg).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        G(torch.randn(1, cfg["latent_dim"]))
    assert fc.get_total_flops() <= 0.25e9


@pytest.mark.parametrize("name", list(FAMILIES))
def test_sampling_preparation_keeps_images(name):
    """Folded batch norm, baked equalised-lr scales and channels-last change nothing a person could see
    (at most 1/255)."""
    from catgan.generator import prepare_for_sampling
    fam = get_family(name)
    cfg = fam.config("cpu", resolution=32, **TINY[name])
    torch.manual_seed(0)
    G = fam.Generator(**cfg)
    for m in G.modules():                       # batch-norm statistics as after training
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.normal_(1, 0.2)
            m.bias.data.normal_(0, 0.2)
    z = torch.randn(8, cfg["latent_dim"])
    with torch.no_grad():
        before = G.eval()(z)
        fast = prepare_for_sampling(G, torch.device("cpu"))
        after = fast(z)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fast.modules())
    assert not any(hasattr(m, "as_plain") for m in fast.modules())
    assert (before - after).abs().max() * 127.5 < 1.0


def test_full_resolution_arrives_when_the_schedule_says():
    from catgan.models.layers import per_level
    from catgan.models.pgwgan import PGWGAN, images_to_full_resolution, n_levels
    cfg = PGWGAN.config("cpu", resolution=64)
    phases = [round(k * 1000) for k in per_level(cfg["phase_kimg"], n_levels(64))]
    n = images_to_full_resolution(cfg)
    last = len(phases) - 1
    level, alpha = schedule(n - 1, phases)
    assert level == last and alpha < 1
    assert schedule(n, phases) == (last, 1.0)


def test_pgwgan_d_channels_widen_the_critic_alone_and_it_judges_as_before():
    fam = get_family("pgwgan")
    torch.manual_seed(0)
    base = fam(fam.config("cpu", resolution=32, **TINY["pgwgan"]))
    wider = fam(fam.config("cpu", resolution=32, **{**TINY["pgwgan"], "d_channels": [16, 16, 8, 16]}))
    assert wider.D.from_rgb[3].weight.shape[0] == 16 and wider.G.to_rgb[3].weight.shape[1] == 8   # G as it was
    wider.D.load_state_dict(wider.fit_weights("D", base.D.state_dict()))
    x = torch.rand(8, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.allclose(wider.D(x), base.D(x), atol=1e-5)


def _stylegan2(resolution=32, **kw):
    from catgan.models.stylegan2 import StyleGAN2
    torch.manual_seed(0)
    cfg = StyleGAN2.config("cpu", resolution=resolution, **{**TINY["stylegan2"], **kw})
    return cfg, StyleGAN2.Generator(**cfg).eval()


def test_stylegan2_psi_1_is_no_truncation_and_psi_0_is_the_mean_w():
    cfg, G = _stylegan2()
    G.w_avg.normal_()                                   # as if tracked in training
    z = torch.randn(5, cfg["latent_dim"])
    with torch.no_grad():
        assert torch.equal(G(z, psi=1.0), G.synthesis(G.mapping(z)))
        at_mean = G(z, psi=0.0)
        assert torch.allclose(at_mean, G.synthesis(G.w_avg.expand(5, -1)), atol=1e-6)
        half = G.map(z, psi=0.5)
        assert torch.allclose(half, (G.w_avg + G.mapping(z)) / 2, atol=1e-6)


def test_stylegan2_modulated_conv_equals_the_fused_per_sample_convolution():
    """The unfused form (scale inputs, one shared conv, scale outputs) is the paper's per-sample modulated
    and demodulated weights w'_ijk = s_i w_ijk / sqrt(sum (s_i w_ijk)^2)."""
    from catgan.models.layers import SQRT2
    from catgan.models.stylegan2 import SynthesisLayer
    conv = SynthesisLayer(6, 5, 8, resolution=7)
    x, w = torch.randn(3, 6, 7, 7), torch.randn(3, 8)
    with torch.no_grad():
        got = conv(x, w)
        s = conv.affine(w) * SQRT2
        want = []
        for n in range(3):
            wn = conv.weight * s[n][None, :, None, None]
            wn = wn / (wn.square().sum(dim=(1, 2, 3), keepdim=True) + 1e-8).sqrt()
            y = torch.nn.functional.conv2d(x[n:n + 1], wn, padding=1) + conv.bias[None, :, None, None]
            want.append(torch.nn.functional.leaky_relu(y, 0.2))
    assert torch.allclose(got, torch.cat(want), atol=1e-4)


def test_stylegan2_noise_is_fixed_when_sampling_and_random_in_training():
    cfg, G = _stylegan2()
    for m in G.modules():
        if getattr(m, "noise_strength", None) is not None:
            m.noise_strength.data.fill_(0.5)
    z = torch.randn(2, cfg["latent_dim"])
    with torch.no_grad():
        assert torch.equal(G(z), G(z))
        a = G(z, noise_gen=torch.Generator().manual_seed(1))
        assert torch.equal(a, G(z, noise_gen=torch.Generator().manual_seed(1)))
        assert not torch.equal(a, G(z, noise_gen=torch.Generator().manual_seed(2)))


def test_stylegan2_style_mixing_takes_the_second_latent_from_the_cutoff():
    cfg, G = _stylegan2()
    z, z2 = torch.randn(2, cfg["latent_dim"]), torch.randn(2, cfg["latent_dim"])
    n = G.synthesis.num_ws
    with torch.no_grad():
        assert torch.equal(G(z, mix_z=z2, mix_cutoff=torch.tensor([n, n])), G(z))
        assert torch.allclose(G(z, mix_z=z2, mix_cutoff=torch.tensor([0, 0])), G(z2), atol=1e-6)
        mixed = G(z, mix_z=z2, mix_cutoff=torch.tensor([3, n]))
        assert torch.equal(mixed[1], G(z)[1]) and not torch.allclose(mixed[0], G(z)[0])


@pytest.mark.parametrize("bad, message", [
    (dict(resolution=48), "power of two"),
    (dict(resolution=4), "power of two"),
    (dict(channels=[16, 16, 8]), "channels must be at least 4"),
    (dict(channels=[16, 16, 0, 8]), "positive whole widths"),
    (dict(mapping_layers=0), "mapping_layers must be at least 1"),
])
def test_stylegan2_bad_configs_are_refused_by_name(bad, message):
    from catgan.models.stylegan2 import StyleGAN2
    cfg = StyleGAN2.config("cpu", **{"resolution": 32, **TINY["stylegan2"], **bad})
    with pytest.raises(ValueError, match=message):
        StyleGAN2(cfg)


def test_began_halves_its_rates_when_m_global_stalls_and_remembers_it():
    """The paper's decay on a plateau of M_global, deterministic and kept in the family's state."""
    fam = get_family("began")
    cfg = fam.config("cpu", resolution=32, batch=8, **{**TINY["began"], "lr_plateau_kimg": 0.08})   # 80 images
    f = fam(cfg)
    images = 0
    for _ in range(30):                              # flat: a halving every 80 images (at 88 and 168)
        images += 8
        f._watch_plateau(0.12, images)
    assert f.plateau["halvings"] == 2
    for step in range(30):                           # improving by far more than 1% a step: no more
        images += 8
        f._watch_plateau(0.12 * 0.9 ** (step + 1), images)
    assert f.plateau["halvings"] == 2
    f.begin_step(0)
    assert f.opt["G"].param_groups[0]["lr"] == pytest.approx(cfg["lr"] / 4)
    again = fam(cfg)
    again.load_extra_state(json.loads(json.dumps(f.extra_state())))
    again.begin_step(0)
    assert again.plateau == f.plateau and again.opt["D"].param_groups[0]["lr"] == pytest.approx(cfg["lr"] / 4)
    off = fam(fam.config("cpu", resolution=32, batch=8, **TINY["began"]))
    off.train_step(torch.rand(8, 3, 32, 32) * 2 - 1, torch.Generator().manual_seed(0), 0)
    assert off.plateau["m"] is None                  # off by default: runs keep their fixed schedule


def test_stylegan2_sampling_in_place_draws_what_the_gradient_path_draws():
    cfg, G = _stylegan2()
    for m in G.modules():
        if getattr(m, "noise_strength", None) is not None:
            m.noise_strength.data.fill_(0.3)
    z = torch.randn(4, cfg["latent_dim"])
    with torch.no_grad():
        fast = G(z)
    assert torch.allclose(fast, G(z), atol=1e-6)
