"""Three numbers -> a latent (the first seed's control), plus a base seed and scale."""
import numpy as np
import streamlit as st

from catgan import latent, ui

entry, g = ui.model_page(
    "Latent sliders",
    "Three numbers are projected into the latent space by a fixed random matrix "
    f"(seed {latent.PROJECTION_SEED}, documented in `catgan/latent.py`). Small numbers make the most "
    "cat-like images; large ones garble colours.")

KEYS = {"a": 0.0, "b": 0.0, "c": 0.0, "base": -1, "base_scale": ui.recommended_scale(entry)}


def _reset():
    for k, v in KEYS.items():
        st.session_state[k] = v


left, right = st.columns([1, 1])
with left:
    nums = [st.slider(k, -3.0, 3.0, 0.0, 0.05, key=k, bind="query-params") for k in "abc"]
    base_seed = st.number_input("Base seed (-1: start from the origin, or the kind of cat's mean)", -1, 2**31 - 1, -1, key="base",
                                bind="query-params")
    scale = st.slider(f"{ui.scale_label(g)} of the base latent", 0.0, 10.0, KEYS["base_scale"], 0.05, key="base_scale",
                      bind="query-params", help="Starts at the model's recommended scale (Report card).")
    st.button("Reset", on_click=_reset)
stored = ui.stored_latent(g)             # ?z=<id>: a latent found on the Your own cat page
if stored is not None:
    base = g.truncate(stored, scale)
    left.info(f"Base: your stored latent `{st.query_params['z']}` (the base seed is ignored).")
else:
    base = g.latents(base_seed, 1, psi=scale)[0] if base_seed >= 0 else g.centre()
z = g.from_three(nums, base)
st.session_state["explorer_z"] = z          # the Nearest neighbours page can check this exact image
with right:
    ui.show_grid(ui.generate(g, z[None]), cols=1, scale=6)
    name = "w − w̄" if g.space == "w" else "z"
    st.caption(f"|{name}| = {np.linalg.norm(z):.2f} (a typical latent of this model: ≈ {g.latent_shell():.1f})")
ui.link_notice()
