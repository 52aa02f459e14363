"""`catgan prepare stickers`: a folder of sticker images -> a prepared dataset."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm

from catgan.data.augment import AugmentConfig, augment_many
from catgan.data.dataset import DatasetError, write_dataset
from catgan.data.images import IMAGE_SUFFIXES, BadImage, list_images, on_white, open_image, square_on_white
from catgan.models.diffaug import FEW_SHOT

WORK_SIDE = 256   # originals are normalised to this before augmentation
FEW = 100         # below this many originals, say what to expect


def prepare_stickers(src: str | Path, out: str | Path, size: int = 64, variants: int = 8, seed: int = 0,
                     cfg: AugmentConfig = AugmentConfig(), progress: bool = True) -> dict:
    """Each usable image gives itself plus `variants` augmented copies. Returns a summary."""
    files = list_images(src)
    originals, names, skipped = [], [], []
    for f in tqdm(files, desc="reading stickers", disable=not progress, leave=False):
        if f.suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append((str(f), f"not an image type ({f.suffix or 'no suffix'})"))
            continue
        try:
            im = square_on_white(on_white(open_image(f)))
        except BadImage as e:
            skipped.append((str(f), str(e).split(": ", 1)[-1]))
            continue
        originals.append(np.asarray(im.resize((WORK_SIDE, WORK_SIDE))))
        names.append(str(f.relative_to(src)))
    summary = {"source": str(src), "kept": len(originals), "skipped": skipped,
               "skipped_by_reason": dict(Counter(r for _, r in skipped))}
    if not originals:
        raise DatasetError(f"no usable images in {src} ({len(files)} files, {len(skipped)} skipped); "
                           "add PNG/JPEG stickers to the folder")
    n = len(originals) * (1 + variants)
    images, parent = augment_many(np.stack(originals), n, size, np.random.default_rng(seed), cfg, progress=progress)
    write_dataset(out, images, {"source": "stickers", "originals": names, "parent": parent,
                                "variants": variants, "seed": seed, "augment": vars(cfg) | {"zoom": list(cfg.zoom)},
                                "skipped": skipped})
    summary["images"] = n
    if len(originals) < FEW:
        summary["warning"] = (
            f"only {len(originals)} originals: the GAN sees these few again and again. Training turns on "
            f"DiffAugment by itself for sets under {FEW_SHOT:,} originals so the discriminator cannot learn "
            "them by heart; expect rough but new cats (README: Your own data). More originals help more "
            "than more --variants.")
    return summary


MAX_ZIP_FILES, MAX_ZIP_BYTES = 5000, 500 * 2**20


def extract_zip(source, dest: str | Path) -> int:
    """Unpack the images of a zip (path or file object) flat into dest, refusing zip bombs.

    Member paths are never trusted: each file is written under its base name only.
    """
    import zipfile
    dest = Path(dest)
    try:
        zf = zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        raise DatasetError("the upload is not a valid zip file; zip a folder of PNG/JPEG stickers")
    with zf:
        members = [m for m in zf.infolist() if not m.is_dir() and Path(m.filename).suffix.lower() in IMAGE_SUFFIXES
                   and not Path(m.filename).name.startswith(".")]
        if len(members) > MAX_ZIP_FILES:
            raise DatasetError(f"the zip holds {len(members)} images; the limit is {MAX_ZIP_FILES}")
        if sum(m.file_size for m in members) > MAX_ZIP_BYTES:
            raise DatasetError(f"the zip unpacks to more than {MAX_ZIP_BYTES // 2**20} MB; upload fewer images")
        dest.mkdir(parents=True, exist_ok=True)
        for i, m in enumerate(members):
            (dest / f"{i:05d}_{Path(m.filename).name}").write_bytes(zf.read(m))
    return len(members)
