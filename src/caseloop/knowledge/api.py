"""Knowledge endpoints under /api/v1/: articles (with versions and workflow), macros,
search, suggestions on a case and their feedback, deflections and knowledge gaps.

Endpoints under /knowledge/public/ need no login and only ever show published public
articles; everything else is for agents.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from django.urls import reverse
from ninja import Field, Query, Router, Schema, Status as Reply
from ninja.errors import HttpError
from pydantic import field_validator

from caseloop.accounts.auth import ApiRequest, require_staff
from caseloop.accounts.models import Team
from caseloop.accounts.schemas import UserRef
from caseloop.cases.models import Case, Category
from caseloop.cases.selectors import case_get_for_user
from caseloop.lib.ratelimit import rate_limited

from . import selectors, services
from .errors import ArticleInvalid, MacroInvalid
from .macro_ranking import macros_rank_for_case
from .models import Article, ArticleVersion, Macro, SearchLog, State
from .search import ArticleFilters, search_articles, search_messages
from .workflow import workflow_allowed

router = Router(tags=["knowledge"])

KindName = Literal["faq", "troubleshooting", "procedure", "escalation_path", "policy"]
AudienceName = Literal["internal", "public"]
StateName = Literal["draft", "review", "published", "archived"]
StatusName = Literal["open", "pending_customer", "pending_internal", "solved", "closed"]
StageName = Literal[
    "problem",
    "needs",
    "authority",
    "facts",
    "alternatives",
    "plan",
    "implement",
    "escalation",
    "follow_up",
    "lessons",
]


def _category(value: str | None) -> Category | None:
    if not value:
        return None
    found = (
        Category.objects.filter(pk=int(value)).first()
        if value.isdigit()
        else Category.objects.filter(slug=value).first()
    )
    if found is None:
        raise ArticleInvalid(f"unknown category '{value}'", field="category")
    return found


def _team(value: str | None) -> Team | None:
    if not value:
        return None
    found = (
        Team.objects.filter(pk=int(value)).first()
        if value.isdigit()
        else Team.objects.filter(slug=value).first()
    )
    if found is None:
        raise MacroInvalid(f"unknown team '{value}'", field="team")
    return found


# --- Schemas --------------------------------------------------------------------------------


class ArticleIn(Schema):
    title: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1, max_length=200_000, description="Markdown.")
    category: str | None = Field(None, description="Category slug or id.")
    kind: KindName = "faq"
    audience: AudienceName = "internal"
    tags: list[str] = []
    language: str = Field("en", max_length=10)
    note: str = Field("", max_length=300)


# The default of a PATCH field that may not be null: defaults are never validated, so a field
# left out stays unset (`exclude_unset`) while an explicit null is refused, and the schema
# does not call the field nullable.
UNCHANGED: Any = None


def _refuse_null(value: object) -> object:
    if value is None:
        raise ValueError("cannot be null: leave the field out to keep its value")
    return value


class ArticlePatchIn(Schema):
    """Fields left out stay as they are. Null clears `category` and `tags`; the others
    cannot be empty and refuse null (422)."""

    title: str = Field(UNCHANGED, min_length=1, max_length=200)
    body: str = Field(UNCHANGED, min_length=1, max_length=200_000)
    category: str | None = Field(None, description="Category slug or id; empty clears it.")
    kind: KindName = Field(UNCHANGED)
    audience: AudienceName = Field(UNCHANGED)
    tags: list[str] | None = None
    language: str = Field(UNCHANGED, max_length=10)
    note: str = Field("", max_length=300)

    @field_validator("title", "body", "kind", "audience", "language", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        return _refuse_null(value)


class ArticleOut(Schema):
    id: int
    title: str
    slug: str
    body: str
    body_html: str
    category: str | None
    kind: KindName
    audience: AudienceName
    tags: list[str]
    language: str
    state: StateName
    version: int
    allowed_transitions: list[str]
    created_by: UserRef | None
    updated_by: UserRef | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None

    @staticmethod
    def of(article: Article) -> dict:
        return {
            "id": article.pk,
            "title": article.title,
            "slug": article.slug,
            "body": article.body,
            "body_html": article.body_html,
            "category": article.category.slug if article.category else None,
            "kind": article.kind,
            "audience": article.audience,
            "tags": sorted(tag.name for tag in article.tags.all()),
            "language": article.language,
            "state": article.state,
            "version": article.version,
            "allowed_transitions": workflow_allowed(article.state),
            "created_by": UserRef.of(article.created_by),
            "updated_by": UserRef.of(article.updated_by),
            "created_at": article.created_at,
            "updated_at": article.updated_at,
            "published_at": article.published_at,
        }


class ArticlePage(Schema):
    items: list[ArticleOut]
    next_cursor: int | None


class VersionOut(Schema):
    number: int
    title: str
    body: str
    category: str | None
    kind: str
    audience: str
    language: str
    tags: list[str]
    state: str
    changed_fields: list[str]
    note: str
    author: UserRef | None
    created_at: datetime

    @staticmethod
    def of(version: ArticleVersion) -> dict:
        return {
            "number": version.number,
            "title": version.title,
            "body": version.body,
            "category": version.category.slug if version.category else None,
            "kind": version.kind,
            "audience": version.audience,
            "language": version.language,
            "tags": version.tags,
            "state": version.state,
            "changed_fields": version.changed_fields,
            "note": version.note,
            "author": UserRef.of(version.author),
            "created_at": version.created_at,
        }


class ArticleTransitionIn(Schema):
    to: StateName
    note: str = Field("", max_length=300)


class FromCaseIn(Schema):
    case: str = Field(..., description="Case id or reference.")
    lesson: int | None = Field(None, description="The lesson learned to convert, if any.")


class HitOut(Schema):
    article_id: int
    title: str
    score: float
    snippet_html: str = Field(..., description="Escaped text; matches wrapped in <mark>.")
    kind: str
    category_id: int | None
    corrected_query: str = Field("", description="Set when a misspelt query was corrected.")


class PublicHitOut(Schema):
    article_id: int
    title: str
    score: float
    snippet_html: str
    url: str


class MessageHitOut(Schema):
    message_id: int
    case_id: int
    case_reference: str
    case_subject: str
    case_status: str
    direction: str
    score: float
    snippet_html: str


class PublicArticleOut(Schema):
    id: int
    title: str
    body_html: str
    category: str | None
    kind: str
    language: str
    tags: list[str]
    published_at: datetime | None
    url: str


class MacroIn(Schema):
    name: str = Field(..., min_length=1, max_length=120)
    body: str = Field(..., min_length=1, max_length=20_000)
    team: str | None = Field(None, description="Team slug or id; empty: global.")
    set_status: StatusName | None = None
    add_tags: list[str] = []
    categories: list[str] = Field(
        [], max_length=100, description="Category slugs or ids it fits; empty: every category."
    )
    stages: list[StageName] = Field([], description="Loop stages it fits; empty: every stage.")


class MacroPatchIn(Schema):
    """Fields left out stay as they are. Null clears `team` (global), `set_status` and
    `add_tags`; `name`, `body` and `is_active` cannot be empty and refuse null (422)."""

    name: str = Field(UNCHANGED, min_length=1, max_length=120)
    body: str = Field(UNCHANGED, min_length=1, max_length=20_000)
    team: str | None = None
    set_status: StatusName | Literal[""] | None = None
    add_tags: list[str] | None = None
    is_active: bool = Field(UNCHANGED)
    categories: list[str] | None = Field(
        None, max_length=100, description="Category slugs or ids; null or [] clears them."
    )
    stages: list[StageName] | None = Field(None, description="Loop stages; null or [] clears.")

    @field_validator("name", "body", "is_active", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        return _refuse_null(value)


class MacroOut(Schema):
    id: int
    name: str
    body: str
    team: str | None
    set_status: str
    add_tags: list[str]
    is_active: bool
    times_used: int
    placeholders: list[str]
    categories: list[str]
    stages: list[str]
    score: float | None = Field(
        None, description="How well it fits the case asked about (with `case=`); else null."
    )
    reasons: list[str] = Field([], description="Why it ranks where it does for that case.")

    @staticmethod
    def of(macro: Macro, *, score: float | None = None, reasons: list[str] | None = None) -> dict:
        return {
            "id": macro.pk,
            "name": macro.name,
            "body": macro.body,
            "team": macro.team.slug if macro.team else None,
            "set_status": macro.set_status,
            "add_tags": macro.add_tags,
            "is_active": macro.is_active,
            "times_used": macro.times_used,
            "placeholders": services.macro_placeholders(macro.body),
            "categories": sorted(c.slug for c in macro.categories.all()),
            "stages": list(macro.stages),
            "score": score,
            "reasons": list(reasons or []),
        }


class MacroRenderOut(Schema):
    macro: int
    case: int
    text: str


class MacroApplyIn(Schema):
    case: str = Field(..., description="Case id or reference.")


class MacroApplyOut(Schema):
    message_id: int
    case_status: str
    case_tags: list[str]


class ArticleSuggestionOut(Schema):
    article_id: int
    title: str
    score: float
    snippet_html: str
    kind: str
    audience: str
    used: int
    not_helpful: int


class CaseSuggestionOut(Schema):
    case_id: int
    reference: str
    subject: str
    score: float
    resolution: str


class SuggestionsOut(Schema):
    case: int
    articles: list[ArticleSuggestionOut]
    similar_cases: list[CaseSuggestionOut]


class FeedbackIn(Schema):
    verdict: Literal["used", "not_helpful"]
    article: int | None = None
    similar_case: int | None = None


class FeedbackOut(Schema):
    id: int
    verdict: str
    article: int | None
    similar_case: int | None


class DeflectionRow(Schema):
    article_id: int
    title: str
    count: int


class DeflectionsOut(Schema):
    total: int
    by_article: list[DeflectionRow]


class GapCategory(Schema):
    id: int
    name: str
    slug: str
    cases: int


class GapSearch(Schema):
    query: str
    count: int
    last_searched_at: datetime


class GapsOut(Schema):
    categories: list[GapCategory]
    searches: list[GapSearch]


# --- Articles -------------------------------------------------------------------------------


def _article(request: ApiRequest, article_id: int) -> Article:
    return selectors.article_get_for_agent(article_id=article_id, user=request.auth)


@router.get("/knowledge/articles", response=ArticlePage, summary="List articles")
def article_list(
    request: ApiRequest,
    state: str = "",
    audience: str = "",
    category: str = "",
    kind: str = "",
    cursor: int | None = None,
    limit: int = Query(50, ge=1, le=200),
):
    require_staff(request)
    cat = _category(category) if category else None
    articles = selectors.article_list(
        state=state, audience=audience, category=cat.pk if cat else None, kind=kind
    ).order_by("-id")
    if cursor:
        articles = articles.filter(pk__lt=cursor)
    page = list(articles[: limit + 1])
    next_cursor = page[limit - 1].pk if len(page) > limit else None
    return {"items": [ArticleOut.of(a) for a in page[:limit]], "next_cursor": next_cursor}


@router.post("/knowledge/articles", response={201: ArticleOut}, summary="Create a draft article")
def article_create(request: ApiRequest, payload: ArticleIn):
    require_staff(request)
    article = services.article_create(
        title=payload.title,
        body=payload.body,
        actor=request.auth,
        category=_category(payload.category),
        kind=payload.kind,
        audience=payload.audience,
        tags=payload.tags,
        language=payload.language,
        note=payload.note or "created",
    )
    return Reply(201, ArticleOut.of(_article(request, article.pk)))


@router.post(
    "/knowledge/articles/from-case",
    response={201: ArticleOut},
    summary="Draft an article from a solved case or a lesson learned",
)
def article_from_case(request: ApiRequest, payload: FromCaseIn):
    require_staff(request)
    case = case_get_for_user(user=request.auth, case_id=payload.case)
    lesson = None
    if payload.lesson is not None:
        lesson_model = services.lesson_model()
        if lesson_model is None:
            raise ArticleInvalid("lessons learned are not available", field="lesson")
        lesson = get_object_or_404(lesson_model, pk=payload.lesson, case=case)
    article = services.article_draft_from_case(case=case, actor=request.auth, lesson=lesson)
    return Reply(201, ArticleOut.of(_article(request, article.pk)))


@router.get("/knowledge/articles/{article_id}", response=ArticleOut, summary="Read an article")
def article_detail(request: ApiRequest, article_id: int):
    require_staff(request)
    return ArticleOut.of(_article(request, article_id))


@router.patch(
    "/knowledge/articles/{article_id}", response=ArticleOut, summary="Edit (a new version)"
)
def article_patch(request: ApiRequest, article_id: int, payload: ArticlePatchIn):
    require_staff(request)
    article = _article(request, article_id)
    given = payload.model_dump(exclude_unset=True)
    changes = {
        key: value for key, value in given.items() if key not in ("category", "note") and value
    }
    if "category" in given:
        changes["category"] = _category(given["category"])
    if "tags" in given:
        changes["tags"] = given["tags"] or []
    services.article_update(article=article, actor=request.auth, note=payload.note, **changes)
    return ArticleOut.of(_article(request, article_id))


@router.delete(
    "/knowledge/articles/{article_id}",
    response={204: None},
    summary="Delete a never-published article",
)
def article_delete(request: ApiRequest, article_id: int):
    require_staff(request)
    services.article_delete(article=_article(request, article_id), actor=request.auth)
    return Reply(204, None)


@router.post(
    "/knowledge/articles/{article_id}/transitions",
    response=ArticleOut,
    summary="Move through draft → review → published (or archived)",
)
def article_transition(request: ApiRequest, article_id: int, payload: ArticleTransitionIn):
    require_staff(request)
    services.article_transition(
        article=_article(request, article_id), to=payload.to, actor=request.auth, note=payload.note
    )
    return ArticleOut.of(_article(request, article_id))


@router.get(
    "/knowledge/articles/{article_id}/versions",
    response=list[VersionOut],
    summary="Versions, newest first",
)
def article_versions(request: ApiRequest, article_id: int):
    require_staff(request)
    article = _article(request, article_id)
    return [VersionOut.of(v) for v in selectors.article_versions(article=article)]


@router.get(
    "/knowledge/articles/{article_id}/versions/{number}",
    response=VersionOut,
    summary="One old version",
)
def article_version(request: ApiRequest, article_id: int, number: int):
    require_staff(request)
    article = _article(request, article_id)
    return VersionOut.of(selectors.article_version_get(article=article, number=number))


@router.post(
    "/knowledge/articles/{article_id}/versions/{number}/restore",
    response=ArticleOut,
    summary="Restore an old version (as a new version)",
)
def article_restore(request: ApiRequest, article_id: int, number: int):
    require_staff(request)
    article = _article(request, article_id)
    selectors.article_version_get(article=article, number=number)
    services.article_restore(article=article, number=number, actor=request.auth)
    return ArticleOut.of(_article(request, article_id))


# --- Search ---------------------------------------------------------------------------------


@router.get("/knowledge/search", response=list[HitOut], summary="Search articles (agents)")
def knowledge_search(
    request: ApiRequest,
    q: str = Query(..., min_length=1, max_length=300),
    category: str = "",
    kind: str = "",
    language: str = "",
    tags: str = Query("", description="Comma-separated; all must match."),
    audience: str = Query("", description="internal or public; empty: both."),
    state: str = Query("published", description="Comma-separated states."),
    limit: int = Query(10, ge=1, le=50),
):
    require_staff(request)
    cat = _category(category) if category else None
    states = tuple(s for s in state.split(",") if s in State.values) or (State.PUBLISHED,)
    filters = ArticleFilters(
        category=cat.pk if cat else None,
        kind=kind,
        language=language,
        tags=tuple(t for t in tags.split(",") if t.strip()),
        audience=audience,
        states=states,
    )
    hits = search_articles(q, audience="agent", filters=filters, limit=limit)
    services.search_log_record(query=q, source=SearchLog.Source.API, results=len(hits))
    return [hit.__dict__ for hit in hits]


@router.get(
    "/knowledge/search/messages",
    response=list[MessageHitOut],
    summary="Search past case messages (agents)",
)
def knowledge_search_messages(
    request: ApiRequest,
    q: str = Query(..., min_length=1, max_length=300),
    limit: int = Query(20, ge=1, le=100),
):
    require_staff(request)
    return [hit.__dict__ for hit in search_messages(q, user=request.auth, limit=limit)]


@router.get(
    "/knowledge/public/search",
    response=list[PublicHitOut],
    auth=None,
    summary="Search the public help centre (no login)",
)
def public_search(
    request: HttpRequest,
    q: str = Query(..., min_length=1, max_length=300),
    category: str = "",
    language: str = "",
    limit: int = Query(10, ge=1, le=20),
):

    if rate_limited(request, scope="public-search", limit=60):
        raise HttpError(429, "too many searches; try again in a minute")
    cat = Category.objects.filter(slug=category).first() if category else None
    if category and cat is None:
        return []
    filters = ArticleFilters(category=cat.pk if cat else None, language=language)
    hits = search_articles(q, audience="public", filters=filters, limit=limit)
    services.search_log_record(query=q, source=SearchLog.Source.API, results=len(hits))
    return [
        {
            "article_id": hit.article_id,
            "title": hit.title,
            "score": hit.score,
            "snippet_html": hit.snippet_html,
            "url": reverse("knowledge:article", args=[hit.article_id]),
        }
        for hit in hits
    ]


@router.get(
    "/knowledge/public/articles/{article_id}",
    response=PublicArticleOut,
    auth=None,
    summary="A published public article (no login)",
)
def public_article(request: HttpRequest, article_id: int):

    article = selectors.article_get_public(article_id=article_id)
    return {
        "id": article.pk,
        "title": article.title,
        "body_html": article.body_html,
        "category": article.category.slug if article.category else None,
        "kind": article.kind,
        "language": article.language,
        "tags": sorted(tag.name for tag in article.tags.all()),
        "published_at": article.published_at,
        "url": reverse("knowledge:article", args=[article.pk]),
    }


# --- Macros ---------------------------------------------------------------------------------


def _macro(request: HttpRequest, macro_id: int) -> Macro:
    macro = (
        Macro.objects.select_related("team")
        .prefetch_related("categories")
        .filter(pk=macro_id)
        .first()
    )
    if macro is None:
        raise Http404("No such macro.")
    return macro


def _categories(values: list[str] | None) -> list[Category]:
    """Categories by slug or id; an unknown one is refused (422), naming it."""
    found: list[Category] = []
    for raw in values or []:
        value = str(raw).strip()
        if not value:
            continue
        category = (
            Category.objects.filter(pk=int(value)).first()
            if value.isdigit() and len(value) < 16
            else Category.objects.filter(slug=value[:200]).first()
        )
        if category is None:
            raise MacroInvalid(f"unknown category '{value[:100]}'", field="categories")
        if category not in found:
            found.append(category)
    return found


@router.get(
    "/knowledge/macros",
    response=list[MacroOut],
    summary="Macros I may use; with `case=`, ranked for that case with why",
)
def macro_list(request: ApiRequest, case: str = ""):
    """Without `case`: the macros the caller may use, their team's first, by name. With
    `case` (id or reference): the same macros best first for that case — its category and
    loop stage, what agents used on such cases, its problem's words, its team, and what the
    customer was already sent — each with `score` and short `reasons`."""
    require_staff(request)
    if not case:
        macros = selectors.macros_for(user=request.auth).prefetch_related("categories")
        return [MacroOut.of(m) for m in macros]
    for_case = case_get_for_user(user=request.auth, case_id=case)
    return [
        MacroOut.of(item.macro, score=item.score, reasons=item.reasons)
        for item in macros_rank_for_case(user=request.auth, case=for_case)
    ]


@router.post("/knowledge/macros", response={201: MacroOut}, summary="Create a macro")
def macro_create(request: ApiRequest, payload: MacroIn):
    require_staff(request)
    macro = services.macro_create(
        name=payload.name,
        body=payload.body,
        actor=request.auth,
        team=_team(payload.team),
        set_status=payload.set_status or "",
        add_tags=payload.add_tags,
        categories=_categories(payload.categories),
        stages=payload.stages,
    )
    return Reply(201, MacroOut.of(_macro(request, macro.pk)))


@router.get("/knowledge/macros/{macro_id}", response=MacroOut, summary="Read a macro")
def macro_detail(request: ApiRequest, macro_id: int):
    require_staff(request)
    return MacroOut.of(_macro(request, macro_id))


@router.patch("/knowledge/macros/{macro_id}", response=MacroOut, summary="Edit a macro")
def macro_patch(request: ApiRequest, macro_id: int, payload: MacroPatchIn):
    require_staff(request)
    given = payload.model_dump(exclude_unset=True)
    if "team" in given:
        given["team"] = _team(given["team"])
    if given.get("set_status") is None and "set_status" in given:
        given["set_status"] = ""
    if given.get("add_tags") is None and "add_tags" in given:
        given["add_tags"] = []
    if "categories" in given:
        given["categories"] = _categories(given["categories"])
    if "stages" in given:
        given["stages"] = given["stages"] or []
    services.macro_update(macro=_macro(request, macro_id), actor=request.auth, **given)
    return MacroOut.of(_macro(request, macro_id))


@router.delete("/knowledge/macros/{macro_id}", response={204: None}, summary="Delete a macro")
def macro_delete(request: ApiRequest, macro_id: int):
    require_staff(request)
    services.macro_delete(macro=_macro(request, macro_id), actor=request.auth)
    return Reply(204, None)


@router.get(
    "/knowledge/macros/{macro_id}/render",
    response=MacroRenderOut,
    summary="The macro's text for a case (nothing is sent)",
)
def macro_render(request: ApiRequest, macro_id: int, case: str):
    require_staff(request)
    target = case_get_for_user(user=request.auth, case_id=case)
    macro = _macro(request, macro_id)
    text = services.macro_render(macro=macro, case=target, agent=request.auth)
    return {"macro": macro.pk, "case": target.pk, "text": text}


@router.post(
    "/knowledge/macros/{macro_id}/apply",
    response=MacroApplyOut,
    summary="Send the macro as a reply on a case and run its actions",
)
def macro_apply(request: ApiRequest, macro_id: int, payload: MacroApplyIn):
    require_staff(request)
    target = case_get_for_user(user=request.auth, case_id=payload.case)
    message = services.macro_apply(macro=_macro(request, macro_id), case=target, agent=request.auth)
    target = Case.objects.prefetch_related("tags").get(pk=target.pk)
    return {
        "message_id": message.pk,
        "case_status": target.status,
        "case_tags": sorted(tag.name for tag in target.tags.all()),
    }


# --- Suggestions, deflections, gaps ---------------------------------------------------------


@router.get(
    "/cases/{case_id}/suggestions",
    response=SuggestionsOut,
    summary="Articles and similar solved cases for a case",
)
def case_suggestions(request: ApiRequest, case_id: str):
    require_staff(request)
    case = case_get_for_user(user=request.auth, case_id=case_id)
    found = selectors.case_suggestions(case=case, user=request.auth)
    return {
        "case": case.pk,
        "articles": [item.__dict__ for item in found.articles],
        "similar_cases": [item.__dict__ for item in found.similar_cases],
    }


@router.post(
    "/cases/{case_id}/suggestions/feedback",
    response={201: FeedbackOut},
    summary="Mark a suggestion used or not helpful",
)
def case_suggestion_feedback(request: ApiRequest, case_id: str, payload: FeedbackIn):
    require_staff(request)
    case = case_get_for_user(user=request.auth, case_id=case_id)
    article = (
        get_object_or_404(Article, pk=payload.article) if payload.article is not None else None
    )
    similar = (
        get_object_or_404(Case, pk=payload.similar_case)
        if payload.similar_case is not None
        else None
    )
    feedback = services.suggestion_feedback_record(
        case=case, user=request.auth, verdict=payload.verdict, article=article, similar_case=similar
    )
    return Reply(
        201,
        {
            "id": feedback.pk,
            "verdict": feedback.verdict,
            "article": feedback.article_id,
            "similar_case": feedback.similar_case_id,
        },
    )


@router.get(
    "/knowledge/deflections", response=DeflectionsOut, summary="Cases customers did not need"
)
def deflections(request: ApiRequest, days: int | None = Query(None, ge=1, le=3650)):
    require_staff(request)
    return selectors.deflection_counts(days=days)


@router.get("/knowledge/gaps", response=GapsOut, summary="Where the knowledge base falls short")
def gaps(
    request: ApiRequest,
    days: int = Query(90, ge=1, le=3650),
    min_cases: int = Query(3, ge=1, le=10_000),
):
    require_staff(request)
    return selectors.knowledge_gaps(days=days, min_cases=min_cases)
