"""The web layer: FastAPI app, templates, static assets, translations. Thin: it parses,
asks the access layer, calls one service function and renders."""
