"""Pixels between the two forms catgan passes around: uint8 images N x H x W x 3 (files, pages, measures)
and float tensors N x 3 x H x W on [-1, 1] (the nets)."""
from __future__ import annotations

import numpy as np
import torch


def from_uint8(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 N x H x W x 3 (array or tensor) -> float32 N x 3 x H x W on [-1, 1]."""
    if not isinstance(images, torch.Tensor):
        a = np.ascontiguousarray(images)
        images = torch.from_numpy(a if a.flags.writeable else a.copy())      # e.g. a memory-mapped dataset
    return images.permute(0, 3, 1, 2).float().div(127.5).sub(1)


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """float N x 3 x H x W on [-1, 1], any dtype or device, clipped -> uint8 N x H x W x 3 on the CPU."""
    return x.float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu()
