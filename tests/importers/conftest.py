"""A small real HTTP server on loopback that answers like a desk's API (the documented
JSON), for the importers' API mode and attachment downloads."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from caseloop.triage.models import TriagePolicy

# The shared checks live in a helper module: let pytest explain their failed asserts.
pytest.register_assert_rewrite("tests.importers.samples")

Answer = Callable[[dict[str, str]], Any]


class DeskServer:
    def __init__(self) -> None:
        self.routes: dict[str, Any] = {}
        self.files: dict[str, bytes] = {}
        self.auth = ""
        self.requests: list[tuple[str, str]] = []
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        desk = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                parts = urlsplit(self.path)
                desk.requests.append((self.path, self.headers.get("Authorization", "")))
                if parts.path in desk.files:
                    self._send(200, desk.files[parts.path], "application/octet-stream")
                    return
                if desk.auth and self.headers.get("Authorization") != desk.auth:
                    self._send(401, b'{"error": "Couldn\'t authenticate you"}', "application/json")
                    return
                answer = desk.routes.get(parts.path)
                if answer is None:
                    self._send(404, b'{"error": "not found"}', "application/json")
                    return
                if callable(answer):
                    answer = answer(dict(parse_qsl(parts.query)))
                self._send(200, json.dumps(answer).encode(), "application/json")

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        return Handler


def paged(rows: list[dict], key: str | None = None) -> Answer:
    """A list endpoint paged by `page`/`per_page` (Freshdesk, Zammad): a bare array, or an
    object with the array under `key`."""

    def answer(query: dict[str, str]) -> Any:
        page, per_page = int(query.get("page", 1)), int(query.get("per_page", 100))
        chunk = rows[(page - 1) * per_page : page * per_page]
        return {key: chunk} if key else chunk

    return answer


@pytest.fixture
def desk_server() -> Iterator[DeskServer]:
    desk = DeskServer()
    desk.thread.start()
    try:
        yield desk
    finally:
        desk.server.shutdown()
        desk.server.server_close()


@pytest.fixture
def small_training_policy(db) -> TriagePolicy:
    """Lets the category model train on a sample's handful of solved cases."""
    policy, _ = TriagePolicy.objects.get_or_create(pk=1)
    policy.min_training_samples = 2
    policy.min_samples_per_category = 1
    policy.save(update_fields=["min_training_samples", "min_samples_per_category"])
    return policy
