"""Helpers for triage tests: the small labelled fixture as desk history."""

import csv
from pathlib import Path

from django.utils import timezone

from caseloop.cases.models import Case, Category, Status
from tests.builders import make_case, make_category

FIXTURES = Path(__file__).parent / "fixtures"


def fixture_rows(name: str = "tickets.csv") -> list[tuple[str, str]]:
    with (FIXTURES / name).open() as handle:
        return [(row["text"], row["category"]) for row in csv.DictReader(handle)]


def categories() -> dict[str, Category]:
    return {
        slug: make_category(name=slug.capitalize())
        for slug in ("billing", "delivery", "technical", "account")
    }


def desk_history() -> dict[str, Category]:
    """The fixture as solved cases whose category an agent confirmed by solving them.
    (History is set up directly: the loop that leads to `solved` is not under test here.)"""
    cats = categories()
    ids = [
        make_case(subject=text[:60], text=text, category=cats[slug]).pk
        for text, slug in fixture_rows()
    ]
    Case.objects.filter(pk__in=ids).update(status=Status.SOLVED, solved_at=timezone.now())
    return cats


def case_opened(capture, **kwargs) -> Case:
    """A new case, triaged by the after-commit hooks `capture` runs."""
    with capture(execute=True):
        case = make_case(**kwargs)
    case.refresh_from_db()
    return case
