"""Proactive support on the problem page (managers): the known-issue banner's public text,
telling likely-affected customers before they write (preview, then send). Thin: parse the
form, call one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from caseloop.insights import problem_notices, problem_selectors as selectors
from caseloop.insights.models import Problem
from caseloop.lib.errors import DomainError

from .problem_views import _bad_input, _manager_required, _refused

SEGMENT_FIELDS = ("product", "bought_since", "organization", "service_level", "language")


def _segment(post: QueryDict) -> problem_notices.Segment | None:
    """The audience the form names: None for the buyers of the problem's product."""
    if post.get("audience", "purchase") == "purchase":
        return None
    return problem_notices.segment_clean(
        product=post.get("product", ""),
        bought_since=post.get("bought_since", ""),
        organization_id=post.get("organization", ""),
        service_level=post.get("service_level", ""),
        vip_only=post.get("vip_only") == "on",
        language=post.get("language", ""),
    )


@login_required
@require_POST
def problem_banner(request: HttpRequest, problem_id: int) -> HttpResponse:
    """The banner: public title, public summary and whether the public pages show it."""
    user = _manager_required(request)
    problem = selectors.problem_get_for_user(user=user, problem_id=problem_id)
    back = reverse("web:problem", args=[problem.pk])
    try:
        problem = problem_notices.problem_banner_set(
            problem=problem,
            actor=user,
            public_title=request.POST.get("public_title", ""),
            public_summary=request.POST.get("public_summary", ""),
            show_banner=request.POST.get("show_banner") == "on",
        )
    except DomainError as exc:
        return _refused(request, exc, back=back)
    messages.success(
        request,
        "Banner saved; the help centre and the contact form show it."
        if problem.show_banner
        else "Banner saved; it is not shown.",
    )
    return redirect(back)


def _form(post: QueryDict) -> dict[str, str]:
    return {
        "audience": post.get("audience", "purchase"),
        "vip_only": "on" if post.get("vip_only") == "on" else "",
        "text": post.get("text", ""),
        **{name: post.get(name, "") for name in SEGMENT_FIELDS},
    }


@login_required
@require_POST
def problem_notice_preview(request: HttpRequest, problem_id: int) -> HttpResponse:
    """Who a notice would reach, and the notice as the first of them would read it."""
    user = _manager_required(request)
    problem = selectors.problem_get_for_user(user=user, problem_id=problem_id)
    back = reverse("web:problem", args=[problem.pk])
    form = _form(request.POST)
    try:
        preview = problem_notices.problem_audience_preview(
            problem=problem, actor=user, segment=_segment(request.POST)
        )
        sample = problem_notices.notice_render(
            problem=problem,
            customer_name=preview.rows[0].name if preview.rows else "",
            text=form["text"].strip(),
        )
    except DomainError as exc:
        return _refused(request, exc, back=back)
    return render(
        request,
        "web/problems/notice_preview.html",
        {"problem": problem, "preview": preview, "form": form, "sample": sample},
    )


@login_required
@require_POST
def problem_notice_send(request: HttpRequest, problem_id: int) -> HttpResponse:
    user = _manager_required(request)
    problem: Problem = selectors.problem_get_for_user(user=user, problem_id=problem_id)
    back = reverse("web:problem", args=[problem.pk])
    if request.POST.get("confirm") != "yes":
        return _bad_input(
            request, "preview the notice, then confirm it", back=back, field="confirm"
        )
    try:
        sending = problem_notices.problem_notices_send(
            problem=problem,
            actor=user,
            segment=_segment(request.POST),
            text=request.POST.get("text", ""),
        )
    except DomainError as exc:
        return _refused(request, exc, back=back)
    skipped = sending.preview.without_email
    text = f"{sending.queued} notice{'s' if sending.queued != 1 else ''} on the way"
    if skipped:
        text += (
            f"; {skipped} customer{'s' if skipped != 1 else ''} without an email address skipped"
        )
    messages.success(request, text + ".")
    return redirect(f"{back}#notices-title")
