"""Images out: grids, nearest-neighbour upscaling, PNG and GIF/MP4 bytes."""
from __future__ import annotations

import io

import imageio.v3 as iio
import numpy as np
from PIL import Image


def grid(images: np.ndarray, cols: int, pad: int = 2, fill: int = 255) -> np.ndarray:
    """uint8 N x H x W x 3 -> one uint8 image, row-major, with `pad` px of `fill` between tiles."""
    n, h, w, c = images.shape
    rows = -(-n // cols)
    out = np.full((rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad, c), fill, np.uint8)
    for i, im in enumerate(images):
        r, k = divmod(i, cols)
        out[r * (h + pad):r * (h + pad) + h, k * (w + pad):k * (w + pad) + w] = im
    return out


def upscale(image: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling: crisp pixels, no blur."""
    return image if factor <= 1 else image.repeat(factor, 0).repeat(factor, 1)


def upscale_batch(images: np.ndarray, factor: int) -> np.ndarray:
    return images if factor <= 1 else images.repeat(factor, 1).repeat(factor, 2)


def png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


def grid_png(images: np.ndarray, cols: int, scale: int = 1) -> bytes:
    return png_bytes(upscale(grid(images, cols), scale))


def gif_bytes(frames: np.ndarray, fps: float, loop: bool = True) -> bytes:
    """Frames (uint8 T x H x W x 3) as an animated GIF."""
    return iio.imwrite("<bytes>", frames, extension=".gif", duration=1000.0 / fps, loop=0 if loop else 1)


def mp4_available() -> bool:
    try:
        import imageio_ffmpeg  # noqa: F401
        return True
    except ImportError:
        return False


def mp4_bytes(frames: np.ndarray, fps: float) -> bytes:
    if not mp4_available():
        raise RuntimeError("MP4 needs an ffmpeg encoder: pip install imageio-ffmpeg")
    return iio.imwrite("<bytes>", frames, extension=".mp4", fps=fps, codec="libx264", macro_block_size=16)
