import numpy as np
import pytest

from catgan.audit.failures import collapse_clusters, out_of_range, snapshots, worst_samples
from catgan.audit.neighbors import build_index, memorisation_rate
from catgan.data import render
from catgan.data.dataset import write_dataset
from catgan.train.trainer import CHECKPOINT, train
from catgan import load_generator


@pytest.fixture(scope="module")
def flip_fixture(tmp_path_factory):
    """Training set: stickers + one lying-left cat (index 0) + a noisy mirror of it (index 1).
    Its mirror image is pixel-closest to the noisy copy, but the same cat to a pretrained net."""
    rng = np.random.default_rng(0)
    original, _ = render.render(64, rng, dict(pose="lying_left", item="heart", coat="orange", eyes="open"))
    query = original[:, ::-1].copy()
    decoy = np.clip(query.astype(int) + rng.normal(0, 40, query.shape), 0, 255).astype(np.uint8)
    others = [render.render_one(9, i, 64)[0] for i in range(60)]
    ds = write_dataset(tmp_path_factory.mktemp("flip") / "ds", np.stack([original, decoy, *others]), {"source": "test"})
    return ds, query


def test_flipped_image_finds_its_original_in_feature_space_not_pixel_space(flip_fixture):
    ds, query = flip_fixture
    index = build_index(ds, reference=40, progress=False)
    r = index.query(query, k=3)[0]
    assert index.space.key == "efficientnet"           # data without the renderer's labels
    assert r["pixel"].matches[0].index == 1            # the noisy decoy
    assert r["feature"].matches[0].index == 0          # the real original
    assert r["feature"].verdict == "memorised"
    best = r["pixel_flip"].matches[0]
    assert best.index == 0 and best.flipped and best.distance < 1e-2     # float32 dot-product distances
    assert r["pixel_flip"].verdict == "memorised"


def test_pixel_neighbours_match_brute_force(flip_fixture):
    ds, _ = flip_fixture
    index = build_index(ds, reference=40, progress=False)
    queries = np.random.default_rng(1).integers(0, 256, (4, 64, 64, 3), dtype=np.uint8)
    data = np.asarray(ds.images).reshape(len(ds), -1).astype(np.float64) / 255
    for q, r in zip(queries, index.query(queries, k=5)):
        d = np.sqrt(((data - q.reshape(-1).astype(np.float64) / 255) ** 2).sum(1))
        assert [m.index for m in r["pixel"].matches] == list(np.argsort(d)[:5])
        assert np.allclose([m.distance for m in r["pixel"].matches], np.sort(d)[:5], rtol=1e-4)


def test_images_of_another_size_are_resized_and_bad_ones_refused(flip_fixture):
    ds, query = flip_fixture
    index = build_index(ds, reference=40, progress=False)
    big = np.asarray(__import__("PIL.Image", fromlist=["Image"]).fromarray(query).resize((128, 128)))
    assert index.query(big, k=1)[0]["pixel_flip"].matches[0].index == 0
    with pytest.raises(ValueError, match="uint8 RGB"):
        index.query(np.zeros((64, 64), np.float32))


def test_stickers_are_searched_in_the_sticker_space_and_a_mirror_finds_its_original(tiny_data):
    from catgan.audit.spaces import SPACES, dataset_features
    index = build_index(tiny_data, reference=40, progress=False)
    assert index.space.key == "sticker"
    assert np.array_equal(index.features._fit_X, dataset_features(tiny_data, SPACES["sticker"], progress=False))
    originals = np.asarray(tiny_data.images[[3, 50]])
    for j, r in enumerate(index.query(originals[:, :, ::-1].copy(), k=2)):
        best = r["feature"].matches[0]
        assert best.index == [3, 50][j] and best.flipped and best.distance < 1e-3
        assert len({m.index for m in r["feature"].matches}) == 2       # each training image once


def test_memorisation_rate_counts_copies(flip_fixture):
    ds, _ = flip_fixture
    index = build_index(ds, reference=40, progress=False)
    copies = np.asarray(ds.images[2:8])
    novel = np.stack([render.render_one(77, i, 64)[0] for i in range(6)])
    report = memorisation_rate(index, copies)
    assert report["memorised"] == 1.0 and report["features"] == "efficientnet" and report["mirror_allowed"]
    assert memorisation_rate(index, novel)["memorised"] == 0.0


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from catgan.data.dataset import make_synthetic
    from catgan.train.trainer import TrainConfig
    from conftest import TINY
    root = tmp_path_factory.mktemp("model")
    ds = make_synthetic(root / "data", n=64, size=32, seed=1, progress=False)
    train(TrainConfig(model="began", data=str(ds.path), out=str(root / "run"), steps=4, resolution=32, batch=8,
                      sample_every=2, threads=1, progress=False, overrides=dict(TINY["began"])))
    return root / "run" / CHECKPOINT


def test_worst_samples_are_ranked_by_the_critic_and_reproducible(tiny_model):
    g = load_generator(tiny_model, with_critic=True)
    worst = worst_samples(g, n=20, k=5, first_seed=100)
    scores = [w.score for w in worst]
    assert scores == sorted(scores) and len(worst) == 5
    all_scores = g.realism(g.generate(np.concatenate([g.latents(s, 1) for s in range(100, 120)])))
    assert scores[0] == pytest.approx(all_scores.min(), rel=1e-5)
    again = g.generate(g.latents(worst[0].seed, 1))[0]
    assert np.array_equal(again, worst[0].image)


def test_ranking_without_a_critic_is_a_clear_error(tiny_model):
    g = load_generator(tiny_model)                     # critic not loaded
    with pytest.raises(ValueError, match="cannot be ranked"):
        worst_samples(g, n=4, k=2)


def test_collapse_and_out_of_range_and_snapshots(tiny_model):
    g = load_generator(tiny_model)
    feats = np.array([[0, 0], [0, 0.01], [5, 5], [9, 9], [9, 9.001]], np.float32)
    c = collapse_clusters(feats, np.arange(10, 15), threshold=0.1)
    assert c["duplicate_rate"] == pytest.approx(4 / 5)
    assert sorted(map(sorted, c["clusters"])) == [[10, 11], [13, 14]]
    c = collapse_clusters(np.array([[1, 2], [2, 1], [7, 0]], np.float32), np.arange(3), 0.1,
                          mirrored=np.array([[2, 1], [1, 2], [0, 7]], np.float32))
    assert c["clusters"] == [[0, 1]]                  # one sample is the other's mirror image
    far = out_of_range(g, seed=3, scales=(1, 8))
    assert [f.scale for f in far] == [1, 8] and not np.array_equal(far[0].image, far[1].image)
    snaps = snapshots(tiny_model.parent)
    assert [s.step for s in snaps] == [0, 2, 4]


def test_background_index_reports_progress_then_the_index(tiny_data):
    from catgan.audit.neighbors import build_index
    from catgan.audit.spaces import features_path, spaces_for
    from catgan.background import BackgroundTask
    features_path(tiny_data, spaces_for(tiny_data)[0]).unlink(missing_ok=True)     # a first use
    job = BackgroundTask(lambda on_progress, stopping: build_index(tiny_data, progress=False, on_batch=on_progress))
    assert job.wait(timeout=120) and job.error is None
    assert job.result is not None and job.done == job.total == len(tiny_data)
    assert job.result.query(np.asarray(tiny_data.images[:1]), k=1)[0]["pixel"].matches[0].index == 0


def test_background_task_failure_is_reported_not_raised_and_a_stop_is_heard():
    from catgan.background import BackgroundTask

    def fails(on_progress, stopping):
        raise OSError("disk full")
    job = BackgroundTask(fails)
    assert job.wait(timeout=30) and job.result is None and job.error == "OSError: disk full"

    def counts(on_progress, stopping):
        n = 0
        while not stopping():
            n += 1
            on_progress(n, 10**9)
        return n
    job = BackgroundTask(counts)
    job.stop()
    assert job.wait(timeout=30) and job.error is None and job.result >= 0 and job.finished


def test_nearest_by_pixels_matches_a_brute_force_search():
    from catgan.audit.neighbors import nearest_by_pixels
    rng = np.random.default_rng(0)
    db = rng.integers(0, 256, (300, 8, 8, 3), dtype=np.uint8)
    q = db[[5, 250]].copy()
    q[0, 0, 0] = 0
    d, i = nearest_by_pixels(db, q, chunk=64)
    brute = np.sqrt(((db.reshape(300, -1)[None].astype(float) - q.reshape(2, -1)[:, None]) ** 2).sum(-1)) / 255
    assert list(i) == list(brute.argmin(1)) == [5, 250]
    assert np.allclose(d, brute.min(1), atol=1e-4)


def test_index_thresholds_are_computed_once_per_dataset(tiny_data):
    from catgan.audit.spaces import SPACES, dataset_key
    from catgan.data.dataset import cache_root
    first = build_index(tiny_data, progress=False)
    key = dataset_key(tiny_data, SPACES["sticker"])
    files = list((cache_root() / "features").glob(f"neighbours-sticker-{key}-*"))
    assert files and first.thresholds["pixel"][0] <= first.thresholds["pixel"][1]
    for f in files:                           # a later start reads them back instead of searching again
        f.write_text('{"pixel": [1, 2], "pixel_flip": [1, 2], "feature": [3, 4]}')
    assert build_index(tiny_data, progress=False).thresholds["feature"] == (3, 4)
    for f in files:
        f.unlink()


def test_model_card_shows_the_pilot_table_and_the_fd_curve(tiny_model, tmp_path):
    import json
    import shutil
    from catgan.card import write_card
    folder = tmp_path / "tiny-card"
    folder.mkdir()
    shutil.copy(tiny_model, folder / "model.safetensors")
    for name, title in (("pilots", "a-base"), ("curve", "0.99"), ("reconstruction_curve", "d-alone")):
        (folder / f"{name}.json").write_text(json.dumps(
            {"how": f"how the {name} were made", "rows": [{"what": title, "sticker fd": 65.17}]}))
    pairs = [{"pose": "lie", "item": "fish", "real": 0.02, "generated": 0.004, "ratio": 0.2, "judged": 3,
              "caught": 1.0},
             {"pose": "sit", "item": "ball", "real": 0.02, "generated": 0.03, "ratio": 1.5, "judged": 30,
              "caught": 0.9}]
    (folder / "eval.json").write_text(json.dumps({"detect": {"pairs": pairs}}))
    card = write_card(folder, "test machine")
    text = (folder / "card.md").read_text()
    assert "## Pose × item pairs drawn rarely or badly" in text
    assert "| lie × fish | 2.0% | 0.4% | 100% of 3 |" in text and "| sit × ball | 2.0% | 3.0% | 90% of 30 |" in text
    assert [r["pose"] for r in card["pair_gaps"]["rare"]] == ["lie"] and "91% of all judged" in text
    assert "## What bounds it: D's reconstructions of unseen stickers" in text        # a BEGAN's card
    assert (folder / "samples" / "reconstructions.png").read_bytes()[:4] == b"\x89PNG"
    assert "## D trained alone: its reconstruction curve" in text and "| d-alone | 65.2 |" in text
    assert "## Pilots" in text and "| a-base | 65.2 |" in text
    assert "## Robust FD against images seen" in text and "| 0.99 | 65.2 |" in text
    assert card["curve"]["rows"][0]["what"] == "0.99" and (folder / "samples" / "final.png").exists()


def test_the_blind_quiz_keeps_its_answers_apart_and_its_score_reaches_the_card(tiny_model, tmp_path):
    import json
    import shutil
    import subprocess
    import sys
    from conftest import ROOT
    from catgan.card import write_card
    folder = tmp_path / "quizzed"
    folder.mkdir()
    shutil.copy(tiny_model, folder / "model.safetensors")
    script = [sys.executable, str(ROOT / "scripts" / "blind_quiz.py")]
    subprocess.run(script + [str(folder / "model.safetensors"), "--out", str(tmp_path / "q"), "--rows", "4"],
                   check=True, capture_output=True)
    from PIL import Image
    w, h = Image.open(tmp_path / "q" / "rows.png").size              # 4 rows of 6 tiles at 2x, with gaps
    assert 6 * 64 <= w < 7 * 64 and 4 * 64 <= h < 5 * 64
    fakes = json.loads((tmp_path / "q" / "key.json").read_text())["fake_positions"]
    wrong = [f % 6 + 1 for f in fakes]
    picks = ",".join(map(str, fakes[:3] + wrong[3:]))
    scored = json.loads(subprocess.run(script + ["--score", str(tmp_path / "q"), picks], check=True,
                                       capture_output=True, text=True).stdout)
    assert scored["found"] == 3 and scored["rows"] == 4
    bad = subprocess.run(script + ["--score", str(tmp_path / "q"), "1,2"], capture_output=True, text=True)
    assert bad.returncode != 0 and "give 4 picks" in bad.stderr
    takes = json.loads((folder / "blind_quiz.json").read_text())["takes"]
    assert [t["found"] for t in takes] == [3]                      # the refused score was not kept
    write_card(folder, "test machine")
    step = json.loads((folder / "card.json").read_text())["steps"]
    assert scored["step"] == step and "the fake found in 3 of 4 rows on" in (folder / "card.md").read_text()
    assert "take it again" not in (folder / "card.md").read_text()
    (folder / "blind_quiz.json").write_text(json.dumps({"takes": [{**takes[0], "step": step + 1}]}))
    write_card(folder, "test machine")              # a take of the model this one replaced
    assert f"of the model at step {step + 1:,}: take it again" in (folder / "card.md").read_text()


def test_card_tables_follow_a_growing_gans_log():
    from catgan.card import phases, training_curve
    log = {"step": [10, 20, 30, 40, 50, 60], "resolution": [4, 4, 8, 8, 8, 8], "alpha": [1, 1, 0.2, 0.7, 1, 1],
           "images_per_s": [100, 120, 50, 40, 60, 55], "wasserstein": [1, 3, 2, 2, 4, 6], "gp": [None, 1, 1, 1, 1, 1]}
    rows = phases(log, batch=4)
    assert [r["phase"] for r in rows] == ["4 px stable", "8 px fade-in", "8 px stable"]
    assert [r["steps"] for r in rows] == [20, 20, 20] and rows[1]["k images"] == round(20 * 4 / 1000)
    assert rows[0]["from step"] == 0 and rows[2]["from step"] == 40 and rows[2]["median img/s"] == 60
    curve = training_curve(log, "pgwgan", batch=4, rows=3)
    assert [r["step"] for r in curve] == [20, 40, 60] and [r["resolution"] for r in curve] == [4, 8, 8]
    assert [r["wasserstein"] for r in curve] == [2, 2, 5] and curve[0]["gp"] == 1
    assert phases({"step": [1], "k_t": [0.1], "images_per_s": [9]}, batch=4) == []
    began = training_curve({"step": [1, 2], "k_t": [0.01, 0.02], "lr_G": [5e-5, 5e-5]}, "began", batch=4, rows=1)
    assert began[0]["lr_G"] == 5e-5 and began[0]["k_t"] == 0.015            # small figures keep their digits


def test_a_process_exits_cleanly_while_a_background_task_is_still_working():
    import subprocess
    import sys
    from conftest import ROOT
    script = (
        "import torch\n"
        "from catgan.background import BackgroundTask\n"
        "def work(on_progress, stopping):\n"
        "    x = torch.randn(256, 256)\n"
        "    while not stopping():\n"
        "        x = torch.tanh(x @ x)\n"
        "t = BackgroundTask(work)\n"
        "assert not t.wait(0.5)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_collapse_is_found_in_the_datasets_robust_space(tiny_data):
    import numpy as np
    from catgan.audit.failures import find_collapse

    class OneCat:                      # a generator that has collapsed onto one training image
        latent_dim = 4

        def latents(self, seed, n=1):
            return np.random.default_rng(seed).standard_normal((n, 4)).astype(np.float32)

        def generate(self, z):
            return np.repeat(np.asarray(tiny_data.images[:1]), len(z), axis=0)

    class Varied(OneCat):              # one that draws the training images themselves, all different
        def generate(self, z):
            return np.asarray(tiny_data.images[:len(z)])

    index = build_index(tiny_data, progress=False)
    collapsed = find_collapse(OneCat(), index, n=32)
    assert collapsed["space"] == "sticker" and collapsed["duplicate_rate"] == 1.0
    assert len(collapsed["clusters"]) == 1 and len(collapsed["clusters"][0]) == 32
    assert find_collapse(Varied(), index, n=32)["duplicate_rate"] < 0.2


def test_an_index_knows_when_its_dataset_was_rewritten(tmp_path):
    images = np.stack([render.render_one(5, i, 32)[0] for i in range(12)])
    ds = write_dataset(tmp_path / "ds", images, {"source": "test"})
    index = build_index(ds, reference=8, progress=False)
    assert not index.stale()
    write_dataset(tmp_path / "ds", images[::-1].copy(), {"source": "test"})
    assert index.stale()


def test_a_card_names_its_data_and_parents_without_the_training_machines_paths(tmp_path):
    from catgan.card import _dataset_line, _short_path
    renders = {"name": None, "path": "/root/.cache/catgan/data/stickers100k", "count": 100000,
               "source": "synthetic", "seed": 3}
    assert _dataset_line(renders) == ("100,000 synthetic sticker renders "
                                      "(`catgan prepare synthetic --out DIR --n 100000 --seed 3`)")
    older = {**renders, "path": str(tmp_path)}              # saved before runs recorded the seed
    del older["seed"]
    (tmp_path / "dataset.json").write_text('{"seed": 7}')
    assert "--seed 7`" in _dataset_line(older)
    assert _dataset_line({"name": "stickers", "count": 10000}) == "stickers (10000 images)"
    assert "/root" not in _dataset_line({**older, "path": "/root/photos", "source": "folder"})
    assert _short_path("/root/.cache/catgan/runs/s11/sg2/points/step_0010157.safetensors") == \
        "runs/s11/sg2/points/step_0010157.safetensors"
    assert _short_path("checkpoints/began-stickers64/long-run/model.safetensors").startswith("checkpoints/")


def test_diversity_within_a_kind_catches_one_cat_per_kind():
    from catgan.audit.modes import within_pair_diversity
    rng = np.random.default_rng(0)
    names = {"pose": ["a", "b"], "item": ["x", "y"]}
    pose, item = rng.integers(0, 2, 400), rng.integers(0, 2, 400)
    real = rng.standard_normal((400, 8)) + 4 * np.stack([pose, item], 1).repeat(4, 1)
    fake = rng.standard_normal((400, 8)) + 4 * np.stack([pose, item], 1).repeat(4, 1)
    varied = within_pair_diversity(real, pose, item, fake, pose, item, names)
    one_each = fake.copy()
    for p in range(2):                   # every sample of a kind is the same cat
        for i in range(2):
            one_each[(pose == p) & (item == i)] = fake[(pose == p) & (item == i)][0]
    collapsed = within_pair_diversity(real, pose, item, one_each, pose, item, names)
    assert varied["pairs_measured"] == collapsed["pairs_measured"] == 4
    assert varied["coverage"] > 0.7 and varied["recall"] > 0.7
    assert collapsed["coverage"] < 0.2 and collapsed["recall"] < 0.2
    assert within_pair_diversity(real[:10], pose[:10], item[:10], fake[:10], pose[:10], item[:10], names) == {
        "pairs_measured": 0}
