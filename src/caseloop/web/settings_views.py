"""The desk's settings in the workspace: business hours, SLA policies (response targets),
routing rules and team routing, authority limits and prepared responses, one page per kind
with its list and a form to create, edit or delete one. Admins change them; managers may
look; agents get 403 and customers their portal. Every change is kept as a SettingsChange
in the change's own transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import ProtectedError, QuerySet
from django.forms.models import model_to_dict
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from caseloop.accounts.models import DeskIdentity, Role, User
from caseloop.automation.models import BusinessHours, SlaPolicy
from caseloop.automation.schedules import business_hours_save
from caseloop.cases.loop.models import AuthorityRule
from caseloop.cases.loop.selectors import LOOP_STAGES
from caseloop.knowledge import services as knowledge
from caseloop.knowledge.errors import MacroInvalid
from caseloop.knowledge.models import Macro
from caseloop.triage.models import RoutingRule, TeamRouting

from .models import SettingsChange
from .settings_forms import (
    AuthorityRuleForm,
    BusinessHoursForm,
    DeskIdentityForm,
    MacroForm,
    RoutingRuleForm,
    SlaPolicyForm,
    TeamRoutingForm,
    periods_text,
)

RECENT_CHANGES = 20


def _snapshot_value(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [_snapshot_value(v) for v in value]
    return str(value)


def _snapshot(obj: models.Model) -> dict[str, Any]:
    data = {k: _snapshot_value(v) for k, v in model_to_dict(obj).items()}
    if isinstance(obj, BusinessHours):
        by_day: dict[int, list[tuple[Any, Any]]] = {}
        for interval in obj.intervals.all():
            by_day.setdefault(interval.weekday, []).append((interval.start, interval.end))
        data["hours"] = {str(day): periods_text(periods) for day, periods in by_day.items()}
        data["holidays"] = [f"{h.date:%Y-%m-%d} {h.name}".strip() for h in obj.holidays.all()]
    return data


def settings_change_record(
    *, actor: User, kind: str, obj: models.Model, action: str, before: dict[str, Any]
) -> SettingsChange:
    """Keep one change to the settings; call inside the change's transaction."""
    after = {} if action == SettingsChange.Action.DELETED else _snapshot(obj)
    return SettingsChange.objects.create(
        actor=actor,
        kind=kind,
        object_id=cast(int, obj.pk),
        object_repr=str(obj)[:200],
        action=action,
        before=before,
        after=after,
    )


@dataclass(frozen=True)
class Kind:
    slug: str
    title: str
    noun: str
    intro: str
    model: type[models.Model]
    form: type[forms.BaseForm]
    queryset: Callable[[], QuerySet[Any]]
    columns: tuple[tuple[str, Callable[[Any], Any]], ...]

    def form_for(
        self, obj: models.Model | None, data: Any = None, files: Any = None
    ) -> forms.BaseForm:
        if issubclass(self.form, forms.ModelForm):
            return self.form(data, files, instance=obj)
        return cast(Any, self.form)(data, instance=obj)


def _yes(value: bool) -> str:
    return "yes" if value else "no"


def _minutes(value: int | None) -> str:
    return f"{value} min" if value else "—"


KINDS: dict[str, Kind] = {
    kind.slug: kind
    for kind in (
        Kind(
            slug="desk",
            title="The desk's name, colour and logo",
            noun="desk identity",
            intro="How the desk shows itself to customers: on the portal, the help centre, the "
            "contact form and in every email.",
            model=DeskIdentity,
            form=DeskIdentityForm,
            queryset=lambda: DeskIdentity.objects.order_by("pk"),
            columns=(
                ("Colour", lambda o: o.colour),
                ("Logo", lambda o: "yes" if o.logo else "none"),
            ),
        ),
        Kind(
            slug="business-hours",
            title="Business hours",
            noun="schedule",
            intro="The weekly open hours and holidays that SLA targets count in.",
            model=BusinessHours,
            form=BusinessHoursForm,
            queryset=lambda: BusinessHours.objects.prefetch_related("intervals", "holidays"),
            columns=(
                ("Time zone", lambda o: o.timezone),
                ("Default", lambda o: _yes(o.is_default)),
                ("Open", lambda o: "; ".join(str(i) for i in o.intervals.all()) or "never"),
                ("Holidays", lambda o: len(o.holidays.all())),
            ),
        ),
        Kind(
            slug="sla-policies",
            title="Response targets",
            noun="SLA policy",
            intro="Targets in business minutes for the cases each policy matches; the most "
            "specific matching policy applies (organization, then service level, then "
            "priority; position breaks ties).",
            model=SlaPolicy,
            form=SlaPolicyForm,
            queryset=lambda: SlaPolicy.objects.select_related("organization", "business_hours"),
            columns=(
                ("Active", lambda o: _yes(o.is_active)),
                (
                    "Matches",
                    lambda o: (
                        " · ".join(
                            filter(
                                None,
                                [
                                    o.organization.name if o.organization else "",
                                    o.service_level,
                                    o.get_priority_display() if o.priority else "",
                                ],
                            )
                        )
                        or "any case"
                    ),
                ),
                ("First response", lambda o: _minutes(o.first_response_minutes)),
                ("Next reply", lambda o: _minutes(o.next_reply_minutes)),
                ("Resolution", lambda o: _minutes(o.resolution_minutes)),
                ("Hours", lambda o: o.business_hours.name if o.business_hours else "default"),
            ),
        ),
        Kind(
            slug="routing-rules",
            title="Routing rules",
            noun="routing rule",
            intro="Which team a case goes to by its category; a rule without a category "
            "catches the rest. Lower order first.",
            model=RoutingRule,
            form=RoutingRuleForm,
            queryset=lambda: RoutingRule.objects.select_related("category", "team"),
            columns=(
                ("Order", lambda o: o.order),
                ("Category", lambda o: o.category.name if o.category else "anything else"),
                ("Team", lambda o: o.team.name),
                ("Active", lambda o: _yes(o.is_active)),
            ),
        ),
        Kind(
            slug="team-routing",
            title="Team routing",
            noun="team's routing",
            intro="How each team hands its cases to agents, and where they overflow.",
            model=TeamRouting,
            form=TeamRoutingForm,
            queryset=lambda: TeamRouting.objects.select_related("team", "overflow_team"),
            columns=(
                ("Strategy", lambda o: o.get_strategy_display()),
                ("Skill required", lambda o: _yes(o.require_skill)),
                ("Assigns agents", lambda o: _yes(o.auto_assign)),
                ("Overflow", lambda o: o.overflow_team.name if o.overflow_team else "—"),
            ),
        ),
        Kind(
            slug="authority",
            title="Authority limits",
            noun="authority rule",
            intro="Who may grant which remedy, up to what amount.",
            model=AuthorityRule,
            form=AuthorityRuleForm,
            queryset=lambda: AuthorityRule.objects.select_related("remedy"),
            columns=(
                ("Remedy", lambda o: o.remedy.name),
                ("Role", lambda o: o.role or "any staff"),
                ("From tier", lambda o: o.min_tier),
                (
                    "Up to",
                    lambda o: (
                        f"{o.limit_amount} {o.currency}"
                        if o.limit_amount is not None
                        else "no limit"
                    ),
                ),
                ("Needs the skill", lambda o: _yes(o.requires_category_skill)),
            ),
        ),
        Kind(
            slug="macros",
            title="Prepared responses",
            noun="prepared response",
            intro="Reply templates agents apply on the case page, with placeholders and "
            "optional status and tags.",
            model=Macro,
            form=MacroForm,
            queryset=lambda: Macro.objects.select_related("team").prefetch_related("categories"),
            columns=(
                ("Team", lambda o: o.team.name if o.team else "everyone"),
                (
                    "Fits",
                    lambda o: (
                        ", ".join(
                            [c.name for c in o.categories.all()]
                            + [str(LOOP_STAGES[s]).lower() for s in o.stages if s in LOOP_STAGES]
                        )
                        or "any case"
                    ),
                ),
                ("Sets status", lambda o: o.set_status or "—"),
                ("Active", lambda o: _yes(o.is_active)),
                ("Used", lambda o: o.times_used),
            ),
        ),
    )
}


def _viewer(request: HttpRequest) -> User | HttpResponse:
    """Admins and managers may look; agents may not; anyone else goes to the portal."""
    user = cast(User, request.user)
    if not user.is_agent_like:
        return redirect("web:portal")
    if user.role not in (Role.ADMIN, Role.MANAGER):
        raise PermissionDenied("managers and admins only")
    return user


def _editor(request: HttpRequest) -> User | HttpResponse:
    viewer = _viewer(request)
    if isinstance(viewer, User) and viewer.role != Role.ADMIN:
        raise PermissionDenied("only admins change the desk's settings")
    return viewer


def _kind(slug: str) -> Kind:
    try:
        return KINDS[slug]
    except KeyError as exc:
        raise Http404("No such settings page.") from exc


def _object(kind: Kind, pk: int) -> models.Model:
    try:
        return cast(models.Model, kind.queryset().get(pk=pk))
    except kind.model.DoesNotExist as exc:  # type: ignore[attr-defined]
        raise Http404(f"No such {kind.noun}.") from exc


@login_required
@require_http_methods(["GET"])
def settings_index(request: HttpRequest) -> HttpResponse:
    viewer = _viewer(request)
    if isinstance(viewer, HttpResponse):
        return viewer
    changes = SettingsChange.objects.select_related("actor")[:RECENT_CHANGES]
    return render(
        request,
        "web/settings/index.html",
        {"kinds": list(KINDS.values()), "changes": changes, "can_edit": viewer.role == Role.ADMIN},
    )


@login_required
@require_http_methods(["GET"])
def settings_list(request: HttpRequest, kind: str) -> HttpResponse:
    viewer = _viewer(request)
    if isinstance(viewer, HttpResponse):
        return viewer
    page = _kind(kind)
    rows = [(obj, [value(obj) for _, value in page.columns]) for obj in page.queryset()[:500]]
    return render(
        request,
        "web/settings/list.html",
        {
            "kind": page,
            "kinds": list(KINDS.values()),
            "headings": [heading for heading, _ in page.columns],
            "rows": rows,
            "can_edit": viewer.role == Role.ADMIN,
        },
    )


def _save(kind: Kind, form: forms.BaseForm, obj: models.Model | None, actor: User) -> models.Model:
    """Save the valid form through the owning app and keep the change, as one transaction.
    Raises MacroInvalid for a prepared response the knowledge services refuse."""
    before = _snapshot(obj) if obj is not None else {}
    data = form.cleaned_data
    with transaction.atomic():
        if isinstance(form, BusinessHoursForm):
            hours = form.save(commit=False)
            hours.is_default = data["is_default"]
            saved: models.Model = business_hours_save(
                hours=hours,
                intervals=data["interval_list"],
                holidays=data["holiday_list"],
            )
        elif isinstance(form, MacroForm):
            fields = {
                "name": data["name"],
                "body": data["body"],
                "team": data["team"],
                "set_status": data["set_status"],
                "add_tags": data["add_tags"],
                "categories": list(data["categories"]),
                "stages": data["stages"],
            }
            if isinstance(obj, Macro):
                saved = knowledge.macro_update(
                    macro=obj, actor=actor, is_active=data["is_active"], **fields
                )
            else:
                saved = knowledge.macro_create(actor=actor, **fields)
                if not data["is_active"]:
                    saved = knowledge.macro_update(macro=saved, actor=actor, is_active=False)
        else:
            saved = cast(forms.ModelForm, form).save()
        action = SettingsChange.Action.UPDATED if obj is not None else SettingsChange.Action.CREATED
        settings_change_record(actor=actor, kind=kind.slug, obj=saved, action=action, before=before)
    return saved


@login_required
@require_http_methods(["GET", "POST"])
def settings_edit(request: HttpRequest, kind: str, pk: int | None = None) -> HttpResponse:
    viewer = _viewer(request) if request.method == "GET" else _editor(request)
    if isinstance(viewer, HttpResponse):
        return viewer
    page = _kind(kind)
    obj = _object(page, pk) if pk is not None else None
    can_edit = viewer.role == Role.ADMIN
    if pk is None and not can_edit:
        raise PermissionDenied("only admins change the desk's settings")
    status = 200
    if request.method == "POST":
        form = page.form_for(obj, request.POST, request.FILES)
        if form.is_valid():
            try:
                saved = _save(page, form, obj, viewer)
            except MacroInvalid as exc:
                field = getattr(exc, "field", None)
                form.add_error(field if field in form.fields else None, exc.summary())
            else:
                verb = "saved" if obj is not None else "created"
                messages.success(
                    request,
                    gettext("%(value)s “%(saved)s” %(verb)s.")
                    % {"value": page.noun.capitalize(), "saved": saved, "verb": verb},
                )
                return redirect("web:settings_list", kind=page.slug)
        status = 422
    else:
        form = page.form_for(obj)
    if not can_edit:
        for field in form.fields.values():
            field.disabled = True
    changes = (
        SettingsChange.objects.filter(kind=page.slug, object_id=obj.pk).select_related("actor")[
            :RECENT_CHANGES
        ]
        if obj is not None
        else []
    )
    return render(
        request,
        "web/settings/edit.html",
        {
            "kind": page,
            "kinds": list(KINDS.values()),
            "obj": obj,
            "form": form,
            "can_edit": can_edit,
            "changes": changes,
        },
        status=status,
    )


@login_required
@require_POST
def settings_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    editor = _editor(request)
    if isinstance(editor, HttpResponse):
        return editor
    page = _kind(kind)
    obj = _object(page, pk)
    before, name = _snapshot(obj), str(obj)
    try:
        with transaction.atomic():
            settings_change_record(
                actor=editor,
                kind=page.slug,
                obj=obj,
                action=SettingsChange.Action.DELETED,
                before=before,
            )
            if isinstance(obj, Macro):
                knowledge.macro_delete(macro=obj, actor=editor)
            else:
                obj.delete()
    except ProtectedError:
        messages.error(
            request, gettext("“%(name)s” is still in use and cannot be deleted.") % {"name": name}
        )
        return redirect("web:settings_edit", kind=page.slug, pk=pk)
    messages.success(
        request,
        gettext("%(value)s “%(name)s” deleted.") % {"value": page.noun.capitalize(), "name": name},
    )
    return redirect("web:settings_list", kind=page.slug)
