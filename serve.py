"""Start the app as `streamlit run app.py` does, with torch and catgan importing in the background as
soon as the server answers, while the browser opens, so a newcomer's first page does not wait for them
(about 2.5 s on a 2-core CPU).

    .venv/bin/python serve.py [streamlit options]        # what `python3 dev.py app` runs

`streamlit run app.py` still works; its first visitor waits for the imports instead.
"""
import importlib
import sys
import threading
import time


def warm_imports() -> None:
    """Once the server answers browsers (its own start would wait for the imports otherwise: loading
    torch's libraries holds the GIL), import what the pages import."""
    from streamlit import runtime
    from streamlit.runtime.runtime import RuntimeState
    while not runtime.exists() or runtime.get_instance().state == RuntimeState.INITIAL:
        time.sleep(0.05)
    importlib.import_module("catgan.ui")      # torch, numpy, every module the pages use


if __name__ == "__main__":
    threading.Thread(target=warm_imports, name="warm-imports", daemon=True).start()
    from streamlit.web import cli
    sys.argv = ["streamlit", "run", "app.py", *sys.argv[1:]]
    cli.main(prog_name="streamlit")
