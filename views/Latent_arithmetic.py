"""start - subtracted + added = result."""
import numpy as np
import streamlit as st

from catgan import directions, latent, media, ui

entry, g = ui.model_page(
    "Latent arithmetic",
    "Like *man with glasses − man + woman = woman with glasses*: subtract one cat's latent from "
    "another's, add a third, and see what the result keeps.")

cols = st.columns(3)
parts = []
for col, (key, label, seed) in zip(cols, [("start", "Start", 1), ("sub", "Subtract", 2), ("add", "Add", 3)]):
    with col:
        parts.append(ui.latent_input(key, label, g, default_seed=seed))
result = latent.arithmetic(*parts)
c1, c2, c3 = st.columns([1, 2, 2])
if c1.toggle("…and a named direction", key="with_dir", bind="query-params"):
    found = ui.model_directions(g)
    name = c2.selectbox("Direction", found.names(), key="dir", bind="query-params")
    amount = c3.slider("Amount (negative subtracts)", -3.0, 3.0, 1.5, 0.1, key="dir_amount", bind="query-params")
    result = directions.edit(result, found, {name: amount})
if g.labels is not None:                 # a conditional model: arithmetic on its labels too
    c1, c2, c3, c4 = st.columns([1, 1, 1, 1])
    if c1.toggle("…and a change of kind", key="with_kind", bind="query-params",
                 help="Adds the step between two kinds' mean latents: the same cat, asked for another label"):
        attribute = c2.selectbox("Label", g.labels.names, key="kind_attr", bind="query-params")
        values = g.labels.attributes[attribute]
        old = c3.selectbox("from", values, key="kind_from", bind="query-params")
        new = c4.selectbox("to", values, index=1, key="kind_to", bind="query-params")
        result = result + g.kind_change(attribute, values.index(old), values.index(new))
images = ui.generate(g, np.stack([*parts, result]))

tiles = st.columns([4, 1, 4, 1, 4, 1, 4])
for i, sign in enumerate(["−", "+", "="]):
    tiles[2 * i + 1].markdown(f"<h1 style='text-align:center'>{sign}</h1>", unsafe_allow_html=True)
for i, label in enumerate(["start", "subtract", "add", "result"]):
    tiles[2 * i].image(media.png_bytes(media.upscale(images[i], 4)), caption=label, output_format="PNG")
row = media.grid_png(images, cols=4, scale=4)
st.download_button("Download row (PNG)", row, file_name="arithmetic.png", mime="image/png")
ui.link_notice()
