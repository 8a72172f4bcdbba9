"""HTML: the public help centre (no login), the suggestion endpoints behind the contact
form, and the agents' knowledge pages. Thin: parse, call a selector or service, render."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from caseloop.accounts.models import User
from caseloop.cases import known_issues
from caseloop.cases.errors import CaseError
from caseloop.cases.models import Case, Category
from caseloop.cases.selectors import case_get_for_user
from caseloop.lib.ratelimit import rate_limited

from . import selectors, services
from .models import Article, Audience, Kind, Macro, SearchLog, State
from .search import ArticleFilters, search_articles, search_messages
from .workflow import workflow_allowed

SUGGEST_PER_MINUTE = 60
DEFLECT_PER_MINUTE = 10
FOLLOW_URL = "knowledge:known_issue_follow"


# --- Public help centre ---------------------------------------------------------------------


def _banners(request: HttpRequest) -> dict:
    return {
        **known_issues.known_issues_for_page(user=request.user),
        "follow_url_name": FOLLOW_URL,
    }


def help_index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "knowledge/help_index.html",
        {
            "categories": selectors.help_categories(),
            "recent": selectors.public_articles().order_by("-published_at", "-id")[:10],
            **_banners(request),
        },
    )


def help_category(request: HttpRequest, slug: str) -> HttpResponse:
    category = get_object_or_404(Category, slug=slug)
    articles = list(selectors.public_articles(category=category))
    if not articles:
        return render(request, "knowledge/help_category.html", {"category": category}, status=404)
    return render(
        request, "knowledge/help_category.html", {"category": category, "articles": articles}
    )


def help_search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:300]
    if query and rate_limited(request, scope="help-search", limit=SUGGEST_PER_MINUTE):
        return render(
            request, "knowledge/help_search.html", {"query": query, "limited": True}, status=429
        )
    hits = search_articles(query, audience="public", limit=20) if query else []
    if query:
        services.search_log_record(
            query=query, source=SearchLog.Source.HELP_CENTRE, results=len(hits)
        )
    corrected = hits[0].corrected_query if hits else ""
    return render(
        request,
        "knowledge/help_search.html",
        {"query": query, "hits": hits, "corrected": corrected, **_banners(request)},
    )


def help_article(request: HttpRequest, article_id: int) -> HttpResponse:
    article = selectors.article_get_public(article_id=article_id)
    return render(request, "knowledge/help_article.html", {"article": article})


@require_GET
def suggest(request: HttpRequest) -> JsonResponse:
    """Articles for what a customer is typing in the contact form (published, public)."""
    if rate_limited(request, scope="suggest", limit=SUGGEST_PER_MINUTE):
        return JsonResponse({"detail": "too many requests; try again in a minute"}, status=429)
    query = request.GET.get("q", "").strip()[:300]
    hits = search_articles(query, audience="public", limit=5, prefix=True) if query else []
    if query and len(query) >= 8 and not hits:
        services.search_log_record(query=query, source=SearchLog.Source.FORM, results=0)
    return JsonResponse(
        {
            "query": query,
            "results": [
                {
                    "id": hit.article_id,
                    "title": hit.title,
                    "snippet_html": hit.snippet_html,
                    "url": reverse("knowledge:article", args=[hit.article_id]),
                }
                for hit in hits
            ],
        }
    )


@require_POST
def deflect(request: HttpRequest) -> HttpResponse:
    """The customer says an article solved their problem: count it; no case is opened."""
    wants_json = request.headers.get("X-Requested-With") == "fetch"
    if rate_limited(request, scope="deflect", limit=DEFLECT_PER_MINUTE):
        return JsonResponse({"detail": "too many requests"}, status=429)
    article_id = request.POST.get("article", "")
    if not article_id.isdigit():
        return JsonResponse({"detail": "which article? send 'article'"}, status=422)
    article = selectors.article_get_public(article_id=int(article_id))
    services.deflection_record(article=article, query=request.POST.get("query", ""))
    if wants_json:
        return JsonResponse({"deflected": True, "article": article.pk})
    return render(
        request, "knowledge/help_deflected.html", {"article": article, **_banners(request)}
    )


@require_POST
def known_issue_follow(request: HttpRequest, issue_id: int) -> HttpResponse:
    """A customer asks to be told when a known issue is fixed, instead of writing in."""
    email = request.POST.get("email", "").strip()[:400]
    context = {**_banners(request), "follow_email": email}
    if rate_limited(
        request,
        scope="known-issue-follow",
        limit=known_issues.FOLLOW_LIMIT,
        window=known_issues.FOLLOW_WINDOW_SECONDS,
    ):
        context["follow_error_general"] = known_issues.rate_limited_text(
            known_issues.FOLLOW_WINDOW_SECONDS
        )
        return render(request, "knowledge/help_followed.html", context, status=429)
    status = known_issues.known_issue_follow_from_page(
        issue_id=issue_id, email=email, via="help_centre", user=request.user, context=context
    )
    return render(request, "knowledge/help_followed.html", context, status=status)


# --- Agents ---------------------------------------------------------------------------------


def _staff(request: HttpRequest) -> None:
    if not cast(User, request.user).is_agent_like:
        raise PermissionDenied("agents only")


@login_required
def desk_articles(request: HttpRequest) -> HttpResponse:
    _staff(request)
    state = request.GET.get("state", "")
    return render(
        request,
        "knowledge/desk_articles.html",
        {
            "articles": selectors.article_list(state=state)[:200],
            "state": state,
            "states": State.choices,
        },
    )


def _article_fields(request: HttpRequest) -> dict:
    category_id = request.POST.get("category", "")
    return {
        "title": request.POST.get("title", ""),
        "body": request.POST.get("body", ""),
        "category": Category.objects.filter(pk=category_id).first()
        if category_id.isdigit()
        else None,
        "kind": request.POST.get("kind", Kind.FAQ),
        "audience": request.POST.get("audience", Audience.INTERNAL),
        "language": request.POST.get("language", "en") or "en",
        "tags": [t for t in request.POST.get("tags", "").split(",") if t.strip()],
    }


@login_required
def desk_article_edit(request: HttpRequest, article_id: int | None = None) -> HttpResponse:
    _staff(request)
    article = (
        selectors.article_get_for_agent(article_id=article_id, user=request.user)
        if article_id
        else None
    )
    if request.method == "POST":
        fields = _article_fields(request)
        try:
            if article is None:
                article = services.article_create(actor=request.user, **fields)
            else:
                services.article_update(
                    article=article, actor=request.user, note=request.POST.get("note", ""), **fields
                )
            return redirect("knowledge:desk_article", article_id=article.pk)
        except CaseError as exc:
            messages.error(request, str(exc))
    return render(
        request,
        "knowledge/desk_article_edit.html",
        {
            "article": article,
            "categories": Category.objects.filter(is_active=True),
            "kinds": Kind.choices,
            "audiences": Audience.choices,
            "tags": ", ".join(t.name for t in article.tags.all()) if article else "",
        },
    )


@login_required
def desk_article(request: HttpRequest, article_id: int) -> HttpResponse:
    _staff(request)
    article = selectors.article_get_for_agent(article_id=article_id, user=request.user)
    return render(
        request,
        "knowledge/desk_article.html",
        {
            "article": article,
            "versions": selectors.article_versions(article=article),
            "transitions": workflow_allowed(article.state),
            "sources": article.sources.select_related("case"),
        },
    )


@login_required
def desk_version(request: HttpRequest, article_id: int, number: int) -> HttpResponse:
    _staff(request)
    article = selectors.article_get_for_agent(article_id=article_id, user=request.user)
    version = selectors.article_version_get(article=article, number=number)
    return render(
        request,
        "knowledge/desk_version.html",
        {
            "article": article,
            "version": version,
            "body_html": services.markdown_render(version.body),
        },
    )


@login_required
@require_POST
def desk_restore(request: HttpRequest, article_id: int, number: int) -> HttpResponse:
    _staff(request)
    article = selectors.article_get_for_agent(article_id=article_id, user=request.user)
    try:
        services.article_restore(article=article, number=number, actor=request.user)
        messages.success(
            request, gettext("Version %(number)s restored as a new version.") % {"number": number}
        )
    except CaseError as exc:
        messages.error(request, str(exc))
    return redirect("knowledge:desk_article", article_id=article.pk)


@login_required
@require_POST
def desk_transition(request: HttpRequest, article_id: int) -> HttpResponse:
    _staff(request)
    article = selectors.article_get_for_agent(article_id=article_id, user=request.user)
    try:
        services.article_transition(
            article=article, to=request.POST.get("to", ""), actor=request.user
        )
    except CaseError as exc:
        messages.error(request, str(exc))
    return redirect("knowledge:desk_article", article_id=article.pk)


@login_required
def desk_search(request: HttpRequest) -> HttpResponse:
    _staff(request)
    query = request.GET.get("q", "").strip()[:300]
    hits = search_articles(query, audience="agent", filters=ArticleFilters(), limit=20)
    if query:
        services.search_log_record(query=query, source=SearchLog.Source.AGENT, results=len(hits))
    message_hits = search_messages(query, user=request.user, limit=20) if query else []
    return render(
        request,
        "knowledge/desk_search.html",
        {"query": query, "hits": hits, "message_hits": message_hits},
    )


@login_required
def desk_gaps(request: HttpRequest) -> HttpResponse:
    _staff(request)
    return render(
        request,
        "knowledge/desk_gaps.html",
        {"gaps": selectors.knowledge_gaps(), "deflections": selectors.deflection_counts(days=30)},
    )


@login_required
@require_POST
def case_feedback(request: HttpRequest, case_id: int) -> HttpResponse:
    _staff(request)
    case = case_get_for_user(user=request.user, case_id=case_id)
    article_id = request.POST.get("article", "")
    similar_id = request.POST.get("similar_case", "")
    try:
        services.suggestion_feedback_record(
            case=case,
            user=request.user,
            verdict=request.POST.get("verdict", ""),
            article=get_object_or_404(Article, pk=article_id) if article_id.isdigit() else None,
            similar_case=get_object_or_404(Case, pk=similar_id) if similar_id.isdigit() else None,
        )
        messages.success(request, gettext("Thanks: suggestions will learn from that."))
    except CaseError as exc:
        messages.error(request, str(exc))
    return redirect("web:case", case_id=case.pk)


@login_required
@require_POST
def case_macro_apply(request: HttpRequest, case_id: int) -> HttpResponse:
    _staff(request)
    case = case_get_for_user(user=request.user, case_id=case_id)
    macro = get_object_or_404(Macro, pk=request.POST.get("macro", "0") or 0)
    try:
        services.macro_apply(macro=macro, case=case, agent=request.user)
        messages.success(request, gettext("Sent '%(name)s'.") % {"name": macro.name})
    except CaseError as exc:
        messages.error(request, str(exc))
    return redirect("web:case", case_id=case.pk)


@login_required
@require_POST
def case_draft_article(request: HttpRequest, case_id: int) -> HttpResponse:
    _staff(request)
    case = case_get_for_user(user=request.user, case_id=case_id)
    lesson = None
    lesson_id = request.POST.get("lesson", "")
    if lesson_id.isdigit():
        lesson_model = services.lesson_model()
        if lesson_model is not None:
            lesson = get_object_or_404(lesson_model, pk=int(lesson_id), case=case)
    try:
        article = services.article_draft_from_case(case=case, actor=request.user, lesson=lesson)
    except CaseError as exc:
        messages.error(request, str(exc))
        return redirect("web:case", case_id=case.pk)
    return redirect("knowledge:desk_article_edit", article_id=article.pk)
