"""The case page's time panel: the workspace's heartbeat, the agent's intervals on the case,
corrections and time added by hand. Agents who may see the case only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from caseloop.accounts.models import User
from caseloop.cases import selectors as case_selectors
from caseloop.cases.errors import CaseError
from caseloop.cases.models import Case
from caseloop.insights import worktime
from caseloop.insights.models import WorkInterval
from caseloop.lib.errors import http_status_for
from caseloop.web.access import agent_required

MAX_MINUTES = worktime.MAX_SECONDS // 60
PANEL = "web/partials/worktime.html"


def minutes_of(seconds: int) -> int:
    """Whole minutes, to the nearest (as the panel's script rounds them too)."""
    return (seconds + 30) // 60


def minutes_text(seconds: int) -> str:
    """'12 min', '1 h 5 min'; the panel's script writes the same words."""
    hours, minutes = divmod(minutes_of(seconds), 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


class MinutesForm(forms.Form):
    minutes = forms.IntegerField(min_value=0, max_value=MAX_MINUTES)
    note = forms.CharField(required=False, max_length=worktime.NOTE_LENGTH, strip=True)

    def error_text(self) -> str:
        return "; ".join(
            f"{field}: {error}" for field, errors in self.errors.items() for error in errors
        )


class WorkAddForm(MinutesForm):
    minutes = forms.IntegerField(min_value=1, max_value=MAX_MINUTES)


class WorkEditForm(MinutesForm):
    def __init__(self, data: Any, *, interval: WorkInterval) -> None:
        super().__init__(data)
        self.interval = interval

    def seconds(self) -> int:
        """The corrected length; the minutes as shown (rounded) keep the exact seconds."""
        minutes = self.cleaned_data["minutes"]
        if minutes == minutes_of(self.interval.seconds):
            return self.interval.seconds
        return int(minutes) * 60


@dataclass(frozen=True)
class IntervalRow:
    interval: WorkInterval
    minutes: int
    text: str


def _case(request: HttpRequest, case_id: int) -> Case:
    return case_selectors.case_get_for_user(user=agent_required(request), case_id=case_id)


def _panel(request: HttpRequest, case: Case, *, status: int = 200, error: str = "") -> HttpResponse:
    intervals = list(worktime.case_work_intervals(case=case, agent=cast(User, request.user)))
    total = sum(interval.seconds for interval in intervals)
    context = {
        "case": case,
        "error": error,
        "worktime": {
            "total": total,
            "total_text": minutes_text(total),
            "rows": [
                IntervalRow(i, minutes_of(i.seconds), minutes_text(i.seconds)) for i in intervals
            ],
            "max_minutes": MAX_MINUTES,
        },
    }
    return render(request, PANEL, context, status=status)


def _done(request: HttpRequest, case: Case) -> HttpResponse:
    """The refreshed panel for the page's script; the case page for a plain form post."""
    if request.headers.get("HX-Request"):
        return _panel(request, case)
    return redirect(reverse("web:case", kwargs={"case_id": case.pk}) + "#worktime")


@login_required
@require_GET
def worktime_panel(request: HttpRequest, case_id: int) -> HttpResponse:
    return _panel(request, _case(request, case_id))


@login_required
@require_POST
def worktime_beat(request: HttpRequest, case_id: int) -> JsonResponse:
    """The workspace's heartbeat: `active=1` while the agent works, `active=0` when they
    stop (sent as a beacon when the tab is hidden or left)."""
    case = _case(request, case_id)
    interval = worktime.work_heartbeat(
        case=case, agent=agent_required(request), active=request.POST.get("active") == "1"
    )
    if interval is None:
        return JsonResponse({"interval": None, "seconds": 0, "open": False})
    return JsonResponse(
        {"interval": interval.pk, "seconds": interval.seconds, "open": interval.is_open}
    )


@login_required
@require_POST
def worktime_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    form = WorkAddForm(request.POST)
    if not form.is_valid():
        return _panel(request, case, status=422, error=form.error_text())
    try:
        worktime.work_interval_add(
            case=case,
            agent=agent_required(request),
            seconds=form.cleaned_data["minutes"] * 60,
            note=form.cleaned_data["note"],
        )
    except CaseError as exc:
        return _panel(request, case, status=http_status_for(exc), error=str(exc))
    return _done(request, case)


@login_required
@require_POST
def worktime_edit(request: HttpRequest, case_id: int, interval_id: int) -> HttpResponse:
    case = _case(request, case_id)
    interval = worktime.work_interval_get(case=case, interval_id=interval_id)
    form = WorkEditForm(request.POST, interval=interval)
    if not form.is_valid():
        return _panel(request, case, status=422, error=form.error_text())
    try:
        worktime.work_interval_edit(
            interval=interval,
            agent=agent_required(request),
            seconds=form.seconds(),
            note=form.cleaned_data["note"],
        )
    except CaseError as exc:
        return _panel(request, case, status=http_status_for(exc), error=str(exc))
    return _done(request, case)
