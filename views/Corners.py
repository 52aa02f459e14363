"""Four corner latents blended over an N x N grid."""
import streamlit as st

from catgan import latent, ui

entry, g = ui.model_page(
    "Corners",
    "Each corner is a latent, set by a seed or by three numbers; the grid blends them.")

NAMES = [("tl", "Top left", (1, 0, 0)), ("tr", "Top right", (0, 1, 0)),
         ("bl", "Bottom left", (0, 0, 1)), ("br", "Bottom right", (-1, -1, 0))]
controls, view = st.columns([1, 2])
with controls:
    n = st.slider("Grid size", 3, 10, 6, key="grid", bind="query-params")
    mode = st.radio("Interpolation", ["linear", "spherical"], key="interp", horizontal=True, bind="query-params")
    corners = []
    for row in (NAMES[:2], NAMES[2:]):
        for col, (key, label, three) in zip(st.columns(2), row):
            with col:
                corners.append(ui.latent_input(key, label, g, default_seed=len(corners) + 1,
                                               default_three=three))
grid = latent.corner_grid(corners, n, mode)
with view:
    png = ui.show_grid(ui.generate(g, grid), cols=n, scale=2 if n > 6 else 3)
    st.download_button("Download grid (PNG)", png, file_name=f"corners-{entry.name.replace('/', '_')}.png",
                       mime="image/png")
ui.link_notice()
