"""End to end: the real app (`streamlit run app.py`) driven in Debian's chromium by Playwright."""
import io
import os
import shutil
import subprocess
import sys
from urllib.parse import urljoin

import pytest
import torch

from catgan.checkpoint import load_checkpoint, save_checkpoint
from catgan.train.trainer import CHECKPOINT, TrainConfig, train
from catgan.web.browser import CHROMIUM, FIRST_CONTENT, open_from_sidebar, serve_app, sidebar_labels
from conftest import ROOT, TINY

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason="browser tests need Debian's chromium: apt-get install -y chromium")
pytest.importorskip("playwright.sync_api", reason="browser tests need playwright (requirements-dev.txt)")


@pytest.fixture(scope="module")
def app(tmp_path_factory, tiny_data):
    """Four tiny models (two with W, one of them conditioned on the stickers' labels) in a checkpoints
    folder, and the real server on a free port."""
    root = tmp_path_factory.mktemp("e2e")
    for name, model, cond in (("dcgan", "dcgan", None), ("began", "began", None), ("stylegan2", "stylegan2", None),
                              ("stylegan2-cond", "stylegan2", "labels")):
        train(TrainConfig(model=model, data=str(tiny_data.path), out=str(root / f"run-{name}"), steps=2,
                          resolution=32, batch=8, threads=1, progress=False, overrides=dict(TINY[model]), cond=cond))
        (root / "ck" / f"tiny-{name}").mkdir(parents=True)
        shutil.copy(root / f"run-{name}" / CHECKPOINT, root / "ck" / f"tiny-{name}" / "model.safetensors")
    # two steps move label weights that start at zero by too little to see: give them a trained model's size
    path = root / "ck" / "tiny-stylegan2-cond" / "model.safetensors"
    tensors, meta = load_checkpoint(path)
    for key in [k for k in tensors if k.endswith("embed.into.weight")]:
        tensors[key] = torch.randn(tensors[key].shape, generator=torch.Generator().manual_seed(0))
    save_checkpoint(path, tensors, meta)
    env = {"CATGAN_CHECKPOINTS": str(root / "ck"), "CATGAN_RUNS": str(root / "runs")}
    with serve_app(env, root / "server.log") as url:
        yield {"url": url, "root": root, "data": tiny_data, "log": root / "server.log", "env": env}
    from catgan import jobs
    job = jobs.active_job(root / "runs")      # a training started from the page outlives the server
    if job:
        jobs.stop(job)


@pytest.fixture
def page(browser):
    ctx = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.set_default_timeout(60_000)
    yield pg
    ctx.close()


def idle(page):
    """Wait until the app is connected and its script has finished running."""
    page.wait_for_selector("[data-testid='stApp'][data-test-connection-state='CONNECTED']")
    page.wait_for_function("""() => {
        const app = document.querySelector("[data-testid='stApp']");
        return app && app.getAttribute('data-test-script-state') === 'notRunning'; }""")
    page.wait_for_timeout(300)


def wait_for_count(page, selector, at_least):
    """Wait until the page shows at least `at_least` elements matching `selector` (elements render in turn)."""
    page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length >= n", arg=[selector, at_least])


def image_srcs(page, at_least=1):
    """The page's image URLs, once at least `at_least` images have rendered."""
    wait_for_count(page, "[data-testid='stImage'] img", at_least)
    return page.eval_on_selector_all("[data-testid='stImage'] img", "els => els.map(e => e.src)")


def sidebar_links(page):
    """Every page link in the sidebar, after expanding the list ("View 3 more") where it is folded."""
    more = page.locator("[data-testid='stSidebarNav'] button", has_text="more")
    if more.count():
        more.first.click()
    return page.locator("[data-testid='stSidebarNav'] a")


def test_switch_model_and_move_a_slider(app, page):
    page.goto(f"{app['url']}/Latent_sliders")
    idle(page)
    first = image_srcs(page)
    assert first
    # move slider "a": focus its thumb and press the arrow key
    page.locator("[data-testid='stSlider']").first.get_by_role("slider").focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    page.wait_for_function("""(before) => [...document.querySelectorAll("[data-testid='stImage'] img")]
        .some(e => e.src !== before)""", arg=first[0])                 # the rerun may start after a moment
    idle(page)
    moved = image_srcs(page)
    assert moved != first
    assert "a=" in page.url, "slider state is in the URL"
    # switch model in the sidebar dropdown
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    page.get_by_role("option", name="tiny-dcgan").click()   # tiny-began is the default
    idle(page)
    assert "model=tiny-dcgan" in page.url
    assert page.get_by_text("tiny-dcgan · dcgan · 32px").is_visible()
    assert image_srcs(page) != moved


def test_home_of_a_model_with_w_truncates_by_psi(app, page):
    page.goto(f"{app['url']}/?model=tiny-stylegan2")
    idle(page)
    page.get_by_text("live in W", exact=False).first.wait_for()
    first = image_srcs(page)
    psi = page.locator("[data-testid='stSlider']").filter(has_text="ψ").get_by_role("slider")
    psi.focus()
    for _ in range(6):
        page.keyboard.press("ArrowLeft")
    page.wait_for_function("""(before) => [...document.querySelectorAll("[data-testid='stImage'] img")]
        .some(e => e.src !== before)""", arg=first[0])
    idle(page)
    assert "scale=0.7" in page.url and image_srcs(page) != first


def test_corners_grid_renders(app, page):
    page.goto(f"{app['url']}/Corners?grid=4")
    idle(page)
    assert image_srcs(page)
    assert page.locator("[data-testid='stDownloadButton']").count() == 1


def test_morph_gif_download_is_a_valid_gif_with_the_right_frame_count(app, page):
    from PIL import Image
    page.goto(f"{app['url']}/Morph?seeds=1,2,3&frames=5&loop=false")
    idle(page)
    with page.expect_download() as dl:
        page.locator("[data-testid='stDownloadButton'] button").first.click()
    data = open(dl.value.path(), "rb").read()
    assert data[:6] in (b"GIF87a", b"GIF89a")
    gif = Image.open(io.BytesIO(data))
    assert gif.n_frames == 2 * 5 + 1            # two transitions of 5 frames, plus the last keyframe


def test_train_from_the_page_watch_it_then_stop_and_find_it(app, page):
    page.goto(f"{app['url']}/Training")
    idle(page)
    page.get_by_text("prepared folder").click()
    idle(page)
    page.get_by_label("Folder (holds images.npy and dataset.json)").fill(str(app["data"].path))
    page.keyboard.press("Enter")
    idle(page)
    page.locator("[data-testid='stSelectbox']").nth(0).click()
    page.get_by_role("option", name="dcgan").click()
    idle(page)
    page.locator("[data-testid='stSelectbox']").nth(2).click()
    page.get_by_role("option", name="32").click()
    idle(page)
    page.get_by_label("Run name").fill("browser-run")
    page.keyboard.press("Enter")
    idle(page)
    page.get_by_role("spinbutton", name="Quality point every").fill("0.5")      # a point every 8 steps
    page.keyboard.press("Enter")
    idle(page)
    page.get_by_role("button", name="Start training").click()
    page.wait_for_selector("[data-testid='stVegaLiteChart']", timeout=120_000)
    page.wait_for_selector("[data-testid='stImage'] img", timeout=120_000)
    first = page.get_by_text("step", exact=False).first.inner_text()
    page.wait_for_function("""(before) => {
        const bars = [...document.querySelectorAll("[data-testid='stProgress']")].map(e => e.innerText);
        return bars.length && bars[0] !== before; }""", arg=first, timeout=120_000)
    # quality points while it runs: the curves beside the losses, and the best point named
    page.get_by_text("Best so far: FD", exact=False).wait_for(timeout=120_000)
    wait_for_count(page, "[data-testid='stVegaLiteChart']", 3 + 3)
    assert "running" in page.locator("[data-testid='stProgress']").first.inner_text()
    page.get_by_role("button", name="Stop (saves a checkpoint)").click()
    page.wait_for_function("""() => [...document.querySelectorAll("[data-testid='stProgress']")]
        .some(e => e.innerText.includes('stopped'))""", timeout=120_000)
    page.goto(app["url"])
    idle(page)
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").click()
    page.get_by_role("option", name="run/browser-run", exact=True).wait_for()           # options render in turn


def test_real_or_fake_quiz_counts_answers_and_keeps_them(app, page, browser):
    from catgan.audit import quiz
    before = quiz.detection("tiny-dcgan")["rounds"]
    page.goto(f"{app['url']}/Real_or_fake?model=tiny-dcgan")
    idle(page)
    assert len(image_srcs(page, at_least=4 * 6)) == 4 * 6
    wait_for_count(page, "[data-testid='stRadio']", 4)
    groups = page.locator("[data-testid='stRadio']")
    assert groups.count() == 4
    for i in range(4):
        groups.nth(i).get_by_text("3", exact=True).click()
        idle(page)
    page.get_by_role("button", name="Reveal").click()
    page.get_by_text("the fake was", exact=False).nth(3).wait_for()
    assert page.get_by_text("the fake was", exact=False).count() == 4
    assert quiz.detection("tiny-dcgan")["rounds"] == before + 4
    # a new visitor (fresh session) sees the tally read back from disk
    other = browser.new_context().new_page()
    other.goto(f"{app['url']}/Real_or_fake?model=tiny-dcgan")
    idle(other)
    other.get_by_text(f"of {before + 4} rows", exact=False).first.wait_for()
    other.context.close()


def test_report_card_shows_the_most_detectable_samples_with_their_heat_maps(app, page):
    from catgan.audit.detect import Protocol
    from catgan.audit.evaluate import DETECTABLE_FILE, EVAL_FILE, evaluate
    folder = app["root"] / "ck" / "tiny-dcgan"
    evaluate(folder / "model.safetensors", n=45, memorisation_n=10, progress=False,
             protocol=Protocol(steps=5, n_train=30, n_test=15, seeds=(0, 1)))
    try:
        page.goto(f"{app['url']}/Report_card")
        idle(page)
        page.get_by_text("The numbers", exact=True).wait_for()
        page.get_by_text("A fresh classifier finds", exact=False).first.wait_for()
        heat = page.locator("[data-testid='stImage'] img").nth(1)        # after the row of samples
        heat.wait_for()
        assert page.evaluate("img => img.complete && img.naturalWidth > 0", heat.element_handle())
        first_image = page.locator("[data-testid='stImage']").first
        first_table = page.locator("[data-testid='stDataFrame']").first
        first_table.wait_for()                                   # tables draw after the pictures
        first_image, first_table = first_image.bounding_box(), first_table.bounding_box()
        assert first_image["y"] < first_table["y"]                           # pictures before tables
        main = page.locator("[data-testid='stMain']").bounding_box()
        for table in page.locator("[data-testid='stDataFrame']").all():
            if table.is_visible():                                       # no table wider than the page
                box = table.bounding_box()
                assert box["x"] + box["width"] <= main["x"] + main["width"] + 1
                assert table.evaluate("""el => { const s = el.querySelector('.dvn-scroller');
                    return !s || s.scrollWidth <= s.clientWidth + 1; }"""), "columns cut off: it scrolls sideways"
        link = page.get_by_role("link", name="seed 1000", exact=False).first
        assert "Latent_sliders?model=tiny-dcgan&base=1000" in link.get_attribute("href")
        page.goto(f"{app['url']}/Real_or_fake?model=tiny-dcgan")
        idle(page)
        page.get_by_text("A classifier finds the fake", exact=False).first.wait_for()          # the same quiz
    finally:
        (folder / EVAL_FILE).unlink()
        (folder / DETECTABLE_FILE).unlink()


def test_touring_the_sidebar_carries_no_value_a_page_cannot_take(app, page):
    """Every sidebar page in order and back, from Home with 64 samples and the sliders' base scale 8 in the
    URL: no page breaks, none refuses a carried value (that would mean one key, two meanings), and the
    server log has no deprecation warning."""
    page.goto(f"{app['url']}/?n=64&scale=2.0")
    idle(page)
    page.goto(f"{app['url']}/Latent_sliders?base_scale=8.0")
    idle(page)
    links = sidebar_links(page)
    names = [links.nth(i).inner_text().strip() for i in range(links.count())]
    assert len(names) >= 13
    for name in names + names[-2::-1]:
        sidebar_links(page).filter(has_text=name).first.click()
        idle(page)
        assert page.locator("[data-testid='stException']").count() == 0, name
        assert page.locator("[data-testid='stToast']", has_text="cannot use").count() == 0, name
    warned = [line for line in app["log"].read_text(errors="replace").splitlines() if "deprecat" in line.lower()]
    assert not warned, warned


def test_every_page_opened_from_a_bad_link_shows_no_exception(app, page):
    bad = "model=not-installed&seed=abc&n=7&scale=nan&grid=99&interp=cubic&frames=0&search=1&base_scale=-1"
    page.goto(app["url"])
    idle(page)
    links = sidebar_links(page)
    hrefs = [urljoin(app["url"], links.nth(i).get_attribute("href")) for i in range(links.count())]
    for href in hrefs:
        page.goto(f"{href}?{bad}")
        idle(page)
        assert page.locator("[data-testid='stException']").count() == 0, href
        if href.endswith("/Corners"):
            page.locator("[data-testid='stToast']", has_text="grid=99 (using 6)").wait_for()


def test_a_kind_of_cat_from_the_sidebar_holds_on_every_page_and_in_its_link(app, page):
    page.goto(f"{app['url']}/Latent_sliders?model=tiny-stylegan2-cond&pose=sleeping")
    idle(page)
    side = page.get_by_test_id("stSidebar")
    side.get_by_text("Kind of cat").wait_for()
    pose = side.get_by_role("combobox", name="Pose")
    assert pose.input_value() == "sleeping"
    sleeping = image_srcs(page)
    pose.click()
    page.get_by_role("option", name="sitting", exact=True).click()
    idle(page)
    assert "pose=sitting" in page.url
    assert image_srcs(page) != sleeping                          # the same seeds, another kind of cat
    sidebar_links(page).filter(has_text="Corners").first.click()
    idle(page)
    assert "pose=sitting" in page.url and "Corners" in page.url
    assert side.get_by_role("combobox", name="Pose").input_value() == "sitting"
    page.goto(f"{app['url']}/Morph?model=tiny-stylegan2-cond&pose=flying")          # a value the model lacks
    idle(page)
    page.locator("[data-testid='stToast']", has_text="pose=flying (using any)").wait_for()
    assert page.locator("[data-testid='stException']").count() == 0
    page.goto(f"{app['url']}/Latent_sliders?model=tiny-dcgan&pose=sleeping")    # an unconditional model: no picker
    idle(page)
    assert side.get_by_text("Kind of cat").count() == 0
    page.locator("[data-testid='stToast']", has_text="not conditional").wait_for()


def test_your_own_cat_then_edit_it_along_a_direction_and_morph_it(app, page, tmp_path):
    from PIL import Image
    picture = tmp_path / "mine.png"
    Image.new("RGB", (90, 60), (230, 140, 40)).save(picture)
    page.goto(f"{app['url']}/Your_own_cat?model=tiny-dcgan")
    idle(page)
    page.locator("[data-testid='stFileUploader'] input[type='file']").set_input_files(str(picture))
    page.get_by_text("Searching: step", exact=False).wait_for(timeout=120_000)
    page.get_by_role("button", name="Stop (keep the best so far)").click()   # the best so far is enough here
    page.get_by_text("Pixel RMS distance", exact=False).wait_for(timeout=120_000)
    assert len(image_srcs(page, at_least=2)) == 2
    with page.context.expect_page() as opened:                 # markdown links open a new tab
        page.get_by_test_id("stMainBlockContainer").get_by_role("link", name="Directions").click()
    tab = opened.value
    tab.get_by_text("Starting from your stored latent", exact=False).wait_for(timeout=120_000)
    idle(tab)
    before = image_srcs(tab)
    tab.locator("[data-testid='stSlider']").first.get_by_role("slider").focus()
    for _ in range(10):
        tab.keyboard.press("ArrowRight")
    idle(tab)
    assert image_srcs(tab)[0] != before[0]
    assert "d_" in tab.url, "the direction's amount is in the URL"
    with page.context.expect_page() as opened:
        page.get_by_test_id("stMainBlockContainer").get_by_role("link", name="Morph").click()
    tab = opened.value
    idle(tab)
    assert "seeds=z" in tab.url
    assert tab.locator("[data-testid='stException'], [data-testid='stAlert']").count() == 0
    assert image_srcs(tab)


def test_a_sweep_of_two_runs_overlays_on_compare_runs(app, page):
    from catgan.train import sweep
    out = app["root"] / "runs" / "sweep-lr"
    done = subprocess.run([sys.executable, "-m", "catgan", "sweep", "--model", "dcgan", "--data",
                           str(app["data"].path), "--resolution", "32", "--batch", "8", "--kimg", "0.16",
                           "--set", "ngf=8", "--set", "ndf=8", "--eval-kimg", "0.032", "--eval-n", "32",
                           "--vary", "lr=1e-4,2e-4", "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert all(r["state"] == "finished" for r in sweep.summary(out))
    page.goto(f"{app['url']}/Compare_runs")
    idle(page)
    wait_for_count(page, "[data-testid='stVegaLiteChart']", 3)
    chosen = page.locator("[data-testid='stMultiSelect']").first.inner_text()
    assert "sweep-lr/lr-1e-4" in chosen and "sweep-lr/lr-2e-4" in chosen
    page.get_by_text("Sweep sweep-lr").wait_for()
    wait_for_count(page, "[data-testid='stDataFrame']", 2)                 # config differences, sweep summary
    assert page.locator("[data-testid='stDataFrame']").count() == 2
    assert len(image_srcs(page, at_least=2)) >= 2


def test_home_downloads_the_model_as_a_web_page(app, page):
    import zipfile
    from catgan.web import export as web
    if not all((web.RUNTIME / f).exists() for f in web.RUNTIME_FILES):
        pytest.skip("ONNX Runtime Web is not installed (npm ci --prefix catgan/web)")
    page.goto(f"{app['url']}/?model=tiny-dcgan")
    idle(page)
    with page.expect_download(timeout=120_000) as got:
        page.get_by_role("button", name="Download as a web page (zip)").click()
    names = zipfile.ZipFile(got.value.path()).namelist()
    assert {"index.html", "app.js", "model.onnx", "model.json", "ort/ort-wasm-simd-threaded.wasm"} <= set(names)


def test_a_tour_from_a_fresh_cache_shows_every_page_without_unfolding_or_an_exception(app, page, tmp_path):
    """A newcomer's first visit: nothing cached (features, thresholds, directions), every page opened from
    the sidebar as listed, each showing content of its own (the training-set index builds behind a progress
    bar where a page needs it)."""
    env = {**app["env"], "CATGAN_CACHE": str(tmp_path / "cache"), "CATGAN_RUNS": str(tmp_path / "runs")}
    with serve_app(env, tmp_path / "server.log") as url:
        page.goto(url)
        image_srcs(page)                                   # Home: its cats
        idle(page)
        assert page.locator("[data-testid='stSidebarNav'] button", has_text="more").count() == 0
        for name in sidebar_labels(page)[1:]:
            open_from_sidebar(page, name)
            idle(page)
            main = page.get_by_test_id("stMainBlockContainer")
            assert main.locator("[data-testid='stException']").count() == 0, name
            assert main.locator(FIRST_CONTENT).count() > 0, f"{name} shows nothing below its title"


OLD_URLS = {"Latent_sliders": "Latent sliders", "Corners": "Corners", "Latent_arithmetic": "Latent arithmetic",
            "Morph": "Morph", "Compare_models": "Compare models", "Failure_gallery": "Failure gallery",
            "Nearest_neighbours": "Nearest neighbours", "Report_card": "Report card", "Training": "Training",
            "Real_or_fake": "Real or fake", "Directions": "Directions", "Your_own_cat": "Your own cat"}


def test_the_sidebar_shows_every_page_in_sections_and_old_links_still_open(app, page):
    page.goto(app["url"])
    idle(page)
    nav = page.locator("[data-testid='stSidebarNav']")
    assert page.locator("[data-testid='stSidebarNav'] button", has_text="more").count() == 0   # nothing folded
    headers = [h.strip() for h in nav.locator("[data-testid='stNavSectionHeader']").all_inner_texts()]
    assert headers == ["Explore", "Audit", "Train"]
    labels = [a.strip() for a in nav.locator("a").all_inner_texts()]
    assert labels[0] == "Home" and "app" not in labels and len(labels) == 15
    assert {"Real or fake?", "Directions", "Your own cat", "Compare runs"} <= set(labels)
    for url, title in OLD_URLS.items():
        page.goto(f"{app['url']}/{url}")
        idle(page)
        assert title in page.locator("h1").first.inner_text(), url
