"""catgan's entry point (`streamlit run app.py`): the sidebar's sections, then whichever page is open.

Each page is a file in views/; its URL is the one the older pages/ folder gave it, so shared links still open.
"""
import streamlit as st

SECTIONS = {
    "Explore": [("home", "Home", ""), ("Latent_sliders", "Latent sliders", None), ("Corners", "Corners", None),
                ("Kinds", "Kinds of cat", None),
                ("Latent_arithmetic", "Latent arithmetic", None), ("Morph", "Morph", None),
                ("Directions", "Directions", None), ("Your_own_cat", "Your own cat", None),
                ("Compare_models", "Compare models", None)],
    "Audit": [("Real_or_fake", "Real or fake?", None), ("Nearest_neighbours", "Nearest neighbours", None),
              ("Failure_gallery", "Failure gallery", None), ("Report_card", "Report card", None)],
    "Train": [("Training", "Training", None), ("Compare_runs", "Compare runs", None)],
}

pages = {section: [st.Page(f"views/{file}.py", title=title, url_path=file if url is None else url,
                           default=url == "") for file, title, url in entries]
         for section, entries in SECTIONS.items()}
st.navigation(pages, expanded=True).run()
