"""Writes for the knowledge base: articles and their versions, the publishing workflow,
macros, suggestion feedback, deflections, search logs and drafts from solved cases.

Article and macro changes are not case changes; anything that touches a case (a macro
applied, feedback on its suggestions, an article drafted from it) writes a CaseEvent in
the same transaction.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterable
from typing import cast

import markdown
from django.apps import apps
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from caseloop.accounts.models import User
from caseloop.automation.selectors import case_first_response_due
from caseloop.cases.loop.selectors import LOOP_STAGES, case_stage_current
from caseloop.cases.models import Case, Category, Message, Status, Tag
from caseloop.cases.services import (
    case_tags_add,
    case_transition,
    event_record,
    message_add,
)
from caseloop.lib.html import html_sanitize, html_to_text

from . import search, tasks
from .errors import (
    ArticleInvalid,
    ArticleLocked,
    MacroInvalid,
    MacroNotAllowed,
    WorkflowError,
)
from .events import ARTICLE_DRAFTED, MACRO_APPLIED, SUGGESTION_FEEDBACK
from .models import (
    Article,
    ArticleSource,
    ArticleVersion,
    Audience,
    Deflection,
    Kind,
    Macro,
    MacroUse,
    SearchLog,
    State,
    SuggestionFeedback,
)
from .search.text import strip_control
from .selectors import case_problem_text, case_resolution_text
from .workflow import WORKFLOW, workflow_allowed

logger = logging.getLogger(__name__)

CONTENT_FIELDS = ("title", "body", "category", "kind", "audience", "language", "tags")
MAX_BODY = 200_000


def _retrieval_refresh_soon() -> None:
    """After the commit, have the meaning and history index rebuilt shortly: one build
    serves a burst of edits. Full-text search sees the change at once."""
    transaction.on_commit(tasks.retrieval_refresh_soon)


def markdown_render(body: str) -> str:
    """Markdown to sanitized HTML: what an article looks like to readers."""
    return html_sanitize(markdown.markdown(body or "", extensions=["extra", "sane_lists"]))


def _clean_tags(names: Iterable[str]) -> list[str]:
    return sorted({name.strip().lower()[:64] for name in names if name and name.strip()})


def _check(*, title: str, body: str, kind: str, audience: str, language: str) -> None:
    if not title.strip():
        raise ArticleInvalid("an article needs a title", field="title")
    if len(title) > 200:
        raise ArticleInvalid("the title is longer than 200 characters", field="title")
    if not body.strip():
        raise ArticleInvalid("an article needs a body", field="body")
    if len(body) > MAX_BODY:
        raise ArticleInvalid(f"the body is longer than {MAX_BODY} characters", field="body")
    if kind not in Kind.values:
        raise ArticleInvalid(f"unknown kind '{kind}'; one of {', '.join(Kind.values)}", "kind")
    if audience not in Audience.values:
        raise ArticleInvalid(
            f"unknown audience '{audience}'; one of {', '.join(Audience.values)}", "audience"
        )
    if not re.fullmatch(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})?", language or ""):
        raise ArticleInvalid(f"'{language}' is not a language code like 'en'", "language")


def _render(article: Article) -> None:
    article.body_html = markdown_render(article.body)
    article.body_text = html_to_text(article.body_html)
    article.slug = slugify(article.title)[:200] or "article"


def _snapshot(*, article: Article, actor, changed: list[str], note: str = "") -> ArticleVersion:
    return ArticleVersion.objects.create(
        article=article,
        number=article.version,
        title=article.title,
        body=article.body,
        category=article.category,
        kind=article.kind,
        audience=article.audience,
        language=article.language,
        tags=sorted(article.tags.values_list("name", flat=True)),
        state=article.state,
        changed_fields=changed,
        note=note[:300],
        author=actor,
    )


def _tags_set(article: Article, names: list[str]) -> None:
    article.tags.set([Tag.objects.get_or_create(name=name)[0] for name in names])


@transaction.atomic
def article_create(
    *,
    title: str,
    body: str,
    actor,
    category: Category | None = None,
    kind: str = Kind.FAQ,
    audience: str = Audience.INTERNAL,
    tags: Iterable[str] = (),
    language: str = "en",
    note: str = "created",
) -> Article:
    """A new draft article, version 1. Side effects: version 1 kept; search index updated;
    a rebuild of the meaning and history index scheduled."""
    title, body = strip_control(title).strip(), strip_control(body)
    _check(title=title, body=body, kind=kind, audience=audience, language=language)
    article = Article(
        title=title,
        body=body,
        category=category,
        kind=kind,
        audience=audience,
        language=language.lower(),
        state=State.DRAFT,
        version=1,
        created_by=actor,
        updated_by=actor,
    )
    _render(article)
    article.save()
    _tags_set(article, _clean_tags(tags))
    _snapshot(article=article, actor=actor, changed=list(CONTENT_FIELDS), note=note)
    search.article_index(article_id=article.pk)
    _retrieval_refresh_soon()
    return article


_UNSET = object()


@transaction.atomic
def article_update(
    *,
    article: Article,
    actor,
    title: str | object = _UNSET,
    body: str | object = _UNSET,
    category: Category | None | object = _UNSET,
    kind: str | object = _UNSET,
    audience: str | object = _UNSET,
    language: str | object = _UNSET,
    tags: Iterable[str] | object = _UNSET,
    note: str = "",
) -> Article:
    """Change an article; arguments left out stay as they are. Any change is a new version
    (who, what, when). Archived articles must go back to draft first.
    Side effects: a version; search index updated; a rebuild of the meaning and history
    index scheduled."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    if article.state == State.ARCHIVED:
        raise ArticleLocked("an archived article cannot be edited; move it back to draft first")
    before_tags = sorted(article.tags.values_list("name", flat=True))
    changed: list[str] = []
    for name, value in (
        ("title", title),
        ("body", body),
        ("kind", kind),
        ("audience", audience),
        ("language", language),
    ):
        if value is _UNSET:
            continue
        value = strip_control(str(value))
        if name == "title":
            value = value.strip()
        if name == "language":
            value = value.lower()
        if value != getattr(article, name):
            setattr(article, name, value)
            changed.append(name)
    if category is not _UNSET:
        new_category = cast("Category | None", category)
        if (new_category.pk if new_category else None) != article.category_id:
            article.category = new_category
            changed.append("category")
    new_tags = _clean_tags(cast("Iterable[str]", tags)) if tags is not _UNSET else before_tags
    _check(
        title=article.title,
        body=article.body,
        kind=article.kind,
        audience=article.audience,
        language=article.language,
    )
    if new_tags != before_tags:
        _tags_set(article, new_tags)
        changed.append("tags")
    if not changed:
        return article
    _render(article)
    article.version += 1
    article.updated_by = actor
    article.save()
    _snapshot(article=article, actor=actor, changed=changed, note=note)
    search.article_index(article_id=article.pk)
    _retrieval_refresh_soon()
    return article


@transaction.atomic
def article_transition(*, article: Article, to: str, actor, note: str = "") -> Article:
    """Move an article along draft → review → published (and archived). Refuses any other
    move with WorkflowError naming the allowed ones. Side effects: a version recording the
    state change."""
    article = Article.objects.select_for_update().get(pk=article.pk)
    current = article.state
    if to not in WORKFLOW.get(current, frozenset()):
        raise WorkflowError(current, to, workflow_allowed(current))
    article.state = to
    if to == State.PUBLISHED:
        article.published_at = timezone.now()
    article.version += 1
    article.updated_by = actor
    article.save(update_fields=["state", "published_at", "version", "updated_by", "updated_at"])
    _snapshot(article=article, actor=actor, changed=["state"], note=note or f"{current} → {to}")
    return article


@transaction.atomic
def article_restore(*, article: Article, number: int, actor) -> Article:
    """Bring back the content of version `number` as a new version; history is kept.
    Side effects: a version; search index updated; a rebuild of the meaning and history
    index scheduled."""
    old = ArticleVersion.objects.filter(article=article, number=number).first()
    if old is None:
        raise ArticleInvalid(f"article {article.pk} has no version {number}", field="version")
    return article_update(
        article=article,
        actor=actor,
        title=old.title,
        body=old.body,
        category=old.category,
        kind=old.kind,
        audience=old.audience,
        language=old.language,
        tags=old.tags,
        note=f"restored from version {number}",
    )


@transaction.atomic
def article_delete(*, article: Article, actor) -> None:
    """Delete an article that was never published; published knowledge is archived instead."""
    if article.published_at is not None:
        raise ArticleLocked("this article has been published; archive it instead of deleting")
    pk = article.pk
    article.delete()
    search.articles_reindex(article_ids=[pk])
    _retrieval_refresh_soon()
    logger.info("article %s deleted by %s", pk, getattr(actor, "pk", None))


# --- Macros -------------------------------------------------------------------------------


def macro_delete(*, macro: Macro, actor: User) -> None:
    """Delete a prepared response. Cases it was applied to keep their `macro_applied`
    events, which name it. Side effects: a log line naming who deleted it."""
    pk, name = macro.pk, macro.name
    macro.delete()
    logger.info("macro %s (%s) deleted by %s", pk, name, actor.pk)


PLACEHOLDERS: dict[str, str] = {
    "customer_name": "The customer's name",
    "customer_first_name": "The customer's first name",
    "case_reference": "The case reference, e.g. CL-000042",
    "subject": "The case subject",
    "agent_name": "The replying agent's name",
    "agent_first_name": "The replying agent's first name",
    "expected_response": "When the customer can expect an answer",
    "team_name": "The case's team",
    "category": "The case's category",
}
MACRO_STATUSES = [s for s in Status.values if s != Status.NEW]


def macro_placeholders(body: str) -> list[str]:
    """The placeholder names used in `body`. Raises MacroInvalid on broken braces, unknown
    names, attribute/index access or format specs."""
    try:
        parts = list(string.Formatter().parse(body))
    except ValueError as exc:
        raise MacroInvalid(
            f"the template has unbalanced braces ({exc}); write {{{{ and }}}} for literal braces"
        ) from exc
    used: list[str] = []
    unknown: list[str] = []
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = name or "{}"
            if shown not in unknown:
                unknown.append(shown)
        elif name not in used:
            used.append(name)
    if unknown:
        raise MacroInvalid(
            f"unknown placeholder(s): {', '.join('{' + u + '}' for u in unknown)}; "
            f"known: {', '.join('{' + k + '}' for k in PLACEHOLDERS)}",
            unknown=unknown,
        )
    return used


def macro_stages_clean(stages: Iterable[str]) -> list[str]:
    """Stage keys in the loop's order, without repeats. Raises MacroInvalid for a name that
    is not a stage of the loop."""
    given = [str(stage).strip() for stage in stages if str(stage).strip()]
    unknown = [stage for stage in given if stage not in LOOP_STAGES]
    if unknown:
        raise MacroInvalid(
            f"unknown loop stage(s): {', '.join(unknown)}; one of {', '.join(LOOP_STAGES)}",
            field="stages",
        )
    return [stage for stage in LOOP_STAGES if stage in given]


def _macro_check(*, name: str, body: str, set_status: str) -> None:
    if not name.strip():
        raise MacroInvalid("a macro needs a name", field="name")
    if not body.strip():
        raise MacroInvalid("a macro needs a body", field="body")
    macro_placeholders(body)
    if set_status and set_status not in MACRO_STATUSES:
        raise MacroInvalid(
            f"unknown status '{set_status}'; one of {', '.join(MACRO_STATUSES)}",
            field="set_status",
        )


@transaction.atomic
def macro_create(
    *,
    name: str,
    body: str,
    actor,
    team=None,
    set_status: str = "",
    add_tags: Iterable[str] = (),
    categories: Iterable[Category] = (),
    stages: Iterable[str] = (),
) -> Macro:
    """A prepared response, optionally for some categories and loop stages only; unknown
    placeholders and stages are refused. Side effects: none."""
    _macro_check(name=name, body=body, set_status=set_status)
    macro = Macro.objects.create(
        name=name.strip()[:120],
        body=body,
        team=team,
        set_status=set_status,
        add_tags=_clean_tags(add_tags),
        stages=macro_stages_clean(stages),
        created_by=actor,
    )
    macro.categories.set(list(categories))
    return macro


@transaction.atomic
def macro_update(
    *,
    macro: Macro,
    actor,
    name: str | object = _UNSET,
    body: str | object = _UNSET,
    team=_UNSET,
    set_status: str | object = _UNSET,
    add_tags: Iterable[str] | object = _UNSET,
    is_active: bool | object = _UNSET,
    categories: Iterable[Category] | object = _UNSET,
    stages: Iterable[str] | object = _UNSET,
) -> Macro:
    """Change a macro; arguments left out stay as they are. Side effects: none."""
    macro = Macro.objects.select_for_update().get(pk=macro.pk)
    if name is not _UNSET:
        macro.name = str(name).strip()[:120]
    if body is not _UNSET:
        macro.body = str(body)
    if team is not _UNSET:
        macro.team = team
    if set_status is not _UNSET:
        macro.set_status = str(set_status)
    if add_tags is not _UNSET:
        macro.add_tags = _clean_tags(cast("Iterable[str]", add_tags))
    if is_active is not _UNSET:
        macro.is_active = bool(is_active)
    if stages is not _UNSET:
        macro.stages = macro_stages_clean(cast("Iterable[str]", stages))
    _macro_check(name=macro.name, body=macro.body, set_status=macro.set_status)
    macro.save()
    if categories is not _UNSET:
        macro.categories.set(list(cast("Iterable[Category]", categories)))
    return macro


def _expected_response(case: Case) -> str:
    local = timezone.localtime(case_first_response_due(case=case))
    return f"by {local:%A %d %B %Y, %H:%M} ({local.tzname()})"


def macro_render(*, macro: Macro, case: Case, agent) -> str:
    """The macro's text with this case's and agent's values filled in."""
    used = macro_placeholders(macro.body)
    customer_name = (case.customer.name or "").strip()
    agent_name = agent.display_name if agent is not None else ""
    values = {
        "customer_name": customer_name or "there",
        "customer_first_name": (customer_name.split() or ["there"])[0],
        "case_reference": case.reference or "",
        "subject": case.subject,
        "agent_name": agent_name,
        "agent_first_name": (agent_name.split() or [""])[0],
        "team_name": case.team.name if case.team else "our support team",
        "category": case.category.name if case.category else "",
    }
    if "expected_response" in used:
        values["expected_response"] = _expected_response(case)
    return macro.body.format_map({name: values.get(name, "") for name in used})


def macro_can_use(*, macro: Macro, user) -> bool:
    if not getattr(user, "is_agent_like", False) or not macro.is_active:
        return False
    return macro.team is None or macro.team.members.filter(pk=user.pk).exists()


@transaction.atomic
def macro_apply(*, macro: Macro, case: Case, agent) -> Message:
    """Send the rendered macro as a reply on the case, then run its actions (tags, status)
    through the case services. Side effects: the reply and its delivery, `tags_changed` /
    `status_changed` events from those services, and a `macro_applied` event."""
    if not macro_can_use(macro=macro, user=agent):
        raise MacroNotAllowed("this macro belongs to a team you are not in, or is inactive")
    # Where the case stood when the macro was chosen, before its reply and actions move it.
    stage = case_stage_current(case=case)
    text = macro_render(macro=macro, case=case, agent=agent)
    message = message_add(case=case, direction=Message.Direction.OUTBOUND, text=text, actor=agent)
    if macro.add_tags:
        case_tags_add(case=case, names=list(macro.add_tags), actor=agent)
    if macro.set_status:
        current = Case.objects.only("status").get(pk=case.pk).status
        if current != macro.set_status:
            case_transition(
                case=case, to=macro.set_status, actor=agent, reason=f"macro '{macro.name}'"
            )
    event_record(
        case=case,
        actor=agent,
        kind=MACRO_APPLIED,
        data={"macro": macro.pk, "name": macro.name, "message": message.pk},
    )
    _macro_use_add(macro=macro, case=case, agent=agent, stage=stage)
    return message


def _macro_use_add(*, macro: Macro, case: Case, agent, stage: str) -> MacroUse:
    Macro.objects.filter(pk=macro.pk).update(times_used=F("times_used") + 1)
    return MacroUse.objects.create(
        macro=macro,
        case=case,
        category_id=case.category_id,
        stage=stage,
        customer_id=case.customer_id,
        agent=agent if getattr(agent, "pk", None) else None,
    )


@transaction.atomic
def macros_sent_record(
    *, macro_ids: Iterable[int], case: Case, agent, stage: str | None = None
) -> list[MacroUse]:
    """Keep that a reply `agent` sent on `case` carried these prepared responses (put into
    the composer with "Use"): each counts as a use at the case's category and at `stage`
    (the loop stage when the reply was written; by default where the case stands now). Ids
    of macros the agent may not use are ignored. Side effects: none beyond the use records
    and the macros' counts; the reply itself is the case's event."""
    wanted = sorted({int(pk) for pk in macro_ids})
    if not wanted:
        return []
    macros = [
        macro
        for macro in Macro.objects.select_related("team").filter(pk__in=wanted)
        if macro_can_use(macro=macro, user=agent)
    ]
    if not macros:
        return []
    if stage is None:
        stage = case_stage_current(case=case)
    return [_macro_use_add(macro=macro, case=case, agent=agent, stage=stage) for macro in macros]


# --- Suggestions, deflections, search logs ------------------------------------------------


@transaction.atomic
def suggestion_feedback_record(
    *,
    case: Case,
    user,
    verdict: str,
    article: Article | None = None,
    similar_case: Case | None = None,
) -> SuggestionFeedback:
    """Keep an agent's verdict on a suggestion; it feeds the ranking of later suggestions
    for the same category. Side effects: a `suggestion_feedback` event on the case; for a
    used article, a rebuild of the meaning and history index scheduled."""
    if verdict not in SuggestionFeedback.Verdict.values:
        raise ArticleInvalid(
            f"unknown verdict '{verdict}'; one of {', '.join(SuggestionFeedback.Verdict.values)}",
            field="verdict",
        )
    if (article is None) == (similar_case is None):
        raise ArticleInvalid("give either an article or a similar case", field="article")
    if article is not None and verdict == SuggestionFeedback.Verdict.USED:
        _retrieval_refresh_soon()
    feedback = SuggestionFeedback.objects.create(
        case=case,
        category_id=case.category_id,
        article=article,
        similar_case=similar_case,
        verdict=verdict,
        user=user,
    )
    event_record(
        case=case,
        actor=user,
        kind=SUGGESTION_FEEDBACK,
        data={
            "verdict": verdict,
            "article": article.pk if article else None,
            "similar_case": similar_case.pk if similar_case else None,
        },
    )
    return feedback


def query_normalize(query: str) -> str:
    return " ".join((query or "").lower().split())[:300]


@transaction.atomic
def deflection_record(*, article: Article, query: str = "") -> Deflection:
    """A customer said this public article solved their problem; no case is opened.
    Side effects: a rebuild of the meaning and history index scheduled (the query teaches
    the article its question)."""
    if not article.is_public:
        raise ArticleInvalid("only published public articles can deflect", field="article")
    _retrieval_refresh_soon()
    return Deflection.objects.create(article=article, query=query_normalize(query))


def search_log_record(*, query: str, source: str, results: int) -> SearchLog | None:
    """Remember a search and how many results it had (searches with none are gaps)."""
    normalized = query_normalize(query)
    if not normalized:
        return None
    return SearchLog.objects.create(query=normalized, source=source, results=results)


# --- From lessons and solved cases to knowledge ----------------------------------------------


def lesson_model():
    """The loop's Lesson model, or None where the desk has no lessons learned."""
    try:
        return apps.get_model("cases", "Lesson")
    except LookupError:
        return None


@transaction.atomic
def article_draft_from_case(*, case: Case, actor, lesson=None) -> Article:
    """A draft troubleshooting article prefilled from the case's problem statement and
    resolution (and the lesson learned), linked back to the case. The lesson becomes
    converted. Side effects: version 1; an `article_drafted` event on the case."""
    if lesson is not None:
        lesson = type(lesson).objects.select_for_update().get(pk=lesson.pk)
        if lesson.case_id != case.pk:
            raise ArticleInvalid("the lesson belongs to another case", field="lesson")
        if getattr(lesson, "state", "") == "converted":
            raise ArticleLocked("this lesson has already been turned into an article")
    problem = case_problem_text(case=case)
    resolution = case_resolution_text(case=case) or "_Describe how the problem was solved._"
    sections = [f"## Problem\n\n{problem}", f"## Resolution\n\n{resolution}"]
    summary = (getattr(lesson, "summary", "") or "").strip() if lesson is not None else ""
    if summary:
        sections.append(f"## Lesson learned\n\n{summary}")
    article = article_create(
        title=case.subject[:200],
        body="\n\n".join(sections) + "\n",
        actor=actor,
        category=case.category,
        kind=Kind.TROUBLESHOOTING,
        audience=Audience.INTERNAL,
        note=f"drafted from case {case.reference}",
    )
    ArticleSource.objects.create(
        article=article, case=case, lesson_id=lesson.pk if lesson else None, created_by=actor
    )
    if lesson is not None:
        lesson.state = "converted"
        lesson.save(update_fields=["state"])
    event_record(
        case=case,
        actor=actor,
        kind=ARTICLE_DRAFTED,
        data={"article": article.pk, "lesson": lesson.pk if lesson else None},
    )
    return article
