"""The Streamlit helpers every page shares: model picker, cached loading, image display.

The only module of catgan that imports Streamlit.
"""
from __future__ import annotations

import json

import numpy as np
import streamlit as st
import torch

from catgan import catalogue, compare, directions, latent_store, media
from catgan.background import BackgroundTask
from catgan.data import render
from catgan.data.dataset import dataset_for
from catgan.generator import LoadedGenerator, load_generator
from catgan.runs import best_row, read_quality
from catgan.audit.evaluate import DETECTABLE_FILE
from catgan.checkpoint import CheckpointError
from catgan.web import export as web

SCALE = 4          # 64 px cats shown at 256 px, nearest-neighbour
STICKER_LABELS = tuple(render.LABEL_NAMES)       # a link's kind of cat: ?pose=sleeping&item=cup


def device_name() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


@st.cache_resource(show_spinner="Loading model…", max_entries=16)
def _load(path: str, mtime: float, device: str, with_critic: bool) -> LoadedGenerator:
    return load_generator(path, device=device, with_critic=with_critic)


def load(entry: catalogue.ModelEntry, with_critic: bool = False) -> LoadedGenerator | None:
    """The cached generator for a model, or None after showing an error card."""
    if entry.error:
        st.error(f"**{entry.name}** cannot be used: {entry.error}", icon="⚠️")
        return None
    try:
        return _load(str(entry.path), entry.path.stat().st_mtime, device_name(), with_critic)
    except (CheckpointError, OSError) as e:
        st.error(f"**{entry.name}** failed to load: {e}", icon="⚠️")
        return None


def page_config(title: str | None = None) -> None:
    """Every page's first call: its title and layout, and a note of the link's values for `link_notice`."""
    st.set_page_config(page_title=f"{title} · catgan" if title else "catgan", page_icon="🐱", layout="wide")
    page = title or "Home"
    if page not in st.session_state.setdefault("_links_checked", set()):
        st.session_state["_link_at_open"] = (page, st.query_params.to_dict())


def _same(raw: str, value) -> bool:
    """Whether a URL string stands for a widget's value (a default value is dropped from the URL)."""
    if isinstance(value, bool):
        return raw.lower() == str(value).lower()
    if isinstance(value, (int, float)):
        try:
            return float(raw) == float(value)
        except ValueError:
            return False
    return raw == str(value)


def link_notice() -> None:
    """Every page's last call. The first time a page runs in a session, say which values of its link
    it could not use: Streamlit drops an out-of-range, malformed or unknown value for the default."""
    page, given = st.session_state.pop("_link_at_open", (None, {}))
    if page is None:
        return
    st.session_state["_links_checked"].add(page)
    refused = [f"`{key}={raw}` (using `{st.session_state[key]}`)" for key, raw in given.items()
               if key in st.session_state and not _same(raw, st.session_state[key])]
    if refused:
        st.toast("This link had values this page cannot use: " + ", ".join(refused), icon="🔗")


def models() -> list[catalogue.ModelEntry]:
    return catalogue.list_models()


def model_picker() -> catalogue.ModelEntry | None:
    """The sidebar dropdown; its value lives in the URL (?model=...) and so carries to every page."""
    entries = models()
    if not entries:
        st.sidebar.warning("No models yet: train one on the Training page.")
        return None
    by_name = {e.name: e for e in entries}
    # Options are bare names so the URL stays readable (?model=dcgan-stickers64).
    name = st.sidebar.selectbox("Model", list(by_name), key="model", bind="query-params")
    st.sidebar.caption(by_name[name].label)
    return by_name[name]


def model_page(title: str, intro: str, with_critic: bool = False) -> tuple[catalogue.ModelEntry, LoadedGenerator]:
    """The common top of a page that works on one model; stops the page when there is none usable."""
    page_config(title)
    st.title(title)
    st.write(intro)
    entry = model_picker()
    g = load(entry, with_critic=with_critic) if entry else None
    if g is None:
        st.stop()
    g = kind_picker(g)
    if g.space == "w":
        st.caption(W_NOTE)
    if g.labels is not None:
        st.caption(COND_NOTE[g.space])
    return entry, g


def kind_picker(g: LoadedGenerator) -> LoadedGenerator:
    """A conditional model's "kind of cat" in the sidebar: each attribute "any" (a seed draws it from the
    data's mix) or one value. Bound to the URL (?pose=sleeping&item=cup), so a link and every page keep it."""
    space = g.labels
    if space is None:
        foreign = [f"`{k}={st.query_params[k]}`" for k in STICKER_LABELS if k in st.query_params]
        if foreign and st.session_state.get("_link_at_open"):           # said once, as link_notice does
            st.toast(f"{g.path.parent.name} is not conditional, so this link's kind of cat is ignored: "
                     + ", ".join(foreign), icon="🔗")
        return g
    st.sidebar.markdown("**Kind of cat**")
    choice = {name: st.sidebar.selectbox(name.capitalize(), ["any", *values], key=name, bind="query-params")
              for name, values in space.attributes.items()}
    held = space.parse(choice)
    if any(v is not None for v in held.values()):
        st.sidebar.caption("Every seed here draws this kind; the attributes left at *any* come from the data's mix "
                           "among such cats.")
    return g.with_kind(held)


W_NOTE = ("This model has a mapping network, so its latents here live in **W**: w = mapping(z), centred on the "
          "mean w̄. A seed still names the same z; blends, arithmetic, sliders and directions act on w − w̄, and "
          "scaling it by ψ is the truncation trick.")


COND_NOTE = {
    "w": "This model is conditioned on labels (the sidebar's *Kind of cat*): a seed's w is mapped with its label, "
         "so each latent here carries its kind, and a blend of two latents of different kinds blends their kinds.",
    "z": "This model is conditioned on labels (the sidebar's *Kind of cat*): each latent here is z with its label "
         "vector after it, so a blend of two latents of different kinds is a blend of their labels."}


def scale_label(g: LoadedGenerator) -> str:
    if g.labels is not None:
        return "ψ (truncation towards its label's mean w)" if g.space == "w" else "Latent scale (towards its label's mean)"
    return "ψ (truncation towards the mean w)" if g.space == "w" else "Latent scale (truncation)"


def model_key(g: LoadedGenerator) -> str:
    return f"{g.path}:{g.path.stat().st_mtime}:{g.device}:{sorted((g.kind or {}).items())}"


@st.cache_data(max_entries=512, show_spinner=False)
def _images(key: str, _g: LoadedGenerator, z: np.ndarray) -> np.ndarray:
    return _g.generate(z)


def generate(g: LoadedGenerator, z: np.ndarray) -> np.ndarray:
    """Generated images, cached by (model file, latents)."""
    return _images(model_key(g), g, np.ascontiguousarray(z, dtype=np.float32))


def show_grid(images: np.ndarray, cols: int, caption: str | None = None, scale: int = SCALE) -> bytes:
    png = media.grid_png(images, cols=cols, scale=scale)
    st.image(png, caption=caption, output_format="PNG")
    return png


def latent_input(prefix: str, label: str, g: LoadedGenerator, default_seed: int,
                 default_three=(0.0, 0.0, 0.0)) -> np.ndarray:
    """A latent set by a seed, by three numbers (projected) or by a stored latent's id, bound to the URL
    under `prefix`."""
    st.markdown(f"**{label}**")
    how = st.radio("set by", ["seed", "three numbers", "stored"], key=f"{prefix}_by", horizontal=True,
                   bind="query-params", label_visibility="collapsed")
    if how == "stored":
        key = st.text_input("stored latent id", key=f"{prefix}_z", bind="query-params",
                            help="from the Your own cat page")
        try:
            return latent_store.get(key, g.explorer_dim)
        except latent_store.UnknownLatent as e:
            st.warning(f"{e}; using seed {default_seed}.")
            return g.latents(default_seed, 1)[0]
    if how == "seed":
        seed = st.number_input("seed", 0, 2**31 - 1, default_seed, key=f"{prefix}_seed", bind="query-params")
        return g.latents(seed, 1)[0]
    cols = st.columns(3)
    nums = [c.number_input(n, -5.0, 5.0, float(d), 0.1, key=f"{prefix}_{n}", bind="query-params")
            for c, n, d in zip(cols, "abc", default_three)]
    return g.from_three(nums)


def _dataset_spec(g: LoadedGenerator) -> tuple[str, int]:
    """What names a model's training set before it exists (a fresh cache renders the embedded stickers)."""
    return json.dumps(g.meta.get("dataset", {}), sort_keys=True), int(g.resolution)


def _dataset(spec: str, resolution: int):
    return dataset_for({"dataset": json.loads(spec), "resolution": resolution})


@st.cache_resource(show_spinner=False, max_entries=4)
def _preparing(spec: str, resolution: int) -> BackgroundTask:
    return BackgroundTask(lambda on_progress, stopping: _dataset(spec, resolution), name="training-set")


@st.cache_resource(show_spinner=False, max_entries=4)
def _indexing(spec: str, resolution: int) -> BackgroundTask:
    from catgan.audit.neighbors import build_index

    def work(on_progress, stopping):
        ds = _dataset(spec, resolution)    # renders it first on a fresh cache (one process renders, others wait)
        on_progress(0, len(ds))

        def on_batch(done, total):
            if stopping():                 # the feature pass has no other exit; the cache stays unwritten
                raise InterruptedError("stopped")
            on_progress(done, total)
        return build_index(ds, progress=False, on_batch=on_batch)
    return BackgroundTask(work, name="neighbour-index")


def start_neighbour_index(g: LoadedGenerator):
    """Start indexing a model's training set in the background (once per dataset, shared by every session);
    a dataset rewritten since its index was built is indexed again."""
    job = _indexing(*_dataset_spec(g))
    if job.result is not None and job.result.stale():
        _indexing.clear()
        job = _indexing(*_dataset_spec(g))
    return job


def training_set(g: LoadedGenerator):
    """The model's training set; on a fresh cache it is rendered in the background, with progress shown
    and the page stopped meanwhile."""
    return task_result(_preparing(*_dataset_spec(g)), "Preparing the training set",
                       lambda job: "Rendering the training set the first time (later starts read it)…")


def background_result(job: BackgroundTask, what: str, progress_text):
    """A background task's result, or None while it runs: its progress shows here, and the page reruns
    when it ends, so the rest of the page works meanwhile."""
    job.wait(timeout=2.0)                  # a quick or cached task is ready at once: no progress bar
    if job.error:
        st.error(f"{what} failed: {job.error}")
        return None
    if job.result is None:
        @st.fragment(run_every=1)
        def wait():
            if job.finished:
                st.rerun()
            st.progress(job.fraction, text=progress_text(job))
        wait()
    return job.result


def task_result(job: BackgroundTask, what: str, progress_text):
    """A background task's result; while it runs (or if it failed), say so and stop the page here."""
    result = background_result(job, what, progress_text)
    if result is None:
        st.stop()
    return result


def _indexing_text(job) -> str:
    if job.done == 0 and job.total == 1:          # the task's start: no dataset yet
        return "Preparing the training set the first time (later starts read it from the cache)…"
    return (f"Indexing the training set the first time: features of {job.done:,} / {job.total:,} images "
            "(later starts read them from the cache)…")


def neighbour_index(g: LoadedGenerator):
    """The training set's neighbour index; while it is still being built, show progress and stop the page."""
    return task_result(start_neighbour_index(g), "Indexing the training set", _indexing_text)


def neighbour_index_or_progress(g: LoadedGenerator):
    """The neighbour index if it is ready, else None, its progress shown in place (the page goes on)."""
    return background_result(start_neighbour_index(g), "Indexing the training set", _indexing_text)


@st.cache_resource(show_spinner=False, max_entries=8)
def _finding_directions(key: str, _g: LoadedGenerator) -> BackgroundTask:
    return BackgroundTask(lambda on_progress, stopping: directions.cached(_g, on_progress, stopping),
                          name="directions")


def model_directions(g: LoadedGenerator) -> directions.DirectionSet:
    """The model's latent directions: cached on disk; found in the background, with progress, the first time."""
    return task_result(_finding_directions(model_key(g), g), "Finding this model's directions", lambda job: (
        f"Finding this model's directions the first time (sampling, labelling, PCA): {job.fraction:.0%}…"))


def stored_latent(g: LoadedGenerator, key: str = "z") -> np.ndarray | None:
    """The stored latent a link names (?z=<id>), or None; an unknown id is explained, not fatal."""
    value = st.query_params.get(key)
    if not value:
        return None
    try:
        return latent_store.get(value, g.explorer_dim)
    except latent_store.UnknownLatent as e:
        st.warning(f"{e}. Starting from a seed instead.")
        return None


def recommended_scale(entry: catalogue.ModelEntry) -> float:
    """The latent scale the model's eval recommends (least detectable, combinations kept); 1 if none."""
    from catgan.audit.truncation import recommended_scale as from_report
    return from_report(entry.eval_report())


def explorer_link(model: str, seed: int, scale: float = 1.0) -> str:
    """A markdown link that opens one latent in the Latent sliders page."""
    return f"[seed {seed}](Latent_sliders?model={model}&base={seed}&base_scale={scale})"


def most_detectable(entry, det: dict) -> bool:
    """The model's most detectable samples (its eval's fresh classifier) over heat maps of where that
    classifier looks, each linked to the explorer; False where its eval holds none."""
    heat = entry.folder / DETECTABLE_FILE
    if "most_detectable" not in det or not heat.exists():
        return False
    tells = ", ".join(f"{part} {n}" for part, n in det.get("tells", {}).items() if n)
    st.image(str(heat), output_format="PNG", caption="Its most detectable samples (top) and where the classifier "
             f"looks (red, below). The part their heat falls on most, against its area: {tells}.")
    st.markdown(" · ".join(f"{explorer_link(entry.name, t['seed'])} {t['tell']}" for t in det["most_detectable"]))
    return True


def run_quality(run, name: str) -> dict | None:
    """A run's quality curves with a caption naming the space and the best point; the best row."""
    quality = read_quality(run)
    best = best_row(quality)
    if best:
        space = quality[-1]["space"]
        st.caption(f"**Quality** in the {space} space ({quality[-1]['n']} samples a point"
                   + ("; this data has no label heads, so the general space" if space == "efficientnet" else "")
                   + "). Best so far: **"
                   + (f"detectability {best['detectability']:.3f}, " if "detectability" in best else "")
                   + f"FD {best['fd']:.2f} at step {best['step']:,}** ({best['images'] / 1000:,.0f} k images, the "
                   "diamond; the least detectable point, the lower FD among those within a standard error); "
                   "the model dropdown and export use it.")
        points = compare.curve_points(name, quality)
        metrics = [m for m in compare.CURVE_METRICS if any(p.get(m) is not None for p in points)]
        for col, metric in zip(st.columns(len(metrics)), metrics):
            with col:
                quality_chart(points, metric, compare.CURVE_METRICS[metric], key=f"q_{metric}")
    return best


def quality_chart(points: list[dict], metric: str, title: str, key: str | None = None) -> None:
    """Quality points against images seen, one line per run, each run's best point as a large diamond."""
    points = [p for p in points if p.get(metric) is not None]
    if not points:
        return
    x = {"field": "k images", "type": "quantitative", "title": "thousand images seen"}
    y = {"field": metric, "type": "quantitative", "title": title, "scale": {"zero": False}}
    color = {"field": "run", "type": "nominal", "legend": {"orient": "bottom", "title": None}}
    tip = [{"field": f} for f in ("run", "step", "k images", metric)]
    st.vega_lite_chart({
        "data": {"values": points}, "height": 220,
        "layer": [{"mark": {"type": "line", "point": True}, "encoding": {"x": x, "y": y, "color": color,
                                                                         "tooltip": tip}},
                  {"transform": [{"filter": "datum.best"}], "mark": {"type": "point", "shape": "diamond",
                                                                    "size": 220, "filled": True},
                   "encoding": {"x": x, "y": y, "color": color, "tooltip": tip}}]},
        width="stretch", key=key)


def kinds_heatmap(pairs: list[dict], model: str, conditional: bool) -> None:
    """Pose x item: each pair's generated share over its real share (1: as often as the data; blue: too
    rare; red: too common), from the model's eval. A conditional model's cell opens that kind on Home."""
    cells = [{**p, "ratio": min(p["ratio"], 3.0), "shares": f"{p['generated']:.1%} drawn, {p['real']:.1%} real",
              **({"link": f"./?model={model}&pose={p['pose']}&item={p['item']}"} if conditional else {})}
             for p in pairs]
    encoding = {"x": {"field": "item", "type": "nominal", "sort": list(render.ITEMS), "title": "item"},
                "y": {"field": "pose", "type": "nominal", "sort": list(render.POSES), "title": "pose"},
                "color": {"field": "ratio", "type": "quantitative", "title": "drawn / real",
                          "scale": {"scheme": "redblue", "reverse": True, "domainMid": 1, "domain": [0, 2]}},
                "tooltip": [{"field": f} for f in ("pose", "item", "shares")]}
    if conditional:
        encoding["href"] = {"field": "link"}
    st.vega_lite_chart({"data": {"values": cells}, "height": 300, "mark": {"type": "rect", "tooltip": True},
                        "encoding": encoding}, width="stretch")


def web_page_download(entry: catalogue.ModelEntry) -> None:
    """A zip of the model as a static web page (catgan export-web), made only when the button is pressed."""
    try:
        web.runtime_files()
    except web.WebExportError as e:
        st.caption(f"Download as a web page is unavailable here: {e}")
        return
    st.download_button("Download as a web page (zip)", lambda: web.export_web_zip(entry.path),
                       file_name=f"{entry.name.replace('/', '-')}-web.zip", mime="application/zip",
                       help="A folder that runs this generator in any browser, no Python or server needed: "
                            "unzip it and serve it with any static file server (python -m http.server).")
