"""Cat morphs: interpolate through keyframe latents and download the animation."""
import streamlit as st

from catgan import latent, latent_store, media, ui

entry, g = ui.model_page(
    "Morph",
    "Pick keyframes (seeds, or `z:<id>` for a latent stored by the Your own cat page), and the generator "
    "renders every step between them: the second seed's *cat morphs*.")


@st.cache_data(max_entries=32, show_spinner="Rendering frames…")
def render_gif(key, _g, z, fps, loop):
    frames = media.upscale_batch(_g.generate(z), 2)
    return media.gif_bytes(frames, fps, loop), frames


controls, view = st.columns([1, 2])
with controls:
    seeds_text = st.text_input("Keyframe seeds (comma-separated)", "1, 2, 3, 4", key="seeds", bind="query-params")
    frames_per = st.slider("Frames per transition", 2, 60, 15, key="frames", bind="query-params")
    fps = st.slider("Frames per second", 1, 30, 15, key="fps", bind="query-params")
    loop = st.checkbox("Loop back to the first keyframe", True, key="loop", bind="query-params")
    mode = st.radio("Interpolation", ["linear", "spherical"], key="interp", horizontal=True, bind="query-params")
ui.link_notice()
try:
    seeds = latent_store.parse_keyframes(seeds_text)
    keys = [latent_store.keyframe_latent(s, g) for s in seeds]
except ValueError as e:
    st.error(f"{e}. Give at least two keyframes: non-negative whole-number seeds or stored latents, "
             "e.g. `1, 2, z:3f9a0c12de`.")
    st.stop()
path = latent.morph_path(keys, frames_per, loop, mode)
gif, frames = render_gif(ui.model_key(g), g, path, fps, loop)
with view:
    st.image(gif, caption=f"{len(path)} frames at {fps} fps")
    name = f"morph-{'-'.join(map(str, seeds)).replace(':', '')}"
    st.download_button("Download GIF", gif, file_name=f"{name}.gif", mime="image/gif")
    if media.mp4_available():
        st.download_button("Download MP4", media.mp4_bytes(frames, fps), file_name=f"{name}.mp4", mime="video/mp4")
    else:
        st.caption("MP4 download needs an encoder: `pip install imageio-ffmpeg`.")
