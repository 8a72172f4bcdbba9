from __future__ import annotations

from django.db import models


class CaseFact(models.Model):
    """What one case contributes to the reports, recomputed from its event log whenever
    new events arrive. Reports never read the history itself: they sum `DailyRollup`
    rows, and a drill-down lists the facts behind a figure."""

    case = models.OneToOneField(
        "cases.Case", primary_key=True, on_delete=models.CASCADE, related_name="fact"
    )
    reference = models.CharField(max_length=20, blank=True)
    # The slices, as the case stands now (a reassigned case moves to its new owner).
    team_id = models.BigIntegerField(null=True)
    owner_id = models.BigIntegerField(null=True)
    solver_id = models.BigIntegerField(null=True)
    category_id = models.BigIntegerField(null=True)
    organization_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=16)
    priority = models.CharField(max_length=10)
    status = models.CharField(max_length=20)
    created_at = models.DateTimeField()
    created_day = models.DateField()
    first_response_at = models.DateTimeField(null=True)
    first_response_day = models.DateField(null=True)
    first_response_seconds = models.PositiveIntegerField(null=True)
    next_reply_count = models.PositiveIntegerField(default=0)
    solved_at = models.DateTimeField(null=True)
    solved_day = models.DateField(null=True)
    resolution_seconds = models.PositiveIntegerField(null=True)
    agent_replies = models.PositiveIntegerField(default=0)
    reopens = models.PositiveIntegerField(default=0)
    escalated = models.BooleanField(default=False)
    fcr = models.BooleanField(default=False)
    handling_seconds = models.PositiveIntegerField(default=0)
    sla_breaches = models.JSONField(default=list, blank=True)
    rating = models.PositiveSmallIntegerField(null=True)
    rated_day = models.DateField(null=True)
    nps = models.PositiveSmallIntegerField(null=True)
    nps_day = models.DateField(null=True)
    problem_answer = models.CharField(max_length=16, blank=True)
    handoffs_refused = models.PositiveIntegerField(default=0)
    plan_decision = models.CharField(max_length=16, blank=True)
    followup_answer = models.CharField(max_length=16, blank=True)
    # What was last added to the rollups for this case: [[day, {counter: n}, {hist: {bucket: n}}]].
    contributions = models.JSONField(default=list, blank=True)
    last_event_id = models.BigIntegerField(default=0)
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        # A drill-down lists a period's facts newest first by the figure's own day: each
        # index ends on the case so a page is read straight off it, without a sort.
        indexes = [
            models.Index(fields=["created_day", "case"], name="casefact_created_day_case"),
            models.Index(
                fields=["first_response_day", "case"], name="casefact_first_response_case"
            ),
            models.Index(fields=["solved_day", "case"], name="casefact_solved_day_case"),
            models.Index(fields=["rated_day", "case"], name="casefact_rated_day_case"),
            models.Index(fields=["nps_day", "case"], name="casefact_nps_day_case"),
        ]

    def __str__(self) -> str:
        return f"facts of {self.reference or self.case_id}"


class DailyRollup(models.Model):
    """The sum of every case's contributions for one day and one slice (dimension + key;
    the dimension "all" has the key ""). Counters and time histograms are JSON so a new
    measure needs no migration; a report over a year reads at most 366 rows a slice."""

    day = models.DateField()
    dimension = models.CharField(max_length=16)
    key = models.CharField(max_length=64, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    hists = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dimension", "key", "day"], name="dailyrollup_one_row_per_slice_day"
            )
        ]
        indexes = [models.Index(fields=["dimension", "day"], name="dailyrollup_dimension_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.dimension}={self.key}"


class MetricsCursor(models.Model):
    """How far the rollups have read the event log. One row; locking it makes the
    catch-up a single writer."""

    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"metrics read up to event {self.last_event_id}"
