"""The triage panel on the case page."""

from __future__ import annotations

from caseloop.cases.models import Category, Priority

from .selectors import case_moods, case_triage, cases_similar


def triage_panel_context(*, case, user) -> dict | None:
    if user is None or not getattr(user, "is_agent_like", False):
        return None
    triage = case_triage(case=case)
    # The form where the agent sets or corrects what triage decided.
    decide = {
        "categories": list(Category.objects.filter(is_active=True).order_by("name")),
        "priorities": Priority.choices,
    }
    if triage is None:
        return {"pending": True, "case": case, **decide}
    ids = {triage["category"]["id"]} | {c["category"] for c in triage["category"]["candidates"]}
    names = dict(Category.objects.filter(pk__in=[i for i in ids if i]).values_list("pk", "name"))
    candidates = [
        {"id": c["category"], "name": names.get(c["category"], "?"), "confidence": c["confidence"]}
        for c in triage["category"]["candidates"]
    ]
    moods = case_moods(case=case)
    return {
        "pending": False,
        "case": case,
        "triage": triage,
        "category_name": names.get(triage["category"]["id"]),
        "confidence_pct": round(triage["category"]["confidence"] * 100),
        "candidates": candidates,
        "factors": triage["priority"]["factors"],
        "moods": [
            {
                "at": m.message.created_at,
                "label": m.label,
                "score": round(m.score, 2),
                "complaint_pct": round(m.complaint_probability * 100),
                "frustrated": m.frustrated,
                "wants_to_be_heard": m.wants_to_be_heard,
            }
            for m in moods
        ],
        "similar": cases_similar(case=case, k=5),
        **decide,
    }
