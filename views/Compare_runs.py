"""Training runs side by side: quality curves at equal images seen, their grids, what their configs differ in."""
import pandas as pd
import streamlit as st

from catgan import catalogue, compare, runs as runlib, ui
from catgan.train import sweep

ui.page_config("Compare runs")
st.title("Compare runs")
st.write("Quality measured while each run trained (robust FD and coverage every few thousand images), "
         "overlaid at equal images seen. Running runs update as they go; the diamond is each run's best point.")
RUNS = catalogue.runs_dir()
runs = runlib.list_runs(RUNS)
labels = {compare.run_label(r, RUNS): r for r in runs}
shipped = {e.name: e for e in ui.models() if e.kind == "shipped" and e.card().get("curve", {}).get("rows")}
if not labels and not shipped:
    st.info("No runs yet: start one on the Training page, or a sweep with `catgan sweep`.")
    st.stop()

with_points = [name for name, r in labels.items() if compare.run_curve(r)]
c1, c2 = st.columns([3, 2])
chosen = c1.multiselect("Runs", list(labels), default=with_points[:2], key="runs", bind="query-params")
ship = c2.multiselect("Shipped models' curves (their own protocol: 2,000 samples)", list(shipped),
                      key="shipped", bind="query-params")


@st.fragment(run_every=5)
def curves():
    points = [p for name in chosen for p in compare.run_curve(labels[name], name)]
    points += [p for name in ship for p in compare.shipped_curve(name, shipped[name].card()["curve"])]
    if not points:
        st.caption("None of the chosen runs has a quality point yet (the first comes after `--eval-kimg`).")
        return
    metrics = [m for m in compare.CURVE_METRICS if any(p.get(m) is not None for p in points)]
    for col, metric in zip(st.columns(len(metrics)), metrics):
        with col:
            ui.quality_chart(points, metric, compare.CURVE_METRICS[metric], key=f"cmp_{metric}")


curves()
if not chosen:
    ui.link_notice()
    st.stop()

st.subheader("The same fixed latents from each run")
top = max([p["k images"] for name in chosen for p in compare.run_curve(labels[name])] or [1.0])
k = st.slider("At thousand images seen", 0.0, float(max(top, 1.0)), float(top), key="kimg", bind="query-params")
cols = st.columns(min(len(chosen), 4))
for i, name in enumerate(chosen):
    found = compare.grid_near(labels[name], k)
    with cols[i % len(cols)]:
        if found:
            st.image(str(found[1]), caption=f"{name} · step {found[0]:,}", width="stretch", output_format="PNG")
        else:
            st.caption(f"{name}: no sample grid yet")
st.caption("Each grid is the run's 16 fixed latents (set by its seed), nearest to that point; runs with the "
           "same seed and latent size share them exactly.")

st.subheader("What the configs differ in")
diff = compare.config_diff({name: compare.read_config(labels[name]) for name in chosen})
if diff:
    st.dataframe(pd.DataFrame(diff).T.astype(str), width="stretch")
else:
    st.caption("The chosen runs have the same settings.")

sweeps = sorted({labels[name].parent for name in chosen if (labels[name].parent / sweep.SWEEP).exists()})
for folder in sweeps:
    st.subheader(f"Sweep {folder.name}")
    st.dataframe(pd.DataFrame(sweep.summary(folder)), width="stretch", hide_index=True)
ui.link_notice()
