"""Prepared responses ranked for a case: what fits its category and loop stage (as the macro
says, and as agents' earlier uses show), what its problem is about, its team, and what this
customer has already been sent. Reads only."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext

from caseloop.cases.loop.selectors import LOOP_STAGES, case_stage_current
from caseloop.cases.models import Case
from caseloop.lib import memo

from .models import Macro, MacroUse
from .search.text import query_terms
from .selectors import case_problem_text, macros_for

# What each signal is worth. Explicit fit counts most; what agents did teaches the rest.
CATEGORY_FIT = 1.0
CATEGORY_OTHER = -0.5  # the macro names categories, none of them this case's
STAGE_FIT = 0.6
STAGE_OTHER = -0.3
LEARNED_CATEGORY = 0.6
LEARNED_STAGE = 0.4
# Uses are smoothed as n / (n + LEARNED_PRIOR): one use is a hint, a dozen a habit.
LEARNED_PRIOR = 3
TEXT_FIT = 0.8
TEXT_REASON_FROM = 0.15  # cosine similarity worth saying out loud
TEAM_FIT = 0.2
# How far back a customer's earlier cases count as "already sent".
HISTORY_DAYS = 90

_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


@dataclass(frozen=True)
class RankedMacro:
    macro: Macro
    score: float
    reasons: list[str] = field(default_factory=list)
    # When this customer was last sent it (within HISTORY_DAYS), and whether that was at
    # the stage the case is at now: then it is offered after the others.
    sent_to_customer_at: datetime | None = None
    sent_at_this_stage: bool = False


def _smoothed(n: int) -> float:
    return n / (n + LEARNED_PRIOR)


def _macro_text(macro: Macro) -> str:
    # The name twice: it says what the response is for more surely than its wording.
    return f"{macro.name}. {macro.name}.\n{_PLACEHOLDER.sub(' ', macro.body)}"


def _text_fit(*, macros: list[Macro], problem: str) -> list[float]:
    """Cosine similarity of each macro's words to the problem's, TF-IDF weighted over the
    macros and the problem, with the knowledge search's tokens and stop words."""
    if not macros or not problem.strip():
        return [0.0] * len(macros)
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        analyzer=partial(query_terms, max_terms=400), sublinear_tf=True, norm="l2"
    )
    documents = [_macro_text(macro) for macro in macros] + [problem]
    try:
        matrix = vectorizer.fit_transform(documents)
    except ValueError:  # no word outside the stop words anywhere
        return [0.0] * len(macros)
    similarity = (matrix[:-1] @ matrix[-1].T).toarray().ravel()
    return [float(value) for value in similarity]


def _learned(
    *, macro_ids: list[int], category_id: int | None, stage: str
) -> tuple[dict[int, int], dict[int, int]]:
    """Per macro: how often it was used on cases of this category, and at this stage."""
    by_category: dict[int, int] = {}
    by_stage: dict[int, int] = {}
    match = Q()
    if category_id is not None:
        match |= Q(category_id=category_id)
    if stage:
        match |= Q(stage=stage)
    if not macro_ids or not match:
        return by_category, by_stage
    rows = (
        MacroUse.objects.filter(match, macro_id__in=macro_ids)
        .values("macro_id", "category_id", "stage")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        if category_id is not None and row["category_id"] == category_id:
            by_category[row["macro_id"]] = by_category.get(row["macro_id"], 0) + row["n"]
        if stage and row["stage"] == stage:
            by_stage[row["macro_id"]] = by_stage.get(row["macro_id"], 0) + row["n"]
    return by_category, by_stage


def _sent_to_customer(
    *, macro_ids: list[int], customer_id: int | None, stage: str
) -> dict[int, tuple[datetime, bool]]:
    """Per macro this customer was sent lately: when last, and whether ever at `stage`."""
    if not macro_ids or customer_id is None:
        return {}
    since = timezone.now() - timedelta(days=HISTORY_DAYS)
    rows = (
        MacroUse.objects.filter(
            customer_id=customer_id, macro_id__in=macro_ids, created_at__gte=since
        )
        .values_list("macro_id", "stage", "created_at")
        .order_by("-created_at", "-id")
    )
    sent: dict[int, tuple[datetime, bool]] = {}
    for macro_id, used_stage, at in rows:
        last, same = sent.get(macro_id, (at, False))
        sent[macro_id] = (last, same or (bool(stage) and used_stage == stage))
    return sent


def _times(n: int) -> str:
    return gettext("once") if n == 1 else gettext("%(n)s times") % {"n": n}


def macros_rank_for_case(*, user, case: Case) -> list[RankedMacro]:
    """The prepared responses `user` may use (the rules of `macros_for`), best first for
    `case`, each with its score and short reasons. Within a request scope (`lib.memo`)
    the ranking is computed once per case and user."""
    return memo.once(
        f"knowledge.macros_rank:{case.pk}:{getattr(user, 'pk', None)}",
        lambda: _rank(user=user, case=case),
    )


def _rank(*, user, case: Case) -> list[RankedMacro]:
    macros = list(macros_for(user=user, case=case).prefetch_related("categories"))
    if not macros:
        return []
    ids = [macro.pk for macro in macros]
    stage = case_stage_current(case=case)
    stage_title = str(LOOP_STAGES.get(stage, "")).lower()
    category = case.category
    by_category, by_stage = _learned(macro_ids=ids, category_id=case.category_id, stage=stage)
    sent = _sent_to_customer(macro_ids=ids, customer_id=case.customer_id, stage=stage)
    problem = f"{case.subject}\n{case_problem_text(case=case)}"
    text_fit = _text_fit(macros=macros, problem=problem)
    ranked: list[RankedMacro] = []
    for macro, similarity in zip(macros, text_fit, strict=True):
        score = 0.0
        reasons: list[str] = []
        category_ids = {c.pk for c in macro.categories.all()}
        if category_ids:
            if category is not None and category.pk in category_ids:
                score += CATEGORY_FIT
                reasons.append(gettext("fits %(category)s") % {"category": category.name})
            else:
                score += CATEGORY_OTHER
                reasons.append(gettext("made for other categories"))
        if macro.stages:
            if stage and stage in macro.stages:
                score += STAGE_FIT
                reasons.append(gettext("fits this stage (%(stage)s)") % {"stage": stage_title})
            else:
                score += STAGE_OTHER
                reasons.append(gettext("made for other stages"))
        n_category = by_category.get(macro.pk, 0)
        if n_category and category is not None:
            score += LEARNED_CATEGORY * _smoothed(n_category)
            reasons.append(
                gettext("used %(times)s in %(category)s")
                % {"times": _times(n_category), "category": category.name}
            )
        n_stage = by_stage.get(macro.pk, 0)
        if n_stage:
            score += LEARNED_STAGE * _smoothed(n_stage)
            reasons.append(gettext("used %(times)s at this stage") % {"times": _times(n_stage)})
        score += TEXT_FIT * similarity
        if similarity >= TEXT_REASON_FROM:
            reasons.append(gettext("its words match the problem"))
        if macro.team is not None and macro.team_id == case.team_id:
            score += TEAM_FIT
            reasons.append(gettext("for %(team)s") % {"team": macro.team.name})
        last, same_stage = sent.get(macro.pk, (None, False))
        if last is not None:
            local = timezone.localtime(last)
            reasons.append(
                gettext("sent to this customer on %(date)s")
                % {"date": f"{local.day} {local:%b %Y}"}
            )
        ranked.append(
            RankedMacro(
                macro=macro,
                score=round(score, 4),
                reasons=reasons,
                sent_to_customer_at=last,
                sent_at_this_stage=same_stage,
            )
        )
    # What the customer already got at this stage goes after the rest: the same text twice
    # reads as not listening.
    ranked.sort(key=lambda r: (r.sent_at_this_stage, -r.score, r.macro.name, r.macro.pk))
    return ranked
