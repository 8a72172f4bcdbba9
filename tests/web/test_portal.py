import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.utils import timezone

from caseloop.accounts.models import Role, User
from caseloop.cases.models import Status
from caseloop.cases.services import case_transition, message_add
from caseloop.insights.models import SatisfactionRating
from caseloop.web.models import MagicLink
from tests.builders import make_agent, make_case, make_customer, make_customer_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()


def link_from_mail() -> str:
    return re.search(r"http\S+/portal/link/\S+/", mail.outbox[-1].body).group(0)


def sign_in(client, email: str) -> None:
    client.post("/portal/sign-in/", {"email": email})
    path = link_from_mail().split("testserver", 1)[1]
    assert client.post(path).status_code == 302


def test_a_known_email_gets_a_single_use_link_that_signs_in_as_the_customer(client):
    customer = make_customer(email="dana@example.com", name="Dana")
    case = make_case(customer=customer, subject="Broken lamp")
    response = client.post("/portal/sign-in/", {"email": "Dana@Example.com"})
    assert b"Check your email" in response.content
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dana@example.com"]
    path = link_from_mail().split("testserver", 1)[1]
    assert client.get(path).status_code == 200  # a scanner fetching the link uses nothing
    assert client.post(path).status_code == 302
    user = User.objects.get(role=Role.CUSTOMER, customer=customer)
    assert b"Broken lamp" in client.get("/portal/").content
    assert client.get(f"/portal/cases/{case.pk}/").status_code == 200
    client.post("/portal/sign-out/")
    again = client.post(path)
    assert again.status_code == 400 and b"already used" in again.content
    sign_in(client, "dana@example.com")
    assert User.objects.filter(role=Role.CUSTOMER, customer=customer).get() == user


def test_an_unknown_email_gets_the_same_answer_and_no_mail(client):
    known = client.post("/portal/sign-in/", {"email": "nobody@example.com"})
    make_customer(email="real@example.com")
    real = client.post("/portal/sign-in/", {"email": "real@example.com"})
    assert known.content == real.content.replace(b"real@example.com", b"nobody@example.com")
    assert len(mail.outbox) == 1


def test_an_expired_link_is_refused(client):
    make_customer(email="late@example.com")
    client.post("/portal/sign-in/", {"email": "late@example.com"})
    MagicLink.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    path = link_from_mail().split("testserver", 1)[1]
    response = client.post(path)
    assert response.status_code == 400 and b"expired" in response.content
    assert client.get("/portal/").status_code == 302


def test_sign_in_requests_are_rate_limited(client):
    make_customer(email="spam@example.com")
    codes = [
        client.post("/portal/sign-in/", {"email": "spam@example.com"}).status_code for _ in range(7)
    ]
    assert codes[:5] == [200] * 5 and codes[-1] == 429
    assert len(mail.outbox) == 5


def test_a_customer_sees_only_their_own_cases_and_no_internal_notes(client):
    agent = make_agent()
    mine = make_case(customer=make_customer(email="me@example.com"), subject="Mine")
    message_add(case=mine, direction="note", text="SECRET internal remark", actor=agent)
    message_add(case=mine, direction="outbound", text="We are on it.", actor=agent)
    theirs = make_case(subject="Someone else's")
    sign_in(client, "me@example.com")
    page = client.get(f"/portal/cases/{mine.pk}/")
    assert b"We are on it." in page.content and b"SECRET" not in page.content
    assert b"Someone else" not in client.get("/portal/").content
    assert client.get(f"/portal/cases/{theirs.pk}/").status_code == 404
    assert client.post(f"/portal/cases/{theirs.pk}/reply/", {"text": "hi"}).status_code == 404
    assert client.post(f"/portal/cases/{theirs.pk}/rate/", {"score": "5"}).status_code == 404
    assert theirs.messages.count() == 1


def test_an_agent_session_does_not_open_the_portal_cases(client):
    client.force_login(make_agent())
    assert client.get("/portal/").status_code == 302


def test_the_customer_replies_confirms_solved_and_rates(client):
    agent = make_agent()
    case = make_case(customer=make_customer(email="sol@example.com"))
    message_add(case=case, direction="outbound", text="Replaced.", actor=agent)
    sign_in(client, "sol@example.com")
    client.post(f"/portal/cases/{case.pk}/reply/", {"text": "Thanks, <script>x</script>"})
    reply = case.messages.filter(direction="inbound").last()
    assert reply.text == "Thanks, <script>x</script>" and reply.channel == "web"
    assert b"&lt;script&gt;" in client.get(f"/portal/cases/{case.pk}/").content
    case_transition(case=case, to=Status.SOLVED, actor=agent)
    client.post(f"/portal/cases/{case.pk}/solved/", {"solved": "yes"})
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    client.post(f"/portal/cases/{case.pk}/rate/", {"score": "4", "comment": "quick"})
    rating = SatisfactionRating.objects.get(case=case)
    assert (rating.score, rating.comment) == (4, "quick")
    assert case.events.filter(kind="satisfaction_rated").exists()
    bad = client.post(f"/portal/cases/{case.pk}/rate/", {"score": "9"}, follow=True)
    assert b"from 1 to 5" in bad.content
    again = client.post(f"/portal/cases/{case.pk}/rate/", {"score": "1"}, follow=True)
    assert b"already been rated" in again.content
    assert SatisfactionRating.objects.filter(case=case).count() == 1


def test_the_customer_can_reopen_a_solved_case(client):
    agent = make_agent()
    case = make_case(customer=make_customer(email="re@example.com"))
    message_add(case=case, direction="outbound", text="Done.", actor=agent)
    case_transition(case=case, to=Status.SOLVED, actor=agent)
    sign_in(client, "re@example.com")
    client.post(f"/portal/cases/{case.pk}/solved/", {"solved": "no"})
    case.refresh_from_db()
    assert case.status == Status.OPEN


def test_the_portal_offers_the_help_centre_search_when_it_exists(client):
    page = client.get("/portal/sign-in/").content.decode()
    assert 'action="/help/search/"' in page
    assert client.get("/help/search/", {"q": "refund"}).status_code == 200


def test_the_customer_confirms_or_corrects_the_summary_in_the_portal(client):
    from caseloop.cases.loop.problem import (
        problem_paraphrase_set,
        problem_send_for_confirmation,
        problem_statement_ensure,
    )

    agent = make_agent()
    case = make_case(customer=make_customer(email="sum@example.com"))
    statement = problem_statement_ensure(case=case)
    problem_paraphrase_set(case=case, paraphrase="Your kettle lid cracked on arrival.", actor=agent)
    problem_send_for_confirmation(case=case, actor=agent)
    sign_in(client, "sum@example.com")
    page = client.get(f"/portal/cases/{case.pk}/")
    assert b"Your kettle lid cracked on arrival." in page.content
    client.post(
        f"/portal/cases/{case.pk}/summary/",
        {"decision": "correct", "correction": "It was the handle, not the lid."},
    )
    statement.refresh_from_db()
    assert statement.confirmation == "corrected"
    assert statement.correction == "It was the handle, not the lid."
    assert statement.answer_channel == "portal"


def test_the_customer_declines_a_shared_plan_in_the_portal(client):
    from caseloop.cases.loop.plans import plan_create, plan_share

    agent = make_agent()
    case = make_case(customer=make_customer(email="plan@example.com"))
    plan = plan_create(case=case, summary="Refund the kettle.", actor=agent)
    plan_share(plan=plan, actor=agent)
    sign_in(client, "plan@example.com")
    assert b"Approve the plan" in client.get(f"/portal/cases/{case.pk}/").content
    client.post(f"/portal/cases/{case.pk}/plan/", {"decision": "declined", "note": "Replace it"})
    plan.refresh_from_db()
    consent = plan.consents.get()
    assert plan.state == "declined" and consent.channel == "portal"
    assert consent.note == "Replace it"


def test_a_customer_signing_in_with_a_password_lands_on_the_portal_not_a_403(client):
    from caseloop.accounts.models import User

    user = make_customer_user()
    user.set_password("a-long-enough-password")
    user.save(update_fields=["password"])
    response = client.post(
        "/login/", {"username": user.username, "password": "a-long-enough-password"}, follow=True
    )
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/portal/"
    assert User.objects.get(pk=user.pk).is_customer


def test_the_portal_and_its_sign_in_email_carry_the_desks_name(client):
    from caseloop.accounts.services import desk_identity_set

    desk_identity_set(name="Northwind Home")
    make_case(customer=make_customer(email="nia@example.com", name="Nia"), subject="Loose hinge")
    page = client.get("/portal/sign-in/").content.decode()
    assert "<title>Your cases · Sign in · Northwind Home</title>" in page
    assert 'class="brand" href="/">Northwind Home</a>' in page and "Caseloop" not in page
    client.post("/portal/sign-in/", {"email": "nia@example.com"})
    [sent] = mail.outbox
    assert sent.subject == "Your Northwind Home sign-in link"
    assert sent.from_email == "Northwind Home <support@caseloop.localhost>"
    assert sent.body.startswith("Hello Nia,") and "your cases with Northwind Home" in sent.body
    assert sent.body.endswith("The Northwind Home team")
    sign_in(client, "nia@example.com")
    cases = client.get("/portal/").content.decode()
    assert "<h1>Your cases with Northwind Home</h1>" in cases and "Caseloop" not in cases


def test_without_an_identity_the_portal_is_named_by_the_setting(client, settings):
    settings.DESK_NAME = "Acme Support"
    page = client.get("/portal/sign-in/").content.decode()
    assert "<title>Your cases · Sign in · Acme Support</title>" in page


def test_the_desks_own_answer_links_point_to_the_answers_on_the_case_page(client):
    from caseloop.cases.loop.plans import plan_create, plan_share
    from caseloop.cases.loop.problem import problem_paraphrase_set, problem_send_for_confirmation

    agent = make_agent(first_name="Maya", last_name="Okafor")
    case = make_case(customer=make_customer(email="ana@example.com"))
    problem_paraphrase_set(case=case, paraphrase="The lid cracked.", actor=agent)
    problem_send_for_confirmation(case=case, actor=agent)
    plan_share(plan=plan_create(case=case, summary="A new lid.", actor=agent), actor=agent)
    sign_in(client, "ana@example.com")
    html = client.get(f"/portal/cases/{case.pk}/").content.decode()
    assert "/loop/" not in html
    assert html.count('<a href="#summary">answer on this page</a>') == 2
    assert html.count('<a href="#plan">answer on this page</a>') == 3
    assert 'id="summary"' in html and 'id="plan"' in html
    assert "Maya Okafor, Caseloop" in html


def test_other_addresses_in_messages_are_safe_links_and_nothing_else_is_markup(client):
    agent = make_agent()
    case = make_case(
        customer=make_customer(email="lin@example.com"),
        text="See <b>this</b>: http://shop.example/p?a=1&b=2",
    )
    message_add(
        case=case,
        direction="outbound",
        actor=agent,
        text='Track it (https://carrier.example/t?id=7&x="1") or javascript:alert(1).\n'
        "Not a link: ftp://files.example/x, www.example.com",
    )
    sign_in(client, "lin@example.com")
    html = client.get(f"/portal/cases/{case.pk}/").content.decode()
    link = '<a href="https://carrier.example/t?id=7&amp;x=" rel="noopener nofollow">'
    assert f"Track it ({link}https://carrier.example/t?id=7&amp;x=</a>&quot;1&quot;) or" in html
    assert 'href="javascript' not in html and "ftp://files.example/x," in html
    assert '<a href="http://shop.example/p?a=1&amp;b=2" rel="noopener nofollow">' in html
    assert "See &lt;b&gt;this&lt;/b&gt;:" in html and "<br>Not a link" in html
    assert "www.example.com</div>" in html and "www.example.com</a>" not in html
