"""Forms for the desk's settings pages. They validate and say what is wrong per field; the
settings views save through the owning apps' services."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Any

from django import forms
from django.utils.translation import gettext, gettext_lazy

from caseloop.accounts.models import DeskIdentity, Role, Team
from caseloop.automation.models import BusinessHours, SlaPolicy, Weekday
from caseloop.cases.loop.models import AuthorityRule
from caseloop.cases.loop.selectors import LOOP_STAGES
from caseloop.cases.models import Category
from caseloop.knowledge.models import Macro
from caseloop.knowledge.services import MACRO_STATUSES
from caseloop.lib.colour import HEX, MIN_CONTRAST, contrast_with_white
from caseloop.triage.models import RoutingRule, TeamRouting

_PERIOD = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")


def _clock(value: str) -> time:
    try:
        return datetime.strptime(value, "%H:%M").time()
    except ValueError as exc:
        raise forms.ValidationError(
            gettext("“%(value)s” is not a time of day (HH:MM)") % {"value": value}
        ) from exc


def periods_parse(text: str) -> list[tuple[time, time]]:
    """'09:00-12:30, 13:30-17:00' → the open periods, in order; empty text: closed."""
    periods: list[tuple[time, time]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _PERIOD.match(part)
        if not match:
            raise forms.ValidationError(
                gettext(
                    "“%(part)s” is not a period; write it as 09:00-17:00 (several: "
                    "09:00-12:00, 13:00-17:00; leave empty when closed)"
                )
                % {"part": part}
            )
        start, end = _clock(match[1]), _clock(match[2])
        if end <= start:
            raise forms.ValidationError(
                gettext("“%(part)s” ends before it starts") % {"part": part}
            )
        periods.append((start, end))
    periods.sort()
    for (_, end), (start, _) in zip(periods, periods[1:], strict=False):
        if start < end:
            raise forms.ValidationError(gettext("the periods overlap"))
    return periods


def periods_text(periods: list[tuple[time, time]]) -> str:
    return ", ".join(f"{start:%H:%M}-{end:%H:%M}" for start, end in periods)


def holidays_parse(text: str) -> list[tuple[date, str]]:
    """One holiday a line: 'YYYY-MM-DD name'."""
    holidays: dict[date, str] = {}
    for line in filter(None, (ln.strip() for ln in text.splitlines())):
        day_text, _, name = line.partition(" ")
        try:
            day = date.fromisoformat(day_text)
        except ValueError as exc:
            raise forms.ValidationError(
                gettext(
                    "“%(line)s” does not start with a date (YYYY-MM-DD, then the holiday's name)"
                )
                % {"line": line}
            ) from exc
        if day in holidays:
            raise forms.ValidationError(gettext("%(day)s is listed twice") % {"day": day})
        holidays[day] = name.strip()[:100]
    return sorted(holidays.items())


class BusinessHoursForm(forms.ModelForm):
    """A schedule: its name, time zone, whether it is the default, one line of open periods
    per weekday and its holidays."""

    # Not the model field itself: the one-default constraint would refuse the new default
    # before the service takes the place from the former one.
    is_default = forms.BooleanField(
        required=False, label=gettext_lazy("Default schedule (for policies that name none)")
    )
    holidays = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("One a line: 2026-12-25 Christmas Day."),
    )

    class Meta:
        model = BusinessHours
        fields = ["name", "timezone"]
        help_texts = {"timezone": "An IANA time zone, e.g. Europe/London."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["is_default"].initial = self.instance.is_default
        by_day: dict[int, list[tuple[time, time]]] = {d: [] for d in Weekday.values}
        if self.instance.pk:
            for interval in self.instance.intervals.all():
                by_day[interval.weekday].append((interval.start, interval.end))
            self.fields["holidays"].initial = "\n".join(
                f"{h.date:%Y-%m-%d} {h.name}".strip() for h in self.instance.holidays.all()
            )
        for day, label in Weekday.choices:
            self.fields[f"day_{day}"] = forms.CharField(
                label=label,
                required=False,
                max_length=200,
                initial=periods_text(by_day[day]),
                help_text="Open periods, e.g. 09:00-17:00; empty: closed." if day == 0 else "",
            )
        self.order_fields(
            ["name", "timezone", "is_default", *(f"day_{d}" for d in Weekday.values), "holidays"]
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        intervals: list[tuple[int, time, time]] = []
        for day in Weekday.values:
            try:
                periods = periods_parse(data.get(f"day_{day}") or "")
            except forms.ValidationError as exc:
                self.add_error(f"day_{day}", exc)
                continue
            intervals.extend((day, start, end) for start, end in periods)
        try:
            data["holiday_list"] = holidays_parse(data.get("holidays") or "")
        except forms.ValidationError as exc:
            self.add_error("holidays", exc)
        data["interval_list"] = intervals
        return data

    def day_fields(self) -> list[forms.BoundField]:
        return [self[f"day_{day}"] for day in Weekday.values]


class SlaPolicyForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = [
            "name",
            "position",
            "is_active",
            "organization",
            "service_level",
            "priority",
            "first_response_minutes",
            "next_reply_minutes",
            "resolution_minutes",
            "warn_percent",
            "business_hours",
        ]

    def clean_first_response_minutes(self) -> int:
        minutes = self.cleaned_data["first_response_minutes"]
        if minutes is not None and minutes < 1:
            raise forms.ValidationError(gettext("a target must be at least one minute"))
        return minutes


class RoutingRuleForm(forms.ModelForm):
    class Meta:
        model = RoutingRule
        fields = ["category", "team", "order", "is_active"]
        labels = {"category": "Cases of category", "team": "go to team"}
        help_texts = {
            "category": "Empty: every case no other rule catches.",
            "order": "Lower first.",
        }


class TeamRoutingForm(forms.ModelForm):
    class Meta:
        model = TeamRouting
        fields = ["team", "strategy", "require_skill", "auto_assign", "overflow_team"]
        help_texts = {"overflow_team": "Where cases go when nobody in the team is free."}

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        team, overflow = data.get("team"), data.get("overflow_team")
        if team is not None and overflow is not None and team.pk == overflow.pk:
            self.add_error("overflow_team", "a team cannot overflow to itself")
        return data


class AuthorityRuleForm(forms.ModelForm):
    role = forms.ChoiceField(
        required=False,
        choices=[("", "Any staff role")]
        + [(r.value, r.label) for r in (Role.AGENT, Role.MANAGER, Role.ADMIN)],
    )

    class Meta:
        model = AuthorityRule
        fields = [
            "remedy",
            "role",
            "min_tier",
            "limit_amount",
            "currency",
            "requires_category_skill",
        ]
        labels = {"min_tier": "From tier", "limit_amount": "Up to amount"}

    def clean_currency(self) -> str:
        currency = (self.cleaned_data.get("currency") or "").strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise forms.ValidationError(gettext("a three-letter currency code, e.g. GBP"))
        return currency

    def clean_min_tier(self) -> int:
        tier = self.cleaned_data["min_tier"]
        if tier is not None and tier < 1:
            raise forms.ValidationError(gettext("tiers start at 1"))
        return tier


class MacroForm(forms.Form):
    """A prepared response; the knowledge services check its placeholders and status."""

    name = forms.CharField(max_length=120)
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "Placeholders such as {customer_name} and {case_reference} are filled in."
        ),
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("Everyone"),
    )
    set_status = forms.ChoiceField(
        required=False,
        choices=[("", "Leave the status")] + [(s, s.replace("_", " ")) for s in MACRO_STATUSES],
    )
    add_tags = forms.CharField(
        required=False, max_length=500, help_text=gettext_lazy("Comma-separated tags to add.")
    )
    categories = forms.ModelMultipleChoiceField(
        queryset=Category.objects.order_by("name"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Fits the categories"),
        help_text=gettext_lazy(
            "Offered first on cases of these categories, last on others; none: any category."
        ),
    )
    stages = forms.MultipleChoiceField(
        choices=list(LOOP_STAGES.items()),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Fits the loop stages"),
        help_text=gettext_lazy("Offered first while a case is at these stages; none: any stage."),
    )
    is_active = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args: Any, instance: Macro | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": instance.name,
                "body": instance.body,
                "team": instance.team_id,
                "set_status": instance.set_status,
                "add_tags": ", ".join(instance.add_tags),
                "categories": [c.pk for c in instance.categories.all()],
                "stages": list(instance.stages),
                "is_active": instance.is_active,
            }
        super().__init__(*args, **kwargs)

    def clean_add_tags(self) -> list[str]:
        tags = [t.strip().lower() for t in self.cleaned_data.get("add_tags", "").split(",")]
        return list(dict.fromkeys(t for t in tags if t))


LOGO_MAX_BYTES = 256 * 1024
# What an image file starts with: the only kinds of logo accepted (no SVG, which can carry
# scripts).
IMAGE_MAGIC = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
}


def image_type(head: bytes) -> str:
    for magic, content_type in IMAGE_MAGIC.items():
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return ""


class DeskIdentityForm(forms.ModelForm):
    class Meta:
        model = DeskIdentity
        fields = ["name", "colour", "logo"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.instance.pk is None and DeskIdentity.objects.exists():
            raise forms.ValidationError(gettext("the desk has its identity already: edit that one"))
        return data

    def clean_colour(self) -> str:
        colour = (self.cleaned_data.get("colour") or "").strip().lower()
        if not HEX.fullmatch(colour):
            raise forms.ValidationError(gettext("a colour as # and six hex digits, e.g. #0a58ca"))
        ratio = contrast_with_white(colour)
        if ratio < MIN_CONTRAST:
            raise forms.ValidationError(
                f"too light to read on white (contrast {ratio:.1f}:1; at least "
                f"{MIN_CONTRAST}:1): choose a darker shade"
            )
        return colour

    def clean_logo(self) -> Any:
        logo = self.cleaned_data.get("logo")
        if not logo or not hasattr(logo, "read") or not getattr(logo, "size", None):
            return logo
        if logo.size > LOGO_MAX_BYTES:
            raise forms.ValidationError(gettext("the logo may be 256 KB at most"))
        head = logo.read(16)
        logo.seek(0)
        if not image_type(head):
            raise forms.ValidationError(gettext("the logo must be a PNG, JPEG, GIF or WebP image"))
        return logo
