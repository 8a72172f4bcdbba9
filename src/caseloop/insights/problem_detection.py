"""Detection across customers: recent cases no problem holds yet are grouped, per category,
by meaning (subject and first message, as sentence embeddings when triage's embeddings
extra is enabled, TF-IDF otherwise; cosine similarity, each representation with its own
threshold; the groups are the connected parts of the graph of close pairs, computed in
bounded blocks); a group from several customers that is well above what the weeks before
saw of its kind becomes a *suggested* problem with its cases, or joins the open problem
whose cases it resembles. A manager confirms (investigating), merges or rejects (closes) a
suggestion; a group like the cases of a rejected suggestion is not suggested again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from scipy.sparse import csr_matrix
from scipy.stats import poisson

from caseloop.accounts.models import User
from caseloop.cases.models import Case

from .models import (
    Problem,
    ProblemCase,
    ProblemChange,
    ProblemContributor,
    ProblemFlag,
    ProblemStatus as S,
)
from .problem_vectors import (
    EMBEDDINGS,
    CaseDoc,
    case_docs,
    closest,
    representation,
    similarity_groups,
    texts_vectors,
)
from .problems import (
    ProblemConflict,
    ProblemError,
    problem_case_link,
    problem_case_unlink,
    problem_change_record,
    problem_lock,
    problem_move,
    require_manager,
)

WINDOW = timedelta(days=1)
BASELINE = timedelta(days=14)
# A group needs this many cases from this many customers...
MIN_CASES = 4
MIN_CUSTOMERS = 3
# ...cases this close (cosine) to one another, TF-IDF or sentence embeddings...
SIMILARITY = 0.3
SIMILARITY_EMBEDDINGS = 0.75
# ...and this many times what the baseline weeks saw of its kind in a window's time, and
# so many that chance alone (Poisson, at that usual rate but at least EXPECTED_FLOOR)
# would bring as many less often than SURPRISE.
GROWTH = 3.0
SURPRISE = 0.001
EXPECTED_FLOOR = 0.1
# Half a group like a rejected suggestion's (or an open problem's) cases is "like" it.
LIKE_SHARE = 0.5
# Cases read per run: the recent ones (grouped a block of rows at a time, so memory stays
# bounded), the newest of the baseline weeks (the rate is taken over the span they cover),
# and the newest cases of rejected and open problems.
MAX_CASES = 200_000
BASELINE_MAX = 100_000
HELD_MAX = 20_000
# Cases of a category a title's words are weighed against, with sentence embeddings.
TITLE_CONTEXT = 20_000
OPEN_STATUSES = (S.SUGGESTED, S.INVESTIGATING, S.KNOWN_ERROR)


def similarity_for(kind: str) -> float:
    return SIMILARITY_EMBEDDINGS if kind == EMBEDDINGS else SIMILARITY


def _close(others: Any, members: Any, threshold: float) -> np.ndarray:
    """For each row of `others`, whether it is close to any of `members`."""
    return np.asarray(closest(others, members)[1] >= threshold)


def _title_terms(vectorizer: Any, weights: np.ndarray) -> str:
    terms = vectorizer.get_feature_names_out()
    top: list[str] = []
    for index in np.argsort(-weights):
        term = str(terms[index])
        if weights[index] <= 0 or len(top) == 3:
            break
        if not any(term in chosen or chosen in term for chosen in top):
            top.append(term)
    return "Recurring: " + ", ".join(top) if top else "Recurring cases"


def _title(vectorizer: Any, members: Any) -> str:
    return _title_terms(vectorizer, np.asarray(members.mean(axis=0)).ravel())


def _title_from_texts(texts: list[str], context: list[str]) -> str:
    """A title from the words that set these texts apart from the others of their kind."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
    try:
        vectorizer.fit(texts + context[:TITLE_CONTEXT])
    except ValueError:  # only stop words everywhere
        return "Recurring cases"
    weights = np.asarray(vectorizer.transform(texts).mean(axis=0)).ravel()
    return _title_terms(vectorizer, weights)


def _surprising(cases: int, expected: float) -> bool:
    """Well above the usual rate, and unlikely to be chance."""
    if cases < GROWTH * max(expected, 1.0):
        return False
    return bool(poisson.sf(cases - 1, max(expected, EXPECTED_FLOOR)) < SURPRISE)


def _rejected_problems() -> QuerySet[Problem]:
    return Problem.objects.filter(
        status=S.CLOSED,
        changes__kind="status",
        changes__data__before=S.SUGGESTED,
        changes__data__after=S.CLOSED,
    ).distinct()


def _baseline_days(baseline: list[CaseDoc], start: datetime) -> float:
    """The days the baseline cases read cover: all the baseline weeks, or, when only the
    newest were read, back to the oldest of them."""
    if len(baseline) < BASELINE_MAX:
        return BASELINE / timedelta(days=1)
    oldest = Case.objects.filter(pk=baseline[-1].case_id).values_list("created_at", flat=True)
    span = start - oldest[0]
    return max(span / timedelta(days=1), 1 / 24)


@dataclass(frozen=True)
class Detection:
    problem: Problem
    created: bool
    case_ids: list[int]
    expected: float


@transaction.atomic
def problems_detect(*, now: datetime | None = None) -> list[Detection]:
    """Look at the cases of the last WINDOW no problem holds, and suggest a problem for (or
    grow an open problem with) each group that qualifies. Idempotent: the cases it links
    are left out of the next run. Side effects: new suggested problems and their history;
    `problem_linked` events (by detection) on the cases."""
    now = now or timezone.now()
    start = now - WINDOW
    held = ProblemCase.objects.values("case_id")
    recent = case_docs(
        Case.objects.filter(created_at__gte=start, created_at__lte=now)
        .exclude(pk__in=held)
        .order_by("-id"),
        limit=MAX_CASES,
    )
    if len(recent) < MIN_CASES:
        return []
    baseline = case_docs(
        Case.objects.filter(created_at__gte=start - BASELINE, created_at__lt=start).order_by("-id"),
        limit=BASELINE_MAX,
    )
    baseline_share = WINDOW / timedelta(days=1) / _baseline_days(baseline, start)
    rejected = case_docs(
        Case.objects.filter(problem_links__problem__in=_rejected_problems()).order_by("-id"),
        limit=HELD_MAX,
    )
    open_links = list(
        ProblemCase.objects.filter(problem__status__in=OPEN_STATUSES)
        .order_by("-id")
        .values_list("case_id", "problem_id")[:HELD_MAX]
    )
    open_docs = case_docs(
        Case.objects.filter(pk__in=[case_id for case_id, _ in open_links]), limit=HELD_MAX
    )
    problem_of = dict(open_links)
    kind = representation()
    threshold = similarity_for(kind)
    vectorizer: Any = None
    if kind == EMBEDDINGS:

        def matrix(docs: list[CaseDoc]) -> Any:
            return texts_vectors([d.text for d in docs])

    else:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
        try:
            vectorizer.fit([d.text for d in recent + baseline])
        except ValueError:  # only stop words everywhere
            return []

        def matrix(docs: list[CaseDoc]) -> Any:
            if not docs:
                return csr_matrix((0, len(vectorizer.vocabulary_)))
            return vectorizer.transform([d.text for d in docs])

    recent_m, baseline_m = matrix(recent), matrix(baseline)
    rejected_m, open_m = matrix(rejected), matrix(open_docs)
    found: list[Detection] = []
    recent_categories = np.array([d.category_id or 0 for d in recent])
    baseline_categories = np.array([d.category_id or 0 for d in baseline], dtype=np.int64)
    for category_id in sorted(set(recent_categories.tolist())):
        rows = np.flatnonzero(recent_categories == category_id)
        if len(rows) < MIN_CASES:
            continue
        block = recent_m[rows]
        same = baseline_m[np.flatnonzero(baseline_categories == category_id)]
        for group in similarity_groups(block, threshold):
            docs = [recent[rows[i]] for i in group]
            if len(docs) < MIN_CASES or len({d.customer_id for d in docs}) < MIN_CUSTOMERS:
                continue
            members = block[group]
            seen = int(_close(same, members, threshold).sum())
            expected = seen * baseline_share
            if not _surprising(len(docs), expected):
                continue
            if _close(members, rejected_m, threshold).mean() >= LIKE_SHARE:
                continue
            if vectorizer is not None:
                title = _title(vectorizer, members)
            else:
                title = _title_from_texts(
                    [d.text for d in docs], [recent[i].text for i in rows.tolist()]
                )
            detection = _suggest_or_grow(
                docs=docs,
                members=members,
                open_m=open_m,
                open_docs=open_docs,
                problem_of=problem_of,
                title=title,
                expected=expected,
                days=WINDOW / timedelta(days=1),
                threshold=threshold,
            )
            if detection is not None:
                found.append(detection)
    return found


def _suggest_or_grow(
    *,
    docs: list[CaseDoc],
    members: Any,
    open_m: Any,
    open_docs: list[CaseDoc],
    problem_of: dict[int, int],
    title: str,
    expected: float,
    days: float,
    threshold: float,
) -> Detection | None:
    problem: Problem | None = None
    if open_m.shape[0]:
        votes: dict[int, int] = {}
        for j, score in zip(*closest(members, open_m), strict=True):
            if score >= threshold:
                pk = problem_of[open_docs[int(j)].case_id]
                votes[pk] = votes.get(pk, 0) + 1
        if votes:
            best = max(votes, key=lambda pk: (votes[pk], pk))
            if votes[best] >= LIKE_SHARE * len(docs):
                problem = Problem.objects.filter(pk=best).first()
    created = problem is None
    if problem is None:
        customers = len({d.customer_id for d in docs})
        span = "a day" if days == 1 else f"{days:g} days"
        problem = Problem.objects.create(
            title=title[:200],
            description=(
                f"{len(docs)} cases from {customers} customers in {span}; about "
                f"{expected:.1f} would be usual from the weeks before."
            ),
            status=S.SUGGESTED,
            category_id=docs[0].category_id,
        )
        ProblemChange.objects.create(
            problem=problem,
            kind="created",
            data={"status": S.SUGGESTED, "title": problem.title, "detected": True},
        )
    cases = Case.objects.in_bulk([d.case_id for d in docs])
    linked = []
    for doc in docs:
        link = problem_case_link(
            problem=problem, case=cases[doc.case_id], actor=None, via=ProblemCase.Via.DETECTION
        )
        if link is not None:
            linked.append(doc.case_id)
    return Detection(problem=problem, created=created, case_ids=linked, expected=expected)


@transaction.atomic
def problem_merge(*, source: Problem, target: Problem, actor: User) -> Problem:
    """A manager merges `source` (a suggestion, say, or a duplicate) into `target`: its cases,
    contributors and flags move over and `source` is closed, naming `target`.
    Side effects: `problem_unlinked`/`problem_linked` events on each moved case; history on
    both problems."""
    require_manager(actor)
    if source.pk == target.pk:
        raise ProblemError("a problem cannot be merged into itself", field="target")
    source, target = problem_lock(source), problem_lock(target)
    if S.CLOSED in (source.status, target.status):
        raise ProblemConflict("closed problems are not merged; reopen one first")
    moved = []
    for link in ProblemCase.objects.filter(problem=source).select_related("case").order_by("id"):
        problem_case_unlink(problem=source, case=link.case, actor=actor)
        problem_case_link(
            problem=target, case=link.case, actor=actor, via=link.via, score=link.score
        )
        moved.append(link.case_id)
    for contributor in ProblemContributor.objects.filter(problem=source):
        ProblemContributor.objects.get_or_create(
            problem=target,
            user_id=contributor.user_id,
            part=contributor.part,
            defaults={"note": contributor.note},
        )
    ProblemFlag.objects.filter(problem=source).update(problem=target)
    problem_change_record(
        problem=target,
        actor=actor,
        change="merged",
        data={"source": source.pk, "cases": moved},
    )
    problem_move(problem=source, to=S.CLOSED, actor=actor, reason=f"merged into {target.number}")
    return target
