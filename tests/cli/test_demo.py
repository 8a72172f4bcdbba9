from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from caseloop.accounts.models import Team, User
from caseloop.cases.models import Case, CaseEvent, Escalation, Message, Status
from caseloop.customers.models import ContactPoint, Customer, PurchaseRecord
from caseloop.demo.data import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def demo(**options) -> str:
    out = StringIO()
    call_command("demo", stdout=out, **options)
    return out.getvalue()


def test_the_demo_seeds_a_working_desk_and_says_how_to_sign_in(client):
    output = demo(cases=40, customers=12)
    assert "/login/" in output and DEMO_PASSWORD in output
    for username in ["agent", "agent2", "specialist", "manager", "admin", "customer"]:
        assert username in output
        assert User.objects.filter(username=username).exists()
    specialist = User.objects.get(username="specialist")
    assert specialist.tier == 2 and specialist.skills.exists()
    assert User.objects.get(username="admin").is_superuser
    assert Team.objects.filter(slug="escalations").exists()
    assert Customer.objects.count() == 12
    kinds = set(ContactPoint.objects.values_list("kind", flat=True))
    assert {"email", "phone", "chat"} <= kinds
    assert PurchaseRecord.objects.exists()
    assert Customer.objects.filter(is_vip=True).exists()

    statuses = dict(Case.objects.values_list("status").annotate(n=Count("id")))
    assert set(statuses) == set(Status.values), statuses
    # The 40 of the history, and the recurring problems' own: 5 cracked lids, 4 thermostats
    # and as many of today's burst as customers are left (3 of 12).
    assert Case.objects.count() == 40 + 5 + 4 + 3
    directions = set(Message.objects.values_list("direction", flat=True))
    assert directions == {"inbound", "outbound", "note"}
    busy = Case.objects.annotate(n=Count("messages")).filter(n__gte=3)
    assert busy.count() >= 10
    assert Case.objects.filter(tags__isnull=False).exists()
    assert CaseEvent.objects.filter(kind="owner_transferred").exists()
    escalated = Case.objects.filter(status=Status.PENDING_INTERNAL)
    assert all(case.assignee and case.assignee.tier >= 2 for case in escalated)
    # Demo escalations go through the loop's one escalation service: each carries its
    # hand-off package, and the solver it went to has accepted it.
    escalations = Escalation.objects.select_related("case", "to_user")
    assert escalations.exists()
    for escalation in escalations:
        assert escalation.package["escalation"]["reason"] == "needs tier 2 authority"
        assert escalation.to_user.tier >= 2 and escalation.accepted_at is not None
        if escalation.case.status == Status.PENDING_INTERNAL:
            assert escalation.state == "accepted"
            assert escalation.case.assignee_id == escalation.to_user_id
    # Every case that left "new" has an owner, as the ownership rule demands.
    assert not Case.objects.exclude(status=Status.NEW).filter(owner__isnull=True).exists()
    # The history is spread over time, not all stamped "now".
    oldest, newest = Case.objects.order_by("created_at")[0], Case.objects.latest("created_at")
    assert (newest.created_at - oldest.created_at).days >= 3

    assert client.login(username="agent", password=DEMO_PASSWORD)
    assert client.login(username="customer", password=DEMO_PASSWORD)
    # A chat widget to try as a visitor, on its preview page.
    assert "/channels/chat/preview/northwind/" in output
    # A knowledge base: public articles in the help centre (found even when misspelt),
    # internal ones and one in review for agents, and prepared responses.
    from caseloop.knowledge.models import Article, Macro
    from caseloop.knowledge.search import search_articles

    states = dict(Article.objects.values_list("state").annotate(n=Count("id")))
    assert states["published"] >= 8 and states["review"] == 1
    assert Article.objects.filter(audience="internal", state="published").exists()
    assert Macro.objects.count() == 5 and Macro.objects.filter(team__isnull=True).exists()
    # Some fit categories and loop stages, so the case page shows the ranking.
    assert any("facts" in m.stages for m in Macro.objects.filter(categories__slug="delivery"))
    assert "Knowledge base:" in output
    hits = search_articles("refnd", audience="public")
    assert hits and hits[0].corrected_query == "refund"
    assert all(Article.objects.get(pk=h.article_id).audience == "public" for h in hits)
    assert "When will my order arrive?" in client.get("/help/").content.decode()

    assert client.login(username="admin", password=DEMO_PASSWORD)
    preview = client.get("/channels/chat/preview/northwind/")
    assert preview.status_code == 200 and 'data-widget="northwind"' in preview.content.decode()


def test_running_the_demo_twice_changes_nothing():
    demo(cases=5, customers=5)
    cases = Case.objects.count()
    output = demo(cases=5, customers=5)
    assert "already has the demo data" in output
    assert Case.objects.count() == cases


def test_a_new_user_signs_in_with_the_printed_credentials_through_the_csrf_form():
    from django.test import Client

    output = demo(cases=3, customers=5)
    password = output.split("Password for every demo account: ")[1].split()[0]
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/login/")
    assert page.status_code == 200
    token = browser.cookies["csrftoken"].value
    refused = browser.post("/login/", {"username": "agent", "password": password})
    assert refused.status_code == 403, "no CSRF token, no sign-in"
    signed_in = browser.post(
        "/login/", {"username": "agent", "password": password, "csrfmiddlewaretoken": token}
    )
    assert signed_in.status_code == 302 and signed_in["Location"].endswith("/inbox/")
    assert browser.get("/api/v1/cases").status_code == 200


def test_new_cases_on_the_demo_desk_arrive_categorized_and_routed():
    from caseloop.triage.models import KeywordRule, ModelVersion, RoutingRule
    from caseloop.triage.services import case_triage_run
    from tests.builders import make_case

    demo()
    assert KeywordRule.objects.count() >= 8 and RoutingRule.objects.count() >= 8
    assert ModelVersion.objects.filter(kind="category").exists()
    case = make_case(
        subject="Charged twice for my invoice",
        text="My card was charged twice for the same invoice, please refund one payment.",
    )
    case_triage_run(case_id=case.pk)
    case.refresh_from_db()
    assert case.category.slug == "billing"
    assert case.team.slug == "billing" and case.assignee is not None


@pytest.mark.django_db(transaction=True)  # real commits, so after-commit hooks enqueue jobs
def test_the_demo_runs_its_history_jobs_while_seeding_so_triage_learns_from_agents():
    from huey.contrib.djhuey import HUEY

    from caseloop.triage.selectors import triage_overview

    HUEY.immediate = False  # as on a real desk, where a worker runs queued jobs
    try:
        HUEY.flush()
        demo(cases=80, customers=10)
        assert HUEY.pending_count() == 0, [t.name for t in HUEY.pending()]
    finally:
        HUEY.immediate = True
    overview = triage_overview()
    assert overview["category_model"] is not None
    assert overview["accuracy"]["category"]["by_source"]["set"]["n"] > 0
    assert overview["decisions_not_learned"] == 0


def test_the_demo_desk_is_named_after_its_shop_for_its_customers(client):
    from caseloop.demo.data import COMPANY

    demo(cases=3, customers=5)
    for path in ["/portal/sign-in/", "/help/", "/channels/form/"]:
        page = client.get(path).content.decode()
        assert f" · {COMPANY}</title>" in page and f">{COMPANY}</a>" in page, path


def test_the_demo_shows_recurring_problems_at_each_stage(client):
    from caseloop.insights.models import Problem, ProblemContributor, ProblemNotice

    output = demo(cases=20, customers=30)
    fixed = Problem.objects.get(title__startswith="Aurora kettle lids")
    assert fixed.status == "fixed" and fixed.fix_published_at is not None
    parts = set(ProblemContributor.objects.filter(problem=fixed).values_list("part", flat=True))
    assert {"reported", "root_cause", "workaround", "fix"} <= parts
    known = Problem.objects.get(title__startswith="Vela thermostats")
    assert (known.status, known.show_banner) == ("known_error", True)
    assert ProblemNotice.objects.filter(problem=known).exists()
    suggested = Problem.objects.filter(status="suggested")
    assert suggested.exists() and "Recurring problems:" in output
    assert "WINTER20" in " ".join(suggested.first().links.values_list("case__subject", flat=True))
    assert client.get("/help/").content.decode().count("Vela thermostats disconnecting") == 1
