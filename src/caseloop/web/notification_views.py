"""Notifications in the desk: the list, the unread count in the header, marking read, the
email digest's switch; and following a case."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caseloop.cases import selectors as case_selectors
from caseloop.notifications import selectors, services
from caseloop.web.access import agent_required


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    user = agent_required(request)
    before = request.GET.get("before", "")
    if before and not before.isdigit():
        return HttpResponseBadRequest("before is a notification number")
    items = selectors.notifications_page(user=user, before=int(before) if before else None)
    return render(
        request,
        "web/notifications/list.html",
        {
            "items": items,
            "unread": selectors.notifications_unread_count(user=user),
            "digest": selectors.digest_wanted(user=user),
            "more": items[-1].pk if len(items) == selectors.PAGE else None,
        },
    )


@login_required
@require_GET
def notification_badge(request: HttpRequest) -> HttpResponse:
    """The header's unread count (fetched after the page, so pages cost no query for it)."""
    user = agent_required(request)
    return render(
        request,
        "web/notifications/badge.html",
        {"unread": selectors.notifications_unread_count(user=user)},
    )


@login_required
@require_POST
def notification_read(request: HttpRequest) -> HttpResponse:
    user = agent_required(request)
    raw = request.POST.getlist("id")
    if any(not value.isdigit() for value in raw):
        return HttpResponseBadRequest("id is a notification number")
    count = services.notifications_mark_read(user=user, ids=[int(v) for v in raw] if raw else None)
    messages.success(request, gettext("%(count)s marked read.") % {"count": count})
    return redirect("web:notifications")


@login_required
@require_POST
def notification_preferences(request: HttpRequest) -> HttpResponse:
    user = agent_required(request)
    wanted = request.POST.get("email_digest", "") == "on"
    services.preference_set(user=user, email_digest=wanted)
    messages.success(request, "Email digest " + ("on." if wanted else "off."))
    return redirect("web:notifications")


@login_required
@require_http_methods(["POST"])
def case_follow(request: HttpRequest, case_id: int) -> HttpResponse:
    user = agent_required(request)
    case = case_selectors.case_get_for_user(user=user, case_id=case_id)
    action = request.POST.get("action", "")
    if action == "follow":
        services.case_follow(case=case, user=user)
        messages.success(
            request,
            gettext("You follow %(reference)s: its replies and notes reach you.")
            % {"reference": case.reference},
        )
    elif action == "unfollow":
        services.case_unfollow(case=case, user=user)
        messages.success(
            request, gettext("You no longer follow %(reference)s.") % {"reference": case.reference}
        )
    else:
        return HttpResponseBadRequest("action is follow or unfollow")
    return redirect("web:case", case_id=case.pk)
