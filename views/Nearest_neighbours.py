"""Is a generated cat new, or a copy of a training image? Its 5 nearest training images in three spaces."""
import numpy as np
import streamlit as st

from catgan import media, ui
from catgan.audit.failures import seed_latents
from catgan.audit.neighbors import memorisation_rate
from catgan.data.images import BadImage, open_image

entry, g = ui.model_page(
    "Nearest neighbours",
    "Plain pixel distance calls a mirrored cat new; the rows that allow a mirror do not, and features "
    "see past a mere shift of colour. Each row shows the five nearest training images in one space, with "
    "distances and a verdict judged against how close real training images are to each other.")

sources = ["seed", "upload"] + (["latent sliders"] if "explorer_z" in st.session_state else [])
source = st.radio("Image", sources, horizontal=True, key="src")
if source == "seed":
    seed = st.number_input("Seed", 0, 2**31 - 1, 0, key="seed", bind="query-params")
    query = g.generate(seed_latents(g, [seed]))[0]
elif source == "latent sliders":
    query = g.generate(st.session_state["explorer_z"][None])[0]
else:
    up = st.file_uploader("An image (PNG, JPEG, WebP, GIF, BMP; up to 5 MB)",
                          type=["png", "jpg", "jpeg", "webp", "gif", "bmp"])
    if up is None:
        st.stop()
    if up.size > 5 * 2**20:
        st.error(f"{up.name} is {up.size / 2**20:.1f} MB; upload an image of 5 MB or less.")
        st.stop()
    try:
        query = np.asarray(open_image(up, name=up.name).convert("RGB").resize((g.resolution, g.resolution)))
    except BadImage as e:
        st.error(f"{e}. Upload a PNG or JPEG picture.")
        st.stop()

ui.link_notice()
index = ui.neighbour_index(g)
result = index.query(query, k=5)[0]
TITLES = {"pixel": "Pixel L2", "pixel_flip": "Pixel L2, mirror allowed",
          "feature": f"Features ({index.space.key} space), mirror allowed"}
BADGE = {"memorised": "🔴 likely memorised", "near": "🟠 near a training image", "novel": "🟢 novel"}
for space, nb in result.items():
    st.subheader(f"{TITLES[space]} — {BADGE[nb.verdict]}")
    cols = st.columns(6)
    cols[0].image(media.png_bytes(media.upscale(query, 3)), caption="query", output_format="PNG")
    for col, m in zip(cols[1:], nb.matches):
        im = np.asarray(index.dataset.images[m.index])
        col.image(media.png_bytes(media.upscale(im, 3)), output_format="PNG",
                  caption=f"#{m.index} · d={m.distance:.3g}{' (mirrored)' if m.flipped else ''}")

st.header("Memorisation rate")
report = entry.eval_report().get("memorisation")
if report:
    st.metric("Memorised (feature space)", f"{report['memorised']:.2%}",
              help=f"over {report['n']} samples, in the {report.get('features', 'efficientnet')} space")
elif st.button("Measure on 200 samples"):
    with st.spinner("Generating and searching…"):
        report = memorisation_rate(index, g.generate(seed_latents(g, range(200))))
    st.metric("Memorised (feature space)", f"{report['memorised']:.2%}",
              help=f"over 200 samples, in the {report['features']} space")
