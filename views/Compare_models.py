"""The same latents through every model, side by side."""
import streamlit as st

from catgan import ui
from catgan.audit import report as rep

ui.page_config("Compare models")
st.title("Compare models")
st.write("The same seeds through every model (models with the same latent size share the exact latents). "
         "Conditional models draw the sidebar's kind of cat, each model that has those labels the same one.")

c1, c2 = st.columns(2)
seed = c1.number_input("First seed", 0, 2**31 - 1, 0, key="seed", bind="query-params")
n = c2.slider("Samples per model", 1, 16, 8, key="per_model", bind="query-params")
asked = None                     # the first conditional model's picker: (its label space, the kind chosen)
for entry in ui.models():
    st.subheader(entry.label)
    line = rep.machine_line(entry.eval_report())
    if line:
        st.caption(line)
    g = ui.load(entry)
    if g is None:
        continue
    if g.labels is not None and asked is None:
        g = ui.kind_picker(g)
        asked = (g.labels.attributes, g.kind or {})
    elif g.labels is not None and g.labels.attributes == asked[0]:
        g = g.with_kind(asked[1])
    ui.show_grid(ui.generate(g, g.latents(seed, n)), cols=n, scale=2)
ui.link_notice()
