"""Recurring problems in the workspace: managers' list, record page (root cause, workaround,
fix, owner, contributors, linked cases, history, publishing the fix) and the review of
agents' "this keeps happening" flags; and the case page's problems panel actions for
agents (link, unlink, flag). Thin: parse the form, call one service, render."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from caseloop.accounts.models import STAFF_ROLES, User
from caseloop.cases import selectors as case_selectors
from caseloop.cases.models import Category
from caseloop.customers.models import Organization
from caseloop.insights import (
    problem_detection,
    problem_fixes,
    problem_flags,
    problem_notices,
    problem_selectors as selectors,
    problems,
)
from caseloop.insights.models import CauseType, ProblemContributor, ProblemStatus
from caseloop.insights.problem_impact import problem_impact
from caseloop.lib.errors import DomainError, http_status_for
from caseloop.web.access import agent_required


def _manager_required(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if not problems.is_problem_manager(user):
        raise PermissionDenied("managers only")
    return user


def _refused(request: HttpRequest, exc: DomainError, *, back: str) -> HttpResponse:
    """A refused change: what was wrong, and the way back, with the status it deserves."""
    return render(
        request,
        "web/problems/refused.html",
        {"error": exc.summary(), "facts": exc.facts(), "back": back},
        status=http_status_for(exc),
    )


def _bad_input(request: HttpRequest, message: str, *, back: str, field: str = "") -> HttpResponse:
    return _refused(request, problems.ProblemError(message, field=field or None), back=back)


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _category(value: str | None) -> Category | None | bool:
    """The category a form names: None for none, False for an unknown one."""
    pk = _int(value)
    if not (value or "").strip():
        return None
    category = Category.objects.filter(pk=pk).first() if pk is not None else None
    return category if category is not None else False


def _staff_user(value: str | None) -> User | None | bool:
    """The member of staff a form names: None for nobody, False for an unknown one."""
    if not (value or "").strip():
        return None
    pk = _int(value)
    user = (
        User.objects.filter(pk=pk, role__in=STAFF_ROLES, is_active=True).first()
        if pk is not None
        else None
    )
    return user if user is not None else False


# --- the list -----------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def problem_list(request: HttpRequest) -> HttpResponse:
    """Every problem, filtered by status; managers open a new one here."""
    user = _manager_required(request)
    back = reverse("web:problems")
    if request.method == "POST":
        category = _category(request.POST.get("category"))
        owner = _staff_user(request.POST.get("owner"))
        if category is False:
            return _bad_input(request, "no such category", back=back, field="category")
        if owner is False:
            return _bad_input(request, "no such member of staff", back=back, field="owner")
        try:
            problem = problems.problem_create(
                actor=user,
                title=request.POST.get("title", ""),
                description=request.POST.get("description", ""),
                category=cast(Category | None, category),
                product=request.POST.get("product", ""),
                owner=cast(User | None, owner),
            )
        except DomainError as exc:
            return _refused(request, exc, back=back)
        messages.success(request, gettext("%(number)s opened.") % {"number": problem.number})
        return redirect("web:problem", problem_id=problem.pk)
    status = request.GET.get("status", "")
    if status and status not in ProblemStatus.values:
        return _bad_input(request, f"unknown status '{status}'", back=back, field="status")
    return render(
        request,
        "web/problems/list.html",
        {
            "problems": list(selectors.problems_list(status=status)[:500]),
            "status": status,
            "statuses": ProblemStatus.choices,
            "categories": list(Category.objects.order_by("name")),
            "flags_waiting": selectors.problem_flags_open().count(),
        },
    )


# --- one problem --------------------------------------------------------------------------


@login_required
@require_GET
def problem_detail(request: HttpRequest, problem_id: int) -> HttpResponse:
    _manager_required(request)
    problem = selectors.problem_get_for_user(user=request.user, problem_id=problem_id)
    context: dict[str, Any] = selectors.problem_detail(problem=problem)
    why = list(problem.why_chain)
    context.update(
        {
            "why_rows": why + [""] * max(2, 5 - len(why)),
            "cause_types": CauseType.choices,
            "categories": list(Category.objects.order_by("name")),
            "allowed": [
                (s, ProblemStatus(s).label)
                for s in ProblemStatus.values
                if s in problems.TRANSITIONS.get(problem.status, frozenset())
            ],
            "parts": ProblemContributor.Part.choices,
            "merge_targets": []
            if problem.status == ProblemStatus.CLOSED
            else [
                p
                for p in selectors.problems_linkable()
                .exclude(status=ProblemStatus.FIXED)
                .only("id", "title", "status")[:500]
                if p.pk != problem.pk
            ],
            "default_notice": problems.DEFAULT_FIX_NOTICE,
            "impact": problem_impact(problem),
            "notices": problem_notices.problem_notices(problem=problem, limit=100),
            "announced_statuses": problem_notices.ANNOUNCED_STATUSES,
            "notice_placeholders": problem_notices.NOTICE_PLACEHOLDERS,
            "default_proactive_notice": problem_notices.DEFAULT_NOTICE,
            "organizations": list(Organization.objects.order_by("name")[:500]),
        }
    )
    return render(request, "web/problems/detail.html", context)


@login_required
@require_POST
def problem_edit(request: HttpRequest, problem_id: int) -> HttpResponse:
    """The record: title, description, category, product, why-chain, cause type, workaround,
    permanent fix, the fix notice and the owner."""
    user = _manager_required(request)
    problem = selectors.problem_get_for_user(user=user, problem_id=problem_id)
    back = reverse("web:problem", args=[problem.pk])
    post = request.POST
    changes: dict[str, Any] = {
        field: post[field]
        for field in (
            "title",
            "description",
            "product",
            "cause_type",
            "workaround",
            "permanent_fix",
            "fix_notice",
        )
        if field in post
    }
    if "why" in post:
        changes["why_chain"] = post.getlist("why")
    if "category" in post:
        category = _category(post["category"])
        if category is False:
            return _bad_input(request, "no such category", back=back, field="category")
        changes["category"] = category
    if "owner" in post:
        owner = _staff_user(post["owner"])
        if owner is False:
            return _bad_input(request, "no such member of staff", back=back, field="owner")
        changes["owner"] = owner
    try:
        problems.problem_update(problem=problem, actor=user, **changes)
    except DomainError as exc:
        return _refused(request, exc, back=back)
    messages.success(request, gettext("Saved."))
    return redirect(back)


@login_required
@require_POST
def problem_status(request: HttpRequest, problem_id: int) -> HttpResponse:
    user = _manager_required(request)
    problem = selectors.problem_get_for_user(user=user, problem_id=problem_id)
    back = reverse("web:problem", args=[problem.pk])
    try:
        problem = problems.problem_transition(
            problem=problem,
            to=request.POST.get("to", ""),
            actor=user,
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        return _refused(request, exc, back=back)
    messages.success(
        request,
        gettext("%(number)s is now %(value)s.")
        % {"number": problem.number, "value": problem.get_status_display().lower()},
    )
    return redirect(back)


@login_required
@require_POST
def problem_contributor(request: HttpRequest, problem_id: int) -> HttpResponse:
    user = _manager_required(request)
    problem = selectors.problem_get_for_user(user=user, problem_id=problem_id)
    back = reverse("web:problem", args=[problem.pk])
    who = _staff_user(request.POST.get("user"))
    if not isinstance(who, User):
        return _bad_input(request, "choose a member of staff", back=back, field="user")
    try:
        problems.problem_contributor_add(
            problem=problem,
            user=who,
            part=request.POST.get("part", ""),
            note=request.POST.get("note", ""),
            actor=user,
        )
    except DomainError as exc:
        return _refused(request, exc, back=back)
    messages.success(
        request, gettext("%(display_name)s credited.") % {"display_name": who.display_name}
    )
    return redirect(back)


@login_required
@require_POST
def problem_publish(request: HttpRequest, problem_id: int) -> HttpResponse:
    """Publish the permanent fix: every linked open case's customer is told, and solved."""
    user = _manager_required(request)
    problem = selectors.problem_get_for_user(user=user, problem_id=problem_id)
    back = reverse("web:problem", args=[problem.pk])
    try:
        publication = problem_fixes.problem_fix_publish(
            problem=problem, actor=user, notice=request.POST.get("fix_notice", "")
        )
    except DomainError as exc:
        return _refused(request, exc, back=back)
    count = publication.cases_notified
    text = (
        f"Fix published; {count} customer{'s' if count != 1 else ''} will be told"
        if count
        else "Fix published; no open case was waiting for it"
    )
    followers = publication.followers_notified
    if followers:
        text += f"; {followers} follower{'s' if followers != 1 else ''} will be mailed"
    messages.success(request, text + ".")
    return redirect(back)


@login_required
@require_POST
def problem_detect(request: HttpRequest) -> HttpResponse:
    """Look for recurring problems in the recent cases now."""
    _manager_required(request)
    found = problem_detection.problems_detect()
    new = sum(1 for d in found if d.created)
    grown = len(found) - new
    if found:
        messages.success(
            request,
            ngettext("%(new)s new suggestion", "%(new)s new suggestions", new) % {"new": new}
            + ", "
            + ngettext("%(grown)s open problem grown.", "%(grown)s open problems grown.", grown)
            % {"grown": grown},
        )
    else:
        messages.info(request, gettext("Nothing recurring beyond the usual."))
    return redirect(
        f"{reverse('web:problems')}?status=suggested" if new else reverse("web:problems")
    )


@login_required
@require_POST
def problem_merge(request: HttpRequest, problem_id: int) -> HttpResponse:
    """Merge this problem (a suggestion, a duplicate) into another one."""
    user = _manager_required(request)
    source = selectors.problem_get_for_user(user=user, problem_id=problem_id)
    back = reverse("web:problem", args=[source.pk])
    target_id = request.POST.get("into", "")
    if not target_id.strip():
        return _bad_input(request, "choose the problem to merge into", back=back, field="into")
    target = selectors.problem_get_for_user(user=user, problem_id=target_id)
    try:
        problem_detection.problem_merge(source=source, target=target, actor=user)
    except DomainError as exc:
        return _refused(request, exc, back=back)
    messages.success(
        request,
        gettext("%(number)s merged into %(number2)s.")
        % {"number": source.number, "number2": target.number},
    )
    return redirect("web:problem", problem_id=target.pk)


# --- flags --------------------------------------------------------------------------------


@login_required
@require_GET
def flag_review(request: HttpRequest) -> HttpResponse:
    """Flags waiting for a manager: turn one into a problem, link it to one, or dismiss it."""
    _manager_required(request)
    return render(
        request,
        "web/problems/flags.html",
        {
            "flags": list(selectors.problem_flags_open()[:200]),
            "problems": list(selectors.problems_linkable().only("id", "title", "status")[:500]),
        },
    )


@login_required
@require_POST
def flag_decide(request: HttpRequest, flag_id: int) -> HttpResponse:
    user = _manager_required(request)
    flag = selectors.problem_flag_get(flag_id=flag_id)
    back = reverse("web:problem_flags")
    action = request.POST.get("action", "")
    try:
        if action == "convert":
            problem = problem_flags.problem_flag_convert(
                flag=flag, actor=user, title=request.POST.get("title", "")
            )
            messages.success(
                request, gettext("%(number)s opened from the flag.") % {"number": problem.number}
            )
            return redirect("web:problem", problem_id=problem.pk)
        if action == "link":
            target = selectors.problem_get_for_user(
                user=user, problem_id=request.POST.get("problem", "")
            )
            problem_flags.problem_flag_link(flag=flag, problem=target, actor=user)
            messages.success(request, gettext("Linked to %(number)s.") % {"number": target.number})
        elif action == "dismiss":
            problem_flags.problem_flag_dismiss(
                flag=flag, actor=user, note=request.POST.get("note", "")
            )
            messages.success(request, gettext("Flag dismissed."))
        else:
            return _bad_input(request, "choose convert, link or dismiss", back=back, field="action")
    except DomainError as exc:
        return _refused(request, exc, back=back)
    return redirect(back)


# --- the case page's panel ----------------------------------------------------------------


@login_required
@require_POST
def case_problem_link(request: HttpRequest, case_id: int) -> HttpResponse:
    user = agent_required(request)
    case = case_selectors.case_get_for_user(user=user, case_id=case_id)
    problem = selectors.problem_get_for_user(user=user, problem_id=request.POST.get("problem", ""))
    try:
        link = problems.problem_case_link(problem=problem, case=case, actor=user)
    except DomainError as exc:
        return _refused(request, exc, back=reverse("web:case", args=[case.pk]))
    if link is not None:
        messages.success(request, gettext("Linked to %(number)s.") % {"number": problem.number})
    return redirect("web:case", case_id=case.pk)


@login_required
@require_POST
def case_problem_unlink(request: HttpRequest, case_id: int, problem_id: int) -> HttpResponse:
    user = agent_required(request)
    case = case_selectors.case_get_for_user(user=user, case_id=case_id)
    problem = selectors.problem_get_for_user(user=user, problem_id=problem_id)
    if problems.problem_case_unlink(problem=problem, case=case, actor=user):
        messages.success(request, gettext("Unlinked from %(number)s.") % {"number": problem.number})
    return redirect("web:case", case_id=case.pk)


def _when(value: str) -> datetime | None:
    try:
        parsed = parse_datetime((value or "").strip())
    except ValueError:
        return None
    if parsed is None:
        return None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@login_required
@require_POST
def case_problem_flag(request: HttpRequest, case_id: int) -> HttpResponse:
    """An agent flags "this keeps happening" on the case, for the managers' review."""
    user = agent_required(request)
    case = case_selectors.case_get_for_user(user=user, case_id=case_id)
    back = reverse("web:case", args=[case.pk])
    occurred_at = _when(request.POST.get("occurred_at", ""))
    if occurred_at is None:
        return _bad_input(
            request, "give the date and time it happened", back=back, field="occurred_at"
        )
    try:
        problem_flags.problem_flag_raise(
            case=case,
            actor=user,
            occurred_at=occurred_at,
            problem_text=request.POST.get("problem_text", ""),
            solution_text=request.POST.get("solution_text", ""),
        )
    except DomainError as exc:
        return _refused(request, exc, back=back)
    messages.success(request, gettext("Flagged for the managers' review."))
    return redirect(back)
