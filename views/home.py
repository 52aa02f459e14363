"""catgan home: pick a model, see a batch of random cats."""
import streamlit as st

from catgan import catalogue, ui

ui.page_config()
st.title("catgan")
st.write("An open studio for cat-generating GANs: explore what a generator learned, check whether it "
         "memorised its training images, and train new ones while you watch. "
         "The shipped models were trained on a CPU on procedural sticker cats.")

entry = ui.model_picker()
g = ui.load(entry) if entry else None
if g is None:
    st.stop()
g = ui.kind_picker(g)

card = entry.card()
cols = st.columns(4)
cols[0].metric("Family", g.family.upper())
cols[1].metric("Resolution", f"{g.resolution} px")
cols[2].metric("Training steps", f"{g.meta.get('step', 0):,}")
cols[3].metric("Training time", f"{catalogue.lineage_minutes(g.meta):.0f} min",
               help="The whole lineage: every run it was continued from (--init-from) and its own")
if card.get("summary"):
    st.caption(card["summary"])
ui.web_page_download(entry)


def _new_batch():
    st.session_state.seed = st.session_state.get("seed", 0) + st.session_state.get("n", 16)


c1, c2, c3, c4 = st.columns([1, 1, 2, 1])
seed = c1.number_input("Seed", 0, 2**31 - 1, 0, key="seed", bind="query-params")
n = c2.select_slider("Samples", [4, 8, 16, 32, 64], 16, key="n", bind="query-params")
recommended = ui.recommended_scale(entry)
scale = c3.slider(ui.scale_label(g), 0.0, 2.0, recommended, 0.05, key="scale", bind="query-params",
                  help=f"Smaller latents make the most typical cats; large ones garble colours. This model starts "
                       f"at {recommended:g}, where its samples are least detectable without losing pose×item "
                       f"combinations (Report card).")
c4.button("New batch", on_click=_new_batch, width="stretch")
if g.space == "w":
    st.caption(ui.W_NOTE)

z = g.latents(seed, n, psi=scale)
scale_name = "ψ" if g.space == "w" else "scale"
ui.show_grid(ui.generate(g, z), cols=8 if n >= 32 else min(n, 8), caption=f"seed {seed}, {n} samples, {scale_name} {scale}")
ui.link_notice()
# the Nearest neighbours page's slow first use starts now, in the background, after the cats are drawn: on a
# fresh cache it renders the training set first (about 10 s), which the samples above do not need
ui.start_neighbour_index(g)
