"""Reads for the agent workspace: inbox queues with keyset pagination, the case timeline,
the customer sidebar and the manager's numbers. Every list is joined up front."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from itertools import chain
from urllib.parse import urlencode

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from caseloop.accounts.models import STAFF_ROLES, Team, User
from caseloop.automation.selectors import (
    CaseSlaState,
    case_sla_states,
    cases_sla_attention,
    sla_attention_page,
)
from caseloop.cases.models import OPEN_STATUSES, Case, CaseEvent, Escalation, Message, Status
from caseloop.cases.selectors import (
    CaseFilters,
    InvalidCursor,
    case_events,
    case_messages,
    case_page,
    case_search_is_text,
    case_visible_to,
    cases_filtered,
)
from caseloop.coach.selectors import coach_override_counts
from caseloop.customers.models import Customer, contact_points_for_display
from caseloop.insights.surveys import recovery_open_case_ids
from caseloop.knowledge.search import query_respelled
from caseloop.triage.selectors import case_triage
from caseloop.triage.services import NEEDS_REVIEW_TAG

from .models import SavedView

COUNT_CAP = 1000
# A row's SLA state, fetched with the row.
SLA_JOIN = ("sla", "sla__policy")


@dataclass(frozen=True)
class Queue:
    key: str
    label: str


BASE_QUEUES = [
    Queue("mine", "Mine"),
    Queue("team", "My teams"),
    Queue("unassigned", "Unassigned"),
    Queue("escalated", "Escalated to me"),
    Queue("waiting", "Waiting on me"),
    Queue("target", "Near or past target"),
    Queue("review", "Needs review"),
    Queue("all", "All cases"),
]
SORTS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "priority": "Highest priority first",
    "waiting": "Longest waiting first",
    # Only in the near-target queue, where it is the default: the most pressing SLA first.
    "urgency": "Most urgent first",
}


def queues_available() -> list[Queue]:
    """The queues this desk shows."""
    return list(BASE_QUEUES)


@dataclass(frozen=True)
class InboxParams:
    queue: str = "mine"
    status: str = ""
    priority: str = ""
    channel: str = ""
    team: str = ""
    category: str = ""
    tag: str = ""
    q: str = ""
    sort: str = "newest"

    @classmethod
    def from_query(cls, query) -> InboxParams:
        keys = [k for k in cls.__dataclass_fields__]
        values = {k: (query.get(k) or "").strip()[:200] for k in keys}
        if values["queue"] not in {q.key for q in BASE_QUEUES}:
            values["queue"] = "mine"
        if values["sort"] not in SORTS:
            values["sort"] = "urgency" if values["queue"] == "target" else "newest"
        elif values["sort"] == "urgency" and values["queue"] != "target":
            values["sort"] = "newest"
        return cls(**values)

    def filters(self) -> CaseFilters:
        return CaseFilters(
            status=self.status,
            priority=self.priority,
            channel=self.channel,
            team=self.team,
            category=self.category,
            tag=self.tag,
            q=self.q,
        )

    def query_string(self, **overrides) -> str:
        data = {**self.__dict__, **overrides}
        return urlencode({k: v for k, v in data.items() if v})


def queue_queryset(*, user, queue: str) -> QuerySet[Case]:
    """The cases of one queue, unordered and unjoined (callers add what they need)."""
    cases = Case.objects.all() if user.is_agent_like else case_visible_to(user=user)
    is_open = Q(status__in=OPEN_STATUSES)
    if queue == "mine":
        return cases.filter(is_open, owner=user)
    if queue == "team":
        team_ids = list(user.teams.values_list("id", flat=True))
        return cases.filter(is_open, team_id__in=team_ids)
    if queue == "unassigned":
        return cases.filter(is_open, owner__isnull=True)
    if queue == "escalated":
        # Accepted escalations (the solver is the assignee) and those still waiting for
        # the user or one of their teams to take them.
        waiting = Escalation.objects.filter(state=Escalation.State.OPEN).filter(
            Q(to_user=user) | Q(to_team__in=user.teams.values("pk"))
        )
        return cases.filter(
            is_open, Q(assignee=user) | Q(pk__in=waiting.values("case_id"))
        ).exclude(owner=user)
    if queue == "review":
        return cases.filter(is_open, tags__name=NEEDS_REVIEW_TAG)
    if queue == "target":
        return cases_sla_attention(cases.filter(is_open))
    if queue == "waiting":
        internal = Q(status=Status.PENDING_INTERNAL, assignee=user)
        # The customer awaits the owner's reply (an automatic acknowledgement is none).
        replied = Q(
            owner=user,
            status__in=[Status.NEW, Status.OPEN],
            awaiting_reply_since__isnull=False,
        )
        # A low survey score leaves the owner a recovery to do, whatever the case's status.
        recovery = Q(owner=user, pk__in=recovery_open_case_ids())
        return cases.filter(
            ((Q(owner=user) | Q(assignee=user)) & is_open & (internal | replied)) | recovery
        )
    return cases


def inbox_searches_all(params: InboxParams) -> bool:
    """A search looks through every case the user may see, whatever the queue: a case's
    reference must be found wherever it sits, and words are looked for desk-wide."""
    return bool(params.q)


def _filtered(*, user, params: InboxParams) -> QuerySet[Case]:
    """The queue's cases narrowed by the filters; a search runs over all cases instead of
    the queue. A reference or id finds its case whatever the other filters say."""
    if not inbox_searches_all(params):
        return cases_filtered(queue_queryset(user=user, queue=params.queue), params.filters())
    cases = queue_queryset(user=user, queue="all")
    if not case_search_is_text(params.q):
        return cases_filtered(cases, CaseFilters(q=params.q))
    return cases_filtered(cases, params.filters())


@dataclass
class InboxPage:
    cases: list[Case]
    next_cursor: str | None
    # Set when nothing matched the search as typed and a respelt search is shown instead.
    corrected_query: str = ""
    # A search looked through all cases rather than the queue.
    searched_all: bool = False


def inbox_page(*, user, params: InboxParams, cursor: str = "", limit: int = 50) -> InboxPage:
    """One page of a queue, keyset-paginated (stable while new cases arrive): on id, or on
    the SLA's due time in the near-target queue's most-urgent order. A search looks
    through all cases the user may see, not only the queue. When a text search finds
    nothing, misspelt words are corrected to the knowledge base's vocabulary and the search
    runs once more."""
    page = _inbox_page(user=user, params=params, cursor=cursor, limit=limit)
    if page.cases or cursor or not case_search_is_text(params.q):
        return page
    corrected = query_respelled(params.q)
    if not corrected:
        return page
    page = _inbox_page(user=user, params=replace(params, q=corrected), cursor="", limit=limit)
    page.corrected_query = corrected
    return page


def _inbox_page(*, user, params: InboxParams, cursor: str, limit: int) -> InboxPage:
    cases = _filtered(user=user, params=params)
    # Each row shows its SLA state (automation's `case_sla_states`), joined here.
    cases = cases.select_related("customer", "owner", "assignee", "team", "category", *SLA_JOIN)
    # A customer known only by an address is shown by it, read here for the whole page.
    cases = cases.prefetch_related("tags", contact_points_for_display("customer__contact_points"))
    try:
        rows, next_cursor = _page(cases, params=params, cursor=cursor, limit=limit)
    except InvalidCursor:
        # A cursor from an older link: start the queue from its first page.
        rows, next_cursor = _page(cases, params=params, cursor="", limit=limit)
    return InboxPage(cases=rows, next_cursor=next_cursor, searched_all=inbox_searches_all(params))


def _page(
    cases: QuerySet[Case], *, params: InboxParams, cursor: str, limit: int
) -> tuple[list[Case], str | None]:
    sort = params.sort
    if sort == "urgency":
        if not inbox_searches_all(params):
            return sla_attention_page(cases, cursor=cursor, limit=limit)
        # A search leaves the near-target queue, and with it the queue's own order.
        sort = "newest"
    priorities = params.priority.split(",") if params.priority else None
    return case_page(cases, sort=sort, cursor=cursor, limit=limit, priorities=priorities)


def inbox_row(*, user, params: InboxParams, case_id: int) -> Case | None:
    """The case as a row of this queue, or None when it does not belong there."""
    cases = _filtered(user=user, params=params)
    return (
        cases.select_related("customer", "owner", "assignee", "team", "category", *SLA_JOIN)
        .prefetch_related("tags", contact_points_for_display("customer__contact_points"))
        .filter(pk=case_id)
        .first()
    )


def queue_counts(*, user) -> dict[str, int]:
    """Open cases per queue, each count capped so a huge desk stays fast (shown as 1000+)."""
    counts = {}
    for queue in queues_available():
        if queue.key in ("all", "target"):
            continue
        counts[queue.key] = (
            queue_queryset(user=user, queue=queue.key).order_by().values("id")[:COUNT_CAP].count()
        )
    return counts


def saved_views_of(*, user) -> list[SavedView]:
    return list(SavedView.objects.filter(user=user).order_by("name"))


def agents_list() -> list[User]:
    return list(User.objects.filter(role__in=STAFF_ROLES, is_active=True).order_by("username"))


# -- the case page ----------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineItem:
    kind: str  # "message" or "event"
    at: object
    message: Message | None = None
    event: CaseEvent | None = None


def case_timeline(*, case: Case, user) -> list[TimelineItem]:
    """Messages (all channels) and events in one chronological list. Message events are
    left out: the message itself stands for them. Customers never get events or notes."""
    messages = [
        TimelineItem("message", m.created_at, message=m)
        for m in case_messages(case=case, user=user)
    ]
    if not user.is_agent_like:
        return messages
    events = [
        TimelineItem("event", e.created_at, event=e)
        for e in case_events(case=case).exclude(kind=CaseEvent.Kind.MESSAGE_ADDED)
    ]
    return sorted(chain(messages, events), key=lambda item: (item.at, item.kind != "message"))


def customer_sidebar(*, case: Case) -> dict:
    """The customer's profile, contact points, purchases and earlier cases (with complaints
    marked), plus the sentiment trend when triage provides one."""
    customer = (
        Customer.objects.select_related("organization")
        .prefetch_related("contact_points")
        .get(pk=case.customer_id)
    )
    earlier = list(
        Case.objects.filter(customer_id=customer.pk)
        .exclude(pk=case.pk)
        .annotate(
            is_complaint_tag=Exists(
                Case.tags.through.objects.filter(case_id=OuterRef("pk"), tag__name="complaint")
            )
        )
        .order_by("-id")[:10]
    )
    purchases = list(customer.purchases.order_by("-purchased_at")[:5])
    sentiment = case_triage(case=case)
    return {
        "customer": customer,
        "contact_points": list(customer.contact_points.all()),
        "purchases": purchases,
        "earlier": earlier,
        # is_complaint_tag is annotated on the query above; the stubs lose it through list().
        "complaints": sum(bool(c.is_complaint_tag) for c in earlier),  # type: ignore[attr-defined]
        "triage": sentiment,
    }


# -- the manager's view -----------------------------------------------------------------


def team_health() -> list[dict]:
    """Per team: new, open and pending cases and the oldest customer still waiting."""
    rows = (
        Case.objects.open()
        .values("team_id")
        .annotate(
            # Counting a column of the case_queue_counts index (not the id) lets PostgreSQL
            # count from the index alone.
            new=Count("status", filter=Q(status=Status.NEW)),
            open=Count("status", filter=Q(status=Status.OPEN)),
            pending=Count(
                "status", filter=Q(status__in=[Status.PENDING_CUSTOMER, Status.PENDING_INTERNAL])
            ),
            oldest_waiting=Min("awaiting_reply_since"),
        )
        .order_by("team_id")
    )
    names = dict(Team.objects.values_list("id", "name"))
    now = timezone.now()
    return [
        {
            **row,
            "team": names.get(row["team_id"], "No team"),
            "waiting_for": (now - row["oldest_waiting"]) if row["oldest_waiting"] else None,
        }
        for row in rows
    ]


def agent_load() -> list[dict]:
    """Open cases each agent owns and is assigned."""
    # One pass over the open cases (read from the case_queue_counts index), counted per
    # owner and assignee pair, then summed each way.
    owned: dict[int, int] = {}
    assigned: dict[int, int] = {}
    for owner_id, assignee_id, n in (
        Case.objects.filter(status__in=OPEN_STATUSES)
        .values("owner_id", "assignee_id")
        .annotate(n=Count("*"))
        .values_list("owner_id", "assignee_id", "n")
    ):
        if owner_id is not None:
            owned[owner_id] = owned.get(owner_id, 0) + n
        if assignee_id is not None:
            assigned[assignee_id] = assigned.get(assignee_id, 0) + n
    return [
        {
            "agent": agent,
            "owned": owned.get(agent.pk, 0),
            "assigned": assigned.get(agent.pk, 0),
        }
        for agent in agents_list()
    ]


def escalations_waiting() -> list[dict] | None:
    """Escalations the solver has not solved yet, oldest first, with how long each has
    waited; None when the desk has no escalations."""
    pending = (
        Escalation.objects.filter(
            state__in=["open", "accepted", "returned"], case__status__in=OPEN_STATUSES
        )
        .select_related("case", "to_team", "to_user", "owner")
        .order_by("created_at")[:50]
    )
    now = timezone.now()
    return [{"escalation": e, "waiting": now - e.created_at} for e in pending]


def cases_near_target(*, limit: int = 20) -> list[tuple[Case, CaseSlaState]]:
    """Open cases with an SLA target in warning or breached, most urgent first (the
    near-target queue's first page), each with its SLA state: the target that puts it
    there and the time left or overdue."""
    now = timezone.now()
    cases = cases_sla_attention(Case.objects.open(), now=now).select_related(*SLA_JOIN)
    rows, _next = sla_attention_page(cases, limit=limit)
    states = case_sla_states(cases=rows, now=now)
    return [(case, states[case.pk]) for case in rows if case.pk in states]


def coach_overrides_recent(*, days: int = 30) -> dict:
    return coach_override_counts(since=timezone.now() - timedelta(days=days))
