"""Small text helpers shared by several apps."""

from __future__ import annotations

import codecs
import re
from typing import Any

# What no database column can keep: PostgreSQL refuses U+0000 in text and jsonb, and a lone
# surrogate cannot be encoded as UTF-8 for either database. (A valid pair decodes to one
# astral code point, so any surrogate left in a `str` is unpaired.)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with an ellipsis when cut."""
    text = text or ""
    return text if len(text) <= limit else text[: max(limit - 1, 0)].rstrip() + "…"


def text_fault(value: str) -> str:
    """What in `value` no database can store, in words ("" when it can all be stored)."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return ""
    char = found.group()
    if char == "\x00":
        return "a NUL character (U+0000)"
    return f"an unpaired surrogate (U+{ord(char):04X})"


def text_clean(value: str) -> str:
    """`value` as a database can store it: NUL characters removed, unpaired surrogates
    replaced by U+FFFD. For text that arrives from outside (mail, webhooks, chat)."""
    if not value or _UNSTORABLE.search(value) is None:
        return value
    return _UNSTORABLE.sub(lambda found: "" if found.group() == "\x00" else "\ufffd", value)


def data_clean(value: Any) -> Any:
    """`text_clean` applied to every string (keys too) in JSON-like data: dicts, lists and
    strings; anything else is returned as it is."""
    if isinstance(value, str):
        return text_clean(value)
    if isinstance(value, dict):
        return {data_clean(key): data_clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [data_clean(item) for item in value]
    return value


_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def bytes_decode(data: bytes) -> tuple[str, str]:
    """Text of unlabelled bytes (an uploaded file) and the encoding read: the one its byte
    order mark names, else UTF-8 when the bytes are valid UTF-8, else Windows-1252 (what
    spreadsheets on Windows write, and a superset of Latin-1's printable characters), else
    Latin-1, which decodes any bytes. Never raises."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                break
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"
