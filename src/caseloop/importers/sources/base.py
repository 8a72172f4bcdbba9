"""What every reader shares: the source contract, JSON/NDJSON files, and a small JSON
client for the desks' REST APIs (standard library only)."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..records import Organization, Person, Problem, Team, Tickets

USER_AGENT = "Caseloop-import/1"
TIMEOUT_SECONDS = 60
MAX_RETRIES = 5


class SourceError(Exception):
    """The export or API cannot be read at all (a missing directory, a refused login)."""


class Source:
    """One desk's history. `key` names it in the import's record of what it made, so a
    second run of the same source finds the first run's records."""

    kind = ""

    def __init__(self, *, key: str = "") -> None:
        self.key = key or self.kind
        # Where the files an export names by relative path are; None for an API.
        self.root: Path | None = None
        self.export: ExportDir | None = None
        self.client: ApiClient | None = None

    def _connect(self, *, directory: str | Path | None, url: str, headers: dict[str, str]) -> None:
        """Read from an export's directory, or from the desk's API at `url`."""
        self.export = ExportDir(directory) if directory else None
        self.root = self.export.directory if self.export is not None else None
        self.client = ApiClient(url, headers=headers) if url else None
        if self.export is None and self.client is None:
            raise SourceError("give a directory of the export or --url")

    def _records(self, stem: str, path: str) -> Iterator[dict[str, Any]]:
        """The records of one kind: the export's file `stem`, or the API's pages at `path`."""
        if self.export is not None:
            return self.export.records(stem)
        assert self.client is not None
        return self.client.pages(path, stem)

    def organizations(self) -> Iterable[Organization]:
        return []

    def teams(self) -> Iterable[Team]:
        return []

    def people(self) -> Iterable[Person | Problem]:
        return []

    def tickets(self) -> Tickets:
        return iter(())

    def ticket_total(self) -> int | None:
        return None

    def download(self, url: str) -> bytes:
        """An attachment's bytes; raises SourceError when it cannot be fetched."""
        return http_get(url, headers={}).body

    def where(self, path: str) -> Path | None:
        """A file an export names by a relative path, under the export's directory; a
        path leading out of it is refused, so an export cannot bring in the server's files."""
        if self.root is None:
            return None
        root = self.root.resolve()
        found = (root / path).resolve()
        if not found.is_relative_to(root):
            raise SourceError(f"{path} is outside the export")
        return found

    def fetch(self, location: str) -> bytes:
        """An attachment's bytes from a URL or a path beside the export; raises SourceError
        (or OSError) when they cannot be had."""
        if not location:
            raise SourceError("the export names no file or URL")
        if "://" in location:
            return self.download(location)
        path = self.where(location)
        if path is None:
            raise SourceError(f"no export directory to find {location} in")
        return path.read_bytes()


class Response:
    def __init__(self, body: bytes, headers: dict[str, str]) -> None:
        self.body = body
        self.headers = headers

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError as error:
            raise SourceError(f"the answer is not JSON: {error}") from None


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def http_get(url: str, *, headers: dict[str, str]) -> Response:
    """GET with the desk's credentials; waits and retries when rate-limited (429/503)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise SourceError(f"not an http(s) URL: {url}")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, **headers})
    for attempt in range(MAX_RETRIES):
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 - scheme checked above
                return Response(answer.read(), dict(answer.headers.items()))
        except urllib.error.HTTPError as error:
            if error.code in (429, 503) and attempt < MAX_RETRIES - 1:
                wait = error.headers.get("Retry-After", "1")
                time.sleep(min(float(wait) if wait.replace(".", "", 1).isdigit() else 1.0, 30))
                continue
            raise SourceError(f"{url} answered {error.code} {error.reason}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            raise SourceError(f"{url} could not be reached: {error}") from None
    raise SourceError(f"{url} kept answering 429")


class ApiClient:
    def __init__(self, base_url: str, *, headers: dict[str, str]) -> None:
        base_url = base_url.rstrip("/")
        if "://" not in base_url:
            base_url = "https://" + base_url
        self.base_url = base_url
        self.headers = headers

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        url = path if "://" in path else self.base_url + path
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        return url

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return http_get(self.url(path, params), headers=self.headers).json()

    def download(self, url: str) -> bytes:
        # Credentials go only to the desk itself, never to a storage host a URL points at.
        same_host = (
            urllib.parse.urlsplit(self.url(url)).netloc
            == urllib.parse.urlsplit(self.base_url).netloc
        )
        return http_get(self.url(url), headers=self.headers if same_host else {}).body

    def pages(self, path: str, key: str, *, per_page: int = 100) -> Iterator[dict[str, Any]]:
        """Records of a list endpoint paged by `page`/`per_page` (Freshdesk, Zammad): stops
        at a short or empty page."""
        page = 1
        while True:
            batch = self.get(path, {"page": page, "per_page": per_page})
            rows = batch.get(key, []) if isinstance(batch, dict) else batch
            if not isinstance(rows, list):
                raise SourceError(f"{path} did not answer a list")
            yield from (row for row in rows if isinstance(row, dict))
            if len(rows) < per_page:
                return
            page += 1


class ExportDir:
    """A directory of JSON (an array, or an object holding one) or NDJSON files."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        if not self.directory.is_dir():
            raise SourceError(f"no such directory: {self.directory}")

    def find(self, stem: str) -> Path | None:
        for suffix in (".json", ".ndjson", ".jsonl"):
            path = self.directory / f"{stem}{suffix}"
            if path.is_file():
                return path
        return None

    def has(self, stem: str) -> bool:
        return self.find(stem) is not None

    def records(self, stem: str, key: str = "") -> Iterator[dict[str, Any]]:
        path = self.find(stem)
        if path is None:
            return
        keys = tuple(dict.fromkeys(k for k in (key, stem) if k))
        with path.open("rb") as handle:
            first = handle.read(1)
            while first.isspace():
                first = handle.read(1)
            handle.seek(0)
            if first == b"[" or (first == b"{" and path.suffix == ".json"):
                try:
                    document = json.load(handle)
                except ValueError:
                    handle.seek(0)
                else:
                    yield from _unwrap(document, keys)
                    return
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    yield from _unwrap(json.loads(line), keys)
                except ValueError as error:
                    raise SourceError(f"{path.name} line {number}: not JSON ({error})") from None

    def count(self, stem: str, key: str = "") -> int | None:
        path = self.find(stem)
        if path is None:
            return None
        if path.suffix != ".json":
            with path.open("rb") as handle:
                return sum(1 for line in handle if line.strip())
        return None


def _unwrap(document: Any, keys: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """The records of a document: an array, a page holding one under one of `keys`, or a
    single record (an NDJSON line)."""
    if isinstance(document, list):
        yield from (row for row in document if isinstance(row, dict))
    elif isinstance(document, dict):
        for key in keys:
            inner = document.get(key)
            if isinstance(inner, list):
                yield from (row for row in inner if isinstance(row, dict))
                return
        if "id" in document:
            yield document
