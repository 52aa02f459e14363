"""`catgan prepare cat-faces`: the CAT dataset (photos + .cat landmark files) -> face crops.

The crop follows the cat-GAN community's recipe: level the eyes, take the face
width as the distance between the outer ear bases, put the eye midpoint at
(0.5 w, 0.4 w) of a w x w square, drop faces smaller than `min_size`.
"""
from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from catgan.data.dataset import DatasetError, write_dataset
from catgan.data.images import BadImage, list_images, open_image

NEUTRAL = (127, 127, 127)   # fills the parts of a rotated crop that fall outside the photo
LEFT_EYE, RIGHT_EYE, LEFT_EAR_1, RIGHT_EAR_3 = 0, 1, 3, 8


def read_landmarks(path: Path) -> np.ndarray:
    """The 9 (x, y) points of a .cat file, or ValueError saying what is wrong."""
    if not path.is_file():
        raise ValueError("missing .cat landmark file")
    try:
        nums = [int(float(t)) for t in path.read_text().split()]
    except (ValueError, UnicodeDecodeError):
        raise ValueError("malformed .cat file (not a list of integers)")
    if len(nums) < 19 or nums[0] != 9:
        raise ValueError(f"malformed .cat file (expected 9 followed by 18 numbers, got {len(nums)} numbers)")
    return np.array(nums[1:19], dtype=np.float64).reshape(9, 2)


def face_crop(im: Image.Image, pts: np.ndarray) -> tuple[Image.Image, float]:
    """The square, eye-levelled face crop at its native side, and that side in pixels."""
    le, re = pts[LEFT_EYE], pts[RIGHT_EYE]
    cx, cy = (le + re) / 2
    theta = math.atan2(re[1] - le[1], re[0] - le[0])
    cos, sin = math.cos(theta), math.sin(theta)
    # Rotating by -theta about the eye centre levels the eyes; apply it to the ear bases.
    def level(p):
        dx, dy = p[0] - cx, p[1] - cy
        return np.array([cx + dx * cos + dy * sin, cy - dx * sin + dy * cos])
    w = float(np.linalg.norm(level(pts[LEFT_EAR_1]) - level(pts[RIGHT_EAR_3])))
    side = max(1, int(round(w)))
    x0, y0 = cx - 0.5 * w, cy - 0.4 * w
    # Output pixel (u, v) is levelled point (x0 + u, y0 + v); map it back into the photo.
    a, b = cos, -sin
    c = cx + (x0 - cx) * cos - (y0 - cy) * sin
    d, e = sin, cos
    f = cy + (x0 - cx) * sin + (y0 - cy) * cos
    crop = im.transform((side, side), Image.Transform.AFFINE, (a, b, c, d, e, f),
                        resample=Image.Resampling.BICUBIC, fillcolor=NEUTRAL)
    return crop, w


def prepare_cat_faces(src: str | Path, out: str | Path, size: int = 128, min_size: int = 128,
                      progress: bool = True) -> dict:
    if min_size < 1 or size < 8:
        raise ValueError("size must be at least 8 and min_size at least 1")
    src = Path(src)
    photos = [p for p in list_images(src) if p.suffix.lower() in (".jpg", ".jpeg")]
    if not photos:
        raise DatasetError(f"no .jpg photos under {src}; point at the folder holding CAT_00 ... CAT_06")
    faces, names, dropped = [], [], []
    for photo in tqdm(photos, desc="cropping cat faces", disable=not progress, leave=False):
        rel = str(photo.relative_to(src))
        try:
            pts = read_landmarks(photo.with_name(photo.name + ".cat"))
            im = open_image(photo).convert("RGB")
            if (pts < 0).any() or (pts[:, 0] >= im.width).any() or (pts[:, 1] >= im.height).any():
                raise ValueError("landmarks outside the image")
            crop, w = face_crop(im, pts)
        except (ValueError, BadImage) as e:
            dropped.append((rel, str(e).split(": ", 1)[-1] if isinstance(e, BadImage) else str(e)))
            continue
        if w < min_size:
            dropped.append((rel, f"face smaller than {min_size} px"))
            continue
        faces.append(np.asarray(crop.resize((size, size), Image.Resampling.LANCZOS)))
        names.append(rel)
    reasons = Counter(r for _, r in dropped)
    summary = {"source": str(src), "photos": len(photos), "kept": len(faces), "dropped": len(dropped),
               "dropped_by_reason": dict(reasons), "dropped_files": dropped}
    if not faces:
        raise DatasetError(f"no face survived from {src}: {dict(reasons)}")
    write_dataset(out, np.stack(faces), {"source": "cat-faces", "files": names, "min_size": min_size,
                                         "dropped_by_reason": dict(reasons)})
    return summary
