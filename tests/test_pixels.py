import warnings

import numpy as np
import pytest
import torch

from catgan.pixels import from_uint8, to_uint8


def test_round_trip_keeps_every_value_and_layout():
    images = np.random.default_rng(0).integers(0, 256, (3, 5, 7, 3), dtype=np.uint8)
    x = from_uint8(images)
    assert x.shape == (3, 3, 5, 7) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    assert float(x[1, 2, 4, 6]) == pytest.approx(images[1, 4, 6, 2] / 127.5 - 1, abs=1e-6)
    back = to_uint8(x)
    assert back.dtype == torch.uint8 and np.array_equal(back.numpy(), images)
    assert torch.equal(from_uint8(torch.from_numpy(images)), x)          # a tensor in, the same out
    images.flags.writeable = False                                      # as a memory-mapped dataset is
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert torch.equal(from_uint8(images), x)


def test_to_uint8_clips_out_of_range_and_takes_bf16():
    x = torch.tensor([-3.0, -1.0, 0.0, 1.0, 2.5]).reshape(1, 1, 1, 5).expand(1, 3, 1, 5)
    assert to_uint8(x)[0, 0, :, 0].tolist() == [0, 0, 128, 255, 255]       # 127.5 rounds to even: 128
    assert to_uint8(x.bfloat16()).dtype == torch.uint8
