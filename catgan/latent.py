"""Latent-space helpers: seeds, the 3-number projection, interpolation, grids, arithmetic, morphs.

The first seed's demo sets a latent by three numbers: latent = base + (a, b, c) @ P,
where P is a fixed 3 x latent_dim Gaussian matrix drawn from PROJECTION_SEED. The
same three numbers give the same latent on every machine for a given latent size.
"""
from __future__ import annotations

import numpy as np
import torch

PROJECTION_SEED = 2018


def projection(dim: int) -> np.ndarray:
    """The fixed 3 x dim matrix; rows scaled so each number moves the latent by about its own size."""
    g = torch.Generator().manual_seed(PROJECTION_SEED)
    return (torch.randn(3, dim, generator=g) / np.sqrt(3)).numpy()


def from_three(numbers, dim: int, base: np.ndarray | None = None) -> np.ndarray:
    z = np.asarray(numbers, np.float32) @ projection(dim)
    return (z if base is None else base + z).astype(np.float32)


def lerp(a, b, t):
    return (1 - t) * a + t * b


def slerp(a, b, t):
    """Spherical interpolation; falls back to lerp for (anti)parallel vectors."""
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    cos = np.clip(np.dot(a, b) / max(na * nb, 1e-12), -1.0, 1.0)
    omega = np.arccos(cos)
    if omega < 1e-4 or abs(omega - np.pi) < 1e-4:
        return lerp(a, b, t)
    return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)


def interpolate(a, b, t, mode: str = "linear"):
    if mode not in ("linear", "spherical"):
        raise ValueError(f"interpolation must be 'linear' or 'spherical', not {mode!r}")
    return (slerp if mode == "spherical" else lerp)(a, b, t)


def corner_grid(corners, n: int, mode: str = "linear") -> np.ndarray:
    """Blend four latents (top-left, top-right, bottom-left, bottom-right) over an n x n grid, row-major."""
    tl, tr, bl, br = corners
    out = []
    for i in range(n):
        v = i / (n - 1)
        left, right = interpolate(tl, bl, v, mode), interpolate(tr, br, v, mode)
        out += [interpolate(left, right, j / (n - 1), mode) for j in range(n)]
    return np.stack(out).astype(np.float32)


def arithmetic(start, subtract, add) -> np.ndarray:
    return (np.asarray(start) - np.asarray(subtract) + np.asarray(add)).astype(np.float32)


def morph_path(keyframes, frames_per_transition: int, loop: bool = True, mode: str = "linear") -> np.ndarray:
    """Latents through the keyframes in order (and back to the first when looping)."""
    keys = list(keyframes) + ([keyframes[0]] if loop else [])
    if len(keys) < 2:
        raise ValueError("a morph needs at least two keyframes")
    out = []
    for a, b in zip(keys[:-1], keys[1:]):
        out += [interpolate(a, b, t / frames_per_transition, mode) for t in range(frames_per_transition)]
    if not loop:
        out.append(keys[-1])
    return np.stack(out).astype(np.float32)
