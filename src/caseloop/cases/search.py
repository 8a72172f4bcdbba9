"""Finding cases by what a person types into a search box: any part of the subject, of the
customer's name or of one of their contact points (an email address, a phone number), and,
for staff, every word of it in one message of the conversation.

Each field is read through an index, newest matches first, at most `SEARCH_MATCHES` of each,
so a search does bounded work whatever it matches, nothing or half the desk: on SQLite FTS5
tables (trigram for subjects and customers, words for messages), on PostgreSQL pg_trgm GIN
indexes and the messages' tsvector GIN index, where the planner either walks the newest
cases and stops once it has enough (a common word) or reads the few matches from the index
(a rare word, or none). The candidates then go to the case list as ids, which it probes in
its own order. A reference or an id is not a text search: see `selectors.cases_filtered`."""

from __future__ import annotations

import json

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from .extensions import conversation_case_ids

# The newest matches read from each field: a search lists the newest of these (all of
# them when fewer), so the largest page the API serves (200) is always complete; a word in
# more cases is narrowed with more words or a filter. The cost of a search for a word in a
# few percent of the cases grows with this.
SEARCH_MATCHES = 200
# Trigram indexes find strings of three characters or more; a shorter one is looked for by
# reading the cases newest first until SEARCH_MATCHES hold it.
TRIGRAM = 3


def case_search_condition(q: str, *, conversation: bool) -> Q:
    """The filter of cases matching the words `q`: by subject and, with `conversation`
    (staff, who may read internal notes too), by customer and by conversation."""
    message_ids = conversation_case_ids(q=q, limit=SEARCH_MATCHES) if conversation else []
    branches = [_subject_ids(q)]
    if conversation:
        branches.append(_customer_case_ids(q))
    sql = " UNION ALL ".join(
        f"SELECT id FROM ({branch}) AS b{n}" for n, (branch, _) in enumerate(branches)
    )
    params = [param for _, branch_params in branches for param in branch_params]
    if connection.vendor == "postgresql":
        # The candidates as one array, computed once before the cases are read: the case
        # list then probes the primary key for them in its own order (newest first) and
        # stops at the page's end, instead of walking every case and asking each.
        sql = f'"cases_case"."id" = ANY(ARRAY({sql}) || %s::bigint[])'
        return Q(RawSQL(sql, (*params, message_ids), output_field=BooleanField()))
    if message_ids:
        sql += " UNION ALL SELECT value FROM json_each(%s)"
        params.append(json.dumps(message_ids))
    return Q(pk__in=RawSQL(sql, params))


def _like(q: str) -> str:
    return f"%{connection.ops.prep_for_like_query(q)}%"


def _fts_phrase(q: str) -> str:
    return '"' + q.replace('"', '""') + '"'


def _subject_ids(q: str) -> tuple[str, list[object]]:
    """The newest cases whose subject holds `q`, in any case (migration cases 0012)."""
    if connection.vendor == "sqlite" and len(q) >= TRIGRAM:
        return (
            "SELECT rowid AS id FROM cases_case_subject_fts WHERE cases_case_subject_fts "
            "MATCH %s ORDER BY rowid DESC LIMIT %s",
            [_fts_phrase(q), SEARCH_MATCHES],
        )
    if connection.vendor == "sqlite":
        return (
            "SELECT id FROM cases_case WHERE subject LIKE %s ESCAPE '\\' ORDER BY id DESC LIMIT %s",
            [_like(q), SEARCH_MATCHES],
        )
    return (
        "SELECT id FROM cases_case WHERE UPPER(subject::text) LIKE UPPER(%s) "
        "ORDER BY id DESC LIMIT %s",
        [_like(q), SEARCH_MATCHES],
    )


def _customer_case_ids(q: str) -> tuple[str, list[object]]:
    """The newest cases of the newest customers whose name or a contact point holds `q`
    (migration customers 0003)."""
    if connection.vendor == "sqlite" and len(q) >= TRIGRAM:
        phrase = _fts_phrase(q)
        customers = (
            "SELECT id FROM (SELECT rowid AS id FROM customers_customer_name_fts "
            "WHERE customers_customer_name_fts MATCH %s ORDER BY rowid DESC LIMIT %s) "
            "UNION SELECT p.customer_id FROM customers_contactpoint p WHERE p.id IN ("
            "SELECT rowid FROM customers_contactpoint_value_fts "
            "WHERE customers_contactpoint_value_fts MATCH %s ORDER BY rowid DESC LIMIT %s)"
        )
        params: list[object] = [phrase, SEARCH_MATCHES, phrase, SEARCH_MATCHES]
    elif connection.vendor == "sqlite":
        customers = (
            "SELECT id FROM customers_customer WHERE name LIKE %s ESCAPE '\\' "
            "UNION SELECT customer_id FROM customers_contactpoint WHERE value LIKE %s ESCAPE '\\'"
        )
        params = [_like(q), _like(q)]
    else:
        customers = (
            "(SELECT id FROM customers_customer WHERE UPPER(name::text) LIKE UPPER(%s) "
            "ORDER BY id DESC LIMIT %s) UNION (SELECT customer_id FROM customers_contactpoint "
            "WHERE UPPER(value::text) LIKE UPPER(%s) ORDER BY id DESC LIMIT %s)"
        )
        params = [_like(q), SEARCH_MATCHES, _like(q), SEARCH_MATCHES]
    # The matching customers drive the join (CROSS JOIN keeps that order on SQLite): their
    # cases are read through the (customer, -id) index, never by walking every case.
    return (
        f"SELECT c.id FROM (SELECT id FROM ({customers}) AS m0 ORDER BY id DESC LIMIT %s) "
        f"AS m CROSS JOIN cases_case c WHERE c.customer_id = m.id ORDER BY c.id DESC LIMIT %s",
        [*params, SEARCH_MATCHES, SEARCH_MATCHES],
    )
