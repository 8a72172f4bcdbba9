"""The triage panel's form: an agent sets or corrects a case's category and priority. The
change goes through `case_update`, so it is a case event and, through the case-updated
hook, a training label for the next model. And the manager's "retrain now"."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from caseloop.accounts.models import Role, User
from caseloop.cases import selectors as case_selectors
from caseloop.cases.errors import CaseError

from .services import case_decide
from .tasks import models_retrain_now


@login_required
@require_POST
def case_classify(request: HttpRequest, case_id: int) -> HttpResponse:
    if not cast(User, request.user).is_agent_like:
        raise PermissionDenied
    case = case_selectors.case_get_for_user(user=request.user, case_id=case_id)
    try:
        changed = case_decide(
            case=case,
            actor=request.user,
            category_id=request.POST.get("category", ""),
            priority=request.POST.get("priority", ""),
        )
    except CaseError as exc:
        messages.error(request, str(exc))
    else:
        if changed:
            messages.success(
                request, gettext("Category and priority saved; triage learns from them.")
            )
        else:
            messages.info(request, gettext("Category and priority were already so."))
    return redirect("web:case", case_id=case.pk)


@login_required
@require_POST
def models_retrain(request: HttpRequest) -> HttpResponse:
    if cast(User, request.user).role not in (Role.MANAGER, Role.ADMIN):
        raise PermissionDenied("managers only")
    models_retrain_now()
    messages.success(
        request,
        gettext(
            "Retraining from the agents' decisions so far; the new model takes over when it is "
            "ready. Without enough history, keyword rules keep guessing."
        ),
    )
    return redirect("web:manager")
