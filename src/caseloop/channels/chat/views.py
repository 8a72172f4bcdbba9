"""A preview page that embeds a widget exactly as a customer's site would."""

from __future__ import annotations

from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .models import ChatWidget


@staff_member_required
def widget_preview(request: HttpRequest, key: str) -> HttpResponse:
    widget = get_object_or_404(ChatWidget, key=key)
    return render(request, "chat/preview.html", {"widget": widget})
