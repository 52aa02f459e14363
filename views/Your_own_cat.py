"""Your own cat: upload a picture, find the latent that draws it, then edit, blend or morph it."""
import hashlib

import streamlit as st

from catgan import invert, latent_store, media, ui
from catgan.background import BackgroundTask
from catgan.data.images import BadImage, open_image

MAX_MB = 5
entry, g = ui.model_page(
    "Your own cat",
    "Upload a picture: the model searches its latent space for the cat closest to it (several starts, "
    "a pixel loss plus a feature loss). The latent is stored on this machine under a short id, so the "
    "links below, and any link you share from those pages, reopen it.")

up = st.file_uploader(f"A picture (PNG, JPEG, WebP, GIF, BMP; up to {MAX_MB} MB)",
                      type=["png", "jpg", "jpeg", "webp", "gif", "bmp"])
if up is None:
    ui.link_notice()
    st.stop()
if up.size > MAX_MB * 2**20:
    st.error(f"{up.name} is {up.size / 2**20:.1f} MB; upload a picture of {MAX_MB} MB or less.")
    st.stop()
try:
    target = invert.target_from_image(g, open_image(up, name=up.name))
except BadImage as e:
    st.error(f"{e}. Upload a PNG or JPEG picture.")
    st.stop()

guess = None if g.kind else invert.guess_kind(g, target)      # a kind chosen in the sidebar wins
if guess:
    g = g.with_kind(guess)
    read = g.labels.describe([guess[a] for a in g.labels.names])
    st.caption(f"The sticker classifier reads your picture as **{read}**: the search starts among cats of that "
               "kind (choose a kind of cat in the sidebar to override).")
task_key = hashlib.sha256(target.tobytes() + ui.model_key(g).encode()).hexdigest()[:16]
if st.session_state.get("inversion_key") != task_key:
    st.session_state.inversion_key = task_key
    st.session_state.inversion = BackgroundTask(
        lambda on_progress, stopping: invert.invert(g, target, on_progress=on_progress, stopping=stopping),
        name="inversion")
job = st.session_state.inversion
if not job.finished and st.button("Stop (keep the best so far)"):
    job.stop()
found = ui.task_result(job, "Inverting the picture", lambda j: f"Searching: step {j.done} / {j.total}…")

key = latent_store.put(found.z, {"model": entry.name, "source": up.name, **found.summary()})
c1, c2 = st.columns(2)
c1.image(media.png_bytes(media.upscale(target, 4)), caption="your picture, as the model sees it",
         output_format="PNG")
c2.image(media.png_bytes(media.upscale(found.image, 4)), caption=f"the model's closest cat (latent {key})",
         output_format="PNG")
feature = "" if found.feature_distance is None else f", sticker-space distance {found.feature_distance:.2f}"
st.write(f"Pixel RMS distance **{found.pixel_rms:.1f}** levels (the best of 64 random samples: "
         f"{found.random_best_rms:.1f}){feature}; {found.steps} optimisation steps.")
m = f"model={entry.name}&z={key}"
st.markdown(f"Open it in: [Directions](Directions?{m}) · [Latent sliders](Latent_sliders?{m}) · "
            f"[Latent arithmetic](Latent_arithmetic?model={entry.name}&start_by=stored&start_z={key}) · "
            f"[Morph](Morph?model={entry.name}&seeds=z:{key},1,2)")
ui.link_notice()
