"""Fine detail as a power spectrum: how much energy a model's images hold at each spatial frequency.

The robust feature spaces are trained (the sticker space) or known (EfficientNet) to ignore blur and
pixel noise, so they cannot see the soft edges a person spots first. The radially averaged power
spectrum can (Durall et al., "Watch your up-convolution", CVPR 2020, use it to tell GAN images from
real ones): blur removes high-frequency power, speckle adds it. Compared with real images it gives
`hf`, the mean log10 power ratio over the top two thirds of the frequencies (0 for real images, below 0
for blurrier ones: blur 0.5 px is about -0.35, blur 1 px -1.6), and `spectral_rms`, the root mean square of
the log10 ratio over every frequency, which counts too much and too little alike.
"""
from __future__ import annotations

import numpy as np

HF_FROM = 1 / 3        # "high frequency": from a third of the Nyquist frequency up


def radial_log_power(images: np.ndarray) -> np.ndarray:
    """log10 of the mean power at each integer radial frequency 1..H/2 of uint8 N x H x W x 3 images
    (each image and channel with its mean removed; the channels' powers averaged)."""
    if images.ndim != 4 or images.shape[1] != images.shape[2]:
        raise ValueError(f"expected square N x H x W x C images, got shape {images.shape}")
    power = np.zeros(images.shape[1:3])
    for i in range(0, len(images), 256):                    # a batch at a time: float64 spectra are large
        x = images[i:i + 256].astype(np.float32) / 255.0
        x -= x.mean(axis=(1, 2), keepdims=True)
        power += (np.abs(np.fft.fft2(x, axes=(1, 2))) ** 2).sum(axis=(0, 3))
    h = power.shape[0]
    f = np.fft.fftfreq(h) * h
    radius = np.rint(np.hypot(f[:, None], f[None, :])).astype(int).ravel()
    per_radius = np.bincount(radius, power.ravel()) / np.bincount(radius)
    return np.log10(per_radius[1:h // 2 + 1] / (len(images) * images.shape[3]) + 1e-20)


def spectral_gap(real: np.ndarray, fake: np.ndarray) -> dict:
    """`hf` and `spectral_rms` of fake profiles against real ones (both from radial_log_power)."""
    d = fake - real
    return {"hf": float(d[int(len(d) * HF_FROM):].mean()), "spectral_rms": float(np.sqrt((d ** 2).mean()))}
