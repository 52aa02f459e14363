"""Opening user images safely: every way a file can be bad becomes one clear BadImage."""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 40_000_000          # anything larger is treated as a decompression bomb
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".tif", ".tiff"}


class BadImage(ValueError):
    """An unusable image file; the message names the file and the reason."""


def _to_8bit(im: Image.Image) -> Image.Image:
    """16-bit and float greyscale modes scaled to 8-bit L (Pillow's convert would clip them)."""
    a = np.asarray(im).astype(np.float64)
    hi = 65535.0 if im.mode.startswith("I;16") or a.max() > 255 else 255.0
    if im.mode == "F":
        hi = max(float(a.max()), 1.0)
    return Image.fromarray(np.clip(a / hi * 255 + 0.5, 0, 255).astype(np.uint8), "L")


def open_image(source, name: str | None = None) -> Image.Image:
    """Decode a path or file-like object to RGBA (alpha kept where the file has one)."""
    name = name or str(source)
    if isinstance(source, (str, Path)):
        p = Path(source)
        if not p.is_file():
            raise BadImage(f"{name}: no such file")
        if p.stat().st_size == 0:
            raise BadImage(f"{name}: empty file (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            old = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = MAX_PIXELS
            try:
                im = Image.open(source)
                if im.width * im.height > MAX_PIXELS:
                    raise Image.DecompressionBombError("too many pixels")
                im.load()
            finally:
                Image.MAX_IMAGE_PIXELS = old
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadImage(f"{name}: image too large (over {MAX_PIXELS:,} pixels; possible decompression bomb)")
    except UnidentifiedImageError:
        raise BadImage(f"{name}: not an image file Pillow can read")
    except (OSError, SyntaxError, ValueError) as e:
        raise BadImage(f"{name}: corrupt or truncated image ({e})")
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        im = _to_8bit(im)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("LA", "PA", "La", "RGBa"):
        im = im.convert("RGBA")
    return im.convert("RGBA") if im.mode == "RGBA" else im.convert("RGB").convert("RGBA")


def on_white(im: Image.Image, near_white: int = 245) -> Image.Image:
    """Composite over white and snap near-white background pixels to pure white."""
    bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
    rgb = np.asarray(Image.alpha_composite(bg, im).convert("RGB")).copy()
    rgb[(rgb >= near_white).all(-1)] = 255
    return Image.fromarray(rgb)


def square_on_white(im: Image.Image) -> Image.Image:
    side = max(im.size)
    out = Image.new("RGB", (side, side), (255, 255, 255))
    out.paste(im, ((side - im.width) // 2, (side - im.height) // 2))
    return out


def list_images(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    if not folder.exists():
        raise FileNotFoundError(f"{folder} does not exist; pass the folder that holds your images")
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder} is a file; pass the folder that holds your images")
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
