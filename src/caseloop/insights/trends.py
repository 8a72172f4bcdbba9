"""Trend alerts: spikes of new cases spotted before customers complain about them.

Every hour the last WINDOW of new cases is cut into slices — by category, by product, by
keyword and by mood — and each slice is compared with a seasonal baseline: the same hours
of the week over the BASELINE_WEEKS weeks before (Monday morning against Monday mornings,
so a desk that is always busy on Mondays is not told so every Monday). A slice well above
its baseline raises one alert a day for the managers, in the desk and by email, saying
what changed and holding the cases. A manager acknowledges it, dismisses it, or opens a
recurring problem from its cases.

Where the slices come from:
- category: the case's category as it stands now (set by triage or an agent);
- product: the purchase the case is about, in the loop's own order of preference
  (`cases.loop.selectors.purchase_for_case`): the order named in the case's `order_id`
  fact, else the purchase linked to the case, else the customer's most recent purchase —
  here only one made in the PRODUCT_RECENT days before the window, since an old purchase
  says nothing about why a customer writes today;
- keyword: the words and two-word terms of the subject and first inbound message, stop
  words left out, counted once per case;
- mood: triage's reading of the first inbound message (`MessageMood.label`); only the
  moods worth a manager's attention (WATCHED_MOODS) are watched. A case triage has not
  read yet has no mood and is left out of this slice until it has one.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Trim
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_noop

from caseloop.accounts.models import Role, User
from caseloop.cases import outbox
from caseloop.cases.loop.models import CaseLink, Fact
from caseloop.cases.models import Case, Category, Message
from caseloop.customers.models import PurchaseRecord
from caseloop.lib.errors import DomainError, ErrorKind
from caseloop.lib.language import language_override
from caseloop.triage.learning import case_text
from caseloop.triage.models import MessageMood

from .models import Problem, ProblemStatus, TrendAlert
from .problems import problem_create, require_manager

D = TrendAlert.Dimension

WINDOW = timedelta(hours=24)
BASELINE_WEEKS = 4
# The rule (see `_expected_if_spike`): at least MIN_COUNT cases from MIN_CUSTOMERS
# customers, SIGMAS standard deviations above the baseline and MIN_RATIO times it.
MIN_COUNT = 5
MIN_CUSTOMERS = 3
SIGMAS = 3.0
MIN_RATIO = 2.0
PRODUCT_RECENT = timedelta(days=90)
WATCHED_MOODS = ("distressed", "upset", "negative")
# At most this many keyword alerts a run, and a keyword whose cases are mostly those of a
# keyword already chosen (the same burst seen through another word) is left out.
KEYWORD_ALERTS_MAX = 5
KEYWORD_OVERLAP = 0.5
KEYWORD_MAX_WORDS = 2
# A term already in this share of the weeks' cases ("order", the shop's name) says nothing.
KEYWORD_COMMON = 0.3
# Words and terms of a customer's first message, from the letters up (not order numbers).
KEYWORD_TOKENS = r"(?u)\b[^\W\d_][^\W_]{2,}\b"
# Besides English stop words: what every message says, and the calendar (a month's name
# always "appears" on the first of the month).
_DESK_WORDS = """
    hello hi hey dear thanks thank regards kind best cheers sir madam team please help hope
    would could like just get got know need want today yesterday tomorrow week month year
    day morning afternoon evening january february march april may june july august
    september october november december monday tuesday wednesday thursday friday saturday
    sunday
"""
DESK_STOP_WORDS = frozenset(_DESK_WORDS.split())
# The cases an alert keeps (newest first), and the most an email lists.
CASES_KEPT = 200
EMAIL_CASES = 20
# The most cases read per window; a desk busier than this in a day is still compared
# on the same footing (the cap applies to the baseline windows too).
MAX_CASES = 10_000

NOTIFY_EFFECT = "insights.trend_alert_notify"


class TrendError(DomainError):
    code = "trend_error"
    kind = ErrorKind.INVALID


class TrendConflict(TrendError):
    code = "trend_conflict"
    kind = ErrorKind.CONFLICT


# --- the rule -----------------------------------------------------------------------------


def _expected_if_spike(
    count: int,
    customers: int,
    weekly: list[int],
    *,
    total: int = 0,
    weekly_totals: Sequence[int] = (),
) -> float | None:
    """What the baseline expected, when `count` cases from `customers` customers are a
    spike against the counts of the same window in the weeks before; None when not.

    New cases of a slice arrive roughly as a Poisson process, so in a window they vary
    around the weekly mean λ with a standard deviation of √λ; a count above λ + 3√λ
    happens by chance in about one window in a few hundred. Real desks vary more than
    Poisson (a campaign, a holiday week), so the spread is the larger of λ and the weeks'
    own variance. Two guards: for a quiet slice (λ near 0) the normal reading of Poisson
    is poor and a handful of cases would do, hence MIN_COUNT (and MIN_CUSTOMERS, so one
    customer writing five times is not a trend); for a busy slice 3√λ is a small share of
    λ and an ordinary busy day would do, hence MIN_RATIO.

    A busier day for the whole desk raises every slice with it, so the slice must also
    stand out of the day's mix: MIN_RATIO times what the rest of the window's cases (the
    `total` less the slice's) predict, at the ratio the weeks before had between the slice
    and the rest (when the weeks before had a rest at all)."""
    if count < MIN_COUNT or customers < MIN_CUSTOMERS:
        return None
    expected = statistics.fmean(weekly) if weekly else 0.0
    variance = statistics.variance(weekly) if len(weekly) > 1 else 0.0
    spread = max(expected, variance)
    if count < expected + SIGMAS * math.sqrt(spread) or count < MIN_RATIO * expected:
        return None
    rest_before = sum(weekly_totals) - sum(weekly)
    if rest_before > 0 and count < MIN_RATIO * sum(weekly) * (total - count) / rest_before:
        return None
    return expected


def _number(value: float) -> str:
    if value >= 10 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.1f}"


def trend_summary(*, dimension: str, label: str, count: int, expected: float) -> str:
    """What changed, in words: `Category “Card payment declined”: 42 new cases in the last
    24 h; usually 8 (5.2×)`."""
    hours = int(WINDOW.total_seconds() // 3600)
    head = f"{D(dimension).label} “{label}”: {count} new case{'s' if count != 1 else ''}"
    if expected <= 0:
        usual = "usually none"
    elif expected < 0.5:
        usual = "usually fewer than 1"
    else:
        usual = f"usually {_number(expected)} ({count / expected:.1f}×)"
    return f"{head} in the last {hours} h; {usual}."[:500]


# --- the cases of a window ----------------------------------------------------------------


@dataclass(frozen=True)
class _Row:
    case_id: int
    customer_id: int
    category_id: int | None
    product: str
    mood: str
    text: str


def _rows(start: datetime, end: datetime) -> list[_Row]:
    """The cases created in [start, end), newest first, with their slices."""
    first_inbound = Message.objects.filter(
        case=OuterRef("pk"), direction=Message.Direction.INBOUND
    ).order_by("created_at", "id")
    newest_purchase = ("-purchased_at", "-id")
    cases = (
        Case.objects.filter(created_at__gte=start, created_at__lt=end)
        .annotate(
            first_id=Subquery(first_inbound.values("id")[:1]),
            first_text=Subquery(first_inbound.values("text")[:1]),
            order_named=Trim(
                Subquery(
                    Fact.objects.filter(case=OuterRef("pk"), key="order_id")
                    .order_by("-id")
                    .values("value")[:1]
                )
            ),
        )
        .annotate(
            mood_label=Subquery(
                MessageMood.objects.filter(message_id=OuterRef("first_id")).values("label")[:1]
            ),
            product=Coalesce(
                Subquery(
                    PurchaseRecord.objects.filter(
                        customer_id=OuterRef("customer_id"), order_id=OuterRef("order_named")
                    )
                    .order_by(*newest_purchase)
                    .values("product")[:1]
                ),
                Subquery(
                    CaseLink.objects.filter(
                        case=OuterRef("pk"), kind=CaseLink.Kind.PURCHASE, purchase__isnull=False
                    )
                    .order_by("-id")
                    .values("purchase__product")[:1]
                ),
                Subquery(
                    PurchaseRecord.objects.filter(
                        customer_id=OuterRef("customer_id"),
                        purchased_at__gte=start - PRODUCT_RECENT,
                        purchased_at__lte=OuterRef("created_at"),
                    )
                    .order_by(*newest_purchase)
                    .values("product")[:1]
                ),
            ),
        )
        .order_by("-created_at", "-id")
        .values_list(
            "pk", "customer_id", "category_id", "product", "mood_label", "subject", "first_text"
        )[:MAX_CASES]
    )
    return [
        _Row(
            case_id=pk,
            customer_id=customer_id,
            category_id=category_id,
            product=(product or "").strip(),
            mood=mood or "",
            text=case_text(subject=subject, first_message=text or ""),
        )
        for pk, customer_id, category_id, product, mood, subject, text in cases
    ]


# --- detection ----------------------------------------------------------------------------


@dataclass
class _Spike:
    dimension: str
    key: str
    label: str
    rows: list[_Row]
    weekly: list[int]
    expected: float = 0.0

    @property
    def count(self) -> int:
        return len(self.rows)


def _customers(rows: Iterable[_Row]) -> int:
    return len({row.customer_id for row in rows})


def _slice_spikes(
    dimension: str,
    recent: list[_Row],
    weeks: list[list[_Row]],
    key_of: Callable[[_Row], str],
    label_of: Callable[[list[str]], dict[str, str]],
) -> list[_Spike]:
    groups: dict[str, list[_Row]] = {}
    for row in recent:
        key = key_of(row)
        if key:
            groups.setdefault(key, []).append(row)
    weekly = [Counter(key_of(row) for row in week) for week in weeks]
    candidates = [
        _Spike(dimension, key, "", rows, [week[key] for week in weekly])
        for key, rows in groups.items()
        if len(rows) >= MIN_COUNT
    ]
    spikes = []
    for spike in candidates:
        expected = _expected_if_spike(
            spike.count,
            _customers(spike.rows),
            spike.weekly,
            total=len(recent),
            weekly_totals=[len(week) for week in weeks],
        )
        if expected is not None:
            spike.expected = expected
            spikes.append(spike)
    labels = label_of([spike.key for spike in spikes])
    for spike in spikes:
        spike.label = labels.get(spike.key, spike.key)[:200]
    return spikes


def _category_labels(keys: list[str]) -> dict[str, str]:
    names = Category.objects.filter(pk__in=[int(key) for key in keys]).values_list("pk", "name")
    return {str(pk): name for pk, name in names}


def _as_is(keys: list[str]) -> dict[str, str]:
    return {key: key for key in keys}


def _keyword_spikes(recent: list[_Row], weeks: list[list[_Row]], known: set[str]) -> list[_Spike]:
    """Terms that suddenly appear in far more new cases than in the weeks before; one term
    per burst (the one seen before today, else the one most above its baseline)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    vectorizer = CountVectorizer(
        binary=True,
        strip_accents="unicode",
        stop_words=sorted(ENGLISH_STOP_WORDS | DESK_STOP_WORDS),
        token_pattern=KEYWORD_TOKENS,
        ngram_range=(1, KEYWORD_MAX_WORDS),
        min_df=MIN_COUNT,
    )
    try:
        matrix = vectorizer.fit_transform([row.text for row in recent]).tocsc()
    except ValueError:  # no term in MIN_COUNT cases
        return []
    terms = vectorizer.get_feature_names_out()
    weekly = [
        np.asarray(vectorizer.transform([row.text for row in week]).sum(axis=0)).ravel()
        if week
        else np.zeros(len(terms))
        for week in weeks
    ]
    found: list[_Spike] = []
    cases_before = sum(len(week) for week in weeks)
    for j, term in enumerate(terms):
        rows = [recent[i] for i in matrix[:, j].nonzero()[0]]
        counts = [int(week[j]) for week in weekly]
        if cases_before and sum(counts) > KEYWORD_COMMON * cases_before:
            continue
        expected = _expected_if_spike(
            len(rows),
            _customers(rows),
            counts,
            total=len(recent),
            weekly_totals=[len(week) for week in weeks],
        )
        if expected is not None:
            found.append(
                _Spike(D.KEYWORD, str(term)[:200], str(term)[:200], rows, counts, expected)
            )
    found.sort(
        key=lambda s: (s.key not in known, -(s.count - s.expected), -s.key.count(" "), s.key)
    )
    chosen: list[_Spike] = []
    chosen_ids: list[set[int]] = []
    for spike in found:
        ids = {row.case_id for row in spike.rows}
        if any(
            len(ids & other) > KEYWORD_OVERLAP * min(len(ids), len(other)) for other in chosen_ids
        ):
            continue
        chosen.append(spike)
        chosen_ids.append(ids)
        if len(chosen) == KEYWORD_ALERTS_MAX:
            break
    return chosen


def trends_detect(*, now: datetime | None = None) -> list[TrendAlert]:
    """Compare the last WINDOW of new cases with the same hours of the week over the
    BASELINE_WEEKS weeks before, slice by slice, and raise (or bring up to date) one alert
    a slice a day for each spike. A spike still running from yesterday's alert, with too
    few new cases to be a spike of its own, brings yesterday's alert up to date instead of
    raising a second one. Safe to run again and concurrently (an upsert on the alert's
    slice and day; the email is recorded once an alert).
    Side effects: the alerts; for each new one, an email to the managers and admins
    (through the outbox, in the alert's transaction)."""
    # Local wall-clock weeks: a Monday 09:00 stays a Monday 09:00 across a change of
    # daylight saving time.
    end = timezone.localtime(now or timezone.now())
    start = end - WINDOW
    recent = _rows(start, end)
    if len(recent) < MIN_COUNT:
        return []
    weeks = [
        _rows(start - timedelta(weeks=i), end - timedelta(weeks=i))
        for i in range(1, BASELINE_WEEKS + 1)
    ]
    day = end.date()
    existing = {
        (alert.dimension, alert.key, alert.day): alert
        for alert in TrendAlert.objects.filter(day__in=[day, day - timedelta(days=1)])
    }
    known_today = {key for dimension, key, d in existing if dimension == D.KEYWORD and d == day}
    spikes = [
        *_slice_spikes(
            D.CATEGORY,
            recent,
            weeks,
            lambda row: str(row.category_id or ""),
            _category_labels,
        ),
        *_slice_spikes(D.PRODUCT, recent, weeks, lambda row: row.product[:200], _as_is),
        *_slice_spikes(
            D.MOOD,
            recent,
            weeks,
            lambda row: row.mood if row.mood in WATCHED_MOODS else "",
            _as_is,
        ),
        *_keyword_spikes(recent, weeks, known_today),
    ]
    alerts = []
    for spike in spikes:
        yesterday = existing.get((spike.dimension, spike.key, day - timedelta(days=1)))
        if (
            (spike.dimension, spike.key, day) not in existing
            and yesterday is not None
            and yesterday.window_end > start
        ):
            seen = set(yesterday.case_ids)
            fresh = [row for row in spike.rows if row.case_id not in seen]
            if _expected_if_spike(len(fresh), _customers(fresh), spike.weekly) is None:
                alerts.append(_alert_refresh(alert=yesterday, spike=spike, start=start, end=end))
                continue
        alerts.append(_alert_upsert(spike=spike, day=day, start=start, end=end))
    return alerts


def _alert_fields(spike: _Spike, start: datetime, end: datetime) -> dict[str, Any]:
    return {
        "label": spike.label,
        "window_start": start,
        "window_end": end,
        "count": spike.count,
        "expected": round(spike.expected, 3),
        "case_ids": [row.case_id for row in spike.rows[:CASES_KEPT]],
        "summary": trend_summary(
            dimension=spike.dimension, label=spike.label, count=spike.count, expected=spike.expected
        ),
    }


@transaction.atomic
def _alert_upsert(*, spike: _Spike, day: date, start: datetime, end: datetime) -> TrendAlert:
    """The slice's alert of the day, created or brought up to date in one statement (two
    runs at once cannot both create it); the email is recorded under the alert's id, so
    only once however often this runs."""
    fields = _alert_fields(spike, start, end)
    TrendAlert.objects.bulk_create(
        [TrendAlert(dimension=spike.dimension, key=spike.key, day=day, **fields)],
        update_conflicts=True,
        unique_fields=["dimension", "key", "day"],
        update_fields=list(fields),
    )
    alert = TrendAlert.objects.get(dimension=spike.dimension, key=spike.key, day=day)
    outbox.effect_record(
        kind=NOTIFY_EFFECT, payload={"alert": alert.pk}, key=f"{NOTIFY_EFFECT}:{alert.pk}"
    )
    return alert


def _alert_refresh(
    *, alert: TrendAlert, spike: _Spike, start: datetime, end: datetime
) -> TrendAlert:
    fields = _alert_fields(spike, start, end)
    TrendAlert.objects.filter(pk=alert.pk).update(**fields)
    for name, value in fields.items():
        setattr(alert, name, value)
    return alert


# --- the email ----------------------------------------------------------------------------


def _manager_languages() -> dict[str, str]:
    """Every active manager's and admin's address, each once, with its person's language."""
    languages: dict[str, str] = {}
    for address, language in (
        User.objects.filter(role__in=[Role.MANAGER, Role.ADMIN], is_active=True)
        .exclude(email="")
        .order_by("email", "id")
        .values_list("email", "language")
    ):
        languages.setdefault(address, language)
    return languages


# What each dimension is called within a sentence ("Trend: category “Billing”").
_DIMENSION_WORDS: dict[str, str] = {
    D.CATEGORY: gettext_noop("category"),
    D.PRODUCT: gettext_noop("product"),
    D.KEYWORD: gettext_noop("keyword"),
    D.MOOD: gettext_noop("mood"),
}


def _dimension_word(dimension: str) -> str:
    word = _DIMENSION_WORDS.get(dimension)
    return _(word) if word else str(D(dimension).label).lower()


def _trend_email(alert: TrendAlert, cases: dict[int, Case], address: str) -> EmailMessage:
    """The email about `alert` to `address`, in the active language."""
    site = settings.SITE_URL
    lines = [
        alert.summary,
        _("Compared with the same %(hours)s hours of the week over the %(weeks)s weeks before.")
        % {"hours": int(WINDOW.total_seconds() // 3600), "weeks": BASELINE_WEEKS},
        "",
        _("The cases:")
        if alert.count <= EMAIL_CASES
        else _("The newest %(count)s cases:") % {"count": EMAIL_CASES},
    ]
    for case_id in alert.case_ids[:EMAIL_CASES]:
        case = cases.get(case_id)
        if case is not None:
            lines.append(f"- {case.reference} {case.subject}")
            lines.append(f"  {site}{reverse('web:case', args=[case.pk])}")
    lines += [
        "",
        _("Acknowledge, dismiss or open a problem: %(url)s")
        % {"url": f"{site}{reverse('web:trends')}"},
    ]
    return EmailMessage(
        subject=_("Trend: %(dimension)s “%(label)s”, %(count)s new cases")
        % {
            "dimension": _dimension_word(alert.dimension),
            "label": alert.label,
            "count": alert.count,
        },
        body="\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
    )


def trend_alert_notify(payload: dict[str, Any]) -> None:
    """Outbox handler: email every active manager and admin with an address what changed
    and the cases behind it, each in their own language, then mark the alert emailed.
    Skipped when already emailed or dismissed in the meantime; carried out at least once (a
    crash between sending and marking it done sends again). Side effects: the emails;
    `emailed_at`."""
    alert = TrendAlert.objects.filter(pk=payload["alert"]).first()
    if alert is None or alert.emailed_at is not None or alert.state == TrendAlert.State.DISMISSED:
        return
    recipients = _manager_languages()
    if not recipients:
        return
    cases = Case.objects.in_bulk(alert.case_ids[:EMAIL_CASES])
    messages = []
    for address in sorted(recipients):
        with language_override(recipients[address]):
            messages.append(_trend_email(alert, cases, address))
    get_connection(fail_silently=False).send_messages(messages)
    TrendAlert.objects.filter(pk=alert.pk).update(emailed_at=timezone.now())


outbox.effect_type_register(NOTIFY_EFFECT, trend_alert_notify)


# --- what managers do with an alert -------------------------------------------------------


def _locked(alert: TrendAlert) -> TrendAlert:
    return TrendAlert.objects.select_for_update().get(pk=alert.pk)


def _handled(alert: TrendAlert, *, state: str, actor: User) -> None:
    alert.state = state
    alert.handled_by = actor
    alert.handled_at = timezone.now()
    alert.save(update_fields=["state", "handled_by", "handled_at"])


@transaction.atomic
def trend_alert_acknowledge(*, alert: TrendAlert, actor: User) -> TrendAlert:
    """A manager has seen the alert and looks into it (again is a no-op). Side effects:
    the alert's state, who handled it and when."""
    require_manager(actor)
    alert = _locked(alert)
    if alert.state == TrendAlert.State.DISMISSED:
        raise TrendConflict("the alert was dismissed")
    if alert.state == TrendAlert.State.OPEN:
        _handled(alert, state=TrendAlert.State.ACKNOWLEDGED, actor=actor)
    return alert


@transaction.atomic
def trend_alert_dismiss(*, alert: TrendAlert, actor: User) -> TrendAlert:
    """A manager judges the spike ordinary (a campaign, say); again is a no-op. Side
    effects: the alert's state, who handled it and when; an email not sent yet is not."""
    require_manager(actor)
    alert = _locked(alert)
    if alert.problem_id is not None:
        raise TrendConflict("a problem was opened from this alert")
    if alert.state != TrendAlert.State.DISMISSED:
        _handled(alert, state=TrendAlert.State.DISMISSED, actor=actor)
    return alert


@transaction.atomic
def trend_alert_problem_open(*, alert: TrendAlert, actor: User, title: str = "") -> Problem:
    """A manager opens a recurring problem under investigation from the alert's cases (the
    problem already opened from it, when there is one). A category alert gives the problem
    its category, a product alert its product. Side effects: the problem, its history and
    a `problem_linked` event on each case (`problems.problem_create`); the alert is
    acknowledged and points to the problem."""
    require_manager(actor)
    alert = _locked(alert)
    if alert.problem_id is not None:
        return Problem.objects.get(pk=alert.problem_id)
    if alert.state == TrendAlert.State.DISMISSED:
        raise TrendConflict("the alert was dismissed")
    category = None
    if alert.dimension == D.CATEGORY and alert.key.isdigit():
        category = Category.objects.filter(pk=int(alert.key)).first()
    cases = Case.objects.filter(pk__in=alert.case_ids).order_by("id")
    problem = problem_create(
        actor=actor,
        title=title.strip() or f"Spike: {D(alert.dimension).label.lower()} “{alert.label}”",
        description=alert.summary,
        category=category,
        product=alert.label if alert.dimension == D.PRODUCT else "",
        status=ProblemStatus.INVESTIGATING,
        cases=cases,
    )
    alert.problem = problem
    alert.state = TrendAlert.State.ACKNOWLEDGED
    alert.handled_by = actor
    alert.handled_at = timezone.now()
    alert.save(update_fields=["problem", "state", "handled_by", "handled_at"])
    return problem


# --- reads --------------------------------------------------------------------------------


def trend_alerts_list(*, state: str = "") -> QuerySet[TrendAlert]:
    """Alerts, open ones first, then newest first; `state` narrows."""
    alerts = TrendAlert.objects.select_related("problem", "handled_by")
    if state:
        alerts = alerts.filter(state=state)
    is_open = ExpressionWrapper(Q(state=TrendAlert.State.OPEN), output_field=BooleanField())
    return alerts.annotate(is_open=is_open).order_by("-is_open", "-id")


def trend_alert_cases(*, alerts: list[TrendAlert], per_alert: int = 50) -> dict[int, list[Case]]:
    """The newest `per_alert` cases of each alert (reference and subject), in one query."""
    shown = {alert.pk: alert.case_ids[:per_alert] for alert in alerts}
    wanted = {case_id for case_ids in shown.values() for case_id in case_ids}
    cases = Case.objects.only("id", "reference", "subject").in_bulk(list(wanted)) if wanted else {}
    return {
        pk: [cases[case_id] for case_id in case_ids if case_id in cases]
        for pk, case_ids in shown.items()
    }


def trend_alerts_open_count() -> int:
    return TrendAlert.objects.filter(state=TrendAlert.State.OPEN).count()


def trend_alert_get(*, alert_id: int | str) -> TrendAlert:
    """The alert; 404 for an unknown id."""
    text = str(alert_id)
    alert = TrendAlert.objects.filter(pk=int(text)).first() if text.isdigit() else None
    if alert is None:
        raise Http404("No such trend alert.")
    return alert
