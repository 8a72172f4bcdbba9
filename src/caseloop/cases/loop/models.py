"""The problem-solving loop as data: each stage of a case is a first-class record.

Imported at the end of `cases.models` so these models belong to the cases app. Writes go
through the loop's stage modules (`caseloop.cases.loop.*`); nothing here has side effects.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from caseloop.accounts.models import STAFF_ROLES
from caseloop.cases.loop.policies import RuleError, alternatives_normalize, rule_validate
from caseloop.lib.money import desk_currency, money_format

__all__ = [
    "LoopSettings",
    "ProblemStatement",
    "Outcome",
    "Policy",
    "NeedsDecision",
    "PolicyCheck",
    "RemedyType",
    "AuthorityRule",
    "AuthorityCheck",
    "FactRequirement",
    "Fact",
    "CaseLink",
    "Alternative",
    "Plan",
    "PlanStep",
    "Consent",
    "Escalation",
    "Reminder",
    "FollowUp",
    "RepeatComplaint",
    "Lesson",
]

USER = settings.AUTH_USER_MODEL


class LoopSettings(models.Model):
    """Desk-wide timings of the loop, edited in the admin (one row; defaults when absent)."""

    followup_delay_hours = models.PositiveIntegerField(
        default=24, help_text="How long after a case is solved the customer is asked to confirm."
    )
    followup_answer_days = models.PositiveIntegerField(
        default=7, help_text="Days to wait for that answer before closing, recorded as such."
    )
    reminder_interval_hours = models.PositiveIntegerField(
        default=4, help_text="How often the owner of an escalated case is reminded."
    )
    link_max_age_days = models.PositiveIntegerField(
        default=14, help_text="How long signed links sent to customers stay valid."
    )

    class Meta:
        verbose_name = "loop settings"
        verbose_name_plural = "loop settings"

    def __str__(self) -> str:
        return "Loop settings"

    @classmethod
    def current(cls) -> LoopSettings:
        return cls.objects.order_by("pk").first() or cls()


class ProblemStatement(models.Model):
    """The customer's own words and the agent's paraphrase, which the customer may confirm."""

    class Confirmation(models.TextChoices):
        NOT_SENT = "not_sent", _("Not sent")
        SENT = "sent", _("Sent, awaiting answer")
        CONFIRMED = "confirmed", _("Confirmed")
        CORRECTED = "corrected", _("Corrected")

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, related_name="problem_statement"
    )
    customer_words = models.TextField(blank=True)
    source_message = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paraphrase = models.TextField(blank=True)
    paraphrased_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paraphrased_at = models.DateTimeField(null=True, blank=True)
    confirmation = models.CharField(
        max_length=12, choices=Confirmation.choices, default=Confirmation.NOT_SENT
    )
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_message = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    correction = models.TextField(blank=True)
    answer_channel = models.CharField(max_length=16, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Problem statement of case {self.case_id}"


class Outcome(models.TextChoices):
    """What a policy (or the agent) says about whether a case needs solving, and how."""

    IN_POLICY = "in_policy", _("In policy")
    OUT_OF_POLICY = "out_of_policy", _("Out of policy")
    NOT_OUR_RESPONSIBILITY = "not_our_responsibility", _("Not our responsibility")
    NOT_APPLICABLE = "not_applicable", _("Does not apply")
    UNDETERMINED = "undetermined", _("Cannot tell yet")
    NO_ACTION_WANTED = "no_action_wanted", _("Listened — no action wanted")


class Policy(models.Model):
    """An admin-defined rule. `rule` is a condition in a small JSON format (see
    `caseloop.cases.loop.policies`); when it holds the policy says `outcome_if_met`, when it
    does not, `outcome_if_not_met`. Explanations are templates filled with the facts used."""

    name = models.CharField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=100, help_text="Lower runs first.")
    applies_to = models.ManyToManyField(
        "cases.Category",
        blank=True,
        related_name="policies",
        help_text="Categories this policy applies to; none means every case.",
    )
    rule = models.JSONField(
        default=dict,
        help_text='e.g. {"kind": "purchase_age_max_days", "days": 30} or '
        '{"kind": "fact_equals", "key": "cause", "value": "water damage"}',
    )
    outcome_if_met = models.CharField(
        max_length=24, choices=Outcome.choices, default=Outcome.IN_POLICY
    )
    outcome_if_not_met = models.CharField(
        max_length=24, choices=Outcome.choices, default=Outcome.OUT_OF_POLICY
    )
    explanation_if_met = models.TextField(
        blank=True,
        help_text="Template, e.g. 'Order {order_id} bought {purchased_on}, {age_days} days ago; "
        "returns are accepted within {days} days.' Blank: a generated explanation.",
    )
    explanation_if_not_met = models.TextField(blank=True)
    alternatives = models.JSONField(
        default=list,
        blank=True,
        help_text="Alternatives proposed when this policy says no: a list of titles or "
        '{"title": …, "description": …} objects.',
    )

    class Meta:
        ordering = ["order", "name"]
        verbose_name_plural = "policies"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:

        try:
            rule_validate(self.rule)
        except RuleError as exc:
            raise ValidationError({"rule": str(exc)}) from exc
        try:
            alternatives_normalize(self.alternatives)
        except RuleError as exc:
            raise ValidationError({"alternatives": str(exc)}) from exc


class NeedsDecision(models.Model):
    """The answer to "does it need solving?": from a policy check, or recorded by the agent
    (e.g. the customer only wanted to be heard)."""

    class Source(models.TextChoices):
        POLICY_CHECK = "policy_check", _("Policy check")
        AGENT = "agent", _("Agent")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="needs_decisions")
    source = models.CharField(max_length=16, choices=Source.choices)
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    summary = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.outcome} on case {self.case_id}"


class PolicyCheck(models.Model):
    """One policy evaluated against one case, with the rule that applied and why."""

    decision = models.ForeignKey(NeedsDecision, on_delete=models.CASCADE, related_name="checks")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="policy_checks")
    policy = models.ForeignKey(
        Policy, null=True, blank=True, on_delete=models.SET_NULL, related_name="checks"
    )
    policy_name = models.CharField(max_length=200)
    outcome = models.CharField(max_length=24, choices=Outcome.choices)
    explanation = models.TextField()
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.policy_name}: {self.outcome}"


class RemedyType(models.Model):
    """What an agent can offer: refund, replacement, credit, repair, exception to policy…"""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    is_monetary = models.BooleanField(default=False)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AuthorityRule(models.Model):
    """One line of the authority matrix: who may grant a remedy, up to what amount."""

    remedy = models.ForeignKey(RemedyType, on_delete=models.CASCADE, related_name="rules")
    role = models.CharField(
        max_length=16,
        blank=True,
        help_text="agent, manager or admin; blank means any staff role.",
    )
    min_tier = models.PositiveSmallIntegerField(default=1)
    limit_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Highest amount this rule allows (inclusive); blank means no limit.",
    )
    currency = models.CharField(max_length=3, default=desk_currency)
    requires_category_skill = models.BooleanField(
        default=False,
        help_text="The agent must hold the case's category among their skills.",
    )

    class Meta:
        ordering = ["remedy", "min_tier", "limit_amount"]

    def __str__(self) -> str:
        limit = (
            f"≤ {money_format(self.limit_amount, self.currency)}"
            if self.limit_amount is not None
            else "any"
        )
        return f"{self.remedy}: {self.role or 'staff'} tier ≥ {self.min_tier}, {limit}"

    def clean(self) -> None:

        if self.role and self.role not in STAFF_ROLES:
            raise ValidationError({"role": "choose agent, manager, admin or leave blank"})
        if self.limit_amount is not None and self.limit_amount < Decimal("0"):
            raise ValidationError({"limit_amount": "a limit cannot be negative"})


class AuthorityCheck(models.Model):
    """A recorded answer to "can this agent grant this remedy here and now?"."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="authority_checks"
    )
    agent = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    remedy = models.ForeignKey(RemedyType, on_delete=models.CASCADE, related_name="+")
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    solve_now = models.BooleanField()
    reason = models.TextField()
    needed = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{'solve now' if self.solve_now else 'escalate'} on case {self.case_id}"

    @property
    def amount_text(self) -> str:
        return money_format(self.amount, self.currency) if self.amount is not None else ""


class FactRequirement(models.Model):
    """A fact to gather for cases of a category (or every case, when category is blank)."""

    category = models.ForeignKey(
        "cases.Category",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="fact_requirements",
    )
    key = models.SlugField(max_length=64)
    label = models.CharField(max_length=200)
    required_for_handoff = models.BooleanField(default=True)
    order = models.PositiveIntegerField(default=100)

    class Meta:
        ordering = ["order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["category", "key"], name="factrequirement_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.category or 'every case'})"


class Fact(models.Model):
    """One gathered fact. History is kept: the newest row for a key is its current value."""

    class Source(models.TextChoices):
        AGENT = "agent", _("Agent")
        CUSTOMER = "customer", _("Customer")
        PROFILE = "profile", _("Customer profile")
        RECORD = "record", _("Linked record")
        SYSTEM = "system", _("System")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="facts")
    key = models.SlugField(max_length=64)
    value = models.TextField()
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.AGENT)
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        indexes = [models.Index(fields=["case", "key", "id"], name="fact_case_key_id")]

    def __str__(self) -> str:
        return f"{self.key}={self.value}"


class CaseLink(models.Model):
    """A case's link to a record: a purchase, an earlier case, a knowledge article, a file."""

    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("Purchase")
        CASE = "case", _("Earlier case")
        ARTICLE = "article", _("Knowledge article")
        ATTACHMENT = "attachment", _("Attachment")
        URL = "url", _("Document (URL)")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="links")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    purchase = models.ForeignKey(
        "customers.PurchaseRecord",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    linked_case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attachment = models.ForeignKey(
        "cases.Attachment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    article_ref = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} link on case {self.case_id}"


SCORE = [MinValueValidator(1), MaxValueValidator(5)]

# The scales alternatives are weighed on, with what their ends mean: 5 is always the
# better end, so for cost 5 is the cheapest.
SCALES: dict[str, tuple[str, str]] = {
    "feasibility": ("Feasibility", "Can we do it? 1 = hardly possible for us, 5 = easy, now."),
    "cost": ("Cost", "What it costs us: 1 = the most expensive, 5 = the cheapest."),
    "impact": ("Impact", "How much it solves: 1 = barely helps, 5 = solves it fully."),
    "timeliness": ("Timeliness", "How soon: 1 = weeks away, 5 = at once."),
}


class Alternative(models.Model):
    """A candidate solution, weighed 1–5 on feasibility, cost (5 = cheapest), impact and
    timeliness (see SCALES); ranked by `caseloop.cases.loop.selectors.alternatives_ranked`.
    One the customer rejected cannot be chosen."""

    class Source(models.TextChoices):
        AGENT = "agent", _("Agent")
        POLICY = "policy", _("Policy")
        SIMILAR_CASE = "similar_case", _("Similar solved case")
        KNOWLEDGE = "knowledge", _("Knowledge base")

    class State(models.TextChoices):
        CONSIDERED = "considered", _("Considered")
        CHOSEN = "chosen", _("Chosen")
        TRIED = "tried", _("Tried, did not work")
        REJECTED = "rejected", _("Rejected")

    class Preference(models.TextChoices):
        UNKNOWN = "unknown", _("Not asked")
        PREFERRED = "preferred", _("Preferred")
        ACCEPTABLE = "acceptable", _("Acceptable")
        REJECTED = "rejected", _("Rejected")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="alternatives")
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.AGENT)
    source_ref = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.CONSIDERED)
    feasibility = models.PositiveSmallIntegerField(null=True, blank=True, validators=SCORE)
    cost = models.PositiveSmallIntegerField(null=True, blank=True, validators=SCORE)
    impact = models.PositiveSmallIntegerField(null=True, blank=True, validators=SCORE)
    timeliness = models.PositiveSmallIntegerField(null=True, blank=True, validators=SCORE)
    cost_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    # Blank: the desk's currency.
    currency = models.CharField(max_length=3, blank=True)
    customer_preference = models.CharField(
        max_length=12, choices=Preference.choices, default=Preference.UNKNOWN
    )
    preference_note = models.TextField(blank=True)
    chosen_reason = models.TextField(blank=True)
    chosen_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    chosen_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    # Not stored: set on the instances the loop's selectors rank.
    rank: int
    score: float | None

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.title


class Plan(models.Model):
    """What will be done, by when, and whether the customer agreed to it."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SHARED = "shared", _("Shared, awaiting consent")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        COUNTERED = "countered", _("Counter-proposal")
        DONE = "done", _("Done")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="plans")
    alternative = models.ForeignKey(
        Alternative, null=True, blank=True, on_delete=models.SET_NULL, related_name="plans"
    )
    summary = models.TextField()
    expected_timeline = models.CharField(max_length=300, blank=True)
    expected_by = models.DateTimeField(null=True, blank=True)
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    shared_at = models.DateTimeField(null=True, blank=True)
    shared_message = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Plan {self.pk} of case {self.case_id}"


class PlanStep(models.Model):
    class Status(models.TextChoices):
        TODO = "todo", _("To do")
        DOING = "doing", _("Doing")
        DONE = "done", _("Done")
        BLOCKED = "blocked", _("Blocked")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField(default=0)
    text = models.CharField(max_length=500)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.TODO)
    note = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.text


class Consent(models.Model):
    """The customer's answer to a plan: approved, declined or a counter-proposal."""

    class Decision(models.TextChoices):
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        COUNTER = "counter", _("Counter-proposal")

    class Channel(models.TextChoices):
        LINK = "link", _("Signed link")
        PORTAL = "portal", _("Portal")
        PHONE = "phone", _("Phone (recorded by agent)")
        EMAIL = "email", _("Email")
        CHAT = "chat", _("Chat")

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="consents")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.decision} via {self.channel}"


class Escalation(models.Model):
    """A hand-off to someone with the authority or expertise. The case's owner stays its
    owner; the solver becomes the assignee when they accept."""

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for the solver")
        ACCEPTED = "accepted", _("Accepted")
        RETURNED = "returned", _("Returned with a question")
        SOLVED = "solved", _("Solved by the solver")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="escalations")
    to_team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_user = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    owner = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    escalated_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField()
    remedy = models.ForeignKey(
        RemedyType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    package = models.JSONField(default=dict)
    solver = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    question = models.TextField(blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    solution = models.TextField(blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    customer_confirmed_at = models.DateTimeField(null=True, blank=True)
    reminders_stopped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["reminders_stopped_at", "id"], name="escalation_reminding"),
            # The inbox's "Escalated to me": escalations still waiting for a person or team.
            models.Index(fields=["state", "to_user"], name="escalation_waiting_user"),
            models.Index(fields=["state", "to_team"], name="escalation_waiting_team"),
        ]

    def __str__(self) -> str:
        return f"Escalation {self.pk} of case {self.case_id}"


class Reminder(models.Model):
    """A reminder to the owner of an escalated case, also written as an internal note."""

    escalation = models.ForeignKey(Escalation, on_delete=models.CASCADE, related_name="reminders")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    to_user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    text = models.TextField()
    note = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"Reminder on case {self.case_id} at {self.sent_at:%Y-%m-%d %H:%M}"


class FollowUp(models.Model):
    """After a case is solved: ask the customer to confirm; close, reopen, or close for no
    answer — always recorded."""

    class State(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        ASKED = "asked", _("Asked, awaiting answer")
        CONFIRMED = "confirmed", _("Customer confirmed solved")
        REOPENED = "reopened", _("Customer says not solved")
        CLOSED_NO_ANSWER = "closed_no_answer", _("Closed, no answer")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="followups")
    state = models.CharField(max_length=20, choices=State.choices, default=State.SCHEDULED)
    due_at = models.DateTimeField(db_index=True)
    asked_at = models.DateTimeField(null=True, blank=True)
    asked_message = models.ForeignKey(
        "cases.Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answer_by = models.DateTimeField(null=True, blank=True, db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    channel = models.CharField(max_length=16, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Follow-up {self.pk} of case {self.case_id}: {self.state}"

    @property
    def is_active(self) -> bool:
        return self.state in (self.State.SCHEDULED, self.State.ASKED)


class RepeatComplaint(models.Model):
    """A new case from a customer whose earlier complaint is still unresolved."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="repeat_of")
    earlier_case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="+")
    priority_before = models.CharField(max_length=10)
    priority_after = models.CharField(max_length=10)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "earlier_case"], name="repeat_unique_pair")
        ]

    def __str__(self) -> str:
        return f"Case {self.case_id} repeats {self.earlier_case_id}"


class Lesson(models.Model):
    """What a case taught; reviewed, and possibly turned into a prepared answer or article."""

    class State(models.TextChoices):
        OPEN = "open", _("Open")
        REVIEWED = "reviewed", _("Reviewed")
        CONVERTED = "converted", _("Converted")

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="lessons")
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    summary = models.TextField()
    needs_prepared_answer = models.BooleanField(default=False)
    needs_article = models.BooleanField(default=False)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "-id"], name="lesson_state_id")]

    def __str__(self) -> str:
        return f"Lesson from case {self.case_id}"
