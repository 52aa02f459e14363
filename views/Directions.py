"""Directions that mean something: named ones from the sticker labels, then principal components."""
import re

import numpy as np
import streamlit as st

from catgan import directions, media, ui

entry, g = ui.model_page(
    "Directions",
    "Each slider moves the cat along one direction of the latent space. Named directions (where the "
    "model learnt the sticker renderer's labels) point from the other values towards one: *coat: orange*, "
    "*item: party_hat*. Principal components are the largest ways the samples vary, found without labels. "
    "±3 is the usual editing range.")
found = ui.model_directions(g)


def slider_key(name: str) -> str:
    return "d_" + re.sub(r"\W+", "_", name).strip("_")


def _reset():
    for d in found.directions:
        st.session_state[slider_key(d.name)] = 0.0


stored = ui.stored_latent(g)
left, right = st.columns([1, 1])
with left:
    if stored is None:
        seed = st.number_input("Base seed", 0, 2**31 - 1, 0, key="dir_seed", bind="query-params")
        base = g.latents(seed, 1)[0]
    else:
        base = stored
        st.info(f"Starting from your stored latent `{st.query_params['z']}`.")
    amounts = {}
    named = [d for d in found.directions if d.kind == "label"]
    pcs = [d for d in found.directions if d.kind == "pc"]
    for group, title in ((named, "Named directions"), (pcs, "Principal components")):
        if not group:
            continue
        with st.expander(title, expanded=group is named or not named):
            for d in group:
                amounts[d.name] = st.slider(d.name, -3.0, 3.0, 0.0, 0.1, key=slider_key(d.name),
                                            bind="query-params", help=f"moves pixels by {d.effect:.1f} levels at +3")
    st.button("Reset", on_click=_reset)
    st.caption(f"At ±3, a random direction moves pixels by {found.random_effect:.1f} levels on average; "
               f"each direction's own figure is in its help.")

z = directions.edit(base, found, amounts)
with right:
    image = ui.generate(g, z[None])[0]
    st.image(media.png_bytes(media.upscale(image, 6)), output_format="PNG")
    st.download_button("Download PNG", media.png_bytes(image), file_name="edited-cat.png", mime="image/png")

st.subheader("One direction from −3 to +3")
strip_name = st.selectbox("Direction", found.names(), key="strip", bind="query-params")
steps = np.linspace(-3, 3, 7)
strip = ui.generate(g, np.stack([z + a * found.by_name(strip_name).vector for a in steps]))
ui.show_grid(strip, cols=len(steps), caption="  ·  ".join(f"{a:+.0f}" for a in steps), scale=2)
ui.link_notice()
