"""Detection across customers: recent cases no problem holds yet are grouped, per category,
by meaning (triage's similar-case representation: TF-IDF over subject and first message,
cosine similarity); a group from several customers that is well above what the weeks
before saw of its kind becomes a *suggested* problem with its cases, or joins the open
problem whose cases it resembles. A manager confirms (investigating), merges or rejects
(closes) a suggestion; a group like the cases of a rejected suggestion is not suggested
again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import OuterRef, QuerySet, Subquery
from django.utils import timezone
from scipy.sparse import csr_matrix

from caseloop.accounts.models import User
from caseloop.cases.models import Case, Message
from caseloop.triage.learning import case_text

from .models import (
    Problem,
    ProblemCase,
    ProblemChange,
    ProblemContributor,
    ProblemFlag,
    ProblemStatus as S,
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

WINDOW = timedelta(days=2)
BASELINE = timedelta(days=28)
# A group needs this many cases from this many customers...
MIN_CASES = 4
MIN_CUSTOMERS = 3
# ...cases this close (cosine) to one another...
SIMILARITY = 0.3
# ...and this many times what the baseline weeks saw of its kind in a window's time.
GROWTH = 3.0
# Half a group like a rejected suggestion's (or an open problem's) cases is "like" it.
LIKE_SHARE = 0.5
MAX_CASES = 5000
OPEN_STATUSES = (S.SUGGESTED, S.INVESTIGATING, S.KNOWN_ERROR)


@dataclass(frozen=True)
class _Doc:
    case_id: int
    customer_id: int
    category_id: int | None
    text: str


def _docs(cases: QuerySet[Case]) -> list[_Doc]:
    first = Subquery(
        Message.objects.filter(case=OuterRef("pk"), direction=Message.Direction.INBOUND)
        .order_by("created_at", "id")
        .values("text")[:1]
    )
    rows = cases.annotate(first=first).values_list(
        "pk", "customer_id", "category_id", "subject", "first"
    )[:MAX_CASES]
    return [
        _Doc(pk, customer, category, case_text(subject=subject, first_message=text or ""))
        for pk, customer, category, subject, text in rows
    ]


def _groups(similarity: np.ndarray) -> list[list[int]]:
    """Connected groups of rows whose similarity reaches SIMILARITY (union-find)."""
    parent = list(range(len(similarity)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in zip(*np.nonzero(np.triu(similarity >= SIMILARITY, k=1)), strict=True):
        parent[root(int(i))] = root(int(j))
    groups: dict[int, list[int]] = {}
    for i in range(len(similarity)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _close(others: Any, members: Any) -> np.ndarray:
    """For each row of `others`, whether it is close to any of `members`."""
    if others.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    return np.asarray((others @ members.T).max(axis=1).toarray()).ravel() >= SIMILARITY


def _members_like(members: Any, others: Any) -> np.ndarray:
    """For each member, whether any row of `others` is close to it."""
    if others.shape[0] == 0:
        return np.zeros(members.shape[0], dtype=bool)
    return np.asarray((members @ others.T).max(axis=1).toarray()).ravel() >= SIMILARITY


def _title(vectorizer: Any, members: Any) -> str:
    weights = np.asarray(members.mean(axis=0)).ravel()
    terms = vectorizer.get_feature_names_out()
    top: list[str] = []
    for index in np.argsort(-weights):
        term = str(terms[index])
        if weights[index] <= 0 or len(top) == 3:
            break
        if not any(term in chosen or chosen in term for chosen in top):
            top.append(term)
    return "Recurring: " + ", ".join(top) if top else "Recurring cases"


def _rejected_problems() -> QuerySet[Problem]:
    return Problem.objects.filter(
        status=S.CLOSED,
        changes__kind="status",
        changes__data__before=S.SUGGESTED,
        changes__data__after=S.CLOSED,
    ).distinct()


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
    from sklearn.feature_extraction.text import TfidfVectorizer

    now = now or timezone.now()
    start = now - WINDOW
    held = ProblemCase.objects.values("case_id")
    recent = _docs(
        Case.objects.filter(created_at__gte=start, created_at__lte=now)
        .exclude(pk__in=held)
        .order_by("-id")
    )
    if len(recent) < MIN_CASES:
        return []
    baseline = _docs(
        Case.objects.filter(created_at__gte=start - BASELINE, created_at__lt=start).order_by("-id")
    )
    rejected = _docs(Case.objects.filter(problem_links__problem__in=_rejected_problems()))
    open_links = list(
        ProblemCase.objects.filter(problem__status__in=OPEN_STATUSES).values_list(
            "case_id", "problem_id"
        )[:MAX_CASES]
    )
    open_docs = _docs(Case.objects.filter(pk__in=[case_id for case_id, _ in open_links]))
    problem_of = dict(open_links)
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, stop_words="english")
    try:
        vectorizer.fit([d.text for d in recent + baseline])
    except ValueError:  # only stop words everywhere
        return []

    def matrix(docs: list[_Doc]) -> Any:
        if not docs:
            return csr_matrix((0, len(vectorizer.vocabulary_)))
        return vectorizer.transform([d.text for d in docs])

    recent_m, baseline_m = matrix(recent), matrix(baseline)
    rejected_m, open_m = matrix(rejected), matrix(open_docs)
    found: list[Detection] = []
    for category_id in sorted({d.category_id or 0 for d in recent}):
        rows = [i for i, d in enumerate(recent) if (d.category_id or 0) == category_id]
        if len(rows) < MIN_CASES:
            continue
        block = recent_m[rows]
        for group in _groups((block @ block.T).toarray()):
            docs = [recent[rows[i]] for i in group]
            if len(docs) < MIN_CASES or len({d.customer_id for d in docs}) < MIN_CUSTOMERS:
                continue
            members = block[group]
            same = [i for i, d in enumerate(baseline) if (d.category_id or 0) == category_id]
            seen = int(_close(baseline_m[same], members).sum()) if same else 0
            expected = seen * (WINDOW / BASELINE)
            if len(docs) < GROWTH * max(expected, 1.0):
                continue
            if _members_like(members, rejected_m).mean() >= LIKE_SHARE:
                continue
            detection = _suggest_or_grow(
                docs=docs,
                members=members,
                open_m=open_m,
                open_docs=open_docs,
                problem_of=problem_of,
                title=_title(vectorizer, members),
                expected=expected,
                days=WINDOW.days,
            )
            if detection is not None:
                found.append(detection)
    return found


def _suggest_or_grow(
    *,
    docs: list[_Doc],
    members: Any,
    open_m: Any,
    open_docs: list[_Doc],
    problem_of: dict[int, int],
    title: str,
    expected: float,
    days: int,
) -> Detection | None:
    problem: Problem | None = None
    if open_m.shape[0]:
        closest = (members @ open_m.T).toarray()
        votes: dict[int, int] = {}
        for row in closest:
            j = int(row.argmax())
            if row[j] >= SIMILARITY:
                pk = problem_of[open_docs[j].case_id]
                votes[pk] = votes.get(pk, 0) + 1
        if votes:
            best = max(votes, key=lambda pk: (votes[pk], pk))
            if votes[best] >= LIKE_SHARE * len(docs):
                problem = Problem.objects.filter(pk=best).first()
    created = problem is None
    if problem is None:
        customers = len({d.customer_id for d in docs})
        problem = Problem.objects.create(
            title=title[:200],
            description=(
                f"{len(docs)} cases from {customers} customers in {days} days; about "
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
