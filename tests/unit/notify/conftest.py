"""A local webhook server for the notification tests (http.server in a thread, a free port)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

SECRET_PATH = "T0SECRET/B0SECRET/XXXXSECRETTOKEN"
SECRET_QUERY = "sig=QUERYSECRET"


@dataclass
class Hook:
    """A local webhook: answers each POST with the next scripted status (then 200)."""

    statuses: list[int] = field(default_factory=list)
    delay: float = 0.0
    bodies: list[Any] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    request_lines: list[str] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/services/{SECRET_PATH}?{SECRET_QUERY}"


@pytest.fixture
def hook() -> Iterator[Hook]:
    """Serve a Hook on 127.0.0.1 (a free port) in a thread."""
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            state.bodies.append(json.loads(self.rfile.read(length)))
            state.paths.append(self.path)
            state.request_lines.append(self.requestline)
            state.headers.append(dict(self.headers))
            if state.delay:
                time.sleep(state.delay)
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
