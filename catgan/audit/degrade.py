"""Nuisances a feature space should ignore, on uint8 N x H x W x 3 images.

Used three ways: the diagnostic rho_T (how far a nuisance moves features, against the
typical k-NN radius), the degradation ladder (the FD of real images made slightly worse),
and the augmentation that teaches the sticker space to ignore them.
"""
from __future__ import annotations

import math

import numpy as np
import torch

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


# The diagnostic's nuisances (REFERENCE section 11) and the ladder's rungs; names are report keys.
NUISANCES = {"noise_3": lambda x: noise(x, 3.0), "blur_0.8": lambda x: blur(x, 0.8), "jpeg_90": lambda x: jpeg(x, 90)}
LADDER = {"noise_3": lambda x: noise(x, 3.0), "blur_1": lambda x: blur(x, 1.0), "blur_2": lambda x: blur(x, 2.0)}
