"""Train a new model in the background and watch it learn."""
import time

import streamlit as st

from catgan import catalogue, compare, jobs, runs as runlib, ui
from catgan.data.dataset import DEFAULT_NAME, load_dataset
from catgan.data.stickers import extract_zip, prepare_stickers
from catgan.device import PRECISIONS, choose_precision
from catgan.models import FAMILIES, diffaug
from catgan.train.quality import default_eval_kimg

ui.page_config("Training")
st.title("Training")
RUNS = catalogue.runs_dir()


def dataset_choice(name: str) -> str | None:
    kind = st.radio("Dataset", ["embedded sticker cats", "prepared folder", "upload a zip of stickers"],
                    horizontal=True)
    if kind == "embedded sticker cats":
        return DEFAULT_NAME
    if kind == "prepared folder":
        path = st.text_input("Folder (holds images.npy and dataset.json)")
        return path or None
    up = st.file_uploader("Zip of sticker images (PNG/JPEG, up to 50 MB)", type=["zip"])
    if up is None:
        return None
    out = RUNS / "datasets" / name
    if not (out / "dataset.json").exists():
        with st.spinner("Preparing the stickers…"):
            raw = RUNS / "uploads" / name
            extract_zip(up, raw)
            summary = prepare_stickers(raw, out, size=64, progress=False)
        st.success(f"Prepared {summary['images']} images from {summary['kept']} stickers "
                   f"({len(summary['skipped'])} files skipped).")
        if "warning" in summary:
            st.warning(summary["warning"][0].upper() + summary["warning"][1:])
    return str(out)


with st.expander("Start a new run", expanded=jobs.active_job(RUNS) is None):
    c1, c2, c3 = st.columns(3)
    family = c1.selectbox("Family", list(FAMILIES))
    preset = c2.selectbox("Preset", list(FAMILIES[family].presets),
                          help="cpu: sized for a laptop; paper: the seeds' sizes; classic: the textbook DCGAN")
    resolution = c3.selectbox("Resolution", [32, 64, 128], index=1)
    c1, c2, c3, c4 = st.columns(4)
    steps = c1.number_input("Steps", 10, 1_000_000, 2000, 100)
    batch = c2.number_input("Batch (0: preset)", 0, 512, 0)
    lr = c3.number_input("Learning rate (0: preset)", 0.0, 0.1, 0.0, format="%.5f")
    seed = c4.number_input("Seed", 0, 2**31 - 1, 0)
    note = FAMILIES[family].form_note(FAMILIES[family].config(preset, resolution=resolution, batch=batch or None))
    if note:
        st.caption(note)
    c1, c2 = st.columns([2, 1])
    name = c1.text_input("Run name", f"{family}-{time.strftime('%m%d-%H%M')}")
    eval_kimg = c2.number_input("Quality point every (k images, 0: off)", 0.0, 10_000.0,
                                default_eval_kimg(steps, batch or FAMILIES[family].presets[preset]["batch"]),
                                help="Robust FD and coverage of 1,000 samples, the best point kept (about 5% of "
                                     "training time at the default)")
    precision = st.selectbox("Precision", list(PRECISIONS), help="auto: bf16 only where this machine runs it "
                             "natively (about 2x fp32), else fp32")
    chosen = choose_precision(precision)
    (st.warning if chosen.warning else st.caption)(f"Training will use **{chosen.name}**: {chosen.reason}."
                                                   + (f" {chosen.warning}." if chosen.warning else ""))
    cond = None
    try:
        runlib.check_run_name(name)
        data = dataset_choice(name)
        labelled = data == DEFAULT_NAME
        if data and data != DEFAULT_NAME:
            prepared = load_dataset(data)
            originals, labelled = prepared.originals, bool(prepared.labels)
            if originals < diffaug.FEW_SHOT:
                st.caption(f"This set was made from {originals:,} originals: DiffAugment (shifts and colour "
                           f"changes of everything the discriminator sees) will be on, as for any set under "
                           f"{diffaug.FEW_SHOT:,}, so it cannot learn the few originals by heart.")
        if labelled and st.checkbox("Condition on the data's labels", help="Generator and discriminator see each "
                                    "image's labels (the stickers' pose, item, coat and eyes), so the model draws "
                                    "the kind of cat it is asked for: the sidebar's *Kind of cat* and the Kinds "
                                    "page. Its mix of kinds follows the data's."):
            cond = "labels"
    except (ValueError, FileNotFoundError, NotADirectoryError) as e:
        st.error(str(e))
        data = None
    if st.button("Start training", type="primary", disabled=not data or not name.strip()):
        args = runlib.train_args(family, data, RUNS / name, steps, resolution, preset, batch, lr, seed, precision,
                                 sample_every=max(10, min(250, steps // 20)), eval_kimg=eval_kimg, cond=cond)
        try:
            jobs.launch(RUNS, RUNS / name, args)
            st.session_state.run = name
        except jobs.JobBusy as e:
            st.error(str(e))

all_runs = [compare.run_label(p, RUNS) for p in runlib.list_runs(RUNS)]
active = jobs.active_job(RUNS)
if not all_runs:
    st.info("No runs yet.")
    st.stop()
default = active.run.name if active and active.run.name in all_runs else st.session_state.get("run", all_runs[0])
run_name = st.selectbox("Run", all_runs, index=all_runs.index(default) if default in all_runs else 0)
run = RUNS / run_name


@st.fragment(run_every=2)
def monitor():
    status = jobs.run_state(run, RUNS)
    metrics = runlib.read_metrics(run)
    state, step, total = status.get("state"), status.get("step", 0), status.get("total") or 1
    eta = runlib.eta_seconds(status, metrics)
    st.progress(min(step / total, 1.0), text=f"**{state}** · step {step:,} / {total:,}"
                + (f" · ETA {eta / 60:.1f} min" if eta and state == "running" else "")
                + (f" · {status['images_per_s']:.0f} img/s" if status.get("images_per_s") else "")
                + (f" · {status['precision']} on {status.get('cpu_capability')}" if status.get("precision") else ""))
    c1, c2 = st.columns(2)
    if state in ("running", "starting") and c1.button("Stop (saves a checkpoint)"):
        jobs.stop(jobs.active_job(RUNS) or jobs.Job(run, status.get("pid", -1), "train", 0))
        st.rerun()
    if state in ("stopped", "crashed", "failed", "stalled") and c2.button("Resume"):
        try:
            jobs.launch(RUNS, run, runlib.resume_args(run))
        except (jobs.JobBusy, ValueError) as e:
            st.error(str(e))
    if state in ("failed", "crashed"):
        st.error(status.get("error") or "the run failed")
        st.code(status.get("log_tail", ""), language=None)
    family = catalogue.read_json(run / "config.json").get("model", "")
    if metrics.get("step"):
        charts = FAMILIES[family].charts if family in FAMILIES else []
        cols = st.columns(len(charts) + 1)
        for col, (title, keys) in zip(cols, charts):
            col.caption(title)
            col.line_chart({k: metrics[k] for k in keys if k in metrics} | {"step": metrics["step"]}, x="step")
        cols[-1].caption("images/s")
        cols[-1].line_chart({"images/s": metrics["images_per_s"], "step": metrics["step"]}, x="step")
    best = ui.run_quality(run, run_name)
    grids = runlib.sample_grids(run)
    if grids:
        key = f"grid_{run_name}"
        at_best = [i for i, (step, _) in enumerate(grids) if best and step == best["step"]]
        if at_best and len(grids) > 1:
            st.button(f"Show the best step ({best['step']:,})", key="to_best",
                      on_click=lambda: st.session_state.update({key: at_best[0]}))
        last = len(grids) - 1
        if st.session_state.get(key) in (None, st.session_state.get(f"{key}_last")):
            st.session_state[key] = last              # on the newest grid: follow new ones as they come
        st.session_state[f"{key}_last"] = last
        i = st.slider("Sample grid at step", 0, last, format="%d", key=key) if last else 0
        st.image(str(grids[i][1]), caption=f"16 fixed latents at step {grids[i][0]:,}", width=384,
                 output_format="PNG")


monitor()
grids = runlib.sample_grids(run)
if len(grids) > 1:
    st.download_button("Download the training time-lapse (GIF)", runlib.timelapse_gif(run),
                       file_name=f"{run.name}-timelapse.gif", mime="image/gif")
