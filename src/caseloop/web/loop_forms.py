"""Forms behind the loop panel's actions: each reads and checks one action's POST data, so
the views never parse it by hand. Objects a form names (a plan, an alternative, a step,
an escalation) must belong to the case in hand; text the services validate (a paraphrase,
a reason) is passed on for them to refuse with the domain's own words."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from caseloop.accounts.models import Team, User
from caseloop.cases.loop.models import SCALES
from caseloop.cases.models import (
    Alternative,
    Case,
    CaseLink,
    Escalation,
    Plan,
    PlanStep,
    RemedyType,
)

ANSWER_CHANNELS = [("phone", "Phone"), ("email", "Email"), ("chat", "Chat"), ("portal", "Portal")]


def _text(max_length: int = 5000) -> forms.CharField:
    return forms.CharField(required=False, max_length=max_length, strip=True)


def _of_case(name: str) -> dict[str, str]:
    article = "an" if name[0] in "aeiou" else "a"
    return {"required": f"choose {article} {name}", "invalid_choice": f"no such {name}"}


class CaseActionForm(forms.Form):
    """An action on `case`; subclasses narrow their object choices to it."""

    def __init__(self, data: Any, *, case: Case) -> None:
        super().__init__(data)
        self.case = case

    def error_text(self) -> str:
        return "; ".join(str(error) for errors in self.errors.values() for error in errors)


class EmptyForm(CaseActionForm):
    pass


class ParaphraseForm(CaseActionForm):
    paraphrase = _text(2000)


class ProblemAnswerForm(CaseActionForm):
    answer = forms.ChoiceField(choices=[("confirmed", "Confirmed"), ("corrected", "Corrected")])
    correction = _text(2000)
    channel = forms.ChoiceField(choices=ANSWER_CHANNELS, required=False)


class LinkForm(CaseActionForm):
    kind = forms.ChoiceField(choices=CaseLink.Kind.choices)
    ref = _text(500)
    note = _text(500)


class NoActionForm(CaseActionForm):
    note = _text(2000)


class AuthorityForm(CaseActionForm):
    remedy = forms.ModelChoiceField(
        queryset=RemedyType.objects.all(), error_messages=_of_case("remedy")
    )
    amount = forms.DecimalField(required=False, max_digits=12, decimal_places=2)
    currency = forms.CharField(
        required=False, max_length=3, help_text=gettext_lazy("Blank: the desk's currency.")
    )


class FactForm(CaseActionForm):
    """A fact picked from the ones the case still lacks (by key, shown by label), or named
    in the agent's own words ("other"); the service maps either to a key."""

    key = _text(200)
    other = _text(200)
    value = _text(2000)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("key") or data.get("other")):
            self.add_error("key", "choose a fact, or name it under 'other'")
        return data


class AlternativeForm(CaseActionForm):
    title = _text(200)
    description = _text(5000)


class _AlternativeForm(CaseActionForm):
    alternative = forms.ModelChoiceField(
        queryset=Alternative.objects.none(), error_messages=_of_case("alternative")
    )

    def __init__(self, data: Any, *, case: Case) -> None:
        super().__init__(data, case=case)
        field = self.fields["alternative"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Alternative.objects.filter(case=case)


def _scale(name: str) -> forms.IntegerField:
    label, meaning = SCALES[name]
    return forms.IntegerField(
        required=False, min_value=1, max_value=5, label=label, help_text=meaning
    )


class WeighForm(_AlternativeForm):
    """Scores 1–5 on each scale (5 is the better end; SCALES says what the ends mean) and
    the customer's preference. A blank preference leaves the recorded one as it is."""

    feasibility = _scale("feasibility")
    cost = _scale("cost")
    impact = _scale("impact")
    timeliness = _scale("timeliness")
    cost_amount = forms.DecimalField(
        required=False,
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text=gettext_lazy("What it costs us."),
    )
    preference = forms.ChoiceField(
        choices=[("", "—"), *Alternative.Preference.choices],
        required=False,
        help_text=gettext_lazy("What the customer said of it; one they rejected cannot be chosen."),
    )

    def scores(self) -> dict[str, int | None]:
        return {name: self.cleaned_data.get(name) for name in SCALES}


class ChooseForm(_AlternativeForm):
    reason = _text(2000)


class PlanForm(CaseActionForm):
    summary = _text(5000)
    steps = _text(10_000)
    expected_timeline = _text(200)


class _PlanForm(CaseActionForm):
    plan = forms.ModelChoiceField(queryset=Plan.objects.none(), error_messages=_of_case("plan"))

    def __init__(self, data: Any, *, case: Case) -> None:
        super().__init__(data, case=case)
        field = self.fields["plan"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Plan.objects.filter(case=case)


class ShareForm(_PlanForm):
    pass


class VerbalConsentForm(_PlanForm):
    decision = forms.ChoiceField(
        choices=[("approved", "Approved"), ("declined", "Declined")], required=False
    )
    note = _text(2000)


class UpdateForm(_PlanForm):
    text = _text(5000)


class StepAddForm(_PlanForm):
    text = _text(500)


class StepForm(CaseActionForm):
    step = forms.ModelChoiceField(queryset=PlanStep.objects.none(), error_messages=_of_case("step"))
    status = _text(20)

    def __init__(self, data: Any, *, case: Case) -> None:
        super().__init__(data, case=case)
        field = self.fields["step"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = PlanStep.objects.filter(plan__case=case).select_related("plan")


class EscalateForm(CaseActionForm):
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(), required=False, error_messages=_of_case("team")
    )
    user = forms.ModelChoiceField(
        queryset=User.objects.all(), required=False, error_messages=_of_case("person")
    )
    reason = _text(2000)


class EscalationForm(CaseActionForm):
    escalation = forms.ModelChoiceField(
        queryset=Escalation.objects.none(), error_messages=_of_case("escalation")
    )
    do = forms.ChoiceField(
        choices=[("accept", "Accept"), ("return", "Return"), ("solved", "Solved")],
        error_messages={
            "required": "accept, return or solved",
            "invalid_choice": "accept, return or solved",
        },
    )
    text = _text(5000)

    def __init__(self, data: Any, *, case: Case) -> None:
        super().__init__(data, case=case)
        field = self.fields["escalation"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Escalation.objects.filter(case=case)


class FollowUpForm(CaseActionForm):
    solved = forms.ChoiceField(choices=[("yes", "Yes"), ("no", "No")])
    channel = forms.ChoiceField(choices=ANSWER_CHANNELS, required=False)


class LessonForm(CaseActionForm):
    summary = _text(5000)
    needs_prepared_answer = forms.BooleanField(required=False)
    needs_article = forms.BooleanField(required=False)
