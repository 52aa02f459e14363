"""The static in-browser explorer: `catgan export-web` (export.py) and the page it copies (page/)."""
