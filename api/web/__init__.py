"""The server-rendered web UI: templates, static assets and the helpers the page routers share."""

from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
