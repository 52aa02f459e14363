"""A small local store of latents worth sharing (an inverted upload, say), each under a short id.

A link carries the id (`?z=3f9a0c12de`), never the 100+ numbers. Ids are the first 10 hex digits
of the latent's SHA-256, so storing the same latent twice gives the same id. Files are plain .npy
(read without pickle) beside a small JSON note of where the latent came from.
"""
from __future__ import annotations

import hashlib
import io
import json
import re

import numpy as np

from catgan.data.dataset import cache_root
from catgan.io import atomic_write_bytes

ID = re.compile(r"[0-9a-f]{10}")


class UnknownLatent(ValueError):
    pass


def folder():
    return cache_root() / "latents"


def put(z: np.ndarray, note: dict | None = None) -> str:
    z = np.asarray(z, dtype=np.float32).reshape(-1)
    key = hashlib.sha256(z.tobytes()).hexdigest()[:10]
    buf = io.BytesIO()
    np.save(buf, z, allow_pickle=False)
    atomic_write_bytes(folder() / f"{key}.npy", buf.getvalue())
    atomic_write_bytes(folder() / f"{key}.json", json.dumps(note or {}).encode())
    return key


def get(key: str, latent_dim: int | None = None) -> np.ndarray:
    """The stored latent; a clear error for a malformed id, a missing one, or one of another size."""
    key = str(key).strip()
    if not ID.fullmatch(key):
        raise UnknownLatent(f"{key!r} is not a stored-latent id (10 hex digits, e.g. 3f9a0c12de)")
    try:
        z = np.load(folder() / f"{key}.npy", allow_pickle=False)
    except (OSError, ValueError):
        raise UnknownLatent(f"no stored latent {key} on this machine; invert the image again to get one")
    if z.ndim != 1 or (latent_dim is not None and len(z) != latent_dim):
        raise UnknownLatent(f"stored latent {key} has {z.size} numbers, but this model takes {latent_dim}; "
                            f"it belongs to another model")
    return z.astype(np.float32)


def note(key: str) -> dict:
    try:
        return json.loads((folder() / f"{key}.json").read_text())
    except (OSError, ValueError):
        return {}


def parse_keyframes(text: str) -> list[int | str]:
    """"1, 2, z:3f9a0c12de" -> [1, 2, "z:3f9a0c12de"]: seeds, and stored latents by id."""
    keys = []
    for part in text.replace(" ", "").split(","):
        if not part:
            continue
        if part.startswith("z:"):
            keys.append(part)
        elif part.isdigit():
            keys.append(int(part))
        else:
            raise ValueError(f"{part!r} is neither a seed nor z:<stored latent id>")
    if len(keys) < 2:
        raise ValueError(f"a morph needs at least two keyframes, got {len(keys)}")
    return keys


def keyframe_latent(key: int | str, g) -> np.ndarray:
    """A morph keyframe's latent for the loaded generator `g`: a stored one by id, or a seed's."""
    if isinstance(key, str):
        return get(key[2:], g.explorer_dim)
    return g.latents(key, 1)[0]
