"""Serving stored files as downloads, never as pages.

A file a customer or a mail sender uploaded is untrusted: served inline as HTML or SVG it
would run script on the desk's origin. So every download is an attachment
(`Content-Disposition: attachment`), its type is one of a short list of types browsers do
not execute (anything else, and anything unknown, is `application/octet-stream`), the
browser is told not to sniff another one, and the response's policy sandboxes it.
"""

from __future__ import annotations

import re
import unicodedata
from typing import IO
from urllib.parse import quote

from django.http import FileResponse

# Types served as they are. Not here, so served as octet-stream: text/html, image/svg+xml,
# application/xhtml+xml, text/xml, application/xml, JavaScript, and every unknown type.
SAFE_CONTENT_TYPES = frozenset(
    {
        "application/gzip",
        "application/msword",
        "application/pdf",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.oasis.opendocument.presentation",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/zip",
        "audio/mpeg",
        "audio/ogg",
        "audio/wav",
        "image/bmp",
        "image/gif",
        "image/jpeg",
        "image/png",
        "image/tiff",
        "image/webp",
        "message/rfc822",
        "text/calendar",
        "text/csv",
        "text/plain",
        "video/mp4",
        "video/webm",
    }
)
FALLBACK_CONTENT_TYPE = "application/octet-stream"
_UNSAFE_FILENAME_CHARS = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


def download_content_type(content_type: str) -> str:
    """The type to serve a stored file as: its own when browsers do not execute it,
    octet-stream otherwise. Parameters (a charset) are dropped: the bytes are served as
    stored."""
    essence = (content_type or "").split(";", 1)[0].strip().lower()
    return essence if essence in SAFE_CONTENT_TYPES else FALLBACK_CONTENT_TYPE


def download_filename(filename: str) -> str:
    """A filename safe in a header and on any disk: no path, no control or quoting
    characters, no leading dots; "attachment" when nothing is left."""
    name = unicodedata.normalize("NFC", filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_FILENAME_CHARS.sub("_", name).strip(" .")
    return name[:200] or "attachment"


def download_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact one as RFC 8187 UTF-8."""
    name = download_filename(filename)
    fallback = name.encode("ascii", "replace").decode("ascii").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def download_response(*, file: IO[bytes], filename: str, content_type: str) -> FileResponse:
    """Stream `file` (open for reading; the response closes it) as a download."""
    response = FileResponse(file, content_type=download_content_type(content_type))
    response["Content-Disposition"] = download_disposition(filename)
    response["X-Content-Type-Options"] = "nosniff"
    # Opened directly anyway, the file runs nothing and reaches nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
