import numpy as np

from catgan.data import render
from catgan.data.dataset import make_synthetic


def test_same_seed_same_bytes():
    a, la = render.render_one(5, 17, 48)
    b, lb = render.render_one(5, 17, 48)
    assert a.dtype == np.uint8 and a.shape == (48, 48, 3)
    assert a.tobytes() == b.tobytes() and la == lb
    c, _ = render.render_one(5, 18, 48)
    assert a.tobytes() != c.tobytes()


def test_every_label_value_is_reachable():
    seen = {k: set() for k in render.LABEL_NAMES}
    rng = np.random.default_rng(0)
    for _ in range(400):
        for k, v in render.sample_labels(rng).items():
            seen[k].add(v)
    assert all(seen[k] == set(v) for k, v in render.LABEL_NAMES.items())
    assert len(render.POSES) >= 6 and len(render.ITEMS) >= 6 and len(render.COATS) >= 4


def _render(**labels):
    base = dict(pose="sitting", item="none", coat="grey", eyes="open")
    return render.render_one(0, 0, 64, {**base, **labels})[0].astype(int)


def test_white_background_and_a_cat_in_the_middle():
    im = _render()
    assert (im[0, 0] == 255).all() and (im[-1, -1] == 255).all()
    assert (im[24:40, 24:40] < 250).any()


def test_coat_colour_is_what_the_label_says():
    for coat, (fill, _) in render.COATS.items():
        im = _render(coat=coat)
        centre = im[36:44, 28:36].reshape(-1, 3).mean(0)      # the body of a sitting cat
        assert np.abs(centre - np.array(fill)).max() < 40, coat


def _reds(im):
    return ((im[..., 0] > 180) & (im[..., 1] < 90) & (im[..., 2] < 120)).sum()


def test_item_is_drawn_only_when_labelled():
    assert _reds(_render(item="heart")) > 10
    assert _reds(_render(item="none")) == 0


def test_closed_eyes_draw_less_dark_ink_than_open_eyes():
    def dark(im):
        return (im.sum(-1) < 250).sum()
    assert dark(_render(eyes="open")) > dark(_render(eyes="closed"))


def test_lying_left_and_right_face_opposite_ways():
    def head_x(pose):
        xs = []
        for seed in range(5):   # the head end of the body holds the eyes, the darkest ink
            im = render.render_one(seed, 0, 64, dict(pose=pose, item="none", coat="cream", eyes="open"))[0]
            ys, x = np.nonzero(im.astype(int).sum(-1) < 200)
            xs.append(x.mean())
        return np.mean(xs)
    assert head_x("lying_left") < 28 < 36 < head_x("lying_right")


def test_augmented_mode_has_few_originals(tmp_path):
    ds = make_synthetic(tmp_path / "aug", n=40, size=32, seed=1, originals=8, progress=False)
    assert len(ds) == 40 and ds.info["originals"] == 8
    assert all(len(v) == 40 for v in ds.labels.values())
    # images 0..7 are the originals; 8 and 16 are augmentations of original 0, so they share its labels
    assert ds.labels["pose"][8] == ds.labels["pose"][0] == ds.labels["pose"][16]
    assert not np.array_equal(ds.images[8], ds.images[0])
