"""Where a model goes wrong: what a fresh classifier catches first, the worst by its own judge, near-duplicates,
far-out latents, early training."""
import numpy as np
import streamlit as st

from catgan import ui
from catgan.audit import failures
from catgan.models import FAMILIES

entry, g = ui.model_page(
    "Failure gallery",
    "The first seed's *happy accidents*, found systematically. Every tile links back to the explorer.",
    with_critic=True)
key = ui.model_key(g)


@st.cache_data(max_entries=16, show_spinner="Ranking samples by the model's own discriminator…")
def worst(_key, _g, n, k, first):
    return failures.worst_samples(_g, n=n, k=k, first_seed=first)


@st.cache_data(max_entries=16, show_spinner="Looking for near-duplicates…")
def collapse(_key, _g, _index, n, first):
    return failures.find_collapse(_g, _index, n, first)


def links(seeds, scale=1.0):
    st.markdown(" · ".join(ui.explorer_link(entry.name, s, scale) for s in seeds))


c1, c2 = st.columns(2)
n = c1.select_slider("Samples to search", [64, 128, 256, 512], 256, key="search", bind="query-params")
first = c2.number_input("First seed", 0, 2**31 - 1, 0, key="first", bind="query-params")

left, right = st.columns(2)
with left:
    st.header("What gives it away")
    st.caption("A fresh classifier, trained to tell this model's samples from real images, is surest of these "
               "(the Report card's detectability); red shows where it looks.")
    if not ui.most_detectable(entry, entry.eval_report().get("detect", {})):
        st.info("Not measured yet: evaluate the model on the Report card (or `catgan eval`).")
with right:
    st.header("Worst by its own judge")
    st.caption(FAMILIES[g.family].judge)
    if g.critic is None:
        st.info("This model ships no discriminator, so it cannot rank its own samples.")
    else:
        bad = worst(key, g, n, 16, first)
        ui.show_grid(np.stack([b.image for b in bad]), cols=4, scale=2)
        links([b.seed for b in bad])

st.header("Mode collapse")
index = ui.neighbour_index_or_progress(g)      # the training set's features: shared with Nearest neighbours
if index is not None:
    c = collapse(key, g, index, n, first)
    st.metric("Near-duplicate rate", f"{c['duplicate_rate']:.1%}",
              help=f"Share of samples with another sample (or its mirror image) closer in the {c['space']} "
                   "space than 99% of real training images are to their nearest neighbour.")
    for group in c["clusters"][:4]:
        ui.show_grid(g.generate(failures.seed_latents(g, group[:8])), cols=8, scale=2,
                     caption=f"{len(group)} near-identical samples")
        links(group[:8])
    if not c["clusters"]:
        st.success("No near-duplicate groups among these samples.")

st.header("Out-of-range latents")
seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="oor_seed", bind="query-params")
far = failures.out_of_range(g, seed=seed, scales=(1, 2, 4, 8, 16))
ui.show_grid(np.stack([f.image for f in far]), cols=5, scale=3, caption="latent × 1, 2, 4, 8, 16")
st.markdown(" · ".join(ui.explorer_link(entry.name, seed, f.scale).replace(f"seed {seed}", f"× {f.scale:g}")
                       for f in far))

st.header("Early training")
snaps = failures.snapshots(entry.folder)
if not snaps:
    st.info("This model kept no training snapshots.")
else:
    pick = [s for s in snaps if s.step > 0][:6]
    for col, s in zip(st.columns(len(pick) or 1), pick):
        col.image(s.path, caption=f"step {s.step:,}", output_format="PNG")
    st.caption("Every snapshot is the same 16 fixed latents, so a column follows one cat through training.")
ui.link_notice()
