"""Every kind of cat a conditional model draws: one label attribute down, another across, one seed throughout."""
import numpy as np
import streamlit as st

from catgan import ui

entry, g = ui.model_page(
    "Kinds of cat",
    "A conditional model draws the kind of cat it is asked for. Each row holds one value of the attribute "
    "down the side, each column one of the attribute across; every cell is the same seed, so what changes "
    "from cell to cell is the label alone. The sidebar's kind of cat holds the other attributes.")

if g.labels is None:
    st.info(f"**{entry.name}** is not conditional: it draws whatever kind of cat its latent lands on. Train a "
            "model with `--cond labels` (Training page: *Condition on the data's labels*) to ask for kinds.")
    ui.link_notice()
    st.stop()

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
