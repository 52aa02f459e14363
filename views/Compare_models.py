"""The same latents through every model, side by side."""
import streamlit as st

from catgan import ui
from catgan.audit import report as rep

ui.page_config("Compare models")
st.title("Compare models")
st.write("The same seeds through every model (models with the same latent size share the exact latents).")

c1, c2 = st.columns(2)
seed = c1.number_input("First seed", 0, 2**31 - 1, 0, key="seed", bind="query-params")
n = c2.slider("Samples per model", 1, 16, 8, key="per_model", bind="query-params")
for entry in ui.models():
    st.subheader(entry.label)
    line = rep.machine_line(entry.eval_report())
    if line:
        st.caption(line)
    g = ui.load(entry)
    if g is not None:
        ui.show_grid(ui.generate(g, g.latents(seed, n)), cols=n, scale=2)
ui.link_notice()
