"""Agent-facing pages: thin views over the selectors and services."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from caseloop.accounts.models import Team, User
from caseloop.cases import selectors as case_selectors, services as case_services
from caseloop.cases.errors import CaseError, ReplyObjection
from caseloop.cases.events import EventLine, event_lines
from caseloop.cases.extensions import case_panels
from caseloop.cases.loop.selectors import case_stage_current
from caseloop.cases.models import CaseEvent, Category, Channel, Message, Priority, Status
from caseloop.cases.services import AttachmentUpload
from caseloop.cases.transitions import allowed_transitions
from caseloop.coach.selectors import coach_check
from caseloop.knowledge import urls as knowledge_urls
from caseloop.knowledge.macro_ranking import macros_rank_for_case
from caseloop.knowledge.selectors import macros_for
from caseloop.knowledge.services import macro_render, macros_sent_record
from caseloop.lib import memo
from caseloop.lib.downloads import download_response
from caseloop.notifications.selectors import case_followers
from caseloop.notifications.services import notifications_read_for_case
from caseloop.web.access import agent_required

from . import selectors, services
from .templatetags.desk import reply_how

MAIN_PANELS = {"loop"}


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
    agent_required(request)
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
    agent_required(request)
    params = selectors.InboxParams.from_query(request.GET)
    case = selectors.inbox_row(user=request.user, params=params, case_id=case_id)
    if case is None:
        return HttpResponse(status=204)
    return render(request, "web/partials/case_row.html", {"case": case})


@login_required
@require_POST
def saved_view_create(request: HttpRequest) -> HttpResponse:
    agent_required(request)
    query = request.POST.get("query", "")
    try:
        services.saved_view_save(user=request.user, name=request.POST.get("name", ""), query=query)
        messages.success(request, gettext("View saved."))
    except CaseError as exc:
        messages.error(request, str(exc))
    return redirect(reverse("web:inbox") + ("?" + query if query else ""))


@login_required
@require_POST
def saved_view_delete(request: HttpRequest, view_id: int) -> HttpResponse:
    agent_required(request)
    services.saved_view_delete(user=request.user, view_id=view_id)
    messages.success(request, gettext("View removed."))
    return redirect("web:inbox")


@login_required
@require_POST
def inbox_bulk(request: HttpRequest) -> HttpResponse:
    agent_required(request)
    ids = [int(v) for v in request.POST.getlist("cases") if v.isdigit()]
    action = request.POST.get("action", "")
    value = request.POST.get(f"value_{action}", "") or request.POST.get("value", "")
    try:
        result = services.bulk_apply(actor=request.user, case_ids=ids, action=action, value=value)
        if result.done:
            messages.success(
                request,
                gettext("%(value)s: %(value2)s")
                % {"value": action.title(), "value2": ", ".join(result.done)},
            )
        for failure in result.failed:
            messages.error(request, failure)
    except CaseError as exc:
        messages.error(request, str(exc))
    back = request.POST.get("back", "")
    return redirect(reverse("web:inbox") + ("?" + back if back else ""))


@dataclass(frozen=True)
class TimelineEntry:
    """A timeline item and, for an event, the sentence it reads as."""

    kind: str
    at: object
    message: Message | None = None
    event: CaseEvent | None = None
    line: EventLine | None = None


def _timeline(request: HttpRequest, case, *, agents: list[User] | None = None) -> list:
    """The case's timeline, each event with its sentence. The people, team, category and
    customer the events name come from what the page already holds (the case's own, the
    agents) and, for the rest, one query per model."""
    items = selectors.case_timeline(case=case, user=request.user)
    events = [item.event for item in items if item.event is not None]
    known = [case.owner, case.assignee, case.team, case.category, case.customer, *(agents or [])]
    lines = event_lines(events=events, known=known)
    return [
        TimelineEntry(
            item.kind,
            item.at,
            message=item.message,
            event=item.event,
            line=lines.get(item.event.pk) if item.event is not None else None,
        )
        for item in items
    ]


# The "send and …" buttons: the status the case moves to with the reply.
THEN_CHOICES = (
    (Status.PENDING_CUSTOMER, "wait for customer"),
    (Status.SOLVED, "mark solved"),
)
THEN_WORDS: dict[str, str] = {str(status): words for status, words in THEN_CHOICES}


def _then_choices(case) -> list[tuple[str, str]]:
    """The moves the case can make once a reply is in (a reply opens a new case)."""
    after = Status.OPEN if case.status == Status.NEW else case.status
    allowed = allowed_transitions(after)
    return [(status, words) for status, words in THEN_CHOICES if status in allowed]


def _case_context(request: HttpRequest, case, **extra) -> dict:
    # The panels and the composer share what they read once (the ranked macros).
    with memo.scope():
        return _case_context_read(request, case, **extra)


def _case_context_read(request: HttpRequest, case, **extra) -> dict:
    panels = case_panels(case=case, user=request.user)
    agents = selectors.agents_list()
    return {
        "case": case,
        "timeline": _timeline(request, case, agents=agents),
        "transitions": allowed_transitions(case.status),
        "then_choices": _then_choices(case),
        "main_panels": [p for p in panels if p["key"] in MAIN_PANELS],
        "side_panels": [p for p in panels if p["key"] not in MAIN_PANELS],
        "sidebar": selectors.customer_sidebar(case=case),
        "channels": Channel.choices,
        "macros": macros_rank_for_case(user=request.user, case=case),
        "agents": agents,
        "followers": case_followers(case=case),
        **extra,
    }


def _held_key(case) -> str:
    return f"reply_held:{case.pk}"


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    agent_required(request)
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    # A reply that was not sent comes back once, with its draft, after the redirect.
    held = request.session.pop(_held_key(case), None)
    notifications_read_for_case(user=cast(User, request.user), case_id=case.pk)
    extra = (
        {
            "held": held,
            "draft": held["text"],
            "draft_kind": held["kind"],
            "draft_channel": held["channel"],
            "draft_cc": held.get("cc", ""),
        }
        if held
        else {}
    )
    return render(request, "web/case.html", _case_context(request, case, **extra))


@login_required
@require_GET
def case_timeline(request: HttpRequest, case_id: int) -> HttpResponse:
    agent_required(request)
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    return render(
        request,
        "web/partials/timeline.html",
        {"case": case, "timeline": _timeline(request, case)},
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


def _sent_confirmation(*, case, message: Message, then_status: str) -> str:
    if message.direction == Message.Direction.NOTE:
        text = "Internal note added"
    else:
        text = f"Reply sent to {case.customer} {reply_how(message.channel)}"
    if then_status == Status.PENDING_CUSTOMER:
        text += "; the case now waits for the customer"
    elif then_status == Status.SOLVED:
        text += "; the case is marked solved"
    return text + "."


def _advice_note(findings: list) -> str:
    """The coach's advice on a reply that went, for next time."""
    shown = [
        f.message + (f" (“{f.excerpt}”)" if f.excerpt and len(f.excerpt) < 80 else "")
        for f in findings[:3]
    ]
    more = f" And {len(findings) - 3} more." if len(findings) > 3 else ""
    return "The coach suggests, for next time: " + " ".join(shown) + more


@login_required
@require_POST
def case_reply(request: HttpRequest, case_id: int) -> HttpResponse:
    """Send a reply (or add a note), optionally moving the case on with it. A reply the
    coach holds, or one refused, is not sent: the agent gets the draft back with why, as
    an HTMX partial under the composer or, without HTMX, after a redirect to the case."""
    agent_required(request)
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    text = request.POST.get("text", "")
    kind = "note" if request.POST.get("kind") == "note" else "reply"
    channel = request.POST.get("channel", "")
    cc = request.POST.get("cc", "")
    send_anyway = request.POST.get("send_anyway") == "1"
    then_status = request.POST.get("then_status", "") or (
        request.POST.get("held_then_status", "") if send_anyway else ""
    )
    uploads = [
        AttachmentUpload(filename=f.name or "", content=f.read(), content_type=f.content_type or "")
        for f in request.FILES.getlist("attachments")
    ]
    partial = request.headers.get("HX-Request") == "true"
    # Prepared responses put into the draft with "Use": sent with it, each counts as a use
    # at the loop stage the case is at before the reply moves it on.
    macro_ids = sorted(
        {int(v) for v in request.POST.getlist("macro") if v.isdigit() and len(v) < 16}
    )[:20]
    stage = case_stage_current(case=case) if macro_ids and kind == "reply" else ""
    try:
        message = case_services.reply_send(
            case=case,
            actor=cast(User, request.user),
            text=text,
            kind=kind,
            channel=channel,
            attachments=uploads,
            send_anyway=send_anyway,
            then_status=then_status,
            cc=cc.replace(";", ",").split(",") if kind == "reply" else (),
        )
    except CaseError as exc:
        held = {
            "text": text,
            "kind": kind,
            "channel": channel,
            "cc": cc,
            "then_status": then_status,
            "then_words": THEN_WORDS.get(then_status, ""),
            "findings": [f.as_dict() for f in exc.findings]
            if isinstance(exc, ReplyObjection)
            else [],
            "error": "" if isinstance(exc, ReplyObjection) else str(exc),
            "macros": macro_ids,
        }
        if partial:
            # Under the composer, which keeps the draft and any files chosen.
            return render(request, "web/partials/reply_held.html", {"case": case, "held": held})
        request.session[_held_key(case)] = {**held, "files_dropped": len(uploads)}
        return redirect(reverse("web:case", args=[case.pk]) + "#reply")
    if macro_ids and message.direction == Message.Direction.OUTBOUND:
        macros_sent_record(macro_ids=macro_ids, case=case, agent=request.user, stage=stage)
    messages.success(
        request, _sent_confirmation(case=case, message=message, then_status=then_status)
    )
    if message.direction == Message.Direction.OUTBOUND and not send_anyway:
        advice = [f for f in coach_check(text=text, case=case) if not f.blocks]
        if advice:
            messages.info(request, _advice_note(advice))
    if partial:
        response = HttpResponse(status=204)
        response["HX-Redirect"] = reverse("web:case", args=[case.pk])
        return response
    return redirect("web:case", case_id=case.pk)


@login_required
@require_POST
def case_status(request: HttpRequest, case_id: int) -> HttpResponse:
    agent_required(request)
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
    agent_required(request)
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
    agent_required(request)
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
    agent_required(request)
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    macro = next((m for m in macros_for(user=request.user, case=case) if m.pk == macro_id), None)
    if macro is None:
        return JsonResponse({"detail": "no such prepared response"}, status=404)
    return JsonResponse({"text": macro_render(macro=macro, case=case, agent=request.user)})


def help_centre_available() -> bool:
    return bool(knowledge_urls.urlpatterns)
