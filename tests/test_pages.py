"""Every page through Streamlit's AppTest: renders, reacts to its controls, restores from the URL."""
import json
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from catgan.train.trainer import CHECKPOINT, train
from conftest import ROOT

PAGES = ["app.py", "views/Latent_sliders.py", "views/Corners.py", "views/Latent_arithmetic.py",
         "views/Morph.py", "views/Compare_models.py"]

AUDIT_PAGES = ["views/Failure_gallery.py", "views/Nearest_neighbours.py", "views/Report_card.py",
               "views/Real_or_fake.py", "views/Directions.py", "views/Your_own_cat.py",
               "views/Training.py", "views/Compare_runs.py"]


@pytest.fixture(scope="module")
def zoo(tmp_path_factory, request):
    """A checkpoints folder with one tiny trained model and one broken file."""
    from catgan.data.dataset import make_synthetic
    from catgan.train.trainer import TrainConfig
    from conftest import TINY
    root = tmp_path_factory.mktemp("zoo")
    ds = make_synthetic(root / "data", n=64, size=32, seed=1, progress=False)
    train(TrainConfig(model="dcgan", data=str(ds.path), out=str(root / "run"), steps=2, resolution=32, batch=8,
                      threads=1, progress=False, overrides=dict(TINY["dcgan"])))
    (root / "ck" / "tiny").mkdir(parents=True)
    shutil.copy(root / "run" / CHECKPOINT, root / "ck" / "tiny" / "model.safetensors")
    train(TrainConfig(model="stylegan2", data=str(ds.path), out=str(root / "run-w"), steps=2, resolution=32,
                      batch=8, threads=1, progress=False, overrides=dict(TINY["stylegan2"])))
    (root / "ck" / "tiny-w").mkdir()              # a family with W: every page works in it
    shutil.copy(root / "run-w" / CHECKPOINT, root / "ck" / "tiny-w" / "model.safetensors")
    train(TrainConfig(model="dcgan", data=str(ds.path), out=str(root / "run-cond"), steps=2, resolution=32,
                      batch=8, threads=1, progress=False, overrides=dict(TINY["dcgan"]), cond="labels"))
    (root / "ck" / "tiny-cond").mkdir()           # conditioned on the stickers' labels: the kind-of-cat picker
    shutil.copy(root / "run-cond" / CHECKPOINT, root / "ck" / "tiny-cond" / "model.safetensors")
    (root / "ck" / "broken").mkdir()
    (root / "ck" / "broken" / "model.safetensors").write_bytes(b"\x00" * 100)
    return root


@pytest.fixture(autouse=True)
def _env(zoo, monkeypatch):
    import streamlit as st
    monkeypatch.setenv("CATGAN_CHECKPOINTS", str(zoo / "ck"))
    monkeypatch.setenv("CATGAN_RUNS", str(zoo / "runs"))
    st.cache_data.clear()
    st.cache_resource.clear()


def run(page, params=None, **state):
    at = AppTest.from_file(str(ROOT / page), default_timeout=60)
    for k, v in (params or {}).items():
        at.query_params[k] = v
    for k, v in state.items():
        at.session_state[k] = v
    return at.run()


def images(at):
    """Media URLs of every image on the page; a URL names its content, so new pixels give a new URL."""
    return [img.url for el in at.main if type(el).__name__ == "Image" for img in el.proto.imgs]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_without_exceptions(page):
    at = run(page)
    assert not at.exception, at.exception
    assert images(at), "each page shows at least one image"


@pytest.mark.parametrize("page", PAGES + ["views/Directions.py", "views/Your_own_cat.py", "views/Failure_gallery.py",
                                  "views/Nearest_neighbours.py", "views/Real_or_fake.py"])
def test_every_explorer_page_works_in_w_and_says_so(page):
    at = run(page, {"model": "tiny-w"})
    assert not at.exception, at.exception
    assert images(at) or page not in PAGES              # the audit pages may wait on a background task first
    text = " ".join(c.value for c in at.caption)
    assert "live in **W**" in text or page.endswith(("Real_or_fake.py", "Compare_models.py"))


@pytest.mark.parametrize("page", PAGES + [
    "views/Kinds.py", "views/Directions.py", "views/Your_own_cat.py", "views/Failure_gallery.py",
    "views/Nearest_neighbours.py", "views/Real_or_fake.py"])
def test_every_explorer_page_draws_a_conditional_model_of_the_kind_in_the_link(page):
    at = run(page, {"model": "tiny-cond", "pose": "sleeping", "eyes": "closed"})
    assert not at.exception, at.exception
    assert at.sidebar.selectbox(key="pose").value == "sleeping" and at.sidebar.selectbox(key="item").value == "any"
    assert images(at) or page not in PAGES + ["views/Kinds.py"]


def test_latent_arithmetic_changes_a_conditional_models_kind():
    at = run("views/Latent_arithmetic.py", {"model": "tiny-cond"})
    plain = images(at)
    at = run("views/Latent_arithmetic.py", {"model": "tiny-cond", "with_kind": "true", "kind_attr": "pose",
                                            "kind_from": "sitting", "kind_to": "sleeping"})
    assert not at.exception
    changed = images(at)
    assert changed[:3] == plain[:3] and changed[3] != plain[3]            # the same three cats, another result
    assert [t.key for t in run("views/Latent_arithmetic.py", {"model": "tiny"}).toggle] == ["with_dir"]


def test_the_kinds_page_maps_an_evaluated_models_pose_item_shares_and_links_its_cells(zoo):
    from catgan.audit.detect import Protocol
    from catgan.audit.evaluate import evaluate
    folder = zoo / "ck" / "tiny-cond"
    evaluate(folder / "model.safetensors", n=30, memorisation_n=10, progress=False, spaces=["sticker"],
             protocol=Protocol(steps=5, n_train=20, n_test=10, seeds=(0, 1)))
    try:
        at = run("views/Kinds.py", {"model": "tiny-cond"})
        assert not at.exception
        charts = _charts(at)
        assert len(charts) == 1
        spec = json.loads(charts[0].proto.spec)
        assert spec["mark"]["type"] == "rect" and spec["encoding"]["href"] == {"field": "link"}
        assert "pose × item coverage" in " ".join(c.value for c in at.caption)
    finally:
        for f in ("eval.json", "detectable.png"):
            (folder / f).unlink(missing_ok=True)


def test_the_kinds_page_draws_one_seed_in_every_kind_and_explains_itself_for_other_models():
    at = run("views/Kinds.py", {"model": "tiny-cond", "down": "pose", "across": "coat"})
    assert not at.exception and len(images(at)) == 1
    captions = [img.caption for el in at.main if type(el).__name__ == "Image" for img in el.proto.imgs]
    assert captions[0].startswith("pose down: sitting, loaf") and "coat across: grey, orange" in captions[0]
    first = images(at)
    at.number_input(key="seed").set_value(5).run()
    assert images(at) != first
    plain = run("views/Kinds.py", {"model": "tiny"})
    assert not plain.exception and "is not conditional" in plain.info[0].value
    assert "No pose × item shares" in " ".join(c.value for c in plain.caption)      # no eval yet


def test_broken_checkpoint_shows_an_error_card_and_others_still_work():
    at = run("app.py", {"model": "broken"})
    assert not at.exception
    assert any("broken" in e.value and "cannot be used" in e.value for e in at.error)
    at = run("views/Compare_models.py")
    assert any("broken" in e.value for e in at.error) and images(at)


def test_home_batch_changes_with_seed_and_new_batch_button():
    at = run("app.py")
    first = images(at)
    at.number_input(key="seed").set_value(5).run()
    assert images(at) != first
    before = at.number_input(key="seed").value
    at.button[0].click().run()
    assert at.number_input(key="seed").value == before + 16
    assert not at.exception


def test_home_state_comes_back_from_the_url():
    at = run("app.py", {"seed": "7", "n": "4", "scale": "0.5"})
    assert at.number_input(key="seed").value == 7 and at.slider(key="scale").value == 0.5
    captions = [img.caption for el in at.main if type(el).__name__ == "Image" for img in el.proto.imgs]
    assert captions == ["seed 7, 4 samples, scale 0.5"]


def test_sliders_move_the_image_and_reset_restores_it():
    at = run("views/Latent_sliders.py")
    start = images(at)
    at.slider(key="a").set_value(1.5).run()
    moved = images(at)
    assert moved != start
    at.button[0].click().run()
    assert at.slider(key="a").value == 0.0 and images(at) == start


def test_corners_grid_size_and_download():
    at = run("views/Corners.py", {"grid": "3"})
    small = images(at)
    at.slider(key="grid").set_value(8).run()
    assert images(at) != small and not at.exception
    assert at.get("download_button")


def test_corners_three_numbers_mode():
    at = run("views/Corners.py", {"tl_by": "three numbers", "tl_a": "2.0"})
    assert at.number_input(key="tl_a").value == 2.0 and not at.exception


def test_arithmetic_result_changes_with_added_seed():
    at = run("views/Latent_arithmetic.py")
    before = images(at)
    at.number_input(key="add_seed").set_value(99).run()
    after = images(at)
    assert before[:2] == after[:2] and before[2:] != after[2:]


def test_morph_bad_seeds_are_explained():
    at = run("views/Morph.py", {"seeds": "1, x"})
    assert any("at least two" in e.value for e in at.error)


# Every URL-bound key of every page, with values no page can take: out of range, malformed, unknown, empty.
BAD_LINKS = [
    {"model": "not-installed", "seed": "-5", "n": "7", "scale": "nan", "a": "abc", "b": "1e9", "c": "",
     "base": "x", "base_scale": "-1", "grid": "99", "interp": "cubic", "tl_by": "zzz", "tr_seed": "99999999999",
     "start_by": "three numbers", "start_a": "inf", "frames": "0", "fps": "x", "loop": "maybe", "seeds": "1,,x",
     "per_model": "99", "search": "100", "first": "-1", "oor_seed": "abc", "runs": "no-such-run",
     "shipped": "nope", "kimg": "-5"},
    {"model": "", "seed": "1.5", "n": "", "grid": "3.7", "interp": "", "frames": "-3", "search": "abc"},
]


@pytest.mark.parametrize("page", PAGES + AUDIT_PAGES)
@pytest.mark.parametrize("link", range(len(BAD_LINKS)))
def test_a_link_with_bad_values_never_breaks_a_page(page, link):
    at = run(page, BAD_LINKS[link])
    assert not at.exception, at.exception


def test_a_refused_link_value_is_named_once_and_the_default_used():
    at = run("views/Corners.py", {"grid": "16", "model": "not-installed", "interp": "spherical"})
    assert [s.value for s in at.slider] == [6]
    assert at.sidebar.selectbox[0].value == "tiny"
    notice = " ".join(t.value for t in at.toast)
    assert "`grid=16` (using `6`)" in notice and "`model=not-installed` (using `tiny`)" in notice
    assert "interp" not in notice                       # a value the page took is not mentioned
    at.run()
    assert not at.toast                                 # once per page and session


def test_a_default_value_in_a_link_is_not_called_refused():
    at = run("views/Corners.py", {"grid": "6", "model": "tiny", "seed": "3"})   # seed: another page's key
    assert not at.toast


@pytest.mark.parametrize("page", AUDIT_PAGES)
def test_audit_and_training_pages_render(page):
    at = run(page)
    assert not at.exception, at.exception


def _png(size=40):
    import io
    from PIL import Image
    buf = io.BytesIO()
    Image.new("RGB", (size, size), (200, 150, 100)).save(buf, format="PNG")
    return buf.getvalue()


def test_neighbours_rows_for_a_seed_and_for_an_upload():
    at = run("views/Nearest_neighbours.py")
    heads = [h.value for h in at.subheader]
    assert len(heads) == 3 and all(any(v in h for v in ("memorised", "near", "novel")) for h in heads)
    assert len(images(at)) == 18                  # 3 spaces x (query + 5 neighbours)
    at.radio(key="src").set_value("upload").run()
    at.file_uploader[0].set_value(("cat.png", _png(), "image/png")).run()
    assert not at.exception and len(at.subheader) == 3


def test_neighbours_refuses_a_bad_upload_clearly():
    at = run("views/Nearest_neighbours.py")
    at.radio(key="src").set_value("upload").run()
    at.file_uploader[0].set_value(("cat.png", b"\x89PNG but not really", "image/png")).run()
    assert not at.exception
    assert any("cat.png" in e.value and "Upload a PNG or JPEG" in e.value for e in at.error)


def test_failure_gallery_links_reproduce_in_the_explorer():
    at = run("views/Failure_gallery.py", {"search": "64"})
    links = [m.value for m in at.markdown if "Latent_sliders?model=tiny&base=" in m.value]
    assert links, "worst samples link back to the explorer"


def test_failure_gallery_leads_with_what_a_fresh_classifier_catches():
    at = run("views/Failure_gallery.py", {"search": "64"})
    assert [h.value for h in at.header][:2] == ["What gives it away", "Worst by its own judge"]
    assert any("Not measured yet" in i.value for i in at.info)        # the tiny model has no eval


def test_failure_gallery_shows_the_rest_while_its_collapse_check_waits_for_the_index(zoo, monkeypatch):
    import threading
    from dataclasses import replace
    from catgan.audit import spaces
    from catgan.data.dataset import load_dataset
    space = spaces.SPACES["sticker"]
    spaces.features_path(load_dataset(zoo / "data"), space).unlink(missing_ok=True)
    gate = threading.Event()

    def held(images, **kw):           # the training set's feature pass waits until the test lets it go
        gate.wait(60)
        return space.features(images, **kw)
    monkeypatch.setitem(spaces.SPACES, "sticker", replace(space, features=held))
    at = run("views/Failure_gallery.py", {"search": "64"})
    assert not at.exception and "Out-of-range latents" in [h.value for h in at.header]
    assert len(images(at)) >= 2 and not [m for m in at.metric if m.label == "Near-duplicate rate"]
    assert any("Indexing the training set" in p.proto.text for p in at.get("progress"))
    gate.set()
    from catgan import ui
    from catgan.generator import load_generator
    job = ui.start_neighbour_index(load_generator(zoo / "ck" / "tiny" / "model.safetensors"))
    assert job.wait(timeout=60) and job.error is None
    at.run()
    assert [m.value for m in at.metric if m.label == "Near-duplicate rate"]


def test_report_card_shows_a_real_evaluation_with_its_ladders(zoo):
    from catgan.audit.detect import Protocol
    from catgan.audit.evaluate import evaluate
    evaluate(zoo / "ck" / "tiny" / "model.safetensors", n=30, memorisation_n=10, progress=False,
             protocol=Protocol(steps=5, n_train=20, n_test=10, seeds=(0, 1)))
    try:
        at = run("views/Report_card.py")
        assert not at.exception
        tabs = [t.label for t in at.tabs]
        assert tabs[:3] == ["Detectability", "Robust FD", "Coverage"] and "efficientnet" in tabs
        tables = {label: at.dataframe[i].value for i, label in enumerate(tabs)}
        assert all(len(t.columns) <= 6 for t in tables.values())      # each fits the page
        detect_ladder, ladders = at.dataframe[len(tabs)].value, at.dataframe[len(tabs) + 1].value
        rho = at.dataframe[len(tabs) + 2].value
        det, fd, cov = tables["Detectability"], tables["Robust FD"], tables["Coverage"]
        assert 0 <= det.loc["tiny", "detectability"] <= 1 and det.loc["tiny", "detectability ±"] > 0
        assert 0 <= det.loc["tiny", "detector's quiz"] <= 1
        assert list(detect_ladder.index) == ["real vs real", "blur 0.5 px", "blur 1 px", "noise 3/255", "JPEG 90"]
        assert len(images(at)) == 2                       # a row of samples, then the heat maps
        text = " ".join(m.value for m in at.markdown)
        assert "seed 1000" in text                        # each opens in the explorer
        assert "A fresh classifier finds" in text and "no one has taken its quiz yet" in text   # the verdict
        assert fd.loc["tiny", "sticker fd"] > 0 and tables["efficientnet"].loc["tiny", "efficientnet fd"] > 0
        assert 0 <= cov.loc["tiny", "pose×item coverage"] <= 1
        assert list(ladders.index) == ["sticker", "efficientnet", "detail hf"]
        assert {"real", "noise_3", "blur_1", "blur_2"} <= set(ladders.columns) and "rho noise_3" in rho.columns
        assert ladders.loc["detail hf", "blur_2"] < ladders.loc["detail hf", "blur_1"] < 0   # blur: less detail
        assert "detail hf" in fd.columns
    finally:
        (zoo / "ck" / "tiny" / "eval.json").unlink()
        (zoo / "ck" / "tiny" / "detectable.png").unlink(missing_ok=True)


def test_home_and_the_sliders_start_at_the_recommended_scale_and_a_link_still_wins(zoo):
    import json
    report = zoo / "ck" / "tiny" / "eval.json"
    report.write_text(json.dumps({"truncation": {"recommended": 0.85, "rows": []}}))
    try:
        assert run("app.py").slider(key="scale").value == 0.85
        assert run("app.py", {"scale": "1.2"}).slider(key="scale").value == 1.2
        assert run("views/Latent_sliders.py").slider(key="base_scale").value == 0.85
    finally:
        report.unlink()
    assert run("app.py").slider(key="scale").value == 1.0


def test_quiz_reveals_the_fakes_and_counts_what_was_found(zoo):
    from catgan.audit import quiz
    from catgan.data.dataset import load_dataset
    n_real = len(load_dataset(zoo / "data"))
    rounds = [quiz.make_round(5 * 4 + r, n_real) for r in range(4)]
    before = quiz.detection("tiny")
    at = run("views/Real_or_fake.py", {"model": "tiny"}, quiz_game=5)
    assert not at.exception and len(images(at)) == 4 * 6
    reveal = next(b for b in at.button if b.label == "Reveal")
    assert reveal.disabled                                  # nothing picked yet
    for r, rnd in enumerate(rounds):                       # right in rows 1-2, wrong in rows 3-4
        right = rnd.fake_position + 1
        at.radio(key=f"pick_5_{r}").set_value(right if r < 2 else right % 6 + 1)
    at.run()
    next(b for b in at.button if b.label == "Reveal").click().run()
    assert not at.exception
    after = quiz.detection("tiny")
    assert (after["rounds"] - before["rounds"], after["found"] - before["found"]) == (4, 2)
    text = " ".join(m.value for m in at.markdown)
    assert text.count("✅ Found") == 2 and text.count("❌ Missed") == 2
    assert "Latent_sliders?model=tiny&base=" in text
    at.run()                                                # a rerun does not count the rows again
    assert quiz.detection("tiny")["rounds"] == after["rounds"]


def test_training_page_starts_one_job_and_refuses_a_second(zoo, tiny_data):
    from catgan import jobs
    at = run("views/Training.py")
    at.radio[0].set_value("prepared folder").run()
    at.text_input[1].set_value(str(tiny_data.path)).run()
    at.selectbox[2].set_value(32).run()           # resolution
    at.number_input[0].set_value(100000).run()    # steps: long enough to still be running
    at.text_input[0].set_value("page-run").run()
    next(c for c in at.checkbox if c.label.startswith("Condition on the data's labels")).check().run()
    at.button[0].click().run()
    assert not at.exception
    runs = zoo / "runs"
    job = jobs.active_job(runs)
    try:
        assert job is not None and job.run.name == "page-run"
        args = json.loads((runs / "page-run" / "job.json").read_text())["args"]
        assert args[args.index("--cond") + 1] == "labels"            # a labelled folder may train conditioned
        at.text_input[0].set_value("second").run()
        at.button[0].click().run()
        assert any("already running" in e.value for e in at.error)
    finally:
        jobs.stop(job)
    assert jobs.active_job(runs) is None


def test_training_page_refuses_a_run_name_that_is_a_path():
    at = run("views/Training.py")
    at.text_input[0].set_value("../../etc").run()
    assert any("run name" in e.value for e in at.error)
    assert at.button[0].disabled


def settle(at, timeout=120):
    """Rerun a page until its background task (a progress bar) is finished, as the page's own poll would."""
    import time
    deadline = time.monotonic() + timeout
    while at.get("progress") and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    assert not at.get("progress"), f"still working after {timeout} s"
    return at


def test_directions_sliders_move_the_image_and_reset_restores_it():
    at = settle(run("views/Directions.py"))
    assert not at.exception
    sliders = [s for s in at.slider if s.key.startswith("d_")]
    assert any(s.label.startswith("pc ") for s in sliders)
    before = images(at)
    sliders[0].set_value(3.0).run()
    moved = images(at)
    assert moved[0] != before[0]                   # the edited cat changed; the strip follows it
    next(b for b in at.button if b.label == "Reset").click().run()
    assert images(at)[0] == before[0]


def test_your_own_cat_is_inverted_stored_and_reopened_by_its_link():
    from catgan import latent_store
    at = run("views/Your_own_cat.py")
    at.file_uploader[0].set_value(("mine.png", _png(64), "image/png")).run()
    at = settle(at)
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    key = text.split("z=", 1)[1].split(")")[0]
    assert latent_store.note(key)["source"] == "mine.png"
    assert len(images(at)) == 2                   # target and reconstruction
    for page in ("views/Directions.py", "views/Latent_sliders.py"):
        linked = settle(run(page, {"model": "tiny", "z": key}))
        assert not linked.exception and not linked.warning
    morph = run("views/Morph.py", {"model": "tiny", "seeds": f"z:{key},1,2"})
    assert not morph.exception and not morph.error


def test_a_stale_latent_id_in_a_link_is_explained():
    at = settle(run("views/Directions.py", {"model": "tiny", "z": "0123456789"}))
    assert not at.exception and any("0123456789" in w.value for w in at.warning)


@pytest.fixture(scope="module")
def swept(zoo):
    """A sweep folder of two tiny runs with quality points, as `catgan sweep` leaves it."""
    from catgan.train import sweep
    from catgan.train.trainer import TrainConfig
    from conftest import TINY
    out = zoo / "runs" / "sw"
    plan = sweep.plan(out, ["--model", "dcgan"], {"lr": ["1e-4", "2e-4"]})
    for name, values in plan["runs"].items():
        train(TrainConfig(model="dcgan", data=str(zoo / "data"), out=str(out / name), steps=6, resolution=32,
                          batch=8, lr=float(values["lr"]), sample_every=2, threads=1, progress=False,
                          eval_kimg=0.016, eval_n=32, overrides=dict(TINY["dcgan"])))
    return out


def _charts(at):
    return [el for el in at.main if "vega" in type(el).__name__.lower()
            or "vega" in getattr(el, "type", "").lower()]


def test_training_page_shows_the_quality_curve_and_jumps_to_the_best_step(swept):
    from catgan.runs import best_row, read_quality
    best = best_row(read_quality(swept / "lr-1e-4"))
    at = run("views/Training.py")
    next(s for s in at.selectbox if s.label == "Run").set_value("sw/lr-1e-4").run()
    assert not at.exception, at.exception
    text = " ".join(c.value for c in at.caption)
    assert f"FD {best['fd']:.2f} at step {best['step']:,}" in text and "sticker space" in text
    from catgan.runs import sample_grids
    steps = [step for step, _ in sample_grids(swept / "lr-1e-4")]
    scrubber = next(s for s in at.slider if s.label == "Sample grid at step")
    assert scrubber.value == len(steps) - 1                     # the newest grid first
    scrubber.set_value(0).run()
    next(b for b in at.button if b.label.startswith("Show the best step")).click().run()
    assert not at.exception, at.exception
    assert steps[next(s for s in at.slider if s.label == "Sample grid at step").value] == best["step"]


def test_compare_runs_overlays_the_sweep_and_lists_what_differs(swept):
    at = run("views/Compare_runs.py", runs=["sw/lr-1e-4", "sw/lr-2e-4"])
    assert not at.exception, at.exception
    assert len(_charts(at)) == 4                                # FD, coverage, pose x item coverage, hf
    table = at.dataframe[0].value
    assert "lr" in table.index and set(table.loc["lr"]) == {"0.0001", "0.0002"}
    assert "batch" not in table.index                           # the same in both: not listed
    summary = at.dataframe[1].value
    assert list(summary["run"]) == ["lr-1e-4", "lr-2e-4"] and summary["best fd"].notna().all()
    assert len(images(at)) == 2                                 # one grid per run at the chosen point


def test_training_page_names_the_general_space_for_data_without_label_heads(swept, zoo):
    import json
    shutil.copytree(swept / "lr-2e-4", zoo / "runs" / "photos-run")
    path = zoo / "runs" / "photos-run" / "quality.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({**{k: v for k, v in r.items() if k != "mode_coverage"},
                                        "space": "efficientnet"}) + "\n" for r in rows))
    try:
        at = run("views/Training.py")
        next(s for s in at.selectbox if s.label == "Run").set_value("photos-run").run()
        text = " ".join(c.value for c in at.caption)
        assert "efficientnet space" in text and "no label heads" in text
        assert len(_charts(at)) >= 2 + 3                         # losses, then FD, coverage and hf: no pose x item
    finally:
        shutil.rmtree(zoo / "runs" / "photos-run")
