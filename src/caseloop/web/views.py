"""Agent-facing pages: thin views over the selectors and services."""

from __future__ import annotations

from dataclasses import replace
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from caseloop.accounts.models import Team, User
from caseloop.cases import selectors as case_selectors, services as case_services
from caseloop.cases.errors import CaseError, ReplyObjection
from caseloop.cases.extensions import case_panels
from caseloop.cases.models import Category, Channel, Priority, Status
from caseloop.cases.services import AttachmentUpload
from caseloop.cases.transitions import allowed_transitions
from caseloop.knowledge import urls as knowledge_urls
from caseloop.knowledge.selectors import macros_for
from caseloop.knowledge.services import macro_render
from caseloop.lib.downloads import download_response
from caseloop.lib.errors import http_status_for

from . import selectors, services

MAIN_PANELS = {"loop"}


def _staff_required(request: HttpRequest) -> None:
    if not cast(User, request.user).is_agent_like:
        raise PermissionDenied("agents only")


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.user.is_agent_like:
        return redirect("web:inbox")
    if request.user.is_authenticated and request.user.is_customer:
        return redirect("web:portal")
    return redirect("web:login")


def _inbox_context(request: HttpRequest, params: selectors.InboxParams) -> dict:
    try:
        page = selectors.inbox_page(
            user=request.user, params=params, cursor=request.GET.get("cursor", "")
        )
    except ValueError:
        page = selectors.InboxPage(cases=[], next_cursor=None)
    typed = params.q
    if page.corrected_query:
        # The search box, the next pages and saved views follow the corrected search.
        params = replace(params, q=page.corrected_query)
    return {
        "typed_query": typed,
        "page": page,
        "params": params,
        "query": params.query_string(),
    }


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    _staff_required(request)
    params = selectors.InboxParams.from_query(request.GET)
    context = _inbox_context(request, params)
    if request.headers.get("HX-Request") and request.GET.get("cursor"):
        return render(request, "web/partials/inbox_rows.html", context)
    context.update(
        {
            "queues": selectors.queues_available(),
            "counts": selectors.queue_counts(user=request.user),
            "saved_views": selectors.saved_views_of(user=request.user),
            "statuses": Status.choices,
            "priorities": Priority.choices,
            "channels": Channel.choices,
            "teams": list(Team.objects.order_by("name")),
            "categories": list(Category.objects.filter(is_active=True).order_by("name")),
            "agents": selectors.agents_list(),
            "sorts": selectors.SORTS,
            "count_cap": selectors.COUNT_CAP,
        }
    )
    return render(request, "web/inbox.html", context)


@login_required
@require_GET
def inbox_row(request: HttpRequest, case_id: int) -> HttpResponse:
    """One row for the live inbox: the case as it now stands, if it belongs in the queue
    the agent is looking at (204 otherwise)."""
    _staff_required(request)
    params = selectors.InboxParams.from_query(request.GET)
    case = selectors.inbox_row(user=request.user, params=params, case_id=case_id)
    if case is None:
        return HttpResponse(status=204)
    states = selectors.response_states(cases=[case])
    return render(request, "web/partials/case_row.html", {"case": case, "states": states})


@login_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    _staff_required(request)
    query = request.POST.get("query", "")
    try:
        services.saved_view_save(user=request.user, name=request.POST.get("name", ""), query=query)
        messages.success(request, "View saved.")
    except CaseError as exc:
        messages.error(request, str(exc))
    return redirect(reverse("web:inbox") + ("?" + query if query else ""))


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    _staff_required(request)
    services.saved_view_delete(user=request.user, view_id=view_id)
    messages.success(request, "View removed.")
    return redirect("web:inbox")


@login_required
@require_POST
def inbox_bulk(request: HttpRequest) -> HttpResponse:
    _staff_required(request)
    ids = [int(v) for v in request.POST.getlist("cases") if v.isdigit()]
    action = request.POST.get("action", "")
    value = request.POST.get(f"value_{action}", "") or request.POST.get("value", "")
    try:
        result = services.bulk_apply(actor=request.user, case_ids=ids, action=action, value=value)
        if result.done:
            messages.success(request, f"{action.title()}: {', '.join(result.done)}")
        for failure in result.failed:
            messages.error(request, failure)
    except CaseError as exc:
        messages.error(request, str(exc))
    back = request.POST.get("back", "")
    return redirect(reverse("web:inbox") + ("?" + back if back else ""))


def _case_context(request: HttpRequest, case, **extra) -> dict:
    panels = case_panels(case=case, user=request.user)
    return {
        "case": case,
        "timeline": selectors.case_timeline(case=case, user=request.user),
        "transitions": allowed_transitions(case.status),
        "main_panels": [p for p in panels if p["key"] in MAIN_PANELS],
        "side_panels": [p for p in panels if p["key"] not in MAIN_PANELS],
        "sidebar": selectors.customer_sidebar(case=case),
        "channels": Channel.choices,
        "macros": list(macros_for(user=request.user, case=case)),
        "agents": selectors.agents_list(),
        "states": selectors.response_states(cases=[case]),
        **extra,
    }


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    _staff_required(request)
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    return render(request, "web/case.html", _case_context(request, case))


@login_required
@require_GET
def case_timeline(request: HttpRequest, case_id: int) -> HttpResponse:
    _staff_required(request)
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    return render(
        request,
        "web/partials/timeline.html",
        {"case": case, "timeline": selectors.case_timeline(case=case, user=request.user)},
    )


@login_required
@require_GET
def case_attachment(request: HttpRequest, case_id: int, attachment_id: int) -> HttpResponseBase:
    """A file from the timeline, as a download. Not staff-only: the selector answers 404 for
    anything the user may not see (a customer reaches their own cases' files, no note's)."""
    attachment = case_selectors.attachment_get_for_user(
        user=request.user, case_id=case_id, attachment_id=attachment_id
    )
    return download_response(
        file=attachment.file.open("rb"),
        filename=attachment.filename,
        content_type=attachment.content_type,
    )


@login_required
@require_POST
def case_reply(request: HttpRequest, case_id: int) -> HttpResponse:
    _staff_required(request)
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    text = request.POST.get("text", "")
    uploads = [
        AttachmentUpload(filename=f.name or "", content=f.read(), content_type=f.content_type or "")
        for f in request.FILES.getlist("attachments")
    ]
    try:
        case_services.reply_send(
            case=case,
            actor=cast(User, request.user),
            text=text,
            kind=request.POST.get("kind", "reply"),
            channel=request.POST.get("channel", ""),
            attachments=uploads,
            send_anyway=request.POST.get("send_anyway") == "1",
        )
    except ReplyObjection as exc:
        context = _case_context(
            request,
            case,
            draft=text,
            findings=exc.findings,
            draft_channel=request.POST.get("channel"),
        )
        return render(request, "web/case.html", context)
    except CaseError as exc:
        messages.error(request, str(exc))
        context = _case_context(request, case, draft=text)
        return render(request, "web/case.html", context, status=http_status_for(exc))
    return redirect("web:case", case_id=case.pk)


@login_required
@require_POST
def case_status(request: HttpRequest, case_id: int) -> HttpResponse:
    _staff_required(request)
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    try:
        case_services.case_transition(
            case=case, to=request.POST.get("to", ""), actor=cast(User, request.user)
        )
    except CaseError as exc:
        messages.error(request, str(exc))
    return redirect("web:case", case_id=case.pk)


@login_required
@require_POST
def case_assign(request: HttpRequest, case_id: int) -> HttpResponse:
    """Reassign the day-to-day work (not an escalation: see the loop); the owner stays."""
    _staff_required(request)
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    to = request.POST.get("assignee", "")
    agent = next((a for a in selectors.agents_list() if str(a.pk) == to), None)
    try:
        case_services.case_reassign(
            case=case,
            actor=cast(User, request.user),
            assignee=agent,
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, f"Assigned to {agent.display_name}." if agent else "Unassigned.")
    except CaseError as exc:
        messages.error(request, str(exc))
    return redirect("web:case", case_id=case.pk)


@login_required
@require_POST
def case_tags(request: HttpRequest, case_id: int) -> HttpResponse:
    _staff_required(request)
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    names = [n.strip() for n in request.POST.get("tags", "").split(",") if n.strip()]
    try:
        case_services.case_update(case=case, actor=cast(User, request.user), tags=names)
    except CaseError as exc:
        messages.error(request, str(exc))
    return redirect("web:case", case_id=case.pk)


@login_required
@require_GET
def case_macro(request: HttpRequest, case_id: int, macro_id: int) -> HttpResponse:
    """A prepared response rendered for this case, for the composer to insert."""
    _staff_required(request)
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    macro = next((m for m in macros_for(user=request.user, case=case) if m.pk == macro_id), None)
    if macro is None:
        return JsonResponse({"detail": "no such prepared response"}, status=404)
    return JsonResponse({"text": macro_render(macro=macro, case=case, agent=request.user)})


def help_centre_available() -> bool:
    return bool(knowledge_urls.urlpatterns)
