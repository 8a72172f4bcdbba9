"""The desk's own look on every page: its colour as a small stylesheet, and its logo."""

from __future__ import annotations

import hashlib

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.views.decorators.http import require_GET

from caseloop.accounts.models import DeskIdentity

from .settings_forms import image_type

# Browsers check back each time (cheap: an ETag), so a new colour shows at once.
REVALIDATE = "no-cache"


@require_GET
def desk_theme(request: HttpRequest) -> HttpResponse:
    desk = DeskIdentity.current()
    css = f":root {{ --accent: {desk.colour}; }}\n"
    etag = '"' + hashlib.sha256(css.encode()).hexdigest()[:16] + '"'
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified()
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["ETag"], response["Cache-Control"] = etag, REVALIDATE
    return response


@require_GET
def desk_logo(request: HttpRequest) -> FileResponse:
    desk = DeskIdentity.current()
    if not desk.logo:
        raise Http404("The desk has no logo.")
    handle = desk.logo.open("rb")
    content_type = image_type(handle.read(16))
    handle.seek(0)
    if not content_type:
        handle.close()
        raise Http404("The desk has no logo.")
    response = FileResponse(handle, content_type=content_type)
    response["Cache-Control"] = REVALIDATE
    response["X-Content-Type-Options"] = "nosniff"
    return response
