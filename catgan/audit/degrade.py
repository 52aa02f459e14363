"""Image degradations (noise, blur, JPEG) and the ladders built from them: the one place they are written.

On uint8 N x H x W x 3 images: the diagnostic rho_T (how far a nuisance moves features, against the typical
k-NN radius), the FD ladder (real images made slightly worse), the detector's ladder, and the augmentation
that teaches the sticker space to ignore them (`random_mix`). On [-1, 1] tensors, per image, as the
detector's nuisances: `blur_each`, `jpeg_some`. `ladder_position` reads a figure against a ladder.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

# torchvision is imported where it is used: its import takes seconds (it loads torch._dynamo), and most
# importers of this module (the quality hook, via the sticker space) call neither blur nor jpeg.


def _nchw(images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)


def _nhwc(x: torch.Tensor) -> np.ndarray:
    return x.permute(0, 2, 3, 1).contiguous().numpy()


def noise(images: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    """Gaussian pixel noise of `sigma` (in units of 1/255 of the range: 3 means 3/255), rounded back."""
    rng = np.random.default_rng(seed)
    x = images.astype(np.float32) + rng.normal(0.0, sigma, images.shape).astype(np.float32)
    return x.round().clip(0, 255).astype(np.uint8)


def blur(images: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur with standard deviation `sigma` pixels (kernel out to 3 sigma)."""
    if sigma <= 0:
        return np.array(images)
    from torchvision.transforms.v2 import functional as TF
    k = 2 * math.ceil(3 * sigma) + 1
    x = TF.gaussian_blur(_nchw(images).float(), [k, k], [sigma, sigma])
    return _nhwc(x.round().clamp(0, 255).to(torch.uint8))


def jpeg(images: np.ndarray, quality: int) -> np.ndarray:
    """A JPEG round trip at `quality` (1-100)."""
    from torchvision.io import decode_jpeg, encode_jpeg
    x = _nchw(images)
    return _nhwc(torch.stack(decode_jpeg(encode_jpeg(list(x), quality=int(quality)))))


def random_mix(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A degraded copy: each quarter of the batch gets noise, blur, JPEG, or all three, at random strengths."""
    out = np.array(images)
    for q, part in enumerate(np.array_split(np.arange(len(images)), 4)):
        x = out[part]
        if q in (1, 3):
            x = blur(x, rng.uniform(0.3, 0.9))
        if q in (2, 3):
            x = jpeg(x, int(rng.integers(70, 101)))
        if q in (0, 3):
            x = noise(x, rng.uniform(0.5, 6.0), seed=int(rng.integers(2 ** 31)))
        out[part] = x
    return out


def blur_each(x: torch.Tensor, sigma: torch.Tensor, radius: int) -> torch.Tensor:
    """Each image of x (N x C x H x W) blurred by its own sigma (N,), separably, edges replicated."""
    n, c, h, w = x.shape
    t = torch.arange(-radius, radius + 1, dtype=x.dtype)
    k = torch.exp(-t[None] ** 2 / (2 * sigma[:, None].clamp_min(1e-3) ** 2))
    k = (k / k.sum(1, keepdim=True)).repeat_interleave(c, 0)               # one kernel per image channel
    y = F.pad(x.reshape(1, n * c, h, w), (radius,) * 4, mode="replicate")
    y = F.conv2d(y, k[:, None, None, :], groups=n * c)
    return F.conv2d(y, k[:, None, :, None], groups=n * c).reshape(n, c, h, w)


def jpeg_some(x: torch.Tensor, gen: torch.Generator, lowest: int) -> torch.Tensor:
    """Half the images through a JPEG round trip at a quality in [lowest, 100)."""
    from torchvision.io import decode_jpeg, encode_jpeg
    u8 = x.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)
    pick = torch.rand(len(x), generator=gen) < 0.5
    quality = torch.randint(lowest, 100, (len(x),), generator=gen)
    out = x.clone()
    for i in pick.nonzero()[:, 0].tolist():
        out[i] = decode_jpeg(encode_jpeg(u8[i], quality=int(quality[i]))).float().div(127.5).sub(1)
    return out


# The diagnostic's nuisances (REFERENCE section 11) and the ladder's rungs; names are report keys.
NUISANCES = {"noise_3": lambda x: noise(x, 3.0), "blur_0.8": lambda x: blur(x, 0.8), "jpeg_90": lambda x: jpeg(x, 90)}
LADDER = {"noise_3": lambda x: noise(x, 3.0), "blur_1": lambda x: blur(x, 1.0), "blur_2": lambda x: blur(x, 2.0)}


RUNG_NAMES = {"real": "real", "noise_3": "noise 3/255", "blur_1": "blur 1 px", "blur_2": "blur 2 px"}


def ladder_position(value: float, rungs: dict[str, float], names: dict[str, str] = RUNG_NAMES,
                    worse: str = "worse than", ratio: bool = False) -> str:
    """Where a figure sits on a ladder (higher: further from real), in words: 'between blur 1 px and blur
    2 px'; past the top rung, `worse` it (with how many times the top rung's figure where `ratio`)."""
    ordered = sorted((v, names.get(k, k)) for k, v in rungs.items())
    below = [name for v, name in ordered if v <= value]
    above = [name for v, name in ordered if v > value]
    if not below:
        return f"below {ordered[0][1]}"
    if not above:
        times = f" (x{value / max(ordered[-1][0], 1e-12):.1f})" if ratio else ""
        return f"{worse} {below[-1]}{times}"
    return f"between {below[-1]} and {above[0]}"
