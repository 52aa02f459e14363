"""Every kind of cat: how often a model draws each pose x item against the data, and for a conditional
model one seed in every kind."""
import numpy as np
import streamlit as st

from catgan import ui

entry, g = ui.model_page(
    "Kinds of cat",
    "Which kinds of cat a model draws, and how often: each pose × item pair's share of its samples against "
    "its share of the training stickers, from the model's evaluation (Report card).")

report = entry.eval_report()
pairs = report.get("detect", {}).get("pairs")
if pairs:
    labels = report.get("labels", {})
    ui.kinds_heatmap(pairs, entry.name, g.labels is not None)
    coverage, kl = labels.get("mode_coverage", float("nan")), labels.get("kl_real_to_generated", float("nan"))
    st.caption(f"pose × item coverage {coverage:.3f} (the pairs drawn at least a quarter as often as the data has "
               f"them), KL(real ‖ drawn) {kl:.3f}" + (". Click a cell to open that kind on Home."
                                                     if g.labels is not None else "."))
else:
    st.caption("No pose × item shares for this model yet: they come with its evaluation "
               f"(`catgan eval {entry.path}`, of a model of the stickers).")

if g.labels is None:
    st.info(f"**{entry.name}** is not conditional: it draws whatever kind of cat its latent lands on. Train a "
            "model with `--cond labels` (Training page: *Condition on the data's labels*) to ask for kinds.")
    ui.link_notice()
    st.stop()

st.subheader("One seed, every kind")
st.write("Each row holds one value of the label down the side, each column one of the label across; every "
         "cell is the same seed, so what changes from cell to cell is the label alone. The sidebar's kind of "
         "cat holds the other labels.")
space = g.labels
controls, view = st.columns([1, 3])
with controls:
    down = st.selectbox("Down the side", space.names, key="down", bind="query-params")
    across = st.selectbox("Across", [a for a in space.names if a != down], key="across", bind="query-params")
    seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="seed", bind="query-params")
rows, cols = space.attributes[down], space.attributes[across]
latents = np.concatenate([g.latents(seed, 1, {down: i, across: j})
                          for i in range(len(rows)) for j in range(len(cols))])
with view:
    png = ui.show_grid(ui.generate(g, latents), cols=len(cols), scale=2,
                       caption=f"{down} down: {', '.join(rows)} · {across} across: {', '.join(cols)}")
    st.download_button("Download grid (PNG)", png, file_name=f"kinds-{entry.name.replace('/', '_')}-{seed}.png",
                       mime="image/png")
ui.link_notice()
