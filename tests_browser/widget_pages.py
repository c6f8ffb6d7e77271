"""A customer's own website for the widget's browser tests: plain HTML from another origin.

The widget lives on other people's sites, so its tests load it the way they do: a page served
by a different server (here `http.server` in a thread, on a free port of 127.0.0.1: another
port is another origin) whose only link to Atende is the `<script>` tag. Use it in a test
module with

    from tests_browser.widget_pages import PlainPages, plain_page_server  # noqa: F401

and add `plain.origin` to the widget's `allowed_origins` (or leave it out to be refused).
"""

from __future__ import annotations

import functools
import html
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class PlainPages:
    """Static pages on their own origin (``origin``, e.g. ``http://127.0.0.1:41234``)."""

    def __init__(self, directory: Path, origin: str, atende_url: str) -> None:
        self.directory = directory
        self.origin = origin
        self.atende_url = atende_url

    def add(self, name: str, content: str) -> str:
        """Serve ``content`` as ``/<name>``; returns its URL."""
        (self.directory / name).write_text(content, encoding="utf-8")
        return f"{self.origin}/{name}"

    def widget_page(
        self, key: str, *, name: str = "index.html", title: str = "Escola Exemplo", **data: str
    ) -> str:
        """A page that embeds the widget with ``key`` (``data`` adds ``data-*`` attributes,
        e.g. ``lang="en"``); returns its URL."""
        attributes = "".join(
            f' data-{attribute}="{html.escape(value)}"' for attribute, value in data.items()
        )
        return self.add(
            name,
            "<!doctype html>\n"
            f'<html lang="pt-BR"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            # A page rule that would leak into the widget without its shadow root.
            "<style>button { color: rgb(255, 0, 0); }</style></head>\n"
            f"<body><h1>{html.escape(title)}</h1>\n"
            f'<script src="{self.atende_url}/static/widget/widget.js" '
            f'data-key="{html.escape(key)}"{attributes} async></script>\n'
            "</body></html>\n",
        )


@pytest.fixture
def plain_page_server(live_server_url: str, tmp_path: Path) -> Iterator[PlainPages]:
    """A second web server (another origin than ``live_server_url``) serving plain pages.

    It starts after ``live_server_url`` on purpose: the Atende server is a forked process, and
    a fork must not copy this server's thread.
    """
    directory = tmp_path / "plain-site"
    directory.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="plain-page-server", daemon=True)
    thread.start()
    try:
        yield PlainPages(directory, f"http://127.0.0.1:{server.server_port}", live_server_url)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
