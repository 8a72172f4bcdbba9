"""Reads for the knowledge base: articles with permission, macros an agent may use,
suggestions for a case (ranked with what agents said about earlier ones), deflections and
knowledge gaps."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.db.models import Case as CaseWhen, Count, IntegerField, Max, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from caseloop.cases.extensions import cases_similar
from caseloop.cases.loop.selectors import case_resolution_text
from caseloop.cases.models import Case, Category, Message

from .models import (
    Article,
    ArticleVersion,
    Audience,
    Deflection,
    Macro,
    SearchLog,
    State,
    SuggestionFeedback,
)
from .search import ArticleFilters, search_articles, search_messages

logger = logging.getLogger(__name__)


def article_queryset() -> QuerySet[Article]:
    return Article.objects.select_related("category", "created_by", "updated_by").prefetch_related(
        "tags"
    )


def article_get_public(*, article_id: int) -> Article:
    """A published public article; 404 for anything else, so drafts and internal articles
    are never revealed to the public."""
    try:
        return article_queryset().get(
            pk=article_id, state=State.PUBLISHED, audience=Audience.PUBLIC
        )
    except Article.DoesNotExist as exc:
        raise Http404("No such article.") from exc


def article_get_for_agent(*, article_id: int, user) -> Article:
    if user is None or not getattr(user, "is_agent_like", False):
        raise Http404("No such article.")
    try:
        return article_queryset().get(pk=article_id)
    except Article.DoesNotExist as exc:
        raise Http404("No such article.") from exc


def article_list(
    *, state: str = "", audience: str = "", category: int | None = None, kind: str = ""
) -> QuerySet[Article]:
    articles = article_queryset()
    if state:
        articles = articles.filter(state__in=state.split(","))
    if audience:
        articles = articles.filter(audience=audience)
    if category:
        articles = articles.filter(category_id=category)
    if kind:
        articles = articles.filter(kind=kind)
    return articles.order_by("-updated_at", "-id")


def article_versions(*, article: Article) -> QuerySet[ArticleVersion]:
    return (
        ArticleVersion.objects.filter(article=article)
        .select_related("author", "category")
        .order_by("-number")
    )


def article_version_get(*, article: Article, number: int) -> ArticleVersion:
    try:
        return article_versions(article=article).get(number=number)
    except ArticleVersion.DoesNotExist as exc:
        raise Http404(f"Article {article.pk} has no version {number}.") from exc


def help_categories() -> list[Category]:
    """Categories that have published public articles, with how many (`n_articles`)."""
    published = Q(articles__state=State.PUBLISHED, articles__audience=Audience.PUBLIC)
    return list(
        Category.objects.annotate(n_articles=Count("articles", filter=published))
        .filter(n_articles__gt=0)
        .order_by("name")
    )


def public_articles(*, category: Category | None = None) -> QuerySet[Article]:
    articles = article_queryset().filter(state=State.PUBLISHED, audience=Audience.PUBLIC)
    if category is not None:
        articles = articles.filter(category=category)
    return articles.order_by("title", "id")


def macros_for(*, user, case: Case | None = None) -> QuerySet[Macro]:
    """Active macros `user` may use: global ones and those of the user's teams (and of the
    case's team, when given and the user is in it)."""
    if user is None or not getattr(user, "is_agent_like", False):
        return Macro.objects.none()
    team_ids = set(user.teams.values_list("id", flat=True))
    macros = Macro.objects.filter(is_active=True).filter(
        Q(team__isnull=True) | Q(team_id__in=team_ids)
    )
    if case is not None and case.team_id in team_ids:
        # The case's team's macros first: they fit the case best.
        macros = macros.annotate(
            fit=CaseWhen(
                When(team_id=case.team_id, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        ).order_by("fit", "name", "id")
    else:
        macros = macros.order_by("name", "id")
    return macros.select_related("team")


# --- Problem and resolution of a case ------------------------------------------------------


def case_problem_text(*, case: Case) -> str:
    """The problem in words: the agent's paraphrase (or the customer's words) from the
    problem statement, else the first message, else the subject."""
    try:
        statement_model = apps.get_model("cases", "ProblemStatement")
    except LookupError:
        statement_model = None
    if statement_model is not None:
        statement = statement_model.objects.filter(case=case).first()
        if statement is not None:
            text = (
                getattr(statement, "paraphrase", "") or getattr(statement, "customer_words", "")
            ).strip()
            if text:
                return text
    first = (
        Message.objects.filter(case=case, direction=Message.Direction.INBOUND)
        .order_by("created_at", "id")
        .first()
    )
    return (first.text.strip() if first else "") or case.subject


# --- Suggestions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleSuggestion:
    article_id: int
    title: str
    score: float
    snippet_html: str
    kind: str
    audience: str
    category_id: int | None
    used: int = 0
    not_helpful: int = 0


@dataclass(frozen=True)
class CaseSuggestion:
    case_id: int
    reference: str
    subject: str
    score: float
    resolution: str


@dataclass(frozen=True)
class Suggestions:
    articles: list[ArticleSuggestion] = field(default_factory=list)
    similar_cases: list[CaseSuggestion] = field(default_factory=list)


# How much feedback and a matching category move an article: the search score is scaled
# to [0, 1] over the hits (best 1, last 0) first, so these are comparable across queries.
CATEGORY_BOOST = 0.15
FEEDBACK_CATEGORY_WEIGHT = 0.6
FEEDBACK_GLOBAL_WEIGHT = 0.2


def case_query_text(*, case: Case) -> str:
    first = (
        Message.objects.filter(case=case, direction=Message.Direction.INBOUND)
        .order_by("created_at", "id")
        .values_list("text", flat=True)
        .first()
    )
    return f"{case.subject}\n{(first or '')[:600]}"


def feedback_counts(
    *, article_ids: list[int], category_id: int | None
) -> dict[int, dict[str, int]]:
    """Per article: used / not-helpful counts overall and within `category_id`."""
    counts: dict[int, dict[str, int]] = {
        pk: {"used": 0, "not_helpful": 0, "cat_used": 0, "cat_not_helpful": 0} for pk in article_ids
    }
    if not article_ids:
        return counts
    rows = (
        SuggestionFeedback.objects.filter(article_id__in=article_ids)
        .values("article_id", "category_id", "verdict")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in rows:
        entry = counts[row["article_id"]]
        entry[row["verdict"]] += row["n"]
        if category_id is not None and row["category_id"] == category_id:
            entry[f"cat_{row['verdict']}"] += row["n"]
    return counts


def feedback_boost(entry: dict[str, int]) -> float:
    """Learned from agents: more 'used' than 'not helpful' lifts an article, the reverse
    sinks it, most of all within the same category. Smoothed so one click is not all."""
    cat = (entry["cat_used"] - entry["cat_not_helpful"]) / (
        entry["cat_used"] + entry["cat_not_helpful"] + 1
    )
    overall = (entry["used"] - entry["not_helpful"]) / (entry["used"] + entry["not_helpful"] + 3)
    return FEEDBACK_CATEGORY_WEIGHT * cat + FEEDBACK_GLOBAL_WEIGHT * overall


def articles_rank_for_case(*, case: Case, limit: int = 5) -> list[ArticleSuggestion]:
    hits = search_articles(
        case_query_text(case=case), audience="agent", filters=ArticleFilters(), limit=20
    )
    if not hits:
        return []
    top = max(hit.score for hit in hits)
    bottom = min(hit.score for hit in hits) if len(hits) > 1 else 0.0
    counts = feedback_counts(
        article_ids=[hit.article_id for hit in hits], category_id=case.category_id
    )
    ranked = []
    for hit in hits:
        score = (hit.score - bottom) / ((top - bottom) or 1.0)
        if case.category_id and hit.category_id == case.category_id:
            score += CATEGORY_BOOST
        entry = counts[hit.article_id]
        score += feedback_boost(entry)
        ranked.append(
            ArticleSuggestion(
                article_id=hit.article_id,
                title=hit.title,
                score=round(score, 4),
                snippet_html=hit.snippet_html,
                kind=hit.kind,
                audience=hit.audience,
                category_id=hit.category_id,
                used=entry["used"],
                not_helpful=entry["not_helpful"],
            )
        )
    ranked.sort(key=lambda s: (-s.score, s.article_id))
    return ranked[:limit]


def _similar_from_triage(*, case: Case, k: int) -> list[CaseSuggestion] | None:
    try:
        similar = list(cases_similar(case=case, k=k, solved_only=True))
    except Exception:  # noqa: BLE001 - a missing model must not take the case page down
        logger.warning("similar cases unavailable for case %s", case.pk, exc_info=True)
        return None
    return [
        CaseSuggestion(
            case_id=item.case.pk,
            reference=item.case.reference or "",
            subject=item.case.subject,
            score=round(float(item.score), 4),
            resolution=(getattr(item, "resolution", "") or "").strip()
            or case_resolution_text(case=item.case),
        )
        for item in similar
    ]


def _similar_from_messages(*, case: Case, user, k: int) -> list[CaseSuggestion]:
    hits = search_messages(
        case_query_text(case=case), user=user, limit=50, solved_only=True, exclude_case_id=case.pk
    )
    best: dict[int, float] = {}
    for hit in hits:
        best[hit.case_id] = max(best.get(hit.case_id, 0.0), hit.score)
    chosen = sorted(best.items(), key=lambda item: (-item[1], item[0]))[:k]
    cases = Case.objects.in_bulk([pk for pk, _ in chosen])
    top = chosen[0][1] if chosen else 1.0
    return [
        CaseSuggestion(
            case_id=pk,
            reference=cases[pk].reference or "",
            subject=cases[pk].subject,
            score=round(score / (top or 1.0), 4),
            resolution=case_resolution_text(case=cases[pk]),
        )
        for pk, score in chosen
        if pk in cases
    ]


def _case_feedback(*, case_ids: list[int], category_id: int | None) -> dict[int, float]:
    rows = (
        SuggestionFeedback.objects.filter(similar_case_id__in=case_ids)
        .values("similar_case_id", "category_id", "verdict")
        .annotate(n=Count("id"))
        .order_by()
    )
    entries: dict[int, dict[str, int]] = {
        pk: {"used": 0, "not_helpful": 0, "cat_used": 0, "cat_not_helpful": 0} for pk in case_ids
    }
    for row in rows:
        entry = entries[row["similar_case_id"]]
        entry[row["verdict"]] += row["n"]
        if category_id is not None and row["category_id"] == category_id:
            entry[f"cat_{row['verdict']}"] += row["n"]
    return {pk: feedback_boost(entry) for pk, entry in entries.items()}


def case_suggestions(*, case: Case, user, limit: int = 5) -> Suggestions:
    """The articles and similar solved cases most likely to help with `case`, ranked for its
    text and category and with what agents said about earlier suggestions."""
    articles = articles_rank_for_case(case=case, limit=limit)
    similar = _similar_from_triage(case=case, k=limit + 3)
    if similar is None:
        similar = _similar_from_messages(case=case, user=user, k=limit + 3)
    similar = [item for item in similar if item.case_id != case.pk]
    boosts = _case_feedback(
        case_ids=[item.case_id for item in similar], category_id=case.category_id
    )
    similar = sorted(
        (
            CaseSuggestion(
                case_id=item.case_id,
                reference=item.reference,
                subject=item.subject,
                score=round(item.score + boosts.get(item.case_id, 0.0), 4),
                resolution=item.resolution,
            )
            for item in similar
        ),
        key=lambda item: (-item.score, item.case_id),
    )[:limit]
    return Suggestions(articles=articles, similar_cases=similar)


# --- Deflections and gaps -------------------------------------------------------------------


def deflection_counts(*, days: int | None = None, top: int = 20) -> dict:
    """How many cases customers did not need to open, in total and per article."""
    deflections = Deflection.objects.all()
    if days:
        deflections = deflections.filter(created_at__gte=timezone.now() - timedelta(days=days))
    per_article = list(
        deflections.values("article_id", "article__title")
        .annotate(n=Count("id"))
        .order_by("-n", "article_id")[:top]
    )
    return {
        "total": deflections.count(),
        "by_article": [
            {"article_id": row["article_id"], "title": row["article__title"], "count": row["n"]}
            for row in per_article
        ],
    }


def knowledge_gaps(*, days: int = 90, min_cases: int = 3, top: int = 50) -> dict:
    """Where the knowledge base falls short: categories with frequent cases but no published
    article, and searches that found nothing."""
    since = timezone.now() - timedelta(days=days)
    categories = (
        Category.objects.annotate(n_cases=Count("cases", filter=Q(cases__created_at__gte=since)))
        .filter(n_cases__gte=min_cases)
        .exclude(articles__state=State.PUBLISHED)
        .order_by("-n_cases", "name")[:top]
    )
    searches = (
        SearchLog.objects.filter(results=0, created_at__gte=since)
        .values("query")
        .annotate(n=Count("id"), last=Max("created_at"))
        .order_by("-n", "query")[:top]
    )
    return {
        "categories": [
            {"id": c.pk, "name": c.name, "slug": c.slug, "cases": c.n_cases} for c in categories
        ],
        "searches": [
            {"query": row["query"], "count": row["n"], "last_searched_at": row["last"]}
            for row in searches
        ],
    }
