"""Performance reviews for managers: a page per agent (service metrics as owner and as
solver, coach overrides, QA summary and trend, cases to review, reviews given, a CSV of
them) and the QA review form built from the scorecard."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from caseloop.accounts.models import STAFF_ROLES, User
from caseloop.cases import selectors as case_selectors
from caseloop.cases.models import Case
from caseloop.coach.selectors import coach_overrides_for_agent
from caseloop.insights.metrics import Period, report
from caseloop.insights.models import Criterion, Scorecard
from caseloop.insights.problem_credits import credits_for_agent, credits_for_team
from caseloop.insights.reviews import (
    REVIEWER_ROLES,
    QaReviewError,
    agent_qa_summary,
    period_bounds,
    qa_review_record,
    qa_reviews_of,
    qa_reviews_table,
    qa_sample,
    scorecard_current,
)
from caseloop.lib.downloads import download_disposition
from caseloop.lib.errors import http_status_for

DEFAULT_DAYS = 30
MAX_DAYS = 366
NOT_APPLICABLE = "na"

# The service metrics shown per agent, in this order.
AGENT_METRICS = [
    ("solved", "Cases solved"),
    ("csat", "Satisfaction (CSAT)"),
    ("nps", "Net Promoter Score"),
    ("fcr", "Solved on first contact"),
    ("aht", "Average handling time"),
    ("first_response_p50", "First response (median)"),
    ("resolution_p50", "Resolution (median)"),
    ("reopen_rate", "Reopened"),
    ("escalation_rate", "Escalated"),
    ("sla_compliance", "Within response targets"),
    ("problem_confirmed_rate", "Problem statement confirmed"),
    ("handoff_refusals", "Hand-offs refused"),
    ("plan_approved_rate", "Plans approved"),
    ("followup_confirmed_rate", "Follow-ups confirmed solved"),
]


def _reviewer_required(request: HttpRequest) -> User:
    user = cast(User, request.user)
    if user.role not in REVIEWER_ROLES:
        raise PermissionDenied("managers only")
    return user


def _agent_get(agent_id: int) -> User:
    agent = User.objects.filter(pk=agent_id, role__in=STAFF_ROLES).first()
    if agent is None:
        raise Http404("No such agent.")
    return agent


# -- the period --------------------------------------------------------------------------


class PeriodForm(forms.Form):
    start = forms.DateField(required=False, label=gettext_lazy("From"))
    end = forms.DateField(required=False, label=gettext_lazy("To"))

    def __init__(self, data: Any) -> None:
        super().__init__({"start": data.get("from", ""), "end": data.get("to", "")})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            raise forms.ValidationError(gettext("the period ends before it starts"))
        if start and end and (end - start).days >= MAX_DAYS:
            raise forms.ValidationError(
                gettext("choose a period of at most %(MAX_DAYS)s days") % {"MAX_DAYS": MAX_DAYS}
            )
        return cleaned

    def period(self) -> tuple[date, date]:
        """The chosen days, or the last DEFAULT_DAYS days up to today when none (or no
        valid ones) were chosen."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        return start, end


def _period_query(start: date, end: date) -> str:
    return f"from={start.isoformat()}&to={end.isoformat()}"


# -- the agent's service metrics ---------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    text: str
    previous: str
    n: int
    link: str


def _format(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:.0f}%"
    if unit == "seconds":
        minutes = int(value // 60)
        days, rest = divmod(minutes, 1440)
        hours, mins = divmod(rest, 60)
        if days:
            return f"{days}d {hours}h"
        if hours:
            return f"{hours}h {mins}m"
        return f"{mins}m" if minutes else f"{value:.0f}s"
    if unit == "count":
        return f"{value:.0f}"
    return f"{value:g}"


def _metric_rows(*, agent: User, start: date, end: date) -> list[dict[str, Any]]:
    """Each metric of AGENT_METRICS for the agent as owner and as solver, with links to the
    cases behind each figure."""
    period = Period(start=start, end=end)
    reports = {
        role: report(period=period, filters={role: agent.pk}) for role in ("owner", "solver")
    }
    drill = reverse("web:metric_cases")
    rows = []
    for name, label in AGENT_METRICS:
        figures = {}
        for role, rep in reports.items():
            metric = rep.metrics.get(name)
            if metric is None:
                continue
            figures[role] = Figure(
                text=_format(metric.value, metric.unit),
                previous=_format(metric.previous, metric.unit),
                n=metric.n,
                link=f"{drill}?metric={name}&{_period_query(start, end)}&{role}={agent.pk}",
            )
        rows.append({"name": name, "label": label, **figures})
    return rows


# -- the page ----------------------------------------------------------------------------


def _csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text: a leading =, +, -, @ or control character
    would be read as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _reviews_csv(*, agent: User, start: date, end: date) -> HttpResponse:
    header, rows = qa_reviews_table(agent=agent, start=start, end=end)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = download_disposition(
        f"qa-reviews-{agent.username}-{start.isoformat()}-{end.isoformat()}.csv"
    )
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows([_csv_cell(cell) for cell in row] for row in rows)
    return response


@login_required
@require_GET
def agent_page(request: HttpRequest, agent_id: int) -> HttpResponse:
    _reviewer_required(request)
    agent = _agent_get(agent_id)
    period_form = PeriodForm(request.GET)
    start, end = period_form.period()
    if request.GET.get("format") == "csv":
        return _reviews_csv(agent=agent, start=start, end=end)
    low, high = period_bounds(start=start, end=end)
    return render(
        request,
        "web/reviews/agent.html",
        {
            "agent": agent,
            "period_form": period_form,
            "start": start,
            "end": end,
            "period_query": _period_query(start, end),
            "metrics": _metric_rows(agent=agent, start=start, end=end),
            "overrides": coach_overrides_for_agent(agent=agent, start=low, end=high),
            "summary": agent_qa_summary(agent=agent, start=start, end=end),
            "sample": qa_sample(
                agent=agent, start=start, end=end, seed=f"{agent.pk}:{start}:{end}"
            ),
            "reviews": list(qa_reviews_of(agent=agent, start=start, end=end)),
            "credits": credits_for_agent(agent=agent, start=start, end=end),
        },
    )


@login_required
@require_GET
def team_credits(request: HttpRequest) -> HttpResponse:
    """Fixed for good: everyone credited on a problem whose fix was published in the
    period, with what it changed."""
    _reviewer_required(request)
    period_form = PeriodForm(request.GET)
    start, end = period_form.period()
    return render(
        request,
        "web/reviews/credits.html",
        {
            "period_form": period_form,
            "start": start,
            "end": end,
            "people": credits_for_team(start=start, end=end),
        },
    )


@login_required
@require_GET
def agent_review_pick(request: HttpRequest, agent_id: int) -> HttpResponse:
    """Review any case the reviewer can see, by its reference or number."""
    reviewer = _reviewer_required(request)
    agent = _agent_get(agent_id)
    case = case_selectors.case_get_for_user(user=reviewer, case_id=request.GET.get("case", ""))
    url = reverse("web:manager_agent_review", args=[agent.pk, case.pk])
    back = request.GET.get("back", "")
    return redirect(url + ("?" + back if back.startswith("from=") else ""))


# -- the review form ---------------------------------------------------------------------


def _field_name(criterion: Criterion) -> str:
    return f"c{criterion.pk}"


class QaReviewForm(forms.Form):
    """One choice per criterion of the card (its scale's values, and n.a. where it allows
    it) and a comment."""

    comment = forms.CharField(required=False, max_length=5000, widget=forms.Textarea)

    def __init__(self, data: Any = None, *, criteria: list[Criterion]) -> None:
        super().__init__(data)
        self.criteria = criteria
        for criterion in criteria:
            choices = [(str(number), words) for number, words in criterion.values]
            if criterion.allows_na:
                choices.append((NOT_APPLICABLE, "n.a."))
            allowed = ", ".join(label for _, label in choices)
            self.fields[_field_name(criterion)] = forms.ChoiceField(
                label=criterion.label,
                help_text=criterion.guidance,
                choices=choices,
                widget=forms.RadioSelect,
                error_messages={
                    "required": f"choose a score for '{criterion.label}'"
                    + (" (or n.a.)" if criterion.allows_na else ""),
                    "invalid_choice": f"'{criterion.label}' is one of: {allowed}",
                },
            )
        # The comment last, after the criteria.
        self.fields["comment"] = self.fields.pop("comment")

    def criterion_fields(self) -> list[tuple[Criterion, forms.BoundField]]:
        return [(criterion, self[_field_name(criterion)]) for criterion in self.criteria]

    def scores(self) -> dict[int, int | None]:
        return {
            criterion.pk: (
                None
                if self.cleaned_data[_field_name(criterion)] == NOT_APPLICABLE
                else int(self.cleaned_data[_field_name(criterion)])
            )
            for criterion in self.criteria
        }


def _review_context(
    *, agent: User, case: Case, scorecard: Scorecard | None, form: QaReviewForm, back: str
) -> dict[str, Any]:
    return {"agent": agent, "case": case, "scorecard": scorecard, "form": form, "back": back}


@login_required
@require_http_methods(["GET", "POST"])
def agent_review(request: HttpRequest, agent_id: int, case_id: int) -> HttpResponse:
    reviewer = _reviewer_required(request)
    agent = _agent_get(agent_id)
    case = case_selectors.case_get_for_user(user=reviewer, case_id=case_id)
    scorecard = scorecard_current()
    criteria = list(scorecard.criteria.all()) if scorecard else []
    back = request.GET.get("back", "") or request.POST.get("back", "")
    back = back if back.startswith("from=") else ""
    if request.method != "POST":
        form = QaReviewForm(criteria=criteria)
        return render(
            request,
            "web/reviews/review.html",
            _review_context(agent=agent, case=case, scorecard=scorecard, form=form, back=back),
        )
    form = QaReviewForm(request.POST, criteria=criteria)
    status = 422
    if form.is_valid():
        try:
            review = qa_review_record(
                case=case,
                agent=agent,
                reviewer=reviewer,
                scores=form.scores(),
                comment=form.cleaned_data["comment"],
                scorecard=scorecard,
            )
        except QaReviewError as exc:
            field = getattr(exc, "field", None)
            criterion = next((c for c in criteria if str(c.pk) == field), None)
            form.add_error(_field_name(criterion) if criterion else None, str(exc))
            status = http_status_for(exc)
        else:
            messages.success(
                request, f"Review of {case.reference} saved: {review.score:.1f} out of 100."
            )
            url = reverse("web:manager_agent", args=[agent.pk])
            return redirect(url + ("?" + back if back else ""))
    return render(
        request,
        "web/reviews/review.html",
        _review_context(agent=agent, case=case, scorecard=scorecard, form=form, back=back),
        status=status,
    )
