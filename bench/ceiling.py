"""The ceiling: a minimal Flask app answering every request with one page's bytes from memory.

Served by gunicorn with the real app's settings (``bench.ceiling:app``), it shows how fast this
machine and server hand out the article page when producing it costs nothing.
``BENCH_CEILING_BODY`` names the file holding the bytes, ``BENCH_CEILING_TYPE`` their type.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

BODY = Path(os.environ["BENCH_CEILING_BODY"]).read_bytes()
CONTENT_TYPE = os.environ["BENCH_CEILING_TYPE"]

app = Flask(__name__)


@app.get("/", defaults={"path": ""})
@app.get("/<path:path>")
def page(path: str) -> Response:
    """The page, whatever the path (``/healthz`` included, for the start-up probe)."""
    return Response(BODY, content_type=CONTENT_TYPE)
