"""Answers for endpoints that shape their data exactly as their response schema says.

Ninja validates a returned value against the route's `response=` schema, item by item,
before it encodes it; for a list of fifty cases that costs more than reading them. An
endpoint whose data is already in the schema's shape (the same keys in the same order, the
same types) returns `json_response(data)` instead: the same encoder and content type as
ninja's own answers, so the bytes are the same, while the route keeps `response=` for the
OpenAPI document. A test per endpoint pins the answer to the validated one.
"""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse
from ninja.renderers import JSONRenderer

CONTENT_TYPE = f"{JSONRenderer.media_type}; charset={JSONRenderer.charset}"


def json_response(data: Any, *, status: int = 200) -> HttpResponse:
    """`data`, already shaped as the route's response schema, encoded as ninja encodes it."""
    return HttpResponse(
        json.dumps(data, cls=JSONRenderer.encoder_class, **JSONRenderer.json_dumps_params),
        status=status,
        content_type=CONTENT_TYPE,
    )
