import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from catgan.data.catfaces import prepare_cat_faces
from catgan.data.dataset import DatasetError, load_dataset, make_synthetic
from catgan.data.stickers import prepare_stickers


def _sticker(size=80):
    im = Image.new("RGBA", (size, size), (0, 0, 0, 0))          # transparent background
    ImageDraw.Draw(im).ellipse((15, 20, 65, 70), fill=(150, 150, 150, 255))
    return im


@pytest.fixture
def sticker_folder(tmp_path):
    d = tmp_path / "stickers"
    d.mkdir()
    _sticker().save(d / "rgba.png")
    _sticker().convert("RGB").save(d / "photo.jpg")
    p = _sticker().convert("P")
    p.info["transparency"] = 0
    p.save(d / "palette.png", transparency=0)
    _sticker().convert("L").save(d / "grey.png")
    Image.fromarray((np.arange(80 * 80).reshape(80, 80) * 9).astype(np.uint16)).save(d / "grey16.png")
    _sticker().convert("RGB").convert("CMYK").save(d / "cmyk.jpg")
    (d / "empty.png").write_bytes(b"")
    full = (d / "rgba.png").read_bytes()
    (d / "truncated.png").write_bytes(full[: len(full) // 2])
    (d / "fake.png").write_text("this is not a picture")
    (d / "notes.txt").write_text("hello")
    Image.new("L", (8000, 6000)).save(d / "bomb.png")
    return d


def test_stickers_keep_good_files_and_explain_bad_ones(sticker_folder, tmp_path):
    s = prepare_stickers(sticker_folder, tmp_path / "out", size=32, variants=3, progress=False)
    assert s["kept"] == 6
    reasons = {name.split("/")[-1]: why for name, why in s["skipped"]}
    assert set(reasons) == {"empty.png", "truncated.png", "fake.png", "notes.txt", "bomb.png"}
    assert "empty" in reasons["empty.png"]
    assert "corrupt or truncated" in reasons["truncated.png"]
    assert "not an image" in reasons["fake.png"]
    assert "not an image type" in reasons["notes.txt"]
    assert "too large" in reasons["bomb.png"]
    ds = load_dataset(tmp_path / "out")
    assert ds.images.shape == (6 * 4, 32, 32, 3)
    rgba = ds.info["originals"].index("rgba.png")
    assert (ds.images[rgba][0, 0] == 255).all(), "transparent background must become pure white"


def test_empty_or_missing_folder_is_refused_and_the_old_dataset_survives(tmp_path):
    old = make_synthetic(tmp_path / "out", n=4, size=16, progress=False)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no usable images"):
        prepare_stickers(tmp_path / "empty", tmp_path / "out", progress=False)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        prepare_stickers(tmp_path / "nope", tmp_path / "out", progress=False)
    assert len(load_dataset(old.path)) == 4
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")], "no temp folder left behind"


def _cat_photo(folder, name, eye_dist, angle_deg=0.0, size=(500, 400), landmarks=True, text=None):
    """A grey photo with a red left eye and a blue right eye; ears placed so the face is ~2.2 eye distances wide."""
    im = Image.new("RGB", size, (90, 110, 90))
    cx, cy = size[0] / 2, size[1] / 2
    a = math.radians(angle_deg)

    def at(dx, dy):   # face-frame offset -> photo coordinates, rotated by angle
        return (cx + dx * math.cos(a) - dy * math.sin(a), cy + dx * math.sin(a) + dy * math.cos(a))
    le, re = at(-eye_dist / 2, 0), at(eye_dist / 2, 0)
    d = ImageDraw.Draw(im)
    for (x, y), col in ((le, (255, 0, 0)), (re, (0, 0, 255))):
        d.ellipse((x - 4, y - 4, x + 4, y + 4), fill=col)
    im.save(folder / name)
    pts = [le, re, at(0, eye_dist * 0.6), at(-1.1 * eye_dist, -0.3 * eye_dist), at(-0.8 * eye_dist, -1.0 * eye_dist),
           at(-0.4 * eye_dist, -0.5 * eye_dist), at(0.4 * eye_dist, -0.5 * eye_dist),
           at(0.8 * eye_dist, -1.0 * eye_dist), at(1.1 * eye_dist, -0.3 * eye_dist)]
    if landmarks:
        (folder / (name + ".cat")).write_text(text or "9 " + " ".join(f"{round(x)} {round(y)}" for x, y in pts))


@pytest.fixture
def cat_folder(tmp_path):
    d = tmp_path / "CAT" / "CAT_00"
    d.mkdir(parents=True)
    _cat_photo(d, "good.jpg", eye_dist=80, angle_deg=25)
    _cat_photo(d, "small.jpg", eye_dist=20)
    _cat_photo(d, "nolabels.jpg", eye_dist=80, landmarks=False)
    _cat_photo(d, "malformed.jpg", eye_dist=80, text="9 1 2 3")
    _cat_photo(d, "outside.jpg", eye_dist=80, text="9 " + " ".join(["900 10"] * 9))
    (d / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (d / "corrupt.jpg.cat").write_text("9 " + " ".join(["10 10"] * 9))
    return d.parent


def test_cat_faces_crop_levels_eyes_and_reports_drops(cat_folder, tmp_path):
    s = prepare_cat_faces(cat_folder, tmp_path / "faces", size=64, min_size=128, progress=False)
    assert s["kept"] == 1 and s["photos"] == 6
    why = {f.split("/")[-1]: r for f, r in s["dropped_files"]}
    assert why["small.jpg"] == "face smaller than 128 px"
    assert "missing .cat" in why["nolabels.jpg"]
    assert "malformed" in why["malformed.jpg"]
    assert why["outside.jpg"] == "landmarks outside the image"
    assert "corrupt" in why["corrupt.jpg"] or "not an image" in why["corrupt.jpg"]
    face = load_dataset(tmp_path / "faces").images[0].astype(int)
    red = np.argwhere((face[..., 0] > 150) & (face[..., 1] < 80) & (face[..., 2] < 80)).mean(0)
    blue = np.argwhere((face[..., 2] > 150) & (face[..., 0] < 80) & (face[..., 1] < 80)).mean(0)
    assert abs(red[0] - blue[0]) < 2, "eyes must be level after the crop"
    assert red[1] < blue[1], "left eye stays on the left"
    assert abs((red[0] + blue[0]) / 2 - 0.4 * 64) < 2 and abs((red[1] + blue[1]) / 2 - 0.5 * 64) < 2


def test_cat_faces_min_size_keeps_small_faces_when_lowered(cat_folder, tmp_path):
    s = prepare_cat_faces(cat_folder, tmp_path / "faces", size=32, min_size=32, progress=False)
    assert s["kept"] == 2


def test_the_seeds_cat_face_recipe_runs_at_128_px(cat_folder, tmp_path):
    """`--resolution 128 --preset paper` on a prepared CAT folder: the paper's widths, one step (at 4x4,
    where growing starts), and a checkpoint that draws 128 px faces."""
    from catgan import load_generator
    from catgan.train.trainer import TrainConfig, train
    _cat_photo(cat_folder / "CAT_00", "good2.jpg", eye_dist=90, angle_deg=-10)
    assert prepare_cat_faces(cat_folder, tmp_path / "faces", size=128, progress=False)["kept"] == 2
    train(TrainConfig(model="pgwgan", data=str(tmp_path / "faces"), out=str(tmp_path / "run"), steps=1,
                      resolution=128, preset="paper", batch=2, threads=1, progress=False))
    g = load_generator(tmp_path / "run" / "checkpoint.safetensors", device="cpu")
    assert g.meta["config"]["channels"][0] == 512 and g.meta["config"]["preset"] == "paper"
    assert g.generate(g.latents(0, 1)).shape == (1, 128, 128, 3)


def test_a_few_dozen_stickers_warn_and_train_with_diffaugment_by_default(tmp_path):
    """Rendered stickers, recoloured and cut out to transparent PNGs of mixed sizes and modes."""
    import json
    from catgan.data.render import render_one
    from catgan.train.trainer import TrainConfig, train
    from conftest import TINY
    src = tmp_path / "mine"
    src.mkdir()
    for i in range(36):
        rgb = render_one(99, i, 96 + 8 * (i % 4))[0].astype(np.int16)
        white = (rgb >= 250).all(axis=2)
        rgb = np.clip(rgb[..., [2, 0, 1]] + 20, 0, 255).astype(np.uint8)      # a recoloured set
        rgba = np.dstack([rgb, np.where(white, 0, 255).astype(np.uint8)])
        im = Image.fromarray(rgba, "RGBA")
        (im.convert("P", palette=Image.ADAPTIVE) if i % 3 == 0 else im).save(src / f"s{i}.png")
    summary = prepare_stickers(src, tmp_path / "data", size=32, variants=3, progress=False)
    assert summary["kept"] == 36 and "only 36 originals" in summary["warning"]
    assert load_dataset(tmp_path / "data").originals == 36
    for model in ("dcgan", "began", "pgwgan"):
        out = tmp_path / f"run-{model}"
        train(TrainConfig(model=model, data=str(tmp_path / "data"), out=str(out), steps=2, resolution=32,
                          batch=8, threads=1, progress=False, overrides=dict(TINY[model])))
        cfg = json.loads((out / "config.json").read_text())["model_config"]
        assert cfg["diffaug"] == "translation,color" and "36 originals" in cfg["diffaug_reason"]
    out = tmp_path / "run-off"                        # an explicit choice wins
    train(TrainConfig(model="dcgan", data=str(tmp_path / "data"), out=str(out), steps=1, resolution=32, batch=8,
                      threads=1, progress=False, overrides={**TINY["dcgan"], "diffaug": ""}))
    assert json.loads((out / "config.json").read_text())["model_config"]["diffaug"] == ""


def test_a_large_set_trains_without_diffaugment(tiny_cfg, monkeypatch):
    import json
    from pathlib import Path
    from catgan.models import diffaug
    from catgan.train.trainer import train
    monkeypatch.setattr(diffaug, "FEW_SHOT", 50)       # the tiny set's 96 images count as many here
    cfg = tiny_cfg("dcgan", steps=1)
    train(cfg)
    assert not json.loads((Path(cfg.out) / "config.json").read_text())["model_config"].get("diffaug")
