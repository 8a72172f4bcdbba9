"""The case search reads indexes, not tables: on a desk of realistic size with fresh
statistics (ANALYZE), the database's own plan for every statement a search runs finds
its matches through the search indexes, never by reading the cases (or the customers, or
the messages) one by one, for a word nothing holds as for a common one."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from caseloop.cases.models import Case, Message
from caseloop.cases.selectors import CaseFilters, case_list
from caseloop.customers.models import ContactPoint, Customer
from caseloop.knowledge.search import messages_backfill
from tests.builders import make_agent

pytestmark = pytest.mark.django_db

CASES = 20_000
CUSTOMERS = 4_000
GIN_INDEXES = [
    "cases_case_subject_trgm",
    "customers_customer_name_trgm",
    "customers_contactpoint_value_trgm",
    "kb_message_document_gin",
]
WORDS = ["parcel", "refund", "invoice", "kettle", "password", "delivery", "account", "charge"]


@pytest.fixture
def big_desk():
    """Twenty thousand cases: a quarter with "card" in the subject, each with a customer's
    message and a reply."""
    Customer.objects.bulk_create(
        Customer(name=f"Person {n} {WORDS[n % len(WORDS)].title()}") for n in range(CUSTOMERS)
    )
    customer_ids = list(Customer.objects.values_list("id", flat=True))
    ContactPoint.objects.bulk_create(
        ContactPoint(customer_id=pk, kind="email", value=f"person{pk}@example.com")
        for pk in customer_ids
    )
    Case.objects.bulk_create(
        (
            Case(
                subject=f"{'Card ' if n % 4 == 0 else ''}{WORDS[n % 7]} {WORDS[n % 5]} {n}",
                customer_id=customer_ids[n % CUSTOMERS],
                channel="email",
                status="open",
            )
            for n in range(CASES)
        ),
        batch_size=2000,
    )
    case_ids = list(Case.objects.values_list("id", flat=True))
    Message.objects.bulk_create(
        (
            message
            for n, pk in enumerate(case_ids)
            for message in (
                Message(
                    case_id=pk,
                    direction="inbound",
                    channel="email",
                    text=f"My {WORDS[n % 8]} has a problem with the {WORDS[n % 3]} number {n}",
                ),
                Message(case_id=pk, direction="outbound", channel="email", text="On it, thanks."),
            )
        ),
        batch_size=4000,
    )
    messages_backfill()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # What autovacuum does on a live desk: move the rows just inserted from the GIN
            # indexes' pending lists into the indexes proper.
            for index in GIN_INDEXES:
                cursor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])
        cursor.execute("ANALYZE")
    return make_agent()


def search_plans(agent, q: str) -> list[str]:
    """The plan of each statement the case list runs for `q` (executed, on PostgreSQL)."""
    with CaptureQueriesContext(connection) as captured:
        case_list(user=agent, filters=CaseFilters(q=q), limit=50)
    plans = []
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for statement in captured.captured_queries:
            sql = statement["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(("EXPLAIN ANALYZE " if postgres else "EXPLAIN QUERY PLAN ") + sql)
            plans.append("\n".join(str(row[0] if postgres else row[-1]) for row in cursor))
    return plans


# Reading one of these tables whole is what a search must never do.
TABLE_READ = {
    "postgresql": re.compile(
        r"Seq Scan on (cases_case|customers_customer|customers_contactpoint|"
        r"knowledge_messagedocument)\b"
    ),
    "sqlite": re.compile(
        r"^SCAN (cases_case|customers_customer|customers_contactpoint)( |$)", re.M
    ),
}


def rows_read_and_dropped(plan: str) -> int:
    return sum(int(n) for n in re.findall(r"Rows Removed by (?:Filter|Index Recheck): (\d+)", plan))


def test_searches_read_the_indexes_whatever_they_match(big_desk):
    agent = big_desk
    table_read = TABLE_READ[connection.vendor]

    # A word nothing holds: every field's index is asked, and nothing else is read.
    text = "\n\n".join(search_plans(agent, "zzqx-nohit"))
    assert not table_read.search(text), text
    if connection.vendor == "postgresql":
        assert "Bitmap Index Scan on cases_case_subject_trgm" in text, text
        assert "Bitmap Index Scan on customers_customer_name_trgm" in text, text
        assert "Bitmap Index Scan on customers_contactpoint_value_trgm" in text, text
        assert "Bitmap Index Scan on kb_message_document_gin" in text, text
        # Nothing matched, so nothing was read only to be thrown away.
        assert rows_read_and_dropped(text) == 0, text
    else:
        for index in [
            "cases_case_subject_fts",
            "customers_customer_name_fts",
            "customers_contactpoint_value_fts",
            "knowledge_message_fts",
        ]:
            assert f"{index} VIRTUAL TABLE" in text, text

    # A word in a quarter of the cases: the newest matches, found without a sort of them all.
    rows, _ = case_list(user=agent, filters=CaseFilters(q="card"), limit=50)
    newest = Case.objects.filter(subject__icontains="card").order_by("-id")
    assert [case.pk for case in rows] == list(newest.values_list("id", flat=True)[:50])
    text = "\n\n".join(search_plans(agent, "card"))
    assert not table_read.search(text), text
    if connection.vendor == "postgresql":
        # The newest matches and the few cases between them, not a quarter of the desk.
        assert rows_read_and_dropped(text) < CASES // 10, text

    # A customer's address: their cases, read through the customer index.
    customer = Customer.objects.order_by("id")[CUSTOMERS // 2]
    q = f"person{customer.pk}@"
    rows, _ = case_list(user=agent, filters=CaseFilters(q=q), limit=50)
    assert {case.customer_id for case in rows} == {customer.pk}
    assert len(rows) == CASES // CUSTOMERS
    text = "\n\n".join(search_plans(agent, q))
    assert not table_read.search(text), text
