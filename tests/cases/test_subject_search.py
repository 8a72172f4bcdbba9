"""Searching case subjects reads the subject index (FTS5 trigram on SQLite, pg_trgm on
PostgreSQL): any part of a word, in any case, found or not, without reading the table."""

import pytest
from django.db import connection

from caseloop.cases.models import Case
from caseloop.cases.selectors import CaseFilters, cases_filtered
from caseloop.cases.services import case_update
from tests.builders import make_agent, make_case

pytestmark = pytest.mark.django_db


def found(q):
    return set(cases_filtered(Case.objects.all(), CaseFilters(q=q), conversation=False))


def test_a_subject_is_found_by_any_part_in_any_case_and_follows_edits():
    kettle = make_case(subject="Kettle leaks from the BASE")
    toaster = make_case(subject="Toaster burns bread")
    assert found("kettle") == {kettle}
    assert found("eaks fro") == {kettle}
    assert found("base") == {kettle}
    assert found("BREAD") == {toaster}
    assert found("nothing like this") == set()
    assert found("to") == {toaster}  # shorter than a trigram: still found
    case_update(case=toaster, actor=make_agent(), subject="Toaster sparks")
    assert found("bread") == set() and found("sparks") == {toaster}


def test_the_search_reads_the_index_not_the_table():
    make_case(subject="Kettle leaks")
    sql, params = cases_filtered(
        Case.objects.all(), CaseFilters(q="kettle"), conversation=False
    ).query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "cases_case_subject_trgm" in plan, plan
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            assert "cases_case_subject_fts VIRTUAL TABLE" in plan, plan
            assert "SCAN cases_case\n" not in plan + "\n", plan
